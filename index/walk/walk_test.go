package walk

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// walkAll returns the files Walk visits and the skipped paths with reasons.
func walkAll(t *testing.T, root string, opts *Options) (files []string, skipped map[string]string) {
	t.Helper()
	skipped = map[string]string{}
	err := Walk(context.Background(), root, opts, func(f File) error {
		files = append(files, f.Rel)
		return nil
	}, func(s Skipped) {
		skipped[s.Rel] = s.Reason
	})
	if err != nil {
		t.Fatalf("Walk(%s): %v", root, err)
	}
	return files, skipped
}

func TestWalk(t *testing.T) {
	big := strings.Repeat("x", 2000)
	tests := []struct {
		name        string
		tree        map[string]string
		opts        *Options
		wantFiles   []string
		wantSkipped map[string]string // checked for these paths only
	}{
		{
			name:      "order and nesting",
			tree:      map[string]string{"b.go": "", "a/z.go": "", "a/b/c.go": "", "a.go": "", "empty/": ""},
			wantFiles: []string{"a/b/c.go", "a/z.go", "a.go", "b.go"},
		},
		{
			name: "codemuxignore",
			tree: map[string]string{
				".gitignore":              "gen/\n",
				".codemuxignore":          "*.pb.go\n!gen/\n",
				"gen/x.go":                "",
				"api.pb.go":               "",
				"main.go":                 "",
				"sub/.codemuxignore":      "/only-here.go\n",
				"sub/only-here.go":        "",
				"sub/deeper/only-here.go": "",
			},
			wantFiles:   []string{".codemuxignore", ".gitignore", "gen/x.go", "main.go", "sub/.codemuxignore", "sub/deeper/only-here.go"},
			wantSkipped: map[string]string{"api.pb.go": "ignored by .codemuxignore", "sub/only-here.go": "ignored by sub/.codemuxignore"},
		},
		{
			name:        "info exclude",
			tree:        map[string]string{".git/info/exclude": "*.secret-notes\n", ".git/HEAD": "", "a.secret-notes": "", "a.go": ""},
			wantFiles:   []string{"a.go"},
			wantSkipped: map[string]string{".git": ReasonExcludedDir},
		},
		{
			name:        "extra ignore has the lowest priority",
			tree:        map[string]string{".gitignore": "!keep.gen.go\n", "a.gen.go": "", "keep.gen.go": "", "docs/x.md": ""},
			opts:        &Options{ExtraIgnore: []string{"*.gen.go", "/docs/"}},
			wantFiles:   []string{".gitignore", "keep.gen.go"},
			wantSkipped: map[string]string{"a.gen.go": "ignored by options", "docs": "ignored by options"},
		},
		{
			name: "default excluded directories",
			tree: map[string]string{
				"node_modules/x/index.js": "", "__pycache__/m.pyc": "", ".venv/lib/x.py": "",
				"vendor/golang.org/x/y.go": "", "third_party/lib.c": "", "main.go": "",
			},
			wantFiles: []string{"main.go"},
			wantSkipped: map[string]string{
				"node_modules": ReasonExcludedDir, "__pycache__": ReasonExcludedDir, ".venv": ReasonExcludedDir,
				"vendor": ReasonVendored, "third_party": ReasonVendored,
			},
		},
		{
			name:      "include vendored",
			tree:      map[string]string{"vendor/x/y.go": "", "main.go": ""},
			opts:      &Options{IncludeVendored: true},
			wantFiles: []string{"main.go", "vendor/x/y.go"},
		},
		{
			name: "build output only next to its build file",
			tree: map[string]string{
				"web/package.json": "{}", "web/dist/app.js": "", "web/build/x.js": "",
				"go/build/build.go": "", "cmd/dist/main.go": "",
				"rs/Cargo.toml": "", "rs/target/debug/x.rs": "", "rs/src/main.rs": "",
			},
			wantFiles: []string{"cmd/dist/main.go", "go/build/build.go", "rs/Cargo.toml", "rs/src/main.rs", "web/package.json"},
			wantSkipped: map[string]string{
				"web/dist": ReasonBuildOutput, "web/build": ReasonBuildOutput, "rs/target": ReasonBuildOutput,
			},
		},
		{
			name: "credentials, binaries and lock files by name",
			tree: map[string]string{
				".env": "", ".env.example": "", "keys/id_rsa": "", "tls/server.pem": "",
				"logo.png": "", "lib.so": "", "go.sum": "", "package-lock.json": "", "app.min.js": "", "main.go": "",
			},
			wantFiles: []string{".env.example", "main.go"},
			wantSkipped: map[string]string{
				".env": "secret: environment file", "keys/id_rsa": "secret: private key", "tls/server.pem": "secret: private key",
				"logo.png": ReasonBinary, "lib.so": ReasonBinary, "go.sum": ReasonLockfile,
				"package-lock.json": ReasonLockfile, "app.min.js": ReasonMinified,
			},
		},
		{
			name:        "size limit",
			tree:        map[string]string{"big.txt": big, "small.txt": "x"},
			opts:        &Options{MaxFileSize: 1000},
			wantFiles:   []string{"small.txt"},
			wantSkipped: map[string]string{"big.txt": ReasonTooLarge},
		},
		{
			name:      "no size limit",
			tree:      map[string]string{"big.txt": big},
			opts:      &Options{MaxFileSize: -1},
			wantFiles: []string{"big.txt"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tt.tree)
			files, skipped := walkAll(t, root, tt.opts)
			if !slices.Equal(files, tt.wantFiles) {
				t.Errorf("Walk files = %q, want %q", files, tt.wantFiles)
			}
			for rel, want := range tt.wantSkipped {
				if got := skipped[rel]; got != want {
					t.Errorf("Walk skipped %q with reason %q, want %q", rel, got, want)
				}
			}
		})
	}
}

func TestWalkFileInfo(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"dir/a.go": "package a\n"})
	var got []File
	err := Walk(context.Background(), root, nil, func(f File) error {
		got = append(got, f)
		return nil
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(root, "dir", "a.go"))
	if err != nil {
		t.Fatal(err)
	}
	want := File{Rel: "dir/a.go", Abs: filepath.Join(root, "dir", "a.go"), Size: 10, ModTime: info.ModTime()}
	if len(got) != 1 || got[0] != want {
		t.Errorf("Walk visited %+v, want [%+v]", got, want)
	}
}

func TestWalkSymlinks(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	writeTree(t, root, map[string]string{"real/a.go": "", "b.go": ""})
	writeTree(t, outside, map[string]string{"secret.go": ""})
	links := map[string]string{
		"loop":        ".",     // a directory loop
		"real/up":     "..",    // another loop
		"escape":      outside, // a directory outside the root
		"escape.go":   filepath.Join(outside, "secret.go"),
		"alias.go":    "b.go", // a file inside the root
		"dangling.go": "does-not-exist.go",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(name))); err != nil {
			t.Skipf("cannot create symlinks here: %v", err)
		}
	}
	files, skipped := walkAll(t, root, nil)
	if want := []string{"b.go", "real/a.go"}; !slices.Equal(files, want) {
		t.Errorf("Walk files = %q, want %q", files, want)
	}
	for name := range links {
		if skipped[name] != ReasonSymlink {
			t.Errorf("Walk skipped %q with reason %q, want %q", name, skipped[name], ReasonSymlink)
		}
	}
}

func TestWalkVanishingDirectory(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.go": "", "b/x.go": "", "b/y.go": "", "c/z.go": "", "c/w.go": ""})
	var files []string
	skipped := map[string]string{}
	err := Walk(context.Background(), root, nil, func(f File) error {
		files = append(files, f.Rel)
		switch f.Rel {
		case "a.go":
			// b is listed already; it disappears before the walk reaches it.
			if err := os.RemoveAll(filepath.Join(root, "b")); err != nil {
				t.Fatal(err)
			}
		case "c/w.go":
			// c/z.go is listed already; it disappears before it is visited.
			if err := os.Remove(filepath.Join(root, "c", "z.go")); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	}, func(s Skipped) { skipped[s.Rel] = s.Reason })
	if err != nil {
		t.Fatalf("Walk with a vanishing directory: %v", err)
	}
	if want := []string{"a.go", "c/w.go"}; !slices.Equal(files, want) {
		t.Errorf("Walk files = %q, want %q", files, want)
	}
	if len(skipped) != 0 {
		t.Errorf("Walk skipped %v, want nothing reported for vanished paths", skipped)
	}
}

func TestWalkReplacedDirectory(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.go": "", "b/x.go": "", "c.go": ""})
	var files []string
	skipped := map[string]string{}
	err := Walk(context.Background(), root, nil, func(f File) error {
		files = append(files, f.Rel)
		if f.Rel == "a.go" {
			// b turns into a file after it was listed as a directory.
			if err := os.RemoveAll(filepath.Join(root, "b")); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(root, "b"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	}, func(s Skipped) { skipped[s.Rel] = s.Reason })
	if err != nil {
		t.Fatalf("Walk with a replaced directory: %v", err)
	}
	if want := []string{"a.go", "c.go"}; !slices.Equal(files, want) {
		t.Errorf("Walk files = %q, want %q", files, want)
	}
	if got := skipped["b"]; !strings.HasPrefix(got, "unreadable") {
		t.Errorf("Walk skipped b with reason %q, want an unreadable reason", got)
	}
}

func TestWalkStops(t *testing.T) {
	root := t.TempDir()
	tree := map[string]string{}
	for _, d := range []string{"a", "b", "c"} {
		for _, f := range []string{"1", "2", "3"} {
			tree[d+"/"+f+".go"] = ""
		}
	}
	writeTree(t, root, tree)

	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		err := Walk(ctx, root, nil, func(f File) error {
			n++
			if f.Rel == "a/3.go" {
				cancel()
			}
			return nil
		}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Walk after cancel = %v, want context.Canceled", err)
		}
		if n != 3 {
			t.Errorf("Walk visited %d files, want 3 (none after cancel at the next directory)", n)
		}
	})
	t.Run("canceled before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := Walk(ctx, root, nil, func(File) error {
			t.Error("visit called after cancel")
			return nil
		}, nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Walk with canceled ctx = %v, want context.Canceled", err)
		}
	})
	t.Run("visit error", func(t *testing.T) {
		stop := errors.New("stop")
		n := 0
		err := Walk(context.Background(), root, nil, func(File) error {
			n++
			if n == 5 {
				return stop
			}
			return nil
		}, nil)
		if !errors.Is(err, stop) || n != 5 {
			t.Errorf("Walk with failing visit = %v after %d files, want %v after 5", err, n, stop)
		}
	})
}

func TestWalkBadRoot(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"file.go": ""})
	for _, r := range []string{filepath.Join(root, "missing"), filepath.Join(root, "file.go")} {
		err := Walk(context.Background(), r, nil, func(File) error { return nil }, nil)
		if err == nil {
			t.Errorf("Walk(%s) = nil, want an error", r)
		}
	}
}

func TestMatcherSkip(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		".gitignore":       "*.log\nout-dir/\n",
		"sub/.gitignore":   "!debug.log\n",
		"web/package.json": "{}",
	})
	m, err := NewMatcher(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel        string
		isDir      bool
		wantSkip   bool
		wantReason string
	}{
		{"main.go", false, false, ""},
		{"x.log", false, true, "ignored by .gitignore"},
		{"sub/debug.log", false, false, ""},
		{"sub/other.log", false, true, "ignored by .gitignore"},
		{"out-dir", true, true, "ignored by .gitignore"},
		{"out-dir/a/b.go", false, true, "ignored by .gitignore"},
		{"node_modules/react/index.js", false, true, ReasonExcludedDir},
		{"a/.git/config", false, true, ReasonExcludedDir},
		{"submodule/.git", false, true, ReasonExcludedDir},
		{"vendor/x.go", false, true, ReasonVendored},
		{"web/dist/app.js", false, true, ReasonBuildOutput},
		{"lib/dist/app.js", false, false, ""},
		{"config/.env.local", false, true, "secret: environment file"},
		{"img/logo.PNG", false, true, ReasonBinary},
		{"./main.go", false, false, ""},
		{filepath.Join(root, "x.log"), false, true, "ignored by .gitignore"},
		{filepath.Join(root, "main.go"), false, false, ""},
		{filepath.Join(filepath.Dir(root), "main.go"), false, true, ReasonOutsideRoot},
		{"a/../../main.go", false, true, ReasonOutsideRoot},
		{"../elsewhere.go", false, true, ReasonOutsideRoot},
		{"", true, false, ""},
	}
	for _, tt := range tests {
		skip, reason := m.Skip(tt.rel, tt.isDir)
		if skip != tt.wantSkip || reason != tt.wantReason {
			t.Errorf("Skip(%q, %v) = %v, %q, want %v, %q", tt.rel, tt.isDir, skip, reason, tt.wantSkip, tt.wantReason)
		}
		if got := m.Ignored(tt.rel, tt.isDir); got != tt.wantSkip {
			t.Errorf("Ignored(%q, %v) = %v, want %v", tt.rel, tt.isDir, got, tt.wantSkip)
		}
	}
}

func TestMatcherChanged(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{".gitignore": "*.log\n", "sub/a.tmp": "", "sub/b.log": ""})
	m, err := NewMatcher(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Ignored("sub/a.tmp", false) || !m.Ignored("sub/b.log", false) {
		t.Fatalf("before the change: Ignored(sub/a.tmp), Ignored(sub/b.log) = %v, %v, want false, true",
			m.Ignored("sub/a.tmp", false), m.Ignored("sub/b.log", false))
	}

	// A new nested ignore file, then an edited root one.
	writeTree(t, root, map[string]string{"sub/.gitignore": "*.tmp\n"})
	if !m.Changed("sub/.gitignore") {
		t.Errorf("Changed(sub/.gitignore) = false, want true")
	}
	if !m.Ignored("sub/a.tmp", false) {
		t.Errorf("after adding sub/.gitignore: Ignored(sub/a.tmp) = false, want true")
	}
	writeTree(t, root, map[string]string{".gitignore": "# nothing\n"})
	if !m.Changed(".gitignore") {
		t.Errorf("Changed(.gitignore) = false, want true")
	}
	if m.Ignored("sub/b.log", false) {
		t.Errorf("after editing .gitignore: Ignored(sub/b.log) = true, want false")
	}

	writeTree(t, root, map[string]string{".git/info/exclude": "*.log\n"})
	if !m.Changed(".git/info/exclude") || !m.Ignored("sub/b.log", false) {
		t.Errorf("after adding .git/info/exclude: Ignored(sub/b.log) = false, want true")
	}
	if m.Changed("sub/a.tmp") {
		t.Errorf("Changed(sub/a.tmp) = true, want false for an ordinary file")
	}

	// Removing a directory forgets its rules.
	if err := os.RemoveAll(filepath.Join(root, "sub")); err != nil {
		t.Fatal(err)
	}
	m.Changed("sub")
	writeTree(t, root, map[string]string{"sub/a.tmp": ""})
	if m.Ignored("sub/a.tmp", false) {
		t.Errorf("after removing and recreating sub: Ignored(sub/a.tmp) = true, want false")
	}
}

// TestMatcherConcurrent runs Skip, Changed and Walk on one Matcher at once;
// run with -race.
func TestMatcherConcurrent(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		".gitignore": "*.log\n", "a/.gitignore": "*.tmp\n", "a/x.tmp": "", "a/y.go": "", "b/z.log": "",
	})
	m, err := NewMatcher(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				switch (g + i) % 3 {
				case 0:
					if !m.Ignored("a/x.tmp", false) || m.Ignored("a/y.go", false) {
						t.Errorf("Ignored(a/x.tmp), Ignored(a/y.go) = %v, %v, want true, false",
							m.Ignored("a/x.tmp", false), m.Ignored("a/y.go", false))
					}
				case 1:
					m.Changed("a/.gitignore")
				case 2:
					if err := m.Walk(context.Background(), func(File) error { return nil }, nil); err != nil {
						t.Errorf("Walk: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
}
