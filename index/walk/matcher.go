package walk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/codemux/codemux/index/secrets"
)

// Ignore files read in every directory, in increasing priority. A
// .codemuxignore uses gitignore syntax; because it is read after .gitignore
// it can also re-include ("!pattern") what .gitignore excludes.
const (
	gitignoreFile     = ".gitignore"
	codemuxignoreFile = ".codemuxignore"
	infoExcludeFile   = ".git/info/exclude" // read in the root only
)

// DefaultMaxFileSize is the size above which files are skipped when
// Options.MaxFileSize is zero.
const DefaultMaxFileSize = 1 << 20

// Options controls what Walk and a Matcher skip. The zero value, like a nil
// *Options, means the defaults.
type Options struct {
	// MaxFileSize skips files larger than this many bytes; 0 means
	// DefaultMaxFileSize and a negative value means no limit.
	MaxFileSize int64
	// ExtraIgnore holds gitignore-syntax patterns relative to the root (for
	// example from the user's configuration). They have the lowest priority,
	// like git's core.excludesFile: a .gitignore may re-include.
	ExtraIgnore []string
	// IncludeVendored walks vendor/ and third_party/ directories, which are
	// skipped by default.
	IncludeVendored bool
}

func (o *Options) maxFileSize() int64 {
	switch {
	case o == nil || o.MaxFileSize == 0:
		return DefaultMaxFileSize
	case o.MaxFileSize < 0:
		return -1
	}
	return o.MaxFileSize
}

// excludedDirs are directory names never walked: version control metadata,
// dependency caches and tool caches that never hold the workspace's own code.
var excludedDirs = map[string]bool{
	".git": true, ".hg": true, ".svn": true, ".bzr": true,
	"node_modules": true, "bower_components": true,
	"__pycache__": true, ".venv": true, "venv": true, ".tox": true,
	".mypy_cache": true, ".pytest_cache": true, ".ruff_cache": true,
	".gradle": true, ".terraform": true, ".idea": true,
	".next": true, ".nuxt": true, ".svelte-kit": true, ".parcel-cache": true,
}

// buildDirs are build-output directory names, skipped only when a sibling
// file shows the build system that writes them, so that source directories
// that happen to share the name (Go's go/build, cmd/dist) are kept.
var buildDirs = map[string][]string{
	"build":  {"package.json", "build.gradle", "build.gradle.kts", "setup.py", "pyproject.toml", "CMakeLists.txt"},
	"dist":   {"package.json", "setup.py", "pyproject.toml"},
	"target": {"Cargo.toml", "pom.xml", "build.sbt"},
	"out":    {"package.json", "build.gradle", "build.gradle.kts"},
}

// vendoredDirs hold third-party code copied into the workspace.
var vendoredDirs = map[string]bool{"vendor": true, "third_party": true}

// Reasons reported in Skipped.Reason and by Matcher.Skip and Classify (an
// ignore rule's reason is "ignored by " and the file it came from; a name
// rejected by package secrets gets "secret: " and that package's reason).
const (
	ReasonExcludedDir = "excluded directory"
	ReasonBuildOutput = "build output"
	ReasonVendored    = "vendored"
	ReasonSymlink     = "symlink"
	ReasonNotRegular  = "not a regular file"
	ReasonPermission  = "permission denied"
	ReasonTooLarge    = "too large"
	ReasonBinary      = "binary"
	ReasonLockfile    = "lockfile"
	ReasonGenerated   = "generated"
	ReasonMinified    = "minified"
	ReasonEmpty       = "empty"
	ReasonOutsideRoot = "outside the workspace"
)

// Matcher decides which paths of a workspace are skipped: ignore rules
// (.gitignore and .codemuxignore in every directory, .git/info/exclude,
// Options.ExtraIgnore), excluded and vendored directories, credential files
// and binary or lock files recognised by name. Walk uses a Matcher; a file
// watcher keeps one to apply the same rules to events without walking again.
//
// Ignore files are read lazily, once per directory, and cached; Changed
// drops the cache when one changes. A Matcher is safe for concurrent use.
type Matcher struct {
	root    string
	maxSize int64
	vendor  bool
	extra   []pattern

	// When root lies inside a git repository but is not its top, outer
	// holds the ignore rules of the repository's directories above root
	// (its .git/info/exclude first, deeper files later) and outerPrefix is
	// root's path within the repository. They are read once, by NewMatcher.
	outer       []pattern
	outerPrefix string

	mu    sync.Mutex
	rules map[string][]pattern // directory rel path → its patterns, lowest priority first
}

// NewMatcher returns a Matcher for the workspace at root, which must be a
// directory. A nil opts means the defaults.
func NewMatcher(root string, opts *Options) (*Matcher, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolving workspace root %s: %w", root, err)
	}
	info, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("opening workspace root: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("opening workspace root %s: not a directory", abs)
	}
	m := &Matcher{
		root:    abs,
		maxSize: opts.maxFileSize(),
		rules:   make(map[string][]pattern),
	}
	m.outerPrefix, m.outer = outerRules(abs)
	if opts != nil {
		m.vendor = opts.IncludeVendored
		for _, line := range opts.ExtraIgnore {
			if p, ok := parseLine(line, "", "options"); ok {
				m.extra = append(m.extra, p)
			}
		}
	}
	return m, nil
}

// Root returns the absolute path of the workspace root.
func (m *Matcher) Root() string { return m.root }

// Ignored reports whether the path rel is skipped, either itself or because
// a directory above it is. rel is relative to the root (slash- or
// OS-separated) or an absolute path, as a file watcher reports it.
func (m *Matcher) Ignored(rel string, isDir bool) bool {
	skip, _ := m.Skip(rel, isDir)
	return skip
}

// Skip is Ignored with the reason. It looks at names and ignore rules only;
// size, file type and content are checked by Walk and Classify.
func (m *Matcher) Skip(rel string, isDir bool) (skip bool, reason string) {
	rel = m.cleanRel(rel)
	if rel == "" {
		return false, ""
	}
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return true, ReasonOutsideRoot
	}
	dir := ""
	for i := 0; i < len(rel); i++ {
		if rel[i] != '/' {
			continue
		}
		sub := rel[:i]
		if skip, reason := m.skipEntry(dir, sub, true, nil); skip {
			return true, reason
		}
		dir = sub
	}
	return m.skipEntry(dir, rel, isDir, nil)
}

// skipEntry decides for the entry rel in directory dir, whose ancestors are
// known not to be skipped. siblings, when not nil, lists dir's entry names
// so build-output checks need no stat.
func (m *Matcher) skipEntry(dir, rel string, isDir bool, siblings map[string]bool) (bool, string) {
	name := path.Base(rel)
	if name == ".git" {
		return true, ReasonExcludedDir // a directory, or a file pointing to one
	}
	if isDir {
		if excludedDirs[name] {
			return true, ReasonExcludedDir
		}
		if !m.vendor && vendoredDirs[name] {
			return true, ReasonVendored
		}
		if markers, ok := buildDirs[name]; ok && m.hasSibling(dir, markers, siblings) {
			return true, ReasonBuildOutput
		}
	}
	if p := m.decide(dir, rel, name, isDir); p != nil && !p.negate {
		return true, "ignored by " + p.source
	}
	if !isDir {
		if skip, reason := secrets.SkipName(rel); skip {
			return true, "secret: " + reason
		}
		if skip, reason := classifyName(rel); skip {
			return true, reason
		}
	}
	return false, ""
}

// hasSibling reports whether directory dir holds one of the named files.
func (m *Matcher) hasSibling(dir string, names []string, siblings map[string]bool) bool {
	for _, n := range names {
		if siblings != nil {
			if siblings[n] {
				return true
			}
			continue
		}
		if _, err := os.Lstat(m.abs(path.Join(dir, n))); err == nil {
			return true
		}
	}
	return false
}

// decide returns the highest-priority ignore pattern matching rel (whose
// parent directory is dir), or nil: patterns of deeper directories first,
// later lines before earlier ones, ExtraIgnore last.
func (m *Matcher) decide(dir, rel, name string, isDir bool) *pattern {
	d := dir
	for {
		ps := m.dirRules(d)
		for i := len(ps) - 1; i >= 0; i-- {
			if ps[i].match(rel, name, isDir) {
				return &ps[i]
			}
		}
		if d == "" {
			break
		}
		d = parentDir(d)
	}
	if len(m.outer) > 0 {
		relRepo := m.outerPrefix + "/" + rel
		for i := len(m.outer) - 1; i >= 0; i-- {
			if m.outer[i].match(relRepo, name, isDir) {
				return &m.outer[i]
			}
		}
	}
	for i := len(m.extra) - 1; i >= 0; i-- {
		if m.extra[i].match(rel, name, isDir) {
			return &m.extra[i]
		}
	}
	return nil
}

// dirRules returns the patterns of directory dir, reading its ignore files
// on first use.
func (m *Matcher) dirRules(dir string) []pattern {
	m.mu.Lock()
	ps, ok := m.rules[dir]
	m.mu.Unlock()
	if ok {
		return ps
	}
	return m.loadRules(dir, nil)
}

// loadRules reads and caches the ignore files of directory dir. If entries
// (dir's listing) is not nil, only ignore files it lists are opened. A
// missing or unreadable ignore file contributes no patterns, as in git.
func (m *Matcher) loadRules(dir string, entries []fs.DirEntry) []pattern {
	var ps []pattern
	if dir == "" {
		ps = m.readIgnore(dir, infoExcludeFile)
	}
	for _, name := range []string{gitignoreFile, codemuxignoreFile} {
		if entries == nil || listed(entries, name) {
			ps = append(ps, m.readIgnore(dir, name)...)
		}
	}
	m.mu.Lock()
	m.rules[dir] = ps
	m.mu.Unlock()
	return ps
}

func (m *Matcher) readIgnore(dir, name string) []pattern {
	rel := path.Join(dir, name)
	data, err := os.ReadFile(m.abs(rel))
	if err != nil {
		return nil
	}
	return parseIgnore(data, dir, rel)
}

// listed reports whether the sorted directory listing entries holds name.
func listed(entries []fs.DirEntry, name string) bool {
	i, ok := slices.BinarySearchFunc(entries, name, func(e fs.DirEntry, name string) int {
		return strings.Compare(e.Name(), name)
	})
	return ok && !entries[i].IsDir()
}

// outerRules finds the git repository enclosing root, if root is below its
// top directory, and reads the ignore files of the directories from the top
// down to root's parent. It returns root's slash-separated path within the
// repository and the patterns, lowest priority first, with bases relative to
// the repository top.
func outerRules(root string) (prefix string, ps []pattern) {
	var between []string // directory names from root's parent up to the top
	dir := root
	for {
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil // no enclosing repository
		}
		between = append(between, filepath.Base(dir))
		dir = parent
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			break
		}
	}
	slices.Reverse(between)
	prefix = strings.Join(between, "/")
	up := strings.Repeat("../", len(between)) // from root to the top
	read := func(base, file string) {
		rel := path.Join(base, file)
		if data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel))); err == nil {
			ps = append(ps, parseIgnore(data, base, up+rel)...)
		}
	}
	read("", infoExcludeFile)
	for i := range between {
		base := strings.Join(between[:i], "/")
		read(base, gitignoreFile)
		read(base, codemuxignoreFile)
	}
	return prefix, ps
}

// Changed tells the Matcher that the path rel was created, written, renamed
// or removed. If rel is an ignore file, the rules of its directory are read
// again on next use and Changed returns true: the caller should then rescan
// that directory, since files below it may have become ignored or
// unignored. Removing a directory drops the cached rules below it.
func (m *Matcher) Changed(rel string) bool {
	rel = m.cleanRel(rel)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.rules[rel]; ok && rel != "" {
		if _, err := os.Lstat(m.abs(rel)); errors.Is(err, fs.ErrNotExist) {
			for d := range m.rules {
				if d == rel || strings.HasPrefix(d, rel+"/") {
					delete(m.rules, d)
				}
			}
		}
	}
	switch name := path.Base(rel); {
	case rel == infoExcludeFile:
		delete(m.rules, "")
		return true
	case name == gitignoreFile || name == codemuxignoreFile:
		delete(m.rules, parentDir(rel))
		return true
	}
	return false
}

func (m *Matcher) abs(rel string) string {
	return filepath.Join(m.root, filepath.FromSlash(rel))
}

// cleanRel turns a caller's path, relative to the root or absolute, into
// the slash-separated form relative to the root used inside ("" for the
// root itself; starting with "../" when outside it).
func (m *Matcher) cleanRel(p string) string {
	if filepath.IsAbs(p) {
		r, err := filepath.Rel(m.root, p)
		if err != nil {
			return ".."
		}
		p = r
	}
	rel := path.Clean(filepath.ToSlash(p))
	if rel == "." {
		return ""
	}
	return rel
}

// parentDir returns the slash-separated parent of rel, "" for the root.
func parentDir(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}
