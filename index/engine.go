package index

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"

	"github.com/codemux/codemux/index/lexical"
	"github.com/codemux/codemux/index/store"
	"github.com/philippgille/chromem-go"
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
	vec   *chromem.Collection
	dim   int // dimension of the vectors in vec; 0 while empty
	// skipLexical makes apply leave lex alone (it was loaded whole).
	skipLexical bool
}

func newEngine() (*engine, error) {
	db := chromem.NewDB()
	noEmbed := func(context.Context, string) ([]float32, error) {
		return nil, errors.New("vectors are computed by the index, not the collection")
	}
	col, err := db.CreateCollection("chunks", nil, noEmbed)
	if err != nil {
		return nil, fmt.Errorf("creating vector collection: %w", err)
	}
	return &engine{
		chunks: make(map[uint32]chunkInfo),
		noVec:  make(map[uint32]store.Hash),
		lex:    lexical.New(nil),
		vec:    col,
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
	defer e.mu.Unlock()
	if len(removed) > 0 {
		ids := make([]string, 0, len(removed))
		for _, id := range removed {
			e.lex.Remove(id)
			delete(e.chunks, id)
			delete(e.noVec, id)
			ids = append(ids, docID(id))
		}
		if err := e.vec.Delete(ctx, nil, nil, ids...); err != nil {
			return fmt.Errorf("removing vectors: %w", err)
		}
	}
	for _, a := range added {
		e.chunks[a.id] = a.info
		if !e.skipLexical {
			e.lex.Add(a.id, a.text, a.info.symbol)
		}
		if err := e.setVector(ctx, a.id, a.hash, a.vec); err != nil {
			return err
		}
	}
	return nil
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
	if norm(vec) == 0 {
		return nil
	}
	if e.dim != 0 && len(vec) != e.dim {
		return fmt.Errorf("vector of chunk %d has %d dimensions, the index %d", id, len(vec), e.dim)
	}
	e.dim = len(vec)
	if err := e.vec.AddDocument(ctx, chromem.Document{ID: docID(id), Embedding: vec}); err != nil {
		return fmt.Errorf("adding vector of chunk %d: %w", id, err)
	}
	return nil
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

// memoryBytes estimates the heap held by the engine.
func (e *engine) memoryBytes() int64 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	const (
		chunkEntry = 4 + 3*16 + 48 // key, three string headers, map overhead
		docEntry   = 16 + 8 + 48 + 24 + 16 + 64
	)
	n := int64(len(e.chunks))*chunkEntry + e.lex.MemoryBytes()
	docs := int64(e.vec.Count())
	n += docs * (docEntry + int64(e.dim)*4)
	n += int64(len(e.noVec)) * (4 + store.HashSize + 48)
	return n
}
