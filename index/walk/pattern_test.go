package walk

import (
	"path"
	"strings"
	"testing"
)

func TestWildmatch(t *testing.T) {
	tests := []struct {
		pat, text string
		want      bool
	}{
		{"*.go", "main.go", true},
		{"*.go", "dir/main.go", false},
		{"a/*.go", "a/main.go", true},
		{"a/*.go", "a/b/main.go", false},
		{"a?c", "abc", true},
		{"a?c", "a/c", false},
		{"**/deep", "deep", true},
		{"**/deep", "x/y/deep", true},
		{"**/deep", "x/deeper", false},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**/b", "a/x/y/c", false},
		{"a/**", "a/x", true},
		{"a/**", "a/x/y", true},
		{"a/**", "a", false},
		{"**", "anything/at/all", true},
		{"a**b", "axxb", true},
		{"a**b", "ax/xb", false},
		{"[abc]x", "bx", true},
		{"[abc]x", "dx", false},
		{"[!abc]x", "dx", true},
		{"[!abc]x", "ax", false},
		{"[^abc]x", "dx", true},
		{"[a-c]x", "bx", true},
		{"[a-c]x", "dx", false},
		{"[]]x", "]x", true},
		{"[[:digit:]]x", "7x", true},
		{"[[:digit:]]x", "ax", false},
		{"[a/]x", "/x", false},
		{"[abc", "a", false},
		{`\#hash`, "#hash", true},
		{`\*star`, "*star", true},
		{`\*star`, "xstar", false},
		{`space\ `, "space ", true},
		{"", "", true},
		{"abc", "abcd", false},
		{"*a*a*a*a*a*a*a*a*a*b", strings.Repeat("a", 200), false},
		{"**/*a*a*a*a*a*a*a*b/**", strings.Repeat("a/", 30) + strings.Repeat("a", 100) + "/x", false},
	}
	for _, tt := range tests {
		if got := wildmatch(tt.pat, tt.text); got != tt.want {
			t.Errorf("wildmatch(%q, %q) = %v, want %v", tt.pat, tt.text, got, tt.want)
		}
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		line   string
		want   pattern
		wantOK bool
	}{
		{"", pattern{}, false},
		{"# comment", pattern{}, false},
		{"/", pattern{}, false},
		{"!", pattern{}, false},
		{"*.log", pattern{glob: "*.log", basename: true}, true},
		{"!keep.log", pattern{glob: "keep.log", negate: true, basename: true, literal: true}, true},
		{"build/", pattern{glob: "build", dirOnly: true, basename: true, literal: true}, true},
		{"/root.txt", pattern{glob: "root.txt", literal: true}, true},
		{"a/b", pattern{glob: "a/b", literal: true}, true},
		{"trailing   ", pattern{glob: "trailing", basename: true, literal: true}, true},
		{`escaped\ `, pattern{glob: `escaped\ `, basename: true}, true},
		{`\#hash`, pattern{glob: `\#hash`, basename: true}, true},
		{`\!bang`, pattern{glob: `\!bang`, basename: true}, true},
	}
	for _, tt := range tests {
		got, ok := parseLine(tt.line, "", "")
		if ok != tt.wantOK || ok && got != tt.want {
			t.Errorf("parseLine(%q) = %+v, %v, want %+v, %v", tt.line, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		line, base, rel string
		isDir           bool
		want            bool
	}{
		{"*.log", "", "x.log", false, true},
		{"*.log", "", "a/b/x.log", false, true},
		{"*.log", "sub", "sub/a/x.log", false, true},
		{"build/", "", "build", true, true},
		{"build/", "", "build", false, false},
		{"build/", "", "a/build", true, true},
		{"/root.txt", "", "root.txt", false, true},
		{"/root.txt", "", "a/root.txt", false, false},
		{"/root.txt", "sub", "sub/root.txt", false, true},
		{"/root.txt", "sub", "sub/a/root.txt", false, false},
		{"/root.txt", "sub", "subx/root.txt", false, false},
		{"a/b", "", "a/b", false, true},
		{"a/b", "", "x/a/b", false, false},
		{"doc/*.txt", "", "doc/x.txt", false, true},
		{"doc/*.txt", "", "doc/s/x.txt", false, false},
		{"**/deep", "sub", "sub/x/deep", true, true},
	}
	for _, tt := range tests {
		p, ok := parseLine(tt.line, tt.base, "")
		if !ok {
			t.Fatalf("parseLine(%q) failed", tt.line)
		}
		if got := p.match(tt.rel, path.Base(tt.rel), tt.isDir); got != tt.want {
			t.Errorf("pattern %q in %q: match(%q, dir=%v) = %v, want %v", tt.line, tt.base, tt.rel, tt.isDir, got, tt.want)
		}
	}
}

// FuzzWildmatch compares single-element matching with path.Match, whose
// syntax agrees with gitignore's for *, ?, escapes and [^...] classes on
// ASCII (git matches bytes, path.Match runes).
func FuzzWildmatch(f *testing.F) {
	for _, s := range [][2]string{{"*.go", "main.go"}, {"a?c", "abc"}, {"[a-c]x", "bx"}, {`\*x`, "*x"}, {"*a*b", "aab"}, {"[^a]", "b"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, text string) {
		if !ascii(pat) || !ascii(text) || strings.Contains(pat, "/") || strings.Contains(text, "/") || strings.Contains(pat, "[!") || strings.Contains(pat, "[:") {
			return
		}
		want, err := path.Match(pat, text)
		if err != nil {
			return
		}
		if got := wildmatch(pat, text); got != want {
			t.Errorf("wildmatch(%q, %q) = %v, path.Match says %v", pat, text, got, want)
		}
	})
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
