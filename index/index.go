package index

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/codemux/codemux/index/chunk"
	"github.com/codemux/codemux/index/embed"
	"github.com/codemux/codemux/index/lexical"
	"github.com/codemux/codemux/index/store"
	"github.com/codemux/codemux/index/walk"
)

// Options configure Open. A nil *Options is not allowed: DataDir is
// required; every other zero field means its default.
type Options struct {
	// DataDir is the directory that holds the index file (created 0700).
	DataDir string
	// Embedder computes vectors; nil means the built-in embedder.
	Embedder embed.Embedder
	// Walk and Chunk tune the walk and the chunker; nil means defaults.
	Walk  *walk.Options
	Chunk *chunk.Options
	// Workers is the number of goroutines reading and chunking files;
	// 0 means GOMAXPROCS.
	Workers int
	// Logger receives warnings (moved-aside files, unreadable files,
	// embedder failures); nil discards them. Chunk text is never logged.
	Logger *slog.Logger
	// Now is the clock for durations and file names; nil means time.Now.
	Now func() time.Time
	// LockTimeout bounds the wait for an index file another process holds;
	// 0 means store.DefaultTimeout.
	LockTimeout time.Duration
	// MaxDiskBytes caps the index file; an Update that would exceed it
	// fails with an error wrapping store.ErrFull, keeping what was
	// committed. Zero means no cap.
	MaxDiskBytes int64
	// MemoryCap bounds the heap of the in-memory engines (as Stats reports
	// it in MemoryBytes). When the index would grow past it, it degrades in
	// the order memory.go documents and Stats lists what it gave up. Zero
	// means no cap. The cap is an estimate of the index's own data; the
	// process also needs room for garbage collection, parsers and the
	// mapped index file (see SoftMemoryLimit).
	MemoryCap int64
}

// SoftMemoryLimit returns the soft memory limit (for
// runtime/debug.SetMemoryLimit) that lets a process holding indexes capped
// at memoryCap run in about memoryCap + 64 MiB. The limit does not cover
// the executable's pages (about 17 MiB of codemux resident), the parsers'
// C memory (which package chunk trims after large files and every few
// MiB parsed) or resident pages of the mapped index file (released every
// few files and after each commit, but up to about 40 MiB while a batch
// commits): on the Go tree (engines' estimate 136 MiB of a 256 MiB cap)
// those came to 55-66 MiB, and the daemon peaked at 312-322 MiB with the
// cap itself as the limit. So the Go runtime gets the cap less
// softLimitRoom (at least half the cap), which took the peak down by 16
// MiB for three or four more collections in the cold index. An index
// whose engines fill the cap leaves the collector little room under this
// limit: the runtime then spends more CPU on collection before it lets the
// heap grow past it. Zero for no cap.
func SoftMemoryLimit(memoryCap int64) int64 {
	if memoryCap <= 0 {
		return 0
	}
	return max(memoryCap-softLimitRoom, memoryCap/2)
}

// softLimitRoom is how much of the cap SoftMemoryLimit leaves to memory
// the Go runtime does not manage.
const softLimitRoom = 16 << 20

// DefaultDim is the dimension of the built-in embedder an Index uses when
// Options.Embedder is nil. 192 halves the memory and disk of the 384 the
// embedder defaults to at the same hybrid retrieval quality (BenchmarkRetrieval
// over the Go standard library: hybrid MRR@10 0.287 at 192-d, 0.286 at
// 384-d, 0.284 at 128-d; vector-only 0.193, 0.215, 0.156).
const DefaultDim = 192

// State of an index, as reported by Stats.
const (
	StateEmpty    = "empty"
	StateIndexing = "indexing"
	StateReady    = "ready"
)

// Stats describe an index.
type Stats struct {
	Files       int
	Chunks      int
	DiskBytes   int64 // size of the index file
	MemoryBytes int64 // estimate of the heap held by the in-memory engines
	CapBytes    int64 // Options.MemoryCap; 0 when there is none
	// Degraded says, one line each, what the index gave up to stay within
	// CapBytes (see memory.go); empty when nothing.
	Degraded []string
	State    string
}

// Index is the searchable index of one workspace folder.
type Index struct {
	root string
	opts Options
	log  *slog.Logger
	emb  embed.Embedder
	st   *store.Store
	eng  *engine
	// fusion weighs hybrid rankings; tests try alternatives.
	fusion fusion
	// batch holds the batch limits (batchFiles, batchChunks); tests lower them.
	batch struct{ files, chunks int }

	// writeMu serialises Update and UpdateFiles.
	writeMu  sync.Mutex
	snapGen  uint64 // store generation of the saved lexical snapshot; guarded by writeMu
	cellsGen uint64 // and of the saved vector cells

	mu       sync.Mutex
	state    string
	matcher  *walk.Matcher
	cancel   context.CancelFunc // of the running Update, if any
	closed   bool
	closeErr error
}

// FileName returns the name of the index file of the workspace at root
// inside Options.DataDir.
func FileName(root string) string {
	sum := sha256.Sum256([]byte(root))
	base := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, filepath.Base(root))
	if len(base) > 40 {
		base = base[:40]
	}
	return base + "-" + hex.EncodeToString(sum[:8]) + ".bolt"
}

// Open opens the index of the workspace at root, loading what the index file
// holds into memory. It does not walk the workspace: call Update for that.
// A damaged or incompatible index file is moved aside with a warning and
// the index starts empty.
func Open(ctx context.Context, root string, opts *Options) (*Index, error) {
	if opts == nil || opts.DataDir == "" {
		return nil, errors.New("opening index: Options.DataDir is required")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("opening index of %s: %w", root, err)
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("opening index of %s: %w", abs, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("opening index of %s: not a directory", abs)
	}
	ix := &Index{root: abs, opts: *opts, log: opts.Logger, emb: opts.Embedder, fusion: defaultFusion()}
	ix.batch.files, ix.batch.chunks = batchFiles, batchChunks
	if ix.log == nil {
		ix.log = slog.New(slog.DiscardHandler)
	}
	if ix.emb == nil {
		ix.emb = embed.NewBuiltin(&embed.BuiltinOptions{Dim: DefaultDim})
	}
	if ix.opts.Now == nil {
		ix.opts.Now = time.Now
	}
	if ix.opts.Workers <= 0 {
		ix.opts.Workers = runtime.GOMAXPROCS(0)
	}
	if ix.eng, err = newEngine(); err != nil {
		return nil, err
	}
	ix.eng.capBytes = max(0, opts.MemoryCap)
	path := filepath.Join(opts.DataDir, FileName(abs))
	sopts := &store.Options{EmbedderID: ix.emb.ID(), Root: abs, Now: ix.opts.Now, Timeout: opts.LockTimeout, MaxBytes: opts.MaxDiskBytes}
	ix.st, err = store.Open(path, sopts)
	switch {
	case errors.Is(err, store.ErrSchema):
		// A file another version of codemux wrote is derived data this
		// one cannot read: it is replaced, not kept.
		ix.log.Info("index file written by another version; rebuilding it", "path", path, "err", err)
		var moved string
		ix.st, moved, err = store.Recreate(path, sopts)
		if moved != "" {
			if rerr := os.Remove(moved); rerr != nil {
				ix.log.Warn("removing the old index file", "path", moved, "err", rerr)
			}
		}
	case errors.Is(err, store.ErrCorrupt):
		// A damaged file is kept beside the new one for diagnosis.
		ix.log.Warn("index file unusable; moving it aside and starting empty", "path", path, "err", err)
		var moved string
		ix.st, moved, err = store.Recreate(path, sopts)
		if moved != "" {
			ix.log.Warn("moved unusable index file", "to", moved)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("opening index of %s: %w", abs, err)
	}
	if ix.st.Info().VectorsDropped {
		ix.log.Info("embedder changed; stored vectors dropped, next update re-embeds", "embedder", ix.emb.ID())
	}
	if err := ix.load(ctx); err != nil {
		_ = ix.st.Close()
		return nil, fmt.Errorf("loading index of %s: %w", abs, err)
	}
	ix.st.ReleaseMemory()
	ix.state = StateReady
	if len(ix.eng.chunks) == 0 {
		if has, err := ix.st.HasFiles(); err == nil && !has {
			ix.state = StateEmpty
		}
	}
	return ix, nil
}

// Snapshot names: the stored BM25 index, and the vector cells (centroids
// and each chunk's cell, see vectors.go).
const (
	lexicalSnapshot = "lexical"
	cellsSnapshot   = "cells"
)

// load fills the in-memory engines from the store. The BM25 index comes
// from its snapshot when that is current; otherwise it is rebuilt from the
// chunk text.
func (ix *Index) load(ctx context.Context) error {
	e := ix.eng
	gen, err := ix.st.Generation()
	if err != nil {
		return err
	}
	withText := true
	if data, ok, err := ix.st.Snapshot(lexicalSnapshot); err != nil {
		return err
	} else if ok {
		lex := lexical.New(nil)
		if err := lex.UnmarshalBinary(data); err != nil {
			ix.log.Info("rebuilding lexical index", "reason", err)
		} else {
			e.lex, withText = lex, false
		}
	}
	byHash := make(map[store.Hash][]uint32)
	var batch []entry
	flush := func() error {
		err := e.apply(ctx, nil, batch)
		batch = batch[:0]
		return err
	}
	e.skipLexical = !withText
	defer func() { e.skipLexical = false }()
	err = ix.st.ForEachChunk(ctx, withText, func(c store.Chunk) error {
		byHash[c.TextHash] = append(byHash[c.TextHash], c.ID)
		batch = append(batch, entry{id: c.ID, info: chunkInfo{rel: c.Rel, lang: c.Language, symbol: c.Symbol}, text: c.Text, hash: c.TextHash})
		if len(batch) >= 1024 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return err
	}
	if !withText && e.lex.Len() != len(e.chunks) {
		// The snapshot does not match the chunks: rebuild from text.
		ix.log.Warn("lexical snapshot inconsistent; rebuilding", "docs", e.lex.Len(), "chunks", len(e.chunks))
		// No vectors were added yet; reset what was.
		e.chunks, e.noVec, e.lex = make(map[uint32]chunkInfo), make(map[uint32]store.Hash), lexical.New(nil)
		ix.st.DropSnapshot(lexicalSnapshot)
		return ix.load(ctx)
	}
	if withText {
		ix.snapGen = ^uint64(0) // none saved for this state
	} else {
		ix.snapGen = gen
	}
	// Every chunk is now recorded as lacking a vector; add the stored ones,
	// into the saved cells when they are current.
	e.mu.Lock()
	defer e.unlock()
	if data, ok, err := ix.st.Snapshot(cellsSnapshot); err != nil {
		return err
	} else if ok {
		if p, err := unmarshalCells(data); err != nil {
			ix.log.Info("retraining vector cells", "reason", err)
		} else if err := e.vec.usePlan(p); err != nil {
			return err
		} else {
			e.plan = p
			ix.cellsGen = gen
		}
	}
	e.vec.deferTrain = true
	defer func() { e.plan, e.vec.deferTrain = nil, false }()
	err = ix.st.ForEachVector(ctx, func(h store.Hash, vec []float32) error {
		for _, id := range byHash[h] {
			if err := e.setVector(ctx, id, h, vec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return e.vec.settle(ctx)
}

// saveSnapshots stores the BM25 index and the vector cells as snapshots of
// the store's current generation, so the next Open need not rebuild them.
// Callers hold writeMu.
func (ix *Index) saveSnapshots() {
	if ix.saveLexicalSnapshot() {
		ix.saveCellsSnapshot()
	}
}

// saveLexicalSnapshot stores the BM25 index unless its snapshot is
// current, reporting whether it is now. Callers hold writeMu.
func (ix *Index) saveLexicalSnapshot() bool {
	gen, err := ix.st.Generation()
	if err != nil {
		return false
	}
	if gen == ix.snapGen {
		return true
	}
	data, err := ix.eng.lex.MarshalBinary()
	if err == nil {
		err = ix.st.PutSnapshot(lexicalSnapshot, gen, data)
	}
	if err != nil {
		ix.log.Warn("saving lexical index", "err", err)
		return false
	}
	ix.snapGen = gen
	return true
}

// saveCellsSnapshot stores the vector cells unless their snapshot is
// current. Callers hold writeMu.
func (ix *Index) saveCellsSnapshot() {
	gen, err := ix.st.Generation()
	if err != nil || gen == ix.cellsGen {
		return
	}
	ix.eng.mu.RLock()
	cells := ix.eng.vec.marshal()
	ix.eng.mu.RUnlock()
	if cells == nil {
		return
	}
	if err := ix.st.PutSnapshot(cellsSnapshot, gen, cells); err != nil {
		ix.log.Warn("saving vector cells", "err", err)
		return
	}
	ix.cellsGen = gen
}

// Root returns the absolute path of the workspace.
func (ix *Index) Root() string { return ix.root }

// Path returns the path of the index file.
func (ix *Index) Path() string { return ix.st.Path() }

// Stats reports sizes and the state of the index.
func (ix *Index) Stats() Stats {
	ix.mu.Lock()
	state := ix.state
	ix.mu.Unlock()
	s := Stats{State: state, CapBytes: ix.opts.MemoryCap}
	ix.eng.mu.RLock()
	s.MemoryBytes = ix.eng.memoryLocked()
	s.Degraded = ix.eng.degradedLocked()
	ix.eng.mu.RUnlock()
	// Count from the files bucket alone: store.Stats would read every page.
	err := ix.st.Files(context.Background(), func(f store.File) error {
		s.Files++
		s.Chunks += len(f.ChunkIDs)
		return nil
	})
	if err != nil {
		ix.log.Warn("reading index stats", "err", err)
		return s
	}
	if fi, err := os.Stat(ix.st.Path()); err == nil {
		s.DiskBytes = fi.Size()
	}
	return s
}

// Close cancels a running Update, waits for it and closes the index file.
func (ix *Index) Close() error {
	ix.mu.Lock()
	if ix.closed {
		ix.mu.Unlock()
		return ix.closeErr
	}
	ix.closed = true
	if ix.cancel != nil {
		ix.cancel()
	}
	ix.mu.Unlock()
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	ix.saveSnapshots()
	err := ix.st.Close()
	ix.mu.Lock()
	ix.closeErr = err
	ix.mu.Unlock()
	return err
}

var errClosed = errors.New("index is closed")

// beginWrite takes the write lock and derives a context Close can cancel.
// The returned function releases both.
func (ix *Index) beginWrite(ctx context.Context) (context.Context, func(), error) {
	ix.writeMu.Lock()
	ix.mu.Lock()
	if ix.closed {
		ix.mu.Unlock()
		ix.writeMu.Unlock()
		return nil, nil, errClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	ix.cancel = cancel
	ix.mu.Unlock()
	return ctx, func() {
		cancel()
		ix.mu.Lock()
		ix.cancel = nil
		ix.mu.Unlock()
		ix.writeMu.Unlock()
	}, nil
}

func (ix *Index) setState(s string) {
	ix.mu.Lock()
	ix.state = s
	ix.mu.Unlock()
}
