package prompt

import (
	"strings"
	"testing"
)

func BenchmarkNew(b *testing.B) {
	dir := b.TempDir()
	for _, c := range []struct {
		name string
		opts *Options
	}{{"embedded", nil}, {"one-override", &Options{WorkspaceDir: dir}}} {
		if c.opts != nil {
			writeFile(b, dir, "explain/claude.tmpl", override("1", "WS"))
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := New(c.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRender(b *testing.B) {
	r, err := New(nil)
	if err != nil {
		b.Fatal(err)
	}
	var pieces []Piece
	for i := range 8 {
		pieces = append(pieces, Piece{Path: "pkg/file.go", StartLine: i * 50, EndLine: i*50 + 40, Language: "go", Symbol: "Type.Method",
			Text: strings.Repeat("\tif err := s.do(ctx, x); err != nil {\n\t\treturn fmt.Errorf(\"doing: %w\", err)\n\t}\n", 20)})
	}
	in := Input{Question: "How does the retry loop stop?", Pieces: pieces,
		Diagnostics: []Diagnostic{{Source: "go vet", Path: "pkg/file.go", Line: 12, Message: "unreachable code"}}}
	for _, fam := range Families() {
		b.Run(fam, func(b *testing.B) {
			for b.Loop() {
				if _, err := r.Render(TaskExplain, familyModels[fam], in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkPostprocess(b *testing.B) {
	answer := "<think>\nLet me look at the loop.\n</think>\n<answer>\nSure! Here's the fix:\n\n    ```golang\n" +
		strings.Repeat("    x := compute(y)\n", 200) + "    ```\n\nI hope this helps!\n</answer>"
	for b.Loop() {
		Postprocess(FamilySmall, answer)
	}
}
