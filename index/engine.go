package index

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/codemux/codemux/index/lexical"
	"github.com/codemux/codemux/index/store"
)

// chunkInfo is what the engine keeps in memory per chunk: enough to filter
// results by path and language and to boost symbol matches. Text, lines and
// the rest stay in the store.
type chunkInfo struct {
	rel    string
	lang   string
	symbol string
}

// engine holds the in-memory search structures of one index: BM25 over
// chunk text and symbols, and a chromem-go collection of chunk vectors. mu
// makes each applied batch atomic for searches.
type engine struct {
	mu     sync.RWMutex
	chunks map[uint32]chunkInfo
	// noVec lists chunks that have no stored vector yet (embedder failed or
	// changed); Update embeds them.
	noVec map[uint32]store.Hash
	lex   *lexical.Index
	vec   *vectors
	dim   int // dimension of the vectors in vec; 0 while empty
	// plan, while Open loads, holds the cells of the saved vectors.
	plan *cellPlan
	// skipLexical makes apply leave lex alone (it was loaded whole).
	skipLexical bool

	// capBytes is the memory cap (0: none); see memory.go.
	capBytes int64
	// lexMem caches lex.MemoryBytes (it walks the term dictionary), as of
	// the last apply.
	lexMem int64
	// symBytes sums the lengths of the symbols in chunks.
	symBytes int64
	// lexOnly records chunks whose stored vector is not in memory, with the
	// reason (lexOnlyLowPriority, lexOnlyCap); counts per reason.
	lexOnly      map[uint32]uint8
	lexOnlyCount [3]int
	// lowEvicted is set once the vectors of low-priority files were dropped.
	lowEvicted bool
	// capSkipped counts new files the last Update did not index.
	capSkipped int
	// mem is memoryLocked as of the last unlock, for overCap: the workers
	// of an Update ask before each file and must not wait for an apply.
	mem atomic.Int64
}

func newEngine() (*engine, error) {
	vec, err := newVectors()
	if err != nil {
		return nil, err
	}
	return &engine{
		chunks:  make(map[uint32]chunkInfo),
		noVec:   make(map[uint32]store.Hash),
		lex:     lexical.New(nil),
		vec:     vec,
		lexOnly: make(map[uint32]uint8),
	}, nil
}

// entry is one chunk to add to the engine.
type entry struct {
	id   uint32
	info chunkInfo
	text string
	hash store.Hash
	vec  []float32 // nil when the chunk has no vector
}

// apply removes and adds chunks as one step for concurrent searches.
// Callers serialise apply (chromem's Delete is not safe against
// concurrent writers).
func (e *engine) apply(ctx context.Context, removed []uint32, added []entry) error {
	e.mu.Lock()
	defer e.unlock()
	if len(removed) > 0 {
		for _, id := range removed {
			e.lex.Remove(id)
			e.symBytes -= int64(len(e.chunks[id].symbol))
			delete(e.chunks, id)
			delete(e.noVec, id)
			e.forgetLexOnly(id)
		}
		if err := e.vec.remove(ctx, removed); err != nil {
			return err
		}
	}
	for _, a := range added {
		if old, ok := e.chunks[a.id]; ok {
			e.symBytes -= int64(len(old.symbol))
		}
		e.chunks[a.id] = a.info
		e.symBytes += int64(len(a.info.symbol))
		if !e.skipLexical {
			e.lex.Add(a.id, a.text, a.info.symbol)
		}
		if err := e.setVector(ctx, a.id, a.hash, a.vec); err != nil {
			return err
		}
	}
	if !e.skipLexical || e.lexMem == 0 {
		e.lexMem = e.lex.MemoryBytes()
	}
	if e.capBytes > 0 && !e.lowEvicted && e.memoryLocked() >= e.capBytes {
		// BM25 grew past the cap: the first step makes room.
		return e.evictLowPriority(ctx)
	}
	return nil
}

// deferTraining holds back the training of vector cells until
// settleCells, so that an Update learns them once, at its end.
func (e *engine) deferTraining() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.vec.deferTrain = true
}

// settleCells ends deferTraining, learning the cells if they are due.
// Searches wait while it trains.
func (e *engine) settleCells(ctx context.Context) error {
	e.mu.Lock()
	defer e.unlock()
	return e.vec.settle(ctx)
}

// setVector adds the vector of chunk id to the collection; nil records it as
// missing. A zero vector (text without features) is not searchable by
// similarity and is left out. Callers hold mu.
func (e *engine) setVector(ctx context.Context, id uint32, h store.Hash, vec []float32) error {
	if vec == nil {
		e.noVec[id] = h
		return nil
	}
	delete(e.noVec, id)
	if !toUnit(vec) {
		return nil
	}
	if e.dim != 0 && len(vec) != e.dim {
		return fmt.Errorf("vector of chunk %d has %d dimensions, the index %d", id, len(vec), e.dim)
	}
	e.dim = len(vec)
	if ok, err := e.admit(ctx, id); !ok || err != nil {
		return err
	}
	if e.plan != nil {
		if cell, ok := e.plan.cellOf[id]; ok && len(vec) == e.plan.dim {
			return e.vec.addTo(ctx, id, vec, int(cell))
		}
	}
	return e.vec.add(ctx, id, vec)
}

// toUnit scales vec in place to unit length, unless it is that already
// within chromem-go's tolerance (which would otherwise keep a normalised
// copy: a vector decoded from the store is not unit-length, and one the
// embedder normalised in float32 may miss the tolerance). It reports false
// for the zero vector.
func toUnit(vec []float32) bool {
	n := norm(vec)
	if n == 0 {
		return false
	}
	if math.Abs(n-1) > 1e-7 {
		for i, x := range vec {
			vec[i] = float32(float64(x) / n)
		}
	}
	return true
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func docID(id uint32) string { return strconv.FormatUint(uint64(id), 10) }

func parseDocID(s string) (uint32, bool) {
	v, err := strconv.ParseUint(s, 10, 32)
	return uint32(v), err == nil
}

// Heap estimates, measured with TestMemoryEstimate: a chunk's entry in
// chunks (key, chunkInfo, map overhead), a chromem-go document besides its
// vector (ID string, Document, empty metadata map, map entries in its cell
// and in cellOf), an entry of noVec or lexOnly.
const (
	chunkEntryBytes   = 4 + 3*16 + 40
	docOverheadBytes  = 280
	noVecEntryBytes   = 4 + store.HashSize + 28
	lexOnlyEntryBytes = 16
)

// memoryBytes estimates the heap held by the engine.
func (e *engine) memoryBytes() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.memoryLocked()
}

// memoryLocked is memoryBytes for callers holding mu. It is cheap: the
// BM25 part is cached by apply.
func (e *engine) memoryLocked() int64 {
	n := int64(len(e.chunks))*chunkEntryBytes + e.symBytes + e.lexMem
	n += int64(e.vec.count()) * e.docBytes()
	n += int64(len(e.noVec))*noVecEntryBytes + int64(len(e.lexOnly))*lexOnlyEntryBytes
	return n
}

// docBytes is the estimated heap of one vector in the collection.
func (e *engine) docBytes() int64 { return docOverheadBytes + int64(e.dim)*4 }

// unlock publishes the memory estimate for overCap and releases mu, which
// the caller holds for writing.
func (e *engine) unlock() {
	e.mem.Store(e.memoryLocked())
	e.mu.Unlock()
}

// chunkCount returns the number of chunks in the engine.
func (e *engine) chunkCount() int {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return len(e.chunks)
}

// overCap reports whether the engine held as much as the cap allows when
// its last change ended. It does not wait for a change in progress.
func (e *engine) overCap() bool {
	return e.capBytes > 0 && e.mem.Load() >= e.capBytes
}

// admit decides whether the vector of chunk id may enter the collection,
// following the order in memory.go: when it would not fit, the vectors of
// low-priority files go first, then the chunk stays lexical-only. Callers
// hold mu and have set e.dim.
func (e *engine) admit(ctx context.Context, id uint32) (bool, error) {
	if e.capBytes <= 0 {
		return true, nil
	}
	low := lowPriority(e.chunks[id].rel)
	if low && e.lowEvicted {
		e.setLexOnly(id, lexOnlyLowPriority)
		return false, nil
	}
	if e.memoryLocked()+e.docBytes() <= e.capBytes {
		e.forgetLexOnly(id)
		return true, nil
	}
	if !e.lowEvicted {
		if err := e.evictLowPriority(ctx); err != nil {
			return false, err
		}
		if low {
			e.setLexOnly(id, lexOnlyLowPriority)
			return false, nil
		}
		if e.memoryLocked()+e.docBytes() <= e.capBytes {
			e.forgetLexOnly(id)
			return true, nil
		}
	}
	e.setLexOnly(id, lexOnlyCap)
	return false, nil
}

// evictLowPriority drops the vectors of low-priority files from the
// collection; they stay in the store. Callers hold mu.
func (e *engine) evictLowPriority(ctx context.Context) error {
	e.lowEvicted = true
	var ids []uint32
	for id, c := range e.chunks {
		if !lowPriority(c.rel) {
			continue
		}
		if _, missing := e.noVec[id]; missing {
			continue
		}
		if _, done := e.lexOnly[id]; done {
			continue
		}
		e.setLexOnly(id, lexOnlyLowPriority)
		ids = append(ids, id)
	}
	if err := e.vec.remove(ctx, ids); err != nil {
		return fmt.Errorf("dropping vectors of low-priority files: %w", err)
	}
	return nil
}

func (e *engine) setLexOnly(id uint32, reason uint8) {
	e.forgetLexOnly(id)
	e.lexOnly[id] = reason
	e.lexOnlyCount[reason]++
}

func (e *engine) forgetLexOnly(id uint32) {
	if r, ok := e.lexOnly[id]; ok {
		e.lexOnlyCount[r]--
		delete(e.lexOnly, id)
	}
}
