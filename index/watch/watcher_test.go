package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// collectTimeout bounds how long a test waits for the batches it expects;
// it is never a measure of speed.
const collectTimeout = 10 * time.Second

// sentinel is written after a test's change: events arrive in order, so
// once it is reported every earlier change has been reported too.
const sentinel = "zz-sentinel.txt"

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// net is the net effect of a sequence of batches: the latest state of each
// path, applied in the documented order (directories, removals, changes).
type net struct {
	state   map[string]outKind
	rescan  bool
	batches int
}

func (n *net) add(b Batch) {
	if n.state == nil {
		n.state = map[string]outKind{}
	}
	n.batches++
	n.rescan = n.rescan || b.Rescan
	for _, d := range b.RemovedDirs {
		for rel := range n.state {
			if strings.HasPrefix(rel, d+"/") {
				delete(n.state, rel) // the caller removes everything under d
			}
		}
		n.state[d] = outRemovedDir
	}
	for _, r := range b.Removed {
		n.state[r] = outRemoved
	}
	for _, r := range b.Changed {
		n.state[r] = outChanged
	}
}

func (n *net) list(k outKind, drop ...string) []string {
	out := []string{}
	for rel, s := range n.state {
		if s == k && !slices.Contains(drop, rel) {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out
}

// collect reads batches until done reports true for their net effect, or
// fails the test after collectTimeout.
func collect(t *testing.T, w *Watcher, done func(*net) bool) *net {
	t.Helper()
	n := &net{}
	deadline := time.After(collectTimeout)
	for !done(n) {
		select {
		case b, ok := <-w.Batches():
			if !ok {
				t.Fatalf("Batches closed; got so far %v", n.state)
			}
			n.add(b)
		case err := <-w.Errors():
			t.Logf("watcher error: %v", err)
		case <-deadline:
			t.Fatalf("no expected batch within %v; got so far %v (rescan %v)", collectTimeout, n.state, n.rescan)
		}
	}
	return n
}

func sentinelSeen(n *net) bool { return n.rescan || n.state[sentinel] == outChanged }

func newWatcher(t *testing.T, dir string, opts *Options) *Watcher {
	t.Helper()
	w, err := New(context.Background(), dir, opts)
	if err != nil {
		t.Fatalf("New(%s) = %v", dir, err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return w
}

func TestWatcher(t *testing.T) {
	base := map[string]string{
		"a.go":         "package a\n",
		"pkg/x.go":     "package pkg\n",
		"pkg/sub/y.go": "package sub\n",
		".gitignore":   "*.log\n/gen/\n",
		"gen/keep.go":  "package gen\n",
	}
	tests := []struct {
		name        string
		change      func(t *testing.T, dir string)
		changed     []string
		removed     []string
		removedDirs []string
		rescan      bool
		transient   []string // may be reported removed, depending on batching
	}{
		{
			name:    "create",
			change:  func(t *testing.T, dir string) { writeFiles(t, dir, map[string]string{"b.go": "package a\n"}) },
			changed: []string{"b.go"},
		},
		{
			name: "modify",
			change: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string]string{"pkg/x.go": "package pkg\n\nfunc X() {}\n"})
			},
			changed: []string{"pkg/x.go"},
		},
		{
			name:    "delete",
			change:  func(t *testing.T, dir string) { must(t, os.Remove(filepath.Join(dir, "a.go"))) },
			removed: []string{"a.go"},
		},
		{
			name: "rename file",
			change: func(t *testing.T, dir string) {
				must(t, os.Rename(filepath.Join(dir, "a.go"), filepath.Join(dir, "pkg", "c.go")))
			},
			changed: []string{"pkg/c.go"},
			removed: []string{"a.go"},
		},
		{
			name: "rename dir",
			change: func(t *testing.T, dir string) {
				must(t, os.Rename(filepath.Join(dir, "pkg"), filepath.Join(dir, "lib")))
			},
			changed:     []string{"lib/sub/y.go", "lib/x.go"},
			removedDirs: []string{"pkg"},
		},
		{
			name:        "delete dir",
			change:      func(t *testing.T, dir string) { must(t, os.RemoveAll(filepath.Join(dir, "pkg"))) },
			removedDirs: []string{"pkg"},
		},
		{
			name: "atomic save",
			change: func(t *testing.T, dir string) {
				tmp := filepath.Join(dir, "pkg", ".x.go.tmp")
				must(t, os.WriteFile(tmp, []byte("package pkg\n\nvar V = 1\n"), 0o644))
				must(t, os.Rename(tmp, filepath.Join(dir, "pkg", "x.go")))
			},
			changed:   []string{"pkg/x.go"},
			transient: []string{"pkg/.x.go.tmp"},
		},
		{
			name: "backup save",
			change: func(t *testing.T, dir string) {
				p := filepath.Join(dir, "a.go")
				must(t, os.Rename(p, p+"~"))
				must(t, os.WriteFile(p, []byte("package a\n\nvar W = 2\n"), 0o644))
				must(t, os.Remove(p+"~"))
			},
			changed:   []string{"a.go"},
			transient: []string{"a.go~"},
		},
		{
			name: "new nested dir",
			change: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string]string{
					"new/n.go":            "package n\n",
					"new/deep/er/d.go":    "package er\n",
					"new/deep/er/est/e.c": "int e;\n",
				})
			},
			changed: []string{"new/deep/er/d.go", "new/deep/er/est/e.c", "new/n.go"},
		},
		{
			name: "dir moved in from outside",
			change: func(t *testing.T, dir string) {
				outside := t.TempDir()
				writeFiles(t, outside, map[string]string{"m/in.go": "package m\n", "m/inner/deep.go": "package inner\n"})
				must(t, os.Rename(filepath.Join(outside, "m"), filepath.Join(dir, "moved")))
			},
			changed: []string{"moved/in.go", "moved/inner/deep.go"},
		},
		{
			name: "ignored paths",
			change: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string]string{
					"node_modules/dep/index.js": "module.exports = 1\n",
					"debug.log":                 "log line\n",
					"gen/more.go":               "package gen\n",
					"pkg/.env":                  "TOKEN=x\n",
					"img.png":                   "\x89PNG",
				})
			},
		},
		{
			name:   "chmod only",
			change: func(t *testing.T, dir string) { must(t, os.Chmod(filepath.Join(dir, "a.go"), 0o600)) },
		},
		{
			name: "gitignore edit",
			change: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string]string{".gitignore": "*.log\n"})
			},
			rescan: true,
		},
		{
			name: "codemuxignore created",
			change: func(t *testing.T, dir string) {
				writeFiles(t, dir, map[string]string{"pkg/.codemuxignore": "sub/\n"})
			},
			rescan: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, base)
			w := newWatcher(t, dir, nil)
			tt.change(t, dir)
			writeFiles(t, dir, map[string]string{sentinel: "done\n"})
			n := collect(t, w, sentinelSeen)
			if n.rescan != tt.rescan {
				t.Fatalf("after %s: Rescan = %v, want %v (changes %v)", tt.name, n.rescan, tt.rescan, n.state)
			}
			if tt.rescan {
				return
			}
			want := func(s []string) []string {
				if s == nil {
					return []string{}
				}
				return s
			}
			if got := n.list(outChanged, sentinel); !slices.Equal(got, want(tt.changed)) {
				t.Errorf("after %s: Changed = %q, want %q", tt.name, got, want(tt.changed))
			}
			if got := n.list(outRemoved, tt.transient...); !slices.Equal(got, want(tt.removed)) {
				t.Errorf("after %s: Removed = %q, want %q", tt.name, got, want(tt.removed))
			}
			if got := n.list(outRemovedDir); !slices.Equal(got, want(tt.removedDirs)) {
				t.Errorf("after %s: RemovedDirs = %q, want %q", tt.name, got, want(tt.removedDirs))
			}
		})
	}
}

// TestWatcherFollowsRenamedDir checks that a renamed directory and its
// subdirectories are watched under their new names, not the old ones.
func TestWatcherFollowsRenamedDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"pkg/sub/y.go": "package sub\n"})
	w := newWatcher(t, dir, nil)
	must(t, os.Rename(filepath.Join(dir, "pkg"), filepath.Join(dir, "lib")))
	collect(t, w, func(n *net) bool { return n.state["lib/sub/y.go"] == outChanged })

	writeFiles(t, dir, map[string]string{"lib/sub/y.go": "package sub\n\nvar Y = 1\n", "lib/sub/z.go": "package sub\n"})
	writeFiles(t, dir, map[string]string{sentinel: "done\n"})
	n := collect(t, w, sentinelSeen)
	want := []string{"lib/sub/y.go", "lib/sub/z.go"}
	if got := n.list(outChanged, sentinel); !slices.Equal(got, want) {
		t.Errorf("writes after renaming pkg to lib: Changed = %q, want %q (all: %v)", got, want, n.state)
	}
	if st := w.Stats(); st.Dirs != 3 {
		t.Errorf("Stats().Dirs = %d, want 3 (root, lib, lib/sub)", st.Dirs)
	}
}

// TestWatcherOverflow injects the kernel's queue overflow as fsnotify
// reports it and expects a rescan.
func TestWatcherOverflow(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.go": "package a\n"})
	w := newWatcher(t, dir, nil)
	w.fsw.Errors <- fsnotify.ErrEventOverflow
	n := collect(t, w, func(n *net) bool { return n.rescan })
	if len(n.state) != 0 {
		t.Errorf("overflow batch lists %v, want nothing but Rescan", n.state)
	}
	if st := w.Stats(); st.Overflows != 1 || st.Rescans != 1 {
		t.Errorf("Stats() = %+v, want 1 overflow and 1 rescan", st)
	}
	// Still watching afterwards.
	writeFiles(t, dir, map[string]string{"b.go": "package a\n"})
	collect(t, w, func(n *net) bool { return n.state["b.go"] == outChanged })
}

func TestWatcherMaxBatch(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, dir, &Options{MaxBatch: 10, Debounce: time.Second})
	files := map[string]string{}
	for i := range 50 {
		files[fmt.Sprintf("f%02d.go", i)] = "package f\n"
	}
	writeFiles(t, dir, files)
	collect(t, w, func(n *net) bool { return n.rescan })
}

// TestWatcherLimit simulates reaching fs.inotify.max_user_watches.
func TestWatcherLimit(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a/a.go": "package a\n", "b/b.go": "package b\n",
		"c/c.go": "package c\n", "d/d.go": "package d\n",
	})
	w := newWatcher(t, dir, &Options{limitWatches: 3, maxWatches: func() int { return 12345 }})
	st := w.Stats()
	if st.Dirs != 3 || st.Unwatched != 2 || !st.LimitHit || st.MaxWatches != 12345 {
		t.Errorf("Stats() = %+v, want 3 dirs watched, 2 unwatched, limit hit at 12345", st)
	}
	select {
	case err := <-w.Errors():
		var le *LimitError
		if !errors.As(err, &le) || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("Errors() = %v (%T), want a *LimitError wrapping ENOSPC", err, err)
		}
		msg := err.Error()
		for _, want := range []string{"fs.inotify.max_user_watches=12345", "2 directories are not watched", "(c, d, …)", "sysctl"} {
			if !strings.Contains(msg, want) {
				t.Errorf("LimitError = %q, want it to mention %q", msg, want)
			}
		}
	case <-time.After(collectTimeout):
		t.Fatal("no error reported for unwatched directories")
	}
	// Watched directories keep working.
	writeFiles(t, dir, map[string]string{"a/a.go": "package a\n\nvar A = 1\n"})
	collect(t, w, func(n *net) bool { return n.state["a/a.go"] == outChanged })
}

func TestWatcherBurst(t *testing.T) {
	dir := t.TempDir()
	w := newWatcher(t, dir, nil)
	const files = 1000
	want := map[string]string{}
	for i := range files {
		want[fmt.Sprintf("d%d/f%04d.go", i%10, i)] = "package d\n"
	}
	writeFiles(t, dir, want)
	n := collect(t, w, func(n *net) bool { return len(n.list(outChanged)) == files })
	t.Logf("%d files in %d batches", files, n.batches)
	if n.batches >= files {
		t.Errorf("%d files written at once came in %d batches, want them debounced into fewer", files, n.batches)
	}
	for rel := range want {
		if n.state[rel] != outChanged {
			t.Errorf("burst: %s not reported", rel)
		}
	}
}

func TestWatcherClose(t *testing.T) {
	before := runtime.NumGoroutine()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a/b/c.go": "package c\n"})
	w, err := New(context.Background(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"a/b/d.go": "package c\n"}) // pending when closed
	if err := w.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close() = %v", err)
	}
	for range w.Batches() {
	}
	if _, ok := <-w.Errors(); ok {
		t.Error("Errors() still open after Close")
	}
	deadline := time.Now().Add(collectTimeout)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := runtime.NumGoroutine(); got > before {
		buf := make([]byte, 1<<16)
		t.Errorf("goroutines after Close = %d, want at most %d\n%s", got, before, buf[:runtime.Stack(buf, true)])
	}
}

func TestNewErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	must(t, os.WriteFile(file, nil, 0o644))
	for _, root := range []string{filepath.Join(dir, "missing"), file} {
		if w, err := New(context.Background(), root, nil); err == nil {
			w.Close()
			t.Errorf("New(%s) = nil error, want one", root)
		}
	}
}
