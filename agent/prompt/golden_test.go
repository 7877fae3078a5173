package prompt

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codemux/codemux/router/provider"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// goldenCases are the inputs every embedded template is rendered on.
func goldenCases() []struct {
	name string
	in   Input
} {
	handler := Piece{ID: "0", Path: "server/handler.go", StartLine: 40, EndLine: 52, Language: "go", Symbol: "Server.handleSearch",
		Text: "func (s *Server) handleSearch(ctx context.Context, q Query) ([]Hit, error) {\n\tif q.K <= 0 {\n\t\treturn nil, errBadK\n\t}\n\treturn s.index.Search(ctx, q)\n}\n"}
	doc := Piece{ID: "1", Path: "docs/search.md", StartLine: 1, EndLine: 9, Language: "markdown",
		Text: "# Search\n\nQueries go through the index:\n\n```go\nhits, err := ix.Search(ctx, q)\n```"}
	script := Piece{ID: "2", Path: "scripts/run.sh", StartLine: 3, EndLine: 3, Language: "sh", Text: "exec ./bin/server --port \"$PORT\""}
	return []struct {
		name string
		in   Input
	}{
		{"no-context", Input{Question: "What is a goroutine leak?"}},
		{"one-piece", Input{Question: "What does handleSearch do when K is zero?", Workspace: "codemux", Pieces: []Piece{handler}}},
		{"many-pieces", Input{Question: "How does a search reach the index?", Workspace: "codemux", Pieces: []Piece{handler, doc, script}}},
		{"tool-results", Input{
			Question: "Why does the build fail?",
			Pieces:   []Piece{handler},
			Diagnostics: []Diagnostic{
				{Source: "go vet", Path: "server/handler.go", Line: 44, Severity: "error", Code: "printf", Message: "fmt.Sprintf format %d has arg q of wrong type Query"},
				{Source: "gosec", Path: "server/handler.go", Severity: "warning", Code: "G104", Message: "errors unhandled"},
			},
			ToolOutput: "--- FAIL: TestHandleSearch (0.00s)\n    handler_test.go:31: handleSearch(K=0) = nil, want errBadK\n",
			History:    []provider.Message{{Role: "user", Content: "I changed handleSearch."}, {Role: "assistant", Content: "Noted."}},
		}},
	}
}

func TestGolden(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	models := map[string]string{FamilyGPT: "gpt-4o-mini", FamilyClaude: "claude-sonnet-4-5", FamilySmall: "qwen2.5-coder:7b"}
	for _, task := range Tasks() {
		for _, fam := range Families() {
			t.Run(task+"/"+fam, func(t *testing.T) {
				var b strings.Builder
				for _, c := range goldenCases() {
					rd, err := r.Render(task, models[fam], c.in)
					if err != nil {
						t.Fatalf("Render(%q, %q, %s) = %v", task, models[fam], c.name, err)
					}
					fmt.Fprintf(&b, "=== %s (%s)\n--- system\n%s\n", c.name, rd.Version, rd.System)
					for _, m := range rd.Messages {
						fmt.Fprintf(&b, "--- %s\n%s\n", m.Role, m.Content)
					}
				}
				path := filepath.Join("testdata", "golden", task, fam+".txt")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("reading golden file (run go test -update to create it): %v", err)
				}
				if got := b.String(); got != string(want) {
					t.Errorf("rendered %s/%s differs from %s (run go test -update and review the diff):\n%s", task, fam, path, got)
				}
			})
		}
	}
}
