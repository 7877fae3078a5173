package eval

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const exampleFile = `models: [gpt-4o-mini, claude-3-5-haiku-latest]
prompt_versions: [default, terse]
cases:
  - name: explains-retry
    question: "How does the client retry failed requests?"
    kind: explain
    workspace: ./fixtures/retry
    checks:
      - contains: "backoff"
      - not_contains: "I don't know"
      - regex: "(?i)retr(y|ies)"
  - name: summary-json
    question: Summarise client.go as JSON.
    context:
      - path: client.go
        text: |
          func (c *Client) Do() {}
    checks:
      - json_schema: {type: object, required: [summary], properties: {summary: {type: string, minLength: 1}}}
      - json_schema: '{"type": "object"}'
`

func TestParse(t *testing.T) {
	dir := t.TempDir()
	ws := filepath.Join(dir, "fixtures", "retry")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ask.yaml")
	if err := os.WriteFile(path, []byte(exampleFile), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if want := []string{"gpt-4o-mini", "claude-3-5-haiku-latest"}; !reflect.DeepEqual(f.Models, want) {
		t.Errorf("Models = %q, want %q", f.Models, want)
	}
	if want := []string{"default", "terse"}; !reflect.DeepEqual(f.PromptVersions, want) {
		t.Errorf("PromptVersions = %q, want %q", f.PromptVersions, want)
	}
	if len(f.Cases) != 2 {
		t.Fatalf("Cases = %d, want 2", len(f.Cases))
	}
	c0, c1 := f.Cases[0], f.Cases[1]
	if c0.Name != "explains-retry" || c0.Kind != "explain" || c0.Workspace != ws || c0.Line != 4 {
		t.Errorf("case 0 = %q kind %q workspace %q line %d, want explains-retry, explain, %s, 4", c0.Name, c0.Kind, c0.Workspace, c0.Line, ws)
	}
	var checks []string
	for _, c := range c0.Checks {
		checks = append(checks, c.String())
	}
	if want := []string{`contains "backoff"`, `not_contains "I don't know"`, `regex "(?i)retr(y|ies)"`}; !reflect.DeepEqual(checks, want) {
		t.Errorf("case 0 checks = %q, want %q", checks, want)
	}
	if c0.Checks[2].Line != 11 {
		t.Errorf("case 0 regex check line = %d, want 11", c0.Checks[2].Line)
	}
	if want := []ContextFile{{Path: "client.go", Text: "func (c *Client) Do() {}\n"}}; !reflect.DeepEqual(c1.Context, want) {
		t.Errorf("case 1 context = %+v, want %+v", c1.Context, want)
	}
	if c1.Line != 12 || len(c1.Checks) != 2 || c1.Checks[0].JSONSchema == nil || c1.Checks[1].JSONSchema == nil {
		t.Fatalf("case 1 = line %d, checks %+v, want line 12 and two schemas", c1.Line, c1.Checks)
	}
	if got := c1.Checks[0].JSONSchema.Validate(map[string]any{"summary": ""}); len(got) != 1 {
		t.Errorf("parsed schema accepts an empty summary: %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "afile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		file string
		want string // substring of the error
	}{
		{"empty", "", "the file is empty"},
		{"no cases", "models: [a]\n", "no cases"},
		{"unknown top key", "model: [a]\ncases: []\n", "line 1: field model not found"},
		{"unknown case key", "cases:\n  - name: a\n    question: q\n    chekcs:\n      - contains: x\n", "line 4: field chekcs not found"},
		{"unknown check", "cases:\n  - name: a\n    question: q\n    checks:\n      - startswith: x\n", `line 5: unknown check "startswith"`},
		{"two kinds in a check", "cases:\n  - name: a\n    question: q\n    checks:\n      - contains: x\n        regex: y\n", "line 5: a check has exactly one of"},
		{"check not a mapping", "cases:\n  - name: a\n    question: q\n    checks:\n      - x\n", "line 5: a check is a mapping"},
		{"empty contains", "cases:\n  - name: a\n    question: q\n    checks:\n      - contains: \"\"\n", "line 5: contains wants a non-empty string"},
		{"bad regex", "cases:\n  - name: a\n    question: q\n    checks:\n      - regex: \"(\"\n", "line 5: regex: error parsing regexp"},
		{"bad schema keyword", "cases:\n  - name: a\n    question: q\n    checks:\n      - json_schema: {oneOf: []}\n", `line 5: json_schema: $: unsupported schema keyword "oneOf"`},
		{"bad schema json string", "cases:\n  - name: a\n    question: q\n    checks:\n      - json_schema: '{type'\n", "line 5: json_schema: a string schema must be JSON"},
		{"no question", "cases:\n  - name: a\n    checks:\n      - contains: x\n", `line 2: case "a": question is missing`},
		{"no name", "cases:\n  - question: q\n    checks:\n      - contains: x\n", "line 2: case \"\": name is missing"},
		{"no checks", "cases:\n  - name: a\n    question: q\n", `line 2: case "a": no checks`},
		{"workspace and context", "cases:\n  - name: a\n    question: q\n    workspace: .\n    context:\n      - {path: a.go, text: x}\n    checks:\n      - contains: x\n", "give either workspace or context"},
		{"context without text", "cases:\n  - name: a\n    question: q\n    context:\n      - {path: a.go}\n    checks:\n      - contains: x\n", "context entry 1 needs a path and a text"},
		{"missing workspace", "cases:\n  - name: a\n    question: q\n    workspace: ./nope\n    checks:\n      - contains: x\n", "workspace: stat"},
		{"workspace is a file", "cases:\n  - name: a\n    question: q\n    workspace: afile\n    checks:\n      - contains: x\n", "is not a directory"},
		{"duplicate case", "cases:\n  - name: a\n    question: q\n    checks: [{contains: x}]\n  - name: a\n    question: q\n    checks: [{contains: x}]\n", `line 5: case name "a" is already used on line 2`},
		{"duplicate model", "models: [a, a]\ncases:\n  - name: a\n    question: q\n    checks: [{contains: x}]\n", `models: "a" is listed twice`},
		{"empty version", "prompt_versions: [\"\"]\ncases:\n  - name: a\n    question: q\n    checks: [{contains: x}]\n", "prompt_versions: entry 1 is empty"},
		{"not yaml", "cases: [\n", "parsing eval file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.file), dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse(%q) = %v, want an error containing %q", tt.file, err, tt.want)
			}
		})
	}
}
