package chunk

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// chunkFile chunks src as path with opts and checks the invariants every
// result must keep.
func chunkFile(t *testing.T, opts *Options, path string, src []byte) []Chunk {
	t.Helper()
	c := New(opts)
	defer c.Close()
	chunks, err := c.Chunk(context.Background(), path, src)
	if err != nil {
		t.Fatalf("Chunk(%q) error: %v", path, err)
	}
	checkInvariants(t, opts, path, src, chunks)
	return chunks
}

// checkInvariants verifies that chunks are ordered, do not overlap (unless
// they are text windows), hold exactly the bytes they claim, respect the
// size limits and together cover every non-blank line of src.
func checkInvariants(t *testing.T, opts *Options, path string, src []byte, chunks []Chunk) {
	t.Helper()
	o := opts.resolve()
	lines := newLineIndex(src)
	covered := make([]bool, lines.count())
	prevEnd := 0
	for i, ch := range chunks {
		if ch.StartByte < 0 || ch.EndByte > len(src) || ch.StartByte >= ch.EndByte {
			t.Fatalf("Chunk(%q)[%d] has bytes %d..%d, file has %d", path, i, ch.StartByte, ch.EndByte, len(src))
		}
		if ch.Text != string(src[ch.StartByte:ch.EndByte]) {
			t.Errorf("Chunk(%q)[%d].Text differs from src[%d:%d]", path, i, ch.StartByte, ch.EndByte)
		}
		if got, want := lines.line(ch.StartByte)+1, ch.StartLine; got != want {
			t.Errorf("Chunk(%q)[%d] StartLine = %d, want %d from its bytes", path, i, want, got)
		}
		if got, want := lines.lastLine(ch.StartByte, ch.EndByte)+1, ch.EndLine; got != want {
			t.Errorf("Chunk(%q)[%d] EndLine = %d, want %d from its bytes", path, i, want, got)
		}
		if ch.Kind != KindWindow && ch.StartByte < prevEnd {
			t.Errorf("Chunk(%q)[%d] starts at byte %d before the previous chunk ends at %d", path, i, ch.StartByte, prevEnd)
		}
		prevEnd = ch.EndByte
		if n := ch.EndLine - ch.StartLine + 1; n > o.MaxChunkLines {
			t.Errorf("Chunk(%q)[%d] %q has %d lines, limit %d", path, i, ch.Symbol, n, o.MaxChunkLines)
		}
		if n := len(ch.Text); n > o.MaxChunkBytes {
			t.Errorf("Chunk(%q)[%d] %q has %d bytes, limit %d", path, i, ch.Symbol, n, o.MaxChunkBytes)
		}
		if ch.Kind == "" || ch.Language == "" {
			t.Errorf("Chunk(%q)[%d] = {Kind %q, Language %q}, want both set", path, i, ch.Kind, ch.Language)
		}
		for l := ch.StartLine - 1; l < ch.EndLine; l++ {
			covered[l] = true
		}
	}
	for l, ok := range covered {
		if text := bytes.TrimSpace(src[lines.start(l):lines.end(l)]); !ok && len(text) > 0 {
			t.Errorf("Chunk(%q): line %d %q is in no chunk", path, l+1, text)
		}
	}
}

// summary renders chunks one per line for golden files and messages.
func summary(chunks []Chunk) string {
	var sb strings.Builder
	for _, ch := range chunks {
		fmt.Fprintf(&sb, "%d-%d %s %q\n", ch.StartLine, ch.EndLine, ch.Kind, ch.Symbol)
	}
	return sb.String()
}

// span is the part of a chunk a test checks.
type span struct {
	start, end   int
	kind, symbol string
}

func (s span) String() string { return fmt.Sprintf("%d-%d %s %q", s.start, s.end, s.kind, s.symbol) }

func spans(chunks []Chunk) []span {
	out := make([]span, len(chunks))
	for i, ch := range chunks {
		out[i] = span{ch.StartLine, ch.EndLine, ch.Kind, ch.Symbol}
	}
	return out
}

func TestLanguageOf(t *testing.T) {
	tests := []struct{ path, want string }{
		{"main.go", "go"},
		{"a/b/tool.py", "python"},
		{"web/app.mjs", "javascript"},
		{"web/App.jsx", "javascript"},
		{"src/index.ts", "typescript"},
		{"src/View.tsx", "tsx"},
		{"Main.java", "java"},
		{"lib.rs", "rust"},
		{"x.c", "c"},
		{"x.h", "c"},
		{"x.hpp", "cpp"},
		{"x.cc", "cpp"},
		{"Program.cs", "csharp"},
		{"app.rb", "ruby"},
		{"Rakefile", "ruby"},
		{"index.php", "php"},
		{"Main.kt", "kotlin"},
		{"build.kts", "kotlin"},
		{"run.sh", "bash"},
		{"README.md", "markdown"},
		{"NOTES.MD", "markdown"},
		{"config.yaml", "text"},
		{"data.json", "text"},
		{"Cargo.toml", "text"},
		{"Makefile", "text"},
		{"Dockerfile", "text"},
		{"notes.txt", "text"},
		{"LICENSE", "text"},
		{"logo.png", ""},
		{"lib.so", ""},
		{"archive.tar.gz", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := LanguageOf(tt.path); got != tt.want {
				t.Errorf("LanguageOf(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

// TestGolden chunks every file under testdata/lang with the default options
// and with merging off, and compares with testdata/golden.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/lang/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in testdata/lang: %v", err)
	}
	modes := []struct {
		name string
		opts *Options
	}{
		{"default", nil},
		{"nomerge", &Options{MinChunkLines: 1}},
	}
	for _, f := range files {
		for _, m := range modes {
			name := filepath.Base(f) + "." + m.name
			t.Run(name, func(t *testing.T) {
				src, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				got := summary(chunkFile(t, m.opts, f, src))
				golden := filepath.Join("testdata", "golden", name)
				if *update {
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("reading golden file (run go test -update): %v", err)
				}
				if got != string(want) {
					t.Errorf("Chunk(%q) =\n%s\nwant\n%s", f, got, want)
				}
			})
		}
	}
}

// TestSymbols checks, per language, chunks that must appear with merging
// off: symbol paths compose through classes, impls, modules and
// namespaces, and each chunk starts at its leading comments.
func TestSymbols(t *testing.T) {
	tests := []struct {
		file string
		want []span
	}{
		{"sample.go", []span{
			{1, 7, KindPreamble, ""},
			{9, 9, KindConstant, "A"},
			{14, 17, KindStruct, "Server"},
			{20, 22, KindInterface, "Handler"},
			{23, 23, KindType, "ID"},
			{26, 32, KindMethod, "Server.handleSearch"},
			{34, 34, KindMethod, "List.Len"},
			{36, 38, KindFunction, "New"},
		}},
		{"sample.py", []span{
			{1, 5, KindPreamble, ""},
			{8, 10, KindFunction, "helper"},
			{18, 19, KindMethod, "Outer.method"},
			{22, 23, KindMethod, "Outer.Inner.deep"},
			{25, 27, KindMethod, "Outer.static"},
			{30, 31, KindCode, ""},
		}},
		{"sample.js", []span{
			{5, 8, KindFunction, "add"},
			{11, 14, KindMethod, "Widget.constructor"},
			{16, 18, KindMethod, "Widget.render"},
			{23, 25, KindFunction, "arrow"},
		}},
		{"sample.ts", []span{
			{3, 6, KindInterface, "Shape"},
			{8, 8, KindType, "ID"},
			{10, 10, KindEnum, "Color"},
			{15, 17, KindMethod, "Geo.Circle.area"},
			{22, 24, KindFunction, "make"},
			{27, 27, KindMethod, "Base.run"},
		}},
		{"sample.tsx", []span{
			{5, 7, KindFunction, "Header"},
			{9, 15, KindFunction, "App"},
		}},
		{"Sample.java", []span{
			{9, 11, KindMethod, "Sample.Sample"},
			{13, 16, KindMethod, "Sample.toString"},
			{19, 19, KindMethod, "Sample.Nested.run"},
			{22, 22, KindEnum, "Sample.Mode"},
			{25, 27, KindInterface, "Runner"},
		}},
		{"sample.rs", []span{
			{3, 7, KindStruct, "Point"},
			{10, 12, KindMethod, "Point::fmt"},
			{16, 18, KindMethod, "Point::new"},
			{22, 22, KindMethod, "Shape::area"},
			{26, 26, KindFunction, "inner::helper"},
			{29, 29, KindConstant, "MAX"},
			{33, 35, KindFunction, "main"},
		}},
		{"sample.c", []span{
			{2, 2, KindConstant, "MAX"},
			{4, 6, KindType, "point_t"},
			{8, 10, KindStruct, "node"},
			{12, 12, KindVariable, "counter"},
			{14, 17, KindFunction, "add"},
			{19, 21, KindFunction, "name_of"},
		}},
		{"sample.cpp", []span{
			{8, 10, KindMethod, "geo::Shape::print"},
			{15, 18, KindFunction, "geo::max_of"},
			{22, 24, KindFunction, "geo::Circle::area"},
		}},
		{"sample.cs", []span{
			{10, 13, KindMethod, "App.Core.Service.Service"},
			{15, 15, KindVariable, "App.Core.Service.Count"},
			{17, 20, KindMethod, "App.Core.Service.Run"},
			{23, 26, KindInterface, "App.Core.IService"},
		}},
		{"sample.rb", []span{
			{7, 9, KindMethod, "Outer::Widget::initialize"},
			{11, 13, KindMethod, "Outer::Widget::build"},
			{21, 23, KindFunction, "top_level"},
		}},
		{"sample.php", []span{
			{8, 10, KindFunction, "helper"},
			{15, 17, KindMethod, "User.getName"},
			{20, 22, KindInterface, "Repo"},
		}},
		{"sample.kt", []span{
			{8, 10, KindMethod, "Greeter.greet"},
			{13, 13, KindMethod, "Greeter.Companion.create"},
			{21, 23, KindFunction, "topLevel"},
			{25, 27, KindInterface, "Shape"},
		}},
		{"sample.sh", []span{
			{4, 6, KindFunction, "greet"},
			{8, 10, KindFunction, "build"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "lang", tt.file)
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := spans(chunkFile(t, &Options{MinChunkLines: 1}, path, src))
			for _, w := range tt.want {
				found := false
				for _, g := range got {
					if g == w {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("Chunk(%q) = %v, want it to contain %v", tt.file, got, w)
				}
			}
		})
	}
}

func TestMergeTinyNeighbours(t *testing.T) {
	var src strings.Builder
	src.WriteString("package p\n\n")
	for i := range 30 {
		fmt.Fprintf(&src, "const C%d = %d\n", i, i)
	}
	src.WriteString("\n// Big does a lot.\nfunc Big() {\n")
	for i := range 10 {
		fmt.Fprintf(&src, "\tprintln(%d)\n", i)
	}
	src.WriteString("}\n\nfunc (t T) A() int { return 1 }\nfunc (t T) B() int { return 2 }\n")
	got := spans(chunkFile(t, nil, "p.go", []byte(src.String())))
	want := []span{
		{1, 32, KindConstant, ""},
		{34, 46, KindFunction, "Big"},
		{48, 49, KindMethod, "T"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Chunk(p.go) = %v, want %v", got, want)
	}
}

func TestSplitLargeBody(t *testing.T) {
	tests := []struct {
		name, path, head, stmt, tail, symbol, kind string
	}{
		{"go", "big.go", "package p\n\n// Big is big.\nfunc Big() {\n", "\tx%d := compute(%d)\n", "}\n", "Big", KindFunction},
		{"python", "big.py", "class K:\n    def big(self):\n", "        x%d = compute(%d)\n", "", "K.big", KindMethod},
		{"java", "Big.java", "class K {\n  void big() {\n", "    int x%d = compute(%d);\n", "  }\n}\n", "K.big", KindMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var src strings.Builder
			src.WriteString(tt.head)
			for i := range 500 {
				fmt.Fprintf(&src, tt.stmt, i, i)
			}
			src.WriteString(tt.tail)
			opts := &Options{MaxChunkLines: 50}
			chunks := chunkFile(t, opts, tt.path, []byte(src.String()))
			var parts []Chunk
			for _, ch := range chunks {
				if ch.Symbol == tt.symbol {
					parts = append(parts, ch)
				}
			}
			if len(parts) < 10 {
				t.Fatalf("Chunk(%q) = %s, want the body split into at least 10 parts named %q", tt.path, summary(chunks), tt.symbol)
			}
			for i, p := range parts {
				if p.Kind != tt.kind {
					t.Errorf("part %d kind = %q, want %q", i, p.Kind, tt.kind)
				}
				if i > 0 && p.StartLine != parts[i-1].EndLine+1 {
					t.Errorf("part %d starts at line %d, want %d (right after part %d)", i, p.StartLine, parts[i-1].EndLine+1, i-1)
				}
				if i > 0 && !strings.Contains(strings.SplitN(p.Text, "\n", 2)[0], "compute(") {
					t.Errorf("part %d starts with %q, want a statement boundary", i, strings.SplitN(p.Text, "\n", 2)[0])
				}
				if i < len(parts)-1 && p.EndLine-p.StartLine+1 < 25 {
					t.Errorf("part %d has %d lines, want at least half of 50", i, p.EndLine-p.StartLine+1)
				}
			}
			if !strings.Contains(parts[0].Text, tt.symbol[strings.LastIndex(tt.symbol, ".")+1:]+"(") {
				t.Errorf("first part %q does not hold the signature", parts[0].Text[:40])
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, path, src string
		want            span // must appear
	}{
		{"c macros", "m.h", "#ifndef M_H\n#define M_H\nEXPORT_API int DECLARE_THING(foo, bar) {\n  return BODY(x) 1;\n}\nint ok(void) {\n  return 1;\n}\n#endif\n",
			span{6, 8, KindFunction, "ok"}},
		{"go garbage", "bad.go", "package p\n\nfunc Good() {\n\treturn\n}\n\nfunc Bad( {\n\t))) ]]\n}}}\n\nfunc Later() {\n\tprintln()\n}\n",
			span{3, 5, KindFunction, "Good"}},
		{"python indentation", "bad.py", "def good():\n    return 1\n\n  def bad(:\n      )\n\ndef later():\n    pass\n",
			span{1, 2, KindFunction, "good"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := spans(chunkFile(t, &Options{MinChunkLines: 1}, tt.path, []byte(tt.src)))
			for _, g := range got {
				if g == tt.want {
					return
				}
			}
			t.Errorf("Chunk(%q) = %v, want it to contain %v", tt.path, got, tt.want)
		})
	}
}

func TestMarkdown(t *testing.T) {
	src := "Intro line.\n\n# Install\n\nSome text.\nMore text here.\nAnd more.\n\n## From source\n\n```sh\n# not a heading\nmake\n```\n\nBuild it.\n\n## Binary\n\nDownload it.\nRun it.\nDone.\n\nUsage\n=====\n\nRun `tool` with flags.\nMore.\nMore.\n"
	got := spans(chunkFile(t, &Options{MinChunkLines: 1}, "README.md", []byte(src)))
	want := []span{
		{1, 1, KindSection, ""},
		{3, 7, KindSection, "Install"},
		{9, 16, KindSection, "Install > From source"},
		{18, 22, KindSection, "Install > Binary"},
		{24, 29, KindSection, "Usage"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Chunk(README.md) = %v, want %v", got, want)
	}
	// Merged tiny sections are named by the headings they share.
	small := "# A\n\n## B\nx\n\n## C\ny\n"
	got = spans(chunkFile(t, nil, "small.md", []byte(small)))
	want = []span{{1, 7, KindSection, "A"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Chunk(small.md) = %v, want %v", got, want)
	}
}

func TestWindows(t *testing.T) {
	var src strings.Builder
	for i := range 100 {
		fmt.Fprintf(&src, "key%d: value\n", i)
	}
	opts := &Options{WindowLines: 30, WindowOverlap: 5}
	got := spans(chunkFile(t, opts, "config.yaml", []byte(src.String())))
	want := []span{
		{1, 30, KindWindow, ""},
		{26, 55, KindWindow, ""},
		{51, 80, KindWindow, ""},
		{76, 100, KindWindow, ""},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Chunk(config.yaml) = %v, want %v", got, want)
	}

	// A single line longer than MaxChunkBytes is cut at rune boundaries.
	long := strings.Repeat("héllo wörld ", 2000) + "\nshort\n"
	chunks := chunkFile(t, &Options{MaxChunkBytes: 1000}, "min.json", []byte(long))
	if len(chunks) < 24 {
		t.Fatalf("Chunk(min.json) = %d chunks, want the long line cut in at least 24", len(chunks))
	}
	for i, ch := range chunks {
		if !utf8.ValidString(ch.Text) {
			t.Errorf("chunk %d is cut inside a rune: %q", i, ch.Text[len(ch.Text)-4:])
		}
	}
}

func TestEdgeInputs(t *testing.T) {
	deepC := strings.Repeat("{", 5000) + strings.Repeat("}", 5000)
	deepPy := ""
	for i := range 200 {
		deepPy += strings.Repeat(" ", i) + fmt.Sprintf("class C%d:\n", i)
	}
	deepPy += strings.Repeat(" ", 200) + "pass\n"
	var huge strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&huge, "func F%d() int { return %d }\n", i, i)
	}
	tests := []struct {
		name, path, src string
	}{
		{"empty", "e.go", ""},
		{"blank", "b.py", "\n\n   \n\t\n"},
		{"no newline", "n.go", "package p"},
		{"invalid utf8", "u.go", "package p\n\nfunc F() string {\n\treturn \"\xff\xfe\xfd\"\n}\n\xc3\x28 garbage \xa0\xa1\n"},
		{"invalid utf8 text", "u.txt", "a\xffb\n\xc3\x28\n"},
		{"crlf", "w.go", "package p\r\n\r\nfunc F() {\r\n}\r\n"},
		{"deep c", "deep.c", "void f() " + deepC + "\n"},
		{"deep js", "deep.js", "x = " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + ";\n"},
		{"deep python classes", "deep.py", deepPy},
		{"huge", "huge.go", "package p\n" + huge.String()},
		{"nul bytes", "z.c", "int a;\x00\x00\nint b;\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := chunkFile(t, nil, tt.path, []byte(tt.src))
			if strings.TrimSpace(tt.src) == "" && len(chunks) != 0 {
				t.Errorf("Chunk(%q) = %v, want no chunks for a blank file", tt.path, spans(chunks))
			}
		})
	}
}

func TestCancel(t *testing.T) {
	var src strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&src, "func F%d() int {\n\treturn %d\n}\n\n", i, i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := New(nil)
	defer c.Close()
	for _, path := range []string{"big.go", "big.md", "big.txt"} {
		t.Run(path, func(t *testing.T) {
			chunks, err := c.Chunk(ctx, path, []byte(src.String()))
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Chunk(%q) with a cancelled context = %d chunks, %v; want context.Canceled", path, len(chunks), err)
			}
		})
	}
	// The parser stays usable after a cancelled parse.
	chunks, err := c.Chunk(context.Background(), "ok.go", []byte("package p\n\nfunc F() {}\n"))
	if err != nil || len(chunks) == 0 {
		t.Errorf("Chunk after cancellation = %v, %v; want chunks", spans(chunks), err)
	}
}

// TestGoStdlibSample checks the invariants on real code.
func TestGoStdlibSample(t *testing.T) {
	files := goSample(t, 97, 2<<20)
	c := New(nil)
	defer c.Close()
	for path, src := range files {
		chunks, err := c.Chunk(context.Background(), path, src)
		if err != nil {
			t.Fatalf("Chunk(%q) error: %v", path, err)
		}
		checkInvariants(t, nil, path, src, chunks)
	}
}

// doneCtx is a context whose Done channel is closed from the start while
// Err reports nil once, so Chunk starts a parse that is then cancelled.
type doneCtx struct {
	context.Context
	done  chan struct{}
	calls int
}

func (c *doneCtx) Done() <-chan struct{} { return c.done }
func (c *doneCtx) Err() error {
	c.calls++
	if c.calls == 1 {
		return nil
	}
	return context.Canceled
}

func TestCancelDuringParse(t *testing.T) {
	var src strings.Builder
	for i := range 50000 {
		fmt.Fprintf(&src, "func F%d() int {\n\treturn %d\n}\n\n", i, i)
	}
	c := New(nil)
	defer c.Close()
	ctx := &doneCtx{Context: context.Background(), done: make(chan struct{})}
	close(ctx.done)
	if _, err := c.Chunk(ctx, "big.go", []byte(src.String())); !errors.Is(err, context.Canceled) {
		t.Fatalf("Chunk(big.go) with a cancelled parse: error %v, want context.Canceled", err)
	}
	// The next parse starts afresh rather than resuming the cancelled one.
	small := "package p\n\nfunc Small() {\n\tprintln()\n}\n"
	chunks, err := c.Chunk(context.Background(), "small.go", []byte(small))
	if err != nil {
		t.Fatalf("Chunk(small.go) after cancellation: %v", err)
	}
	checkInvariants(t, nil, "small.go", []byte(small), chunks)
	got := spans(chunks)
	want := []span{{1, 5, KindFunction, "Small"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Chunk(small.go) after cancellation = %v, want %v", got, want)
	}
}

func TestComments(t *testing.T) {
	src := `package p

var x = 1 // trailing comment of x

// F does things.
// It has two comment lines.
func F() {
	println()
	println()
}

// Detached comment.

func G() {
	println()
	println()
}
`
	got := spans(chunkFile(t, &Options{MinChunkLines: 1}, "c.go", []byte(src)))
	want := []span{
		{1, 1, KindPreamble, ""},
		{3, 3, KindVariable, "x"},
		{5, 10, KindFunction, "F"},
		{12, 12, KindCode, ""},
		{14, 17, KindFunction, "G"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Chunk(c.go) = %v, want %v", got, want)
	}
}

// TestContainers checks that a container's own short lines (header,
// closing brace) join the member they lead into or close, which keeps its
// name, and that tiny members merge under the container's name.
func TestContainers(t *testing.T) {
	method := func(name string) string {
		return "  void " + name + "() {\n    a();\n    b();\n    c();\n  }\n"
	}
	tests := []struct {
		name, path, src string
		want            []span
	}{
		{"java members", "K.java", "class K {\n" + method("m1") + "\n" + method("m2") + "}\n", []span{
			{1, 6, KindMethod, "K.m1"},
			{8, 13, KindMethod, "K.m2"},
		}},
		{"java tiny members", "T.java", "class T {\n  int a;\n  int b;\n  int get() { return a; }\n}\n", []span{
			{1, 5, KindClass, "T"},
		}},
		{"rust impl", "i.rs", "impl<T> Stack<T> {\n    fn push(&mut self) {\n        a();\n        b();\n    }\n\n    fn pop(&mut self) {\n        a();\n        b();\n    }\n}\n", []span{
			{1, 5, KindMethod, "Stack::push"},
			{7, 11, KindMethod, "Stack::pop"},
		}},
		{"empty class", "e.py", "class Empty:\n    pass\n\n\ndef f():\n    a()\n    b()\n    c()\n", []span{
			{1, 2, KindClass, "Empty"},
			{5, 8, KindFunction, "f"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := spans(chunkFile(t, nil, tt.path, []byte(tt.src)))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Chunk(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func TestOptionsResolve(t *testing.T) {
	tests := []struct {
		name string
		in   *Options
		want Options
	}{
		{"nil", nil, Options{MaxChunkLines: 120, MaxChunkBytes: 8192, MinChunkLines: 4, WindowLines: 60, WindowOverlap: 10}},
		{"zero", &Options{}, Options{MaxChunkLines: 120, MaxChunkBytes: 8192, MinChunkLines: 4, WindowLines: 60, WindowOverlap: 10}},
		{"window over max", &Options{MaxChunkLines: 40, WindowLines: 100, WindowOverlap: 50}, Options{MaxChunkLines: 40, MaxChunkBytes: 8192, MinChunkLines: 4, WindowLines: 40, WindowOverlap: 20}},
		{"kept", &Options{MaxChunkLines: 10, MaxChunkBytes: 100, MinChunkLines: 2, WindowLines: 5, WindowOverlap: 1}, Options{MaxChunkLines: 10, MaxChunkBytes: 100, MinChunkLines: 2, WindowLines: 5, WindowOverlap: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.resolve(); got != tt.want {
				t.Errorf("%+v.resolve() = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

// TestChunkerReuse runs one Chunker over every language in turn, twice,
// and checks it gives the same chunks as fresh Chunkers.
func TestChunkerReuse(t *testing.T) {
	files, err := filepath.Glob("testdata/lang/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no files in testdata/lang: %v", err)
	}
	c := New(nil)
	defer c.Close()
	for round := range 2 {
		for _, f := range files {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Chunk(context.Background(), f, src)
			if err != nil {
				t.Fatalf("Chunk(%q) error: %v", f, err)
			}
			if want := chunkFile(t, nil, f, src); summary(got) != summary(want) {
				t.Errorf("round %d: reused Chunk(%q) =\n%s\nwant\n%s", round, f, summary(got), summary(want))
			}
		}
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close() = %v", err)
	}
}
