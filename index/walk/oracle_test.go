package walk

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// writeTree creates the files of tree (slash-separated path → content)
// under root. A path ending in "/" creates an empty directory.
func writeTree(t *testing.T, root string, tree map[string]string) {
	t.Helper()
	for rel, content := range tree {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if strings.HasSuffix(rel, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// walkFiles returns the Rel of every file Walk visits, in visit order.
func walkFiles(t *testing.T, root string, opts *Options) []string {
	t.Helper()
	var got []string
	err := Walk(context.Background(), root, opts, func(f File) error {
		got = append(got, f.Rel)
		return nil
	}, nil)
	if err != nil {
		t.Fatalf("Walk(%s): %v", root, err)
	}
	return got
}

// oracleTree exercises the corners of gitignore(5): nested files, negation,
// directory-only and anchored patterns, **, re-including below an excluded
// directory (which git does not allow), escapes, trailing spaces, bracket
// expressions, CRLF line ends and .git/info/exclude.
var oracleTree = map[string]string{
	".gitignore": strings.Join([]string{
		"# a comment",
		"*.log",
		"!keep.log",
		"build-out/",
		"tmpfile",
		"/anchored.txt",
		"**/deep",
		"a/**/b.txt",
		"docs/*",
		"!docs/api/",
		"excluded-dir/",
		"!excluded-dir/reinclude.txt",
		`\#hash.txt`,
		"trailing.txt   ",
		`space.txt\ `,
		"[!x]ch.md",
		"gen/**",
		"!gen/keep/",
		"!gen/keep/**",
		"half/**",
		"!half/keep/",
		"mid/path.txt",
		"*.tmp\r",
		"",
	}, "\n"),
	".git/info/exclude": "info-excluded.txt\n",

	"a.log": "", "keep.log": "", "dir1/x.log": "", "dir1/keep.log": "",
	"build-out/f.txt": "", "x/build-out": "file, not a directory",
	"tmpfile": "", "d/tmpfile/f.txt": "", "d/other.txt": "",
	"anchored.txt": "", "x/anchored.txt": "",
	"deep/f.txt": "", "q/r/deep": "", "q/deep/f.txt": "", "q/deeper.txt": "",
	"a/b.txt": "", "a/x/y/b.txt": "", "a/x/c.txt": "", "b.txt": "",
	"docs/readme.md": "", "docs/api/index.md": "", "docs/api/sub/x.md": "",
	"excluded-dir/reinclude.txt": "", "excluded-dir/other.txt": "",
	"#hash.txt": "", "hash.txt": "",
	"trailing.txt": "", "space.txt ": "", "space.txt": "",
	"ach.md": "", "xch.md": "",
	"gen/x.txt": "", "gen/keep/a.txt": "", "gen/keep/deeper/b.txt": "",
	"half/x.txt": "", "half/keep/a.txt": "",
	"mid/path.txt": "", "other/mid/path.txt": "",
	"win.tmp": "", "win.tmpx": "",
	"info-excluded.txt": "", "z/info-excluded.txt": "",

	"sub/.gitignore":    "!important.log\n/local-only.txt\nnested/\n",
	"sub/important.log": "", "sub/deeper/important.log": "", "sub/other.log": "",
	"sub/local-only.txt": "", "sub/q/local-only.txt": "", "local-only.txt": "",
	"sub/nested/f.txt":  "",
	"sub/wl/.gitignore": "*\n!*/\n!*.go\n",
	"sub/wl/a.go":       "", "sub/wl/b.txt": "", "sub/wl/inner/c.go": "", "sub/wl/inner/d.md": "",
	"sub/neg/.gitignore":     "!*.tmp\n",
	"sub/neg/x.tmp":          "",
	"sub/neg/y/z.tmp":        "",
	"sub/deepdir/.gitignore": "../escape.txt\n*.md\n",
	"sub/deepdir/r.md":       "", "sub/deepdir/ok.txt": "",
	"sub/deep/x.txt": "", "sub/tmpfile": "", "sub/z/info-excluded.txt": "",
	"sub/mid/path.txt": "", "sub/a/b.txt": "", "sub/a/x/b.txt": "",
	"sub/deepdir/x.log": "", "sub/deepdir/deep": "",
}

// git runs git in dir and returns its standard output.
func git(t *testing.T, dir string, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+os.DevNull, "HOME="+dir, "XDG_CONFIG_HOME="+dir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		// check-ignore exits 1 when nothing is ignored.
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("git %v: %v\n%s", args, err, errb.String())
		}
	}
	return out.String()
}

func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// TestWalkGitOracle compares the files Walk lists, and Matcher.Ignored for
// every path, with what git itself decides on the same tree.
func TestWalkGitOracle(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	root := t.TempDir()
	git(t, root, "", "init", "-q", ".")
	writeTree(t, root, oracleTree)

	for _, dir := range []string{"", "sub", "sub/deepdir"} {
		// Walking a directory below the repository's top applies the
		// ignore files above it too, as git does.
		wsRoot := filepath.Join(root, filepath.FromSlash(dir))
		want := lines(git(t, wsRoot, "", "ls-files", "--others", "--exclude-standard"))
		got := walkFiles(t, wsRoot, nil)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("Walk(%q) listed files that git does not, or missed some:\n only Walk: %q\n only git:  %q",
				dir, minus(got, want), minus(want, got))
		}
	}

	// Every path in the tree, files and directories.
	var all []string
	isDir := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if rel == ".git" {
			return filepath.SkipDir
		}
		all = append(all, rel)
		isDir[rel] = d.IsDir()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ignored := map[string]bool{}
	for _, l := range lines(git(t, root, strings.Join(all, "\n")+"\n", "check-ignore", "--stdin")) {
		ignored[l] = true
	}
	m, err := NewMatcher(root, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, rel := range all {
		if got, want := m.Ignored(rel, isDir[rel]), ignored[rel]; got != want {
			t.Errorf("Ignored(%q, %v) = %v, want %v (git check-ignore)", rel, isDir[rel], got, want)
		}
	}
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

func TestMatcherEnclosingRepository(t *testing.T) {
	top := t.TempDir()
	writeTree(t, top, map[string]string{
		".git/info/exclude":   "*.bak\n",
		".gitignore":          "*.log\n/top-only.txt\n",
		"ws/.gitignore":       "!keep.log\n",
		"ws/inner/.gitignore": "*.tmp\n",
	})
	m, err := NewMatcher(filepath.Join(top, "ws", "inner"), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rel        string
		wantSkip   bool
		wantReason string
	}{
		{"a.log", true, "ignored by ../../.gitignore"},
		{"keep.log", false, ""},
		{"x.bak", true, "ignored by ../../.git/info/exclude"},
		{"x.tmp", true, "ignored by .gitignore"},
		{"top-only.txt", false, ""},
		{"main.go", false, ""},
	}
	for _, tt := range tests {
		skip, reason := m.Skip(tt.rel, false)
		if skip != tt.wantSkip || reason != tt.wantReason {
			t.Errorf("Skip(%q) = %v, %q, want %v, %q", tt.rel, skip, reason, tt.wantSkip, tt.wantReason)
		}
	}
}
