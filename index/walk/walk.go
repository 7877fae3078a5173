// Package walk lists the files of a workspace that belong in its index.
//
// A walk honours the workspace's ignore rules with git's semantics — a
// .gitignore or .codemuxignore in any directory, .git/info/exclude, and
// Options.ExtraIgnore; when the workspace is a subdirectory of a git
// repository, also the ignore files of the directories above it up to the
// repository's top, as git would — and always skips version-control metadata,
// dependency and build-output directories, vendored trees (by default),
// symlinks, credential files (package secrets), binary and lock files by
// name, and files over a size limit. Each skipped path is reported with a
// reason. Classify makes the content checks (binary, generated, minified)
// on bytes the indexer reads anyway.
//
// A Matcher holds the same rules for a file watcher, so events can be
// filtered without walking again.
//
// The matching is this package's own, checked against git itself on a tree
// of corner cases (see TestWalkGitOracle). go-git's plumbing/format/gitignore
// matcher was not used: it lets a pattern that matches a parent directory
// decide for every path below it, so the common "*", "!*/", "!*.go"
// whitelist keeps every file and "!src/" re-includes src/a.tmp under
// "*.tmp", where git ignores both.
//
// Symlinks below the root are never followed: a link may point outside the
// workspace or into a loop, and a link to a file inside the workspace would
// index the same content twice.
package walk

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// File is a file that belongs in the index.
type File struct {
	Rel     string // slash-separated path relative to the workspace root
	Abs     string // absolute path
	Size    int64
	ModTime time.Time
}

// Skipped is a path left out of the walk and why. A skipped directory is
// reported once; nothing below it is visited or reported.
type Skipped struct {
	Rel    string
	Reason string
}

// Walk calls visit for every file of the workspace at root that belongs in
// its index, in a deterministic order (depth first, the entries of each
// directory sorted by name), and skipped, if not nil, for every path left
// out. A nil opts means the defaults.
//
// Unreadable directories and files are reported to skipped and the walk goes
// on; paths that disappear during the walk are passed over silently. Walk
// stops with visit's error if it returns one, and with ctx's error when ctx
// is done. Only a root that cannot be read is otherwise an error.
func Walk(ctx context.Context, root string, opts *Options, visit func(File) error, skipped func(Skipped)) error {
	m, err := NewMatcher(root, opts)
	if err != nil {
		return err
	}
	return m.Walk(ctx, visit, skipped)
}

// Walk walks the Matcher's workspace as the package-level Walk does, reading
// and caching ignore files as it goes so that the Matcher is warm for later
// calls to Skip.
func (m *Matcher) Walk(ctx context.Context, visit func(File) error, skipped func(Skipped)) error {
	if skipped == nil {
		skipped = func(Skipped) {}
	}
	w := walker{m: m, visit: visit, skipped: skipped}
	return w.dir(ctx, "")
}

type walker struct {
	m       *Matcher
	visit   func(File) error
	skipped func(Skipped)
}

// ctxCheckEvery is how many entries are handled between checks of ctx.
const ctxCheckEvery = 64

// dir walks the directory rel ("" for the root), which is not skipped.
func (w *walker) dir(ctx context.Context, rel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(w.m.abs(rel))
	if err != nil {
		switch {
		case rel == "":
			return fmt.Errorf("reading workspace root %s: %w", w.m.root, err)
		case errors.Is(err, fs.ErrNotExist):
			return nil // removed during the walk
		}
		w.skipped(Skipped{Rel: rel, Reason: errReason(err)})
		return nil
	}
	w.m.loadRules(rel, entries)
	var siblings map[string]bool
	for _, e := range entries {
		if _, ok := buildDirs[e.Name()]; ok && e.IsDir() {
			siblings = make(map[string]bool, len(entries))
			for _, e := range entries {
				siblings[e.Name()] = true
			}
			break
		}
	}
	for i, e := range entries {
		if i%ctxCheckEvery == ctxCheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		name := e.Name()
		childRel := name
		if rel != "" {
			childRel = rel + "/" + name
		}
		typ := e.Type()
		switch {
		case typ&fs.ModeSymlink != 0:
			w.skipped(Skipped{Rel: childRel, Reason: ReasonSymlink})
			continue
		case typ.IsDir():
			if skip, reason := w.m.skipEntry(rel, childRel, true, siblings); skip {
				w.skipped(Skipped{Rel: childRel, Reason: reason})
				continue
			}
			if err := w.dir(ctx, childRel); err != nil {
				return err
			}
			continue
		case !typ.IsRegular():
			w.skipped(Skipped{Rel: childRel, Reason: ReasonNotRegular})
			continue
		}
		if skip, reason := w.m.skipEntry(rel, childRel, false, siblings); skip {
			w.skipped(Skipped{Rel: childRel, Reason: reason})
			continue
		}
		info, err := e.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.skipped(Skipped{Rel: childRel, Reason: errReason(err)})
			}
			continue
		}
		if w.m.maxSize >= 0 && info.Size() > w.m.maxSize {
			w.skipped(Skipped{Rel: childRel, Reason: ReasonTooLarge})
			continue
		}
		f := File{Rel: childRel, Abs: w.m.abs(childRel), Size: info.Size(), ModTime: info.ModTime()}
		if err := readable(f.Abs, info); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				w.skipped(Skipped{Rel: childRel, Reason: errReason(err)})
			}
			continue
		}
		if err := w.visit(f); err != nil {
			return err
		}
	}
	return nil
}

// errReason turns an error reading a path into a short reason.
func errReason(err error) string {
	if errors.Is(err, fs.ErrPermission) {
		return ReasonPermission
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return "unreadable: " + pe.Err.Error()
	}
	return "unreadable: " + err.Error()
}
