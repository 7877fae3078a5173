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
}

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
	State       string
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

	// writeMu serialises Update and UpdateFiles.
	writeMu sync.Mutex
	snapGen uint64 // store generation of the saved lexical snapshot; guarded by writeMu

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
	if ix.log == nil {
		ix.log = slog.New(slog.DiscardHandler)
	}
	if ix.emb == nil {
		ix.emb = embed.NewBuiltin(nil)
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
	path := filepath.Join(opts.DataDir, FileName(abs))
	sopts := &store.Options{EmbedderID: ix.emb.ID(), Root: abs, Now: ix.opts.Now, Timeout: opts.LockTimeout, MaxBytes: opts.MaxDiskBytes}
	ix.st, err = store.Open(path, sopts)
	if errors.Is(err, store.ErrCorrupt) || errors.Is(err, store.ErrSchema) {
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
	ix.state = StateReady
	if len(ix.eng.chunks) == 0 {
		if st, err := ix.st.Stats(); err == nil && st.Files == 0 {
			ix.state = StateEmpty
		}
	}
	return ix, nil
}

// lexicalSnapshot names the stored BM25 index.
const lexicalSnapshot = "lexical"

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
	// Every chunk is now recorded as lacking a vector; add the stored ones.
	e.mu.Lock()
	defer e.mu.Unlock()
	return ix.st.ForEachVector(ctx, func(h store.Hash, vec []float32) error {
		for _, id := range byHash[h] {
			if err := e.setVector(ctx, id, h, vec); err != nil {
				return err
			}
		}
		return nil
	})
}

// saveLexical stores the BM25 index as a snapshot of the store's current
// generation, so the next Open need not rebuild it. Callers hold writeMu.
func (ix *Index) saveLexical() {
	gen, err := ix.st.Generation()
	if err != nil || gen == ix.snapGen {
		return
	}
	data, err := ix.eng.lex.MarshalBinary()
	if err == nil {
		err = ix.st.PutSnapshot(lexicalSnapshot, gen, data)
	}
	if err != nil {
		ix.log.Warn("saving lexical index", "err", err)
		return
	}
	ix.snapGen = gen
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
	s := Stats{State: state, MemoryBytes: ix.eng.memoryBytes()}
	st, err := ix.st.Stats()
	if err != nil {
		ix.log.Warn("reading index stats", "err", err)
		return s
	}
	s.Files, s.Chunks, s.DiskBytes = st.Files, st.Chunks, st.DiskBytes
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
	ix.saveLexical()
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
