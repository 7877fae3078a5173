package watch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/codemux/codemux/index/walk"
)

// Defaults for the zero values of Options.
const (
	DefaultDebounce = 100 * time.Millisecond
	DefaultMaxDelay = time.Second
	DefaultMaxBatch = 10000
)

// errBuffer is how many errors wait on Errors before more are dropped.
const errBuffer = 16

// Options controls a Watcher. The zero value, like a nil *Options, means the
// defaults.
type Options struct {
	// Matcher decides which paths are skipped; the Watcher tells it about
	// ignore-file changes (Matcher.Changed). nil means walk.NewMatcher(root,
	// nil). It must be a Matcher for the same root.
	Matcher *walk.Matcher
	// Debounce is how long the Watcher waits after the last event before it
	// sends a batch. 0 means DefaultDebounce.
	Debounce time.Duration
	// MaxDelay bounds how long a change waits while events keep arriving.
	// 0 means DefaultMaxDelay; it is never less than Debounce.
	MaxDelay time.Duration
	// MaxBatch is the number of pending paths above which the Watcher stops
	// listing them and sends a Rescan instead. 0 means DefaultMaxBatch.
	MaxBatch int
	// Logger receives warnings; nil means none.
	Logger *slog.Logger

	// limitWatches, when positive, makes adding a watch fail with ENOSPC
	// once that many directories are watched, as the kernel does at
	// fs.inotify.max_user_watches (tests); maxWatches replaces reading that
	// limit.
	limitWatches int
	maxWatches   func() int
}

// Batch is the changes of one debounce window. Apply RemovedDirs first,
// then Removed, then Changed: a directory replaced by another of the same
// name appears in RemovedDirs and its new files in Changed.
type Batch struct {
	// Changed lists files (slash-separated, relative to the root) that were
	// created, written or renamed to, and exist as regular files.
	Changed []string
	// Removed lists files that were deleted or renamed away.
	Removed []string
	// RemovedDirs lists directories that were deleted or renamed away; the
	// caller removes every file under each of them.
	RemovedDirs []string
	// Rescan means the lists above are unknown (the kernel queue
	// overflowed, an ignore file changed, or too many paths changed at
	// once): the caller must run a full incremental update. The lists are
	// empty when it is set.
	Rescan bool
}

// Empty reports whether the batch carries nothing.
func (b Batch) Empty() bool {
	return !b.Rescan && len(b.Changed) == 0 && len(b.Removed) == 0 && len(b.RemovedDirs) == 0
}

// Stats describes a Watcher's state.
type Stats struct {
	Dirs       int  // directories watched
	Unwatched  int  // directories not watched because the watch limit was reached
	LimitHit   bool // the inotify watch limit was reached at least once
	MaxWatches int  // fs.inotify.max_user_watches, 0 if unknown
	Events     int64
	Batches    int64
	Rescans    int64
	Overflows  int64
	// DroppedErrors counts errors nobody read from Errors.
	DroppedErrors int64
}

// LimitError reports directories left unwatched because the inotify watch
// limit (ENOSPC from inotify_add_watch) was reached. Changes in them are
// only seen by a full update until the limit is raised.
type LimitError struct {
	MaxWatches int      // fs.inotify.max_user_watches, 0 if unknown
	Unwatched  int      // directories not watched
	Sample     []string // some of them, relative to the root
	Err        error    // the error from inotify_add_watch
}

// Error says what is unwatched and how to raise the limit.
func (e *LimitError) Error() string {
	limit := "fs.inotify.max_user_watches"
	if e.MaxWatches > 0 {
		limit = fmt.Sprintf("%s=%d", limit, e.MaxWatches)
	}
	var sample string
	if len(e.Sample) > 0 {
		sample = " (" + strings.Join(e.Sample, ", ") + ", …)"
	}
	return fmt.Sprintf("inotify watch limit reached (%s): %d directories are not watched%s; "+
		"their changes are picked up only by a full update; raise the limit with "+
		"`sudo sysctl fs.inotify.max_user_watches=524288`", limit, e.Unwatched, sample)
}

// Unwrap returns the error from inotify_add_watch (ENOSPC).
func (e *LimitError) Unwrap() error { return e.Err }

// limitSample is how many unwatched directories a LimitError names.
const limitSample = 3

// pathState is what the pending set knows about one path.
type pathState struct {
	existed bool // its first event in the window was not a Create
	dir     bool // it was a watched directory when removed or renamed away
}

// Watcher watches one workspace. See the package doc.
type Watcher struct {
	root     string
	m        *walk.Matcher
	log      *slog.Logger
	debounce time.Duration
	maxDelay time.Duration
	maxBatch int
	fsw      *fsnotify.Watcher
	limit    int
	maxWatch func() int

	batches   chan Batch
	errs      chan error
	done      chan struct{}
	exited    chan struct{}
	closeOnce sync.Once
	closeErr  error

	// Owned by the run goroutine (by New before it starts).
	dirs      map[string]bool // watched directories
	unwatched map[string]bool // directories the watch limit kept out
	pending   map[string]*pathState
	rescan    bool
	out       map[string]outKind // a merged batch the consumer has not taken
	outRescan bool
	ready     *Batch // out as a Batch, nil when there is nothing to send

	mu    sync.Mutex // guards stats
	stats Stats
}

type outKind uint8

const (
	outChanged outKind = iota + 1
	outRemoved
	outRemovedDir
)

// New watches every directory of the workspace at root that the matcher
// does not skip and starts reporting changes. ctx bounds the initial walk
// of the directories only. The root itself must be watchable.
func New(ctx context.Context, root string, opts *Options) (*Watcher, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolving workspace root %s: %w", root, err)
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Matcher == nil {
		if o.Matcher, err = walk.NewMatcher(abs, nil); err != nil {
			return nil, fmt.Errorf("watching %s: %w", abs, err)
		}
	} else if o.Matcher.Root() != abs {
		return nil, fmt.Errorf("watching %s: the matcher is for another root, %s", abs, o.Matcher.Root())
	}
	if o.Debounce <= 0 {
		o.Debounce = DefaultDebounce
	}
	if o.MaxDelay <= 0 {
		o.MaxDelay = DefaultMaxDelay
	}
	o.MaxDelay = max(o.MaxDelay, o.Debounce)
	if o.MaxBatch <= 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.maxWatches == nil {
		o.maxWatches = readMaxWatches
	}
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("creating an inotify instance for %s (fs.inotify.max_user_instances may be reached): %w", abs, err)
	}
	w := &Watcher{
		root:      abs,
		m:         o.Matcher,
		log:       o.Logger,
		debounce:  o.Debounce,
		maxDelay:  o.MaxDelay,
		maxBatch:  o.MaxBatch,
		fsw:       fsw,
		limit:     o.limitWatches,
		maxWatch:  o.maxWatches,
		batches:   make(chan Batch),
		errs:      make(chan error, errBuffer),
		done:      make(chan struct{}),
		exited:    make(chan struct{}),
		dirs:      make(map[string]bool),
		unwatched: make(map[string]bool),
		pending:   make(map[string]*pathState),
	}
	if err := w.addWatch(abs); err != nil {
		fsw.Close()
		if errors.Is(err, syscall.ENOSPC) {
			return nil, &LimitError{MaxWatches: w.maxWatch(), Unwatched: 1, Sample: []string{"."}, Err: err}
		}
		return nil, fmt.Errorf("watching workspace root %s: %w", abs, err)
	}
	w.dirs[""] = true
	if _, err := w.addTree(ctx, "", false); err != nil {
		fsw.Close()
		return nil, fmt.Errorf("watching the directories of %s: %w", abs, err)
	}
	w.syncStats()
	go w.run()
	return w, nil
}

// Batches returns the channel of batches. It is closed by Close.
func (w *Watcher) Batches() <-chan Batch { return w.batches }

// Errors returns the channel of errors the Watcher works around: a
// *LimitError when directories cannot be watched, and errors fsnotify
// reports. It is closed by Close.
func (w *Watcher) Errors() <-chan error { return w.errs }

// Stats returns the Watcher's current state.
func (w *Watcher) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stats
}

// Close stops watching, releases every inotify watch and closes Batches
// and Errors. It waits for the Watcher's goroutine to end.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() {
		close(w.done)
		<-w.exited
		if err := w.fsw.Close(); err != nil {
			w.closeErr = fmt.Errorf("closing the watcher of %s: %w", w.root, err)
		}
	})
	return w.closeErr
}

// run is the Watcher's goroutine.
func (w *Watcher) run() {
	defer close(w.exited)
	defer close(w.batches)
	defer close(w.errs)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var first time.Time // arrival of the oldest pending event
	armed := false
	arm := func() {
		now := time.Now()
		if !armed {
			first, armed = now, true
		}
		d := min(w.debounce, max(0, first.Add(w.maxDelay).Sub(now)))
		timer.Reset(d)
	}
	for {
		var send chan<- Batch
		var next Batch
		if w.ready != nil {
			send, next = w.batches, *w.ready
		}
		select {
		case <-w.done:
			return
		case ev, ok := <-w.fsw.Events:
			if !ok {
				return
			}
			if w.event(ev) {
				arm()
			}
			w.syncStats()
		case err, ok := <-w.fsw.Errors:
			if !ok {
				return
			}
			w.fsError(err)
			arm()
			w.syncStats()
		case <-timer.C:
			armed = false
			w.flush()
			w.syncStats()
		case send <- next:
			w.out, w.outRescan, w.ready = nil, false, nil
			w.count(func(s *Stats) { s.Batches++ })
		}
	}
}

// event records one fsnotify event in the pending set and reports whether
// it may change the next batch.
func (w *Watcher) event(ev fsnotify.Event) bool {
	if ev.Op&^fsnotify.Chmod == 0 {
		return false
	}
	rel, ok := w.rel(ev.Name)
	if !ok {
		return false
	}
	w.count(func(s *Stats) { s.Events++ })
	if rel == "" {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			w.sendErr(fmt.Errorf("workspace root %s was removed or renamed; its changes are no longer seen", w.root))
		}
		return false
	}
	if w.m.Changed(rel) {
		w.rescan = true
	}
	st := w.pending[rel]
	if st == nil {
		st = &pathState{existed: !ev.Has(fsnotify.Create)}
		w.pending[rel] = st
	}
	if (ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)) && w.dirs[rel] {
		w.dropDirs(rel)
		st.dir = true
	}
	if ev.Has(fsnotify.Create) {
		if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
			if skip, _ := w.m.Skip(rel, true); !skip {
				// The context is never done here: a new directory is
				// listed whole, as it must be to report its files.
				_, _ = w.addTree(context.Background(), rel, true)
			}
		}
	}
	if len(w.pending) > w.maxBatch {
		w.rescan = true
		clear(w.pending)
	}
	return true
}

// fsError handles an error fsnotify reports.
func (w *Watcher) fsError(err error) {
	if errors.Is(err, fsnotify.ErrEventOverflow) {
		w.count(func(s *Stats) { s.Overflows++ })
		w.log.Warn("file events overflowed the kernel queue; rescanning", "root", w.root)
		w.rescan = true
		return
	}
	w.sendErr(fmt.Errorf("watching %s: %w", w.root, err))
}

// flush resolves the pending set against the file system and queues the
// batch for the consumer.
func (w *Watcher) flush() {
	if w.rescan {
		w.resync()
		clear(w.pending)
		w.rescan = false
		w.queue(Batch{Rescan: true})
		return
	}
	var b Batch
	for rel, st := range w.pending {
		if st.dir {
			b.RemovedDirs = append(b.RemovedDirs, rel)
		}
		fi, err := os.Lstat(w.abs(rel))
		switch {
		case err != nil:
			if st.existed && !st.dir && !w.m.Ignored(rel, false) {
				b.Removed = append(b.Removed, rel)
			}
		case fi.Mode().IsRegular():
			if !w.m.Ignored(rel, false) {
				b.Changed = append(b.Changed, rel)
			}
		case fi.IsDir():
			// Its files are pending on their own.
		default:
			// A symlink or special file now stands where a file may have
			// been; the walk never indexes those.
			if st.existed && !st.dir && !w.m.Ignored(rel, false) {
				b.Removed = append(b.Removed, rel)
			}
		}
	}
	clear(w.pending)
	b.Removed = prune(b.Removed, b.RemovedDirs)
	b.RemovedDirs = prune(b.RemovedDirs, b.RemovedDirs)
	if !b.Empty() {
		w.queue(b)
	}
}

// prune drops from rels the paths below one of dirs, which the caller
// removes with the directory.
func prune(rels, dirs []string) []string {
	if len(dirs) == 0 {
		return rels
	}
	return slices.DeleteFunc(rels, func(rel string) bool {
		for _, d := range dirs {
			if strings.HasPrefix(rel, d+"/") {
				return true
			}
		}
		return false
	})
}

// queue merges b into the batch waiting for the consumer.
func (w *Watcher) queue(b Batch) {
	if b.Rescan || w.outRescan {
		w.out, w.outRescan = nil, true
		w.count(func(s *Stats) { s.Rescans++ })
		w.ready = &Batch{Rescan: true}
		return
	}
	if w.out == nil {
		w.out = make(map[string]outKind)
	}
	for _, d := range b.RemovedDirs {
		for rel := range w.out {
			if strings.HasPrefix(rel, d+"/") { // gone with d, or written before d went
				delete(w.out, rel)
			}
		}
		w.out[d] = outRemovedDir
	}
	for _, rel := range b.Removed {
		w.out[rel] = outRemoved
	}
	for _, rel := range b.Changed {
		w.out[rel] = outChanged
	}
	var r Batch
	for rel, k := range w.out {
		switch k {
		case outChanged:
			r.Changed = append(r.Changed, rel)
		case outRemoved:
			r.Removed = append(r.Removed, rel)
		case outRemovedDir:
			r.RemovedDirs = append(r.RemovedDirs, rel)
		}
	}
	slices.Sort(r.Changed)
	slices.Sort(r.Removed)
	slices.Sort(r.RemovedDirs)
	w.ready = &r
}

// addTree watches the directory rel and every directory below it that the
// matcher does not skip, and with report adds their files to the pending
// set as created. It returns the directories it visited.
func (w *Watcher) addTree(ctx context.Context, rel string, report bool) (map[string]bool, error) {
	seen := make(map[string]bool)
	limitBefore := len(w.unwatched)
	var firstErr error
	stack := []string{rel}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return seen, err
		}
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		seen[d] = true
		if !w.dirs[d] {
			if err := w.watchDir(d); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		entries, err := os.ReadDir(w.abs(d))
		if err != nil {
			continue // removed meanwhile, or unreadable: the walk reports it
		}
		// In reverse, so directories are visited depth first in name order.
		for _, e := range slices.Backward(entries) {
			child := e.Name()
			if d != "" {
				child = d + "/" + child
			}
			switch t := e.Type(); {
			case t&fs.ModeSymlink != 0:
			case t.IsDir():
				if skip, _ := w.m.Skip(child, true); !skip {
					stack = append(stack, child)
				}
			case t.IsRegular() && report:
				if _, ok := w.pending[child]; !ok && !w.m.Ignored(child, false) {
					w.pending[child] = &pathState{}
				}
			}
		}
	}
	if len(w.unwatched) > limitBefore {
		w.reportLimit(firstErr)
	} else if firstErr != nil {
		w.sendErr(firstErr)
	}
	return seen, nil
}

// addWatch adds an inotify watch on the directory abs.
func (w *Watcher) addWatch(abs string) error {
	if w.limit > 0 && len(w.dirs) >= w.limit {
		return syscall.ENOSPC
	}
	return w.fsw.Add(abs)
}

// watchDir adds a watch on the directory rel. It returns an error other
// than the watch limit, which is recorded in w.unwatched instead.
func (w *Watcher) watchDir(rel string) error {
	err := w.addWatch(w.abs(rel))
	switch {
	case err == nil:
		w.dirs[rel] = true
		delete(w.unwatched, rel)
		return nil
	case errors.Is(err, syscall.ENOSPC):
		w.unwatched[rel] = true
		return err
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return nil // gone again, or replaced by a file
	}
	return fmt.Errorf("watching directory %s: %w", rel, err)
}

// reportLimit sends a *LimitError describing w.unwatched.
func (w *Watcher) reportLimit(err error) {
	if !errors.Is(err, syscall.ENOSPC) {
		err = syscall.ENOSPC
	}
	e := &LimitError{MaxWatches: w.maxWatch(), Unwatched: len(w.unwatched), Err: err}
	for d := range w.unwatched {
		e.Sample = append(e.Sample, d)
	}
	slices.Sort(e.Sample)
	e.Sample = e.Sample[:min(len(e.Sample), limitSample)]
	w.count(func(s *Stats) { s.LimitHit, s.MaxWatches = true, e.MaxWatches })
	w.log.Warn("inotify watch limit reached", "root", w.root, "unwatched", e.Unwatched, "max_user_watches", e.MaxWatches)
	w.sendErr(e)
}

// dropDirs forgets the watched directory rel and every one below it,
// releasing their watches (inotify keeps the watch of a directory that was
// renamed, under its old name).
func (w *Watcher) dropDirs(rel string) {
	for d := range w.dirs {
		if d == rel || strings.HasPrefix(d, rel+"/") {
			_ = w.fsw.Remove(w.abs(d)) // already gone when the directory was deleted
			delete(w.dirs, d)
		}
	}
	for d := range w.unwatched {
		if d == rel || strings.HasPrefix(d, rel+"/") {
			delete(w.unwatched, d)
		}
	}
}

// resync brings the watched directories in line with the file system and
// the current ignore rules, after an overflow or an ignore-file change.
func (w *Watcher) resync() {
	seen, _ := w.addTree(context.Background(), "", false)
	for d := range w.dirs {
		if !seen[d] {
			_ = w.fsw.Remove(w.abs(d))
			delete(w.dirs, d)
		}
	}
	for d := range w.unwatched {
		if !seen[d] {
			delete(w.unwatched, d)
		}
	}
}

// rel turns an event's path into a slash-separated path relative to the
// root; ok is false for paths outside it.
func (w *Watcher) rel(name string) (string, bool) {
	r, err := filepath.Rel(w.root, name)
	if err != nil {
		return "", false
	}
	r = filepath.ToSlash(r)
	if r == "." {
		return "", true
	}
	if r == ".." || strings.HasPrefix(r, "../") {
		return "", false
	}
	return r, true
}

func (w *Watcher) abs(rel string) string {
	return filepath.Join(w.root, filepath.FromSlash(rel))
}

// sendErr offers err to the consumer without blocking.
func (w *Watcher) sendErr(err error) {
	select {
	case w.errs <- err:
	default:
		w.count(func(s *Stats) { s.DroppedErrors++ })
		w.log.Warn("watcher error not read", "root", w.root, "err", err)
	}
}

func (w *Watcher) count(f func(*Stats)) {
	w.mu.Lock()
	f(&w.stats)
	w.mu.Unlock()
}

// syncStats copies the directory counts into the stats.
func (w *Watcher) syncStats() {
	dirs, unwatched := len(w.dirs), len(w.unwatched)
	w.count(func(s *Stats) { s.Dirs, s.Unwatched = dirs, unwatched })
}

// readMaxWatches returns fs.inotify.max_user_watches, or 0 when it cannot
// be read.
func readMaxWatches() int {
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_user_watches")
	if err != nil {
		return 0
	}
	var n int
	if _, err := fmt.Sscan(string(b), &n); err != nil {
		return 0
	}
	return n
}
