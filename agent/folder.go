package agent

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/codemux/codemux/index"
	"github.com/codemux/codemux/index/store"
	"github.com/codemux/codemux/index/walk"
	"github.com/codemux/codemux/index/watch"
	"github.com/codemux/codemux/rpc"
)

// folder is one workspace folder known to the daemon, shared by every
// client that opened it. Its index is opened on first use and kept while
// the daemon runs, so the next client finds it warm.
type folder struct {
	path string // absolute, cleaned
	uri  string
	refs int // sessions holding it; guarded by Server.mu

	mu       sync.Mutex // guards the fields below and serialises opening
	ix       *index.Index
	openErr  error
	fresh    bool // an Update has completed in this daemon
	lastErr  string
	watchErr string

	saveMu  sync.Mutex
	pending map[string]bool // saved files waiting to be reindexed
	saving  bool
}

func (f *folder) status() rpc.FolderStatus {
	st := rpc.FolderStatus{URI: f.uri, State: "not indexed", Degraded: []string{}}
	f.mu.Lock()
	ix, lastErr := f.ix, f.lastErr
	if f.openErr != nil {
		st.State, st.Error = "error", f.openErr.Error()
	}
	f.mu.Unlock()
	if ix != nil {
		s := ix.Stats()
		st.State = s.State
		st.Files, st.Chunks = s.Files, s.Chunks
		st.MemoryBytes, st.DiskBytes = s.MemoryBytes, s.DiskBytes
		st.CapBytes = s.CapBytes
		st.Degraded = append(st.Degraded, s.Degraded...)
	}
	if lastErr != "" {
		st.Error = lastErr
	}
	f.mu.Lock()
	if f.watchErr != "" {
		st.Degraded = append(st.Degraded, f.watchErr)
	}
	f.mu.Unlock()
	return st
}

// index returns the folder's open index, opening it on first use.
func (s *Server) index(ctx context.Context, f *folder) (*index.Index, error) {
	ix, opened, err := s.openIndex(ctx, f)
	if opened {
		// Outside f.mu: starting the watcher takes Server.mu, which status
		// holds while it takes f.mu.
		s.watch(f, ix)
	}
	return ix, err
}

// openIndex opens the folder's index unless it is open; opened reports
// that this call opened it.
func (s *Server) openIndex(ctx context.Context, f *folder) (ix *index.Index, opened bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ix != nil {
		return f.ix, false, nil
	}
	if s.opts.DataDir == "" {
		return nil, false, rpc.Errorf(rpc.CodeInternalError, "this server has no data directory for indexes")
	}
	var memoryCap int64
	if _, cfg, _ := s.llm(); cfg != nil {
		memoryCap = cfg.MemoryCap
	}
	opts := &index.Options{
		DataDir:   filepath.Join(s.opts.DataDir, "indexes"),
		Logger:    s.log.With("folder", f.path),
		Embedder:  s.embedder(),
		MemoryCap: memoryCap,
	}
	ix, err = index.Open(ctx, f.path, opts)
	if errors.Is(err, store.ErrLocked) && s.opts.ReleaseIndexes != nil && s.opts.ReleaseIndexes(ctx) {
		s.log.Info("index held by a daemon of another build; asked it to exit", "folder", f.path)
		ix, err = index.Open(ctx, f.path, opts)
	}
	if err != nil {
		f.openErr = err
		return nil, false, rpc.Errorf(CodeRequestFailed, "cannot open the index of %s: %v", f.path, err)
	}
	f.ix, f.openErr = ix, nil
	return ix, true, nil
}

// watch keeps the folder's index fresh from file-system events (git
// checkouts, other editors, generators): changed files are reindexed, and
// removed directories or a rescan request run an incremental update.
// Failing to watch is reported in status, never fatal.
func (s *Server) watch(f *folder, ix *index.Index) {
	m, err := walk.NewMatcher(f.path, nil)
	if err == nil {
		var w *watch.Watcher
		w, err = watch.New(s.bgCtx, f.path, &watch.Options{Matcher: m, Logger: s.log.With("folder", f.path)})
		if err == nil {
			s.background(func(ctx context.Context) { s.watchLoop(ctx, f, ix, w) })
			return
		}
	}
	f.mu.Lock()
	f.watchErr = "file watching is off: " + err.Error()
	f.mu.Unlock()
	s.log.Warn("not watching folder", "folder", f.path, "error", err)
}

func (s *Server) watchLoop(ctx context.Context, f *folder, ix *index.Index, w *watch.Watcher) {
	defer w.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case err := <-w.Errors():
			s.log.Warn("watching folder", "folder", f.path, "error", err)
			f.mu.Lock()
			f.watchErr = err.Error()
			f.mu.Unlock()
		case b, ok := <-w.Batches():
			if !ok {
				return
			}
			var err error
			if b.Rescan || len(b.RemovedDirs) > 0 {
				_, err = s.update(ctx, f, ix, index.UpdateOptions{}, nil)
			} else if rels := append(b.Removed, b.Changed...); len(rels) > 0 {
				err = ix.UpdateFiles(ctx, rels)
			}
			if err != nil && ctx.Err() == nil {
				s.log.Warn("applying file changes", "folder", f.path, "error", err)
			}
		}
	}
}

// CodeRequestFailed is LSP's code for a valid request that failed.
const CodeRequestFailed = rpc.CodeRequestFailed

// ready returns an index that can answer a search. A folder never indexed
// is indexed first (reporting progress); a folder with an index from an
// earlier run answers at once while a background update catches up.
func (s *Server) ready(ctx context.Context, f *folder, progress *rpc.Progress) (*index.Index, error) {
	ix, err := s.index(ctx, f)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	fresh := f.fresh
	f.mu.Unlock()
	if fresh {
		return ix, nil
	}
	if ix.Stats().Files > 0 {
		s.background(func(ctx context.Context) { _, _ = s.update(ctx, f, ix, index.UpdateOptions{}, nil) })
		return ix, nil
	}
	if _, err := s.update(ctx, f, ix, index.UpdateOptions{}, progress); err != nil {
		return nil, err
	}
	return ix, nil
}

// update runs an index update and records its outcome on the folder.
func (s *Server) update(ctx context.Context, f *folder, ix *index.Index, opts index.UpdateOptions, progress *rpc.Progress) (index.Summary, error) {
	if progress != nil {
		opts.Progress = func(p index.Progress) {
			pct := 0
			if p.Total > 0 {
				pct = p.Done * 100 / p.Total
			}
			progress.Report(ctx, fmt.Sprintf("%d/%d files %s", p.Done, p.Total, p.Rel), pct)
		}
	}
	sum, err := ix.Update(ctx, opts)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case err == nil:
		f.fresh, f.lastErr = true, ""
	case errors.Is(err, context.Canceled):
		// Cancelled by the client: what was committed stays; no error to show.
	default:
		f.lastErr = err.Error()
		s.log.Warn("index update failed", "folder", f.path, "error", err)
	}
	if err != nil && ctx.Err() == nil {
		return sum, rpc.Errorf(CodeRequestFailed, "indexing %s failed: %v", f.path, err)
	}
	return sum, err
}

// saved queues a saved file for reindexing; one goroutine per folder works
// the queue so a burst of saves costs one update each at most.
func (s *Server) saved(f *folder, rel string) {
	f.saveMu.Lock()
	if f.pending == nil {
		f.pending = map[string]bool{}
	}
	f.pending[rel] = true
	start := !f.saving
	f.saving = true
	f.saveMu.Unlock()
	if !start {
		return
	}
	s.background(func(ctx context.Context) {
		for {
			f.saveMu.Lock()
			rels := make([]string, 0, len(f.pending))
			for r := range f.pending {
				rels = append(rels, r)
			}
			f.pending = map[string]bool{}
			if len(rels) == 0 {
				f.saving = false
				f.saveMu.Unlock()
				return
			}
			f.saveMu.Unlock()
			ix, err := s.index(ctx, f)
			if err != nil {
				continue
			}
			if err := ix.UpdateFiles(ctx, rels); err != nil && ctx.Err() == nil {
				s.log.Warn("reindexing saved files failed", "folder", f.path, "files", len(rels), "error", err)
			}
		}
	})
}

// parseFolderRef turns a workspace folder reference — a file:// URI or a
// path — into a clean absolute path without checking the file system.
func parseFolderRef(ref string) (string, error) {
	p := ref
	if strings.HasPrefix(ref, "file:") {
		u, err := url.Parse(ref)
		if err != nil {
			return "", fmt.Errorf("folder %q is not a valid file URI: %w", ref, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("folder %q is on another host; only local folders can be indexed", ref)
		}
		p = u.Path
	} else if strings.Contains(ref, "://") {
		return "", fmt.Errorf("folder %q: only file:// URIs and local paths are supported", ref)
	}
	if p == "" {
		return "", fmt.Errorf("folder is empty")
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("folder %q must be an absolute path or a file:// URI", ref)
	}
	return filepath.Clean(p), nil
}

// folderPath is parseFolderRef for a directory that must exist.
func folderPath(ref string) (string, error) {
	abs, err := parseFolderRef(ref)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("folder %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("folder %s is not a directory", abs)
	}
	return abs, nil
}

// fileURI returns the file:// URI of an absolute path.
func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// acquireFolderLocked registers (or shares) the folder at path.
func (s *Server) acquireFolderLocked(path string) *folder {
	f := s.folders[path]
	if f == nil {
		f = &folder{path: path, uri: fileURI(path)}
		s.folders[path] = f
	}
	f.refs++
	return f
}

// releaseFolderLocked drops one session's hold on f. Folders stay known
// while the daemon runs so the next client finds their index warm.
func (s *Server) releaseFolderLocked(f *folder) {
	if f.refs > 0 {
		f.refs--
	}
}

// folderOf returns the known folder containing the file at path, the
// deepest one when folders nest.
func (s *Server) folderOf(path string) (*folder, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var best *folder
	var rel string
	for p, f := range s.folders {
		r, err := filepath.Rel(p, path)
		if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
			continue
		}
		if best == nil || len(p) > len(best.path) {
			best, rel = f, filepath.ToSlash(r)
		}
	}
	return best, rel
}
