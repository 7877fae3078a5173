package prompt

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// familyModels names one model per family.
var familyModels = map[string]string{FamilyGPT: "gpt-4.1-mini", FamilyClaude: "claude-haiku-4-5", FamilySmall: "llama3.1:8b"}

func TestEmbeddedFiles(t *testing.T) {
	var got []string
	err := fs.WalkDir(embedded, "templates", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			got = append(got, path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("walking embedded templates: %v", err)
	}
	var want []string
	for _, task := range Tasks() {
		for _, fam := range Families() {
			want = append(want, "templates/"+task+"/"+fam+".tmpl")
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("embedded templates = %v, want %v", got, want)
	}
}

func TestEmbeddedTemplates(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	version := regexp.MustCompile(`^[a-z]+/[a-z]+@[A-Za-z0-9._-]+$`)
	for _, task := range Tasks() {
		for _, fam := range Families() {
			model := familyModels[fam]
			for _, c := range goldenCases() {
				t.Run(task+"/"+fam+"/"+c.name, func(t *testing.T) {
					rd, err := r.Render(task, model, c.in)
					if err != nil {
						t.Fatalf("Render(%q, %q) = %v", task, model, err)
					}
					if rd.Task != task || rd.Family != fam || !version.MatchString(rd.Version) || !strings.HasPrefix(rd.Version, task+"/"+fam+"@") {
						t.Errorf("Render(%q, %q) = task %q family %q version %q", task, model, rd.Task, rd.Family, rd.Version)
					}
					if n := len(rd.Messages); n != len(c.in.History)+1 || rd.Messages[n-1].Role != "user" {
						t.Fatalf("Render(%q, %q) messages = %+v, want history then one user message", task, model, rd.Messages)
					}
					sys, user := rd.System, rd.Messages[len(rd.Messages)-1].Content
					for _, want := range []string{"path:line"} {
						if !strings.Contains(sys, want) {
							t.Errorf("system prompt lacks %q:\n%s", want, sys)
						}
					}
					if !strings.Contains(sys, "does not contain the answer") && !strings.Contains(sys, "does not show this") {
						t.Errorf("system prompt lacks the no-answer guardrail:\n%s", sys)
					}
					if !strings.Contains(user, c.in.Question) {
						t.Errorf("user prompt lacks the question %q:\n%s", c.in.Question, user)
					}
					for _, p := range c.in.Pieces {
						if !strings.Contains(user, strings.TrimRight(p.Text, "\n")) {
							t.Errorf("user prompt lacks piece %s:\n%s", p.Path, user)
						}
					}
					for _, d := range c.in.Diagnostics {
						if !strings.Contains(user, d.Message) {
							t.Errorf("user prompt lacks diagnostic %q:\n%s", d.Message, user)
						}
					}
					toolHeading := map[string]string{FamilyGPT: "# Tool results", FamilyClaude: "<tool_results>", FamilySmall: "TOOL RESULTS"}[fam]
					if got, want := strings.Contains(user, toolHeading), c.in.HasTools(); got != want {
						t.Errorf("user prompt has %q = %v, want %v:\n%s", toolHeading, got, want, user)
					}
					if c.in.HasTools() && !strings.Contains(user, "re-derive") && !strings.Contains(user, "do not check them again") {
						t.Errorf("tool results lack the explain-not-re-derive instruction:\n%s", user)
					}
					switch fam {
					case FamilyClaude:
						for _, p := range c.in.Pieces {
							if want := `<code path="` + p.Path + `" lines="` + p.Lines() + `"`; !strings.Contains(user, want) {
								t.Errorf("claude prompt lacks %s:\n%s", want, user)
							}
						}
						if !strings.HasSuffix(user, "</question>") {
							t.Errorf("claude prompt does not end with the question:\n%s", user)
						}
					case FamilyGPT:
						for _, p := range c.in.Pieces {
							if want := "## " + p.Path + ":" + p.Lines(); !strings.Contains(user, want) {
								t.Errorf("gpt prompt lacks header %q:\n%s", want, user)
							}
						}
					case FamilySmall:
						if !strings.Contains(sys, "<answer>") || !strings.HasSuffix(user, "Answer between <answer> and </answer>.") {
							t.Errorf("small prompt does not ask for <answer> markers:\nsystem:\n%s\nuser:\n%s", sys, user)
						}
						if len(sys) > 1200 {
							t.Errorf("small system prompt is %d bytes, want at most 1200", len(sys))
						}
					}
				})
			}
		}
	}
}

func TestTask(t *testing.T) {
	tools := &Input{Diagnostics: []Diagnostic{{Message: "unused variable"}}}
	tests := []struct {
		task    string
		in      *Input
		want    string
		wantErr bool
	}{
		{"", nil, TaskChat, false},
		{"", &Input{Pieces: []Piece{{Text: "x"}}}, TaskChat, false},
		{"", tools, TaskExplain, false},
		{"", &Input{ToolOutput: "FAIL"}, TaskExplain, false},
		{"", &Input{ToolOutput: " \n"}, TaskChat, false},
		{"tests", tools, TaskTests, false},
		{"reason", nil, TaskReason, false},
		{"review", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.task+"/"+tt.want, func(t *testing.T) {
			got, err := Task(tt.task, tt.in)
			if got != tt.want || (err != nil) != tt.wantErr {
				t.Errorf("Task(%q, %+v) = %q, %v, want %q (error %v)", tt.task, tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestRenderUnknownTask(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatalf("New(nil) = %v", err)
	}
	if _, err := r.Render("review", "gpt-4o", Input{Question: "q"}); err == nil || !strings.Contains(err.Error(), `unknown task "review"`) {
		t.Errorf(`Render("review") = %v, want an unknown task error`, err)
	}
}

// writeFile writes a file under dir, creating its directory.
func writeFile(t testing.TB, dir, rel, content string) string {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// override is a valid override template that marks its output.
func override(version, mark string) string {
	return "{{/* version: " + version + " */}}\n" +
		`{{define "system"}}` + mark + ` system for {{.Task}}/{{.Family}}{{end}}` + "\n" +
		`{{define "user"}}` + mark + ` {{range .Pieces}}[{{.Path}}:{{.Lines}}]{{end}} {{.Question}}{{end}}` + "\n"
}

func TestOverrides(t *testing.T) {
	user, ws := t.TempDir(), t.TempDir()
	writeFile(t, user, "explain/claude.tmpl", override("7", "USER"))
	writeFile(t, user, "tests/claude.tmpl", override("7", "USER"))
	writeFile(t, user, "README.md", "notes about my prompts")
	writeFile(t, ws, "explain/claude.tmpl", override("2024-06.1", "WORKSPACE"))
	writeFile(t, ws, "chat/gpt.tmpl", override("2", "WORKSPACE"))
	writeFile(t, ws, "chat/notes.txt", "ignored")

	r, err := New(&Options{UserDir: user, WorkspaceDir: ws})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	in := Input{Question: "why?", Pieces: []Piece{{Path: "a.go", StartLine: 3, EndLine: 9, Text: "x"}}}
	tests := []struct {
		task, model string
		version     string
		system      string // a prefix of the system prompt
	}{
		{"explain", "claude-sonnet-4-5", "explain/claude@2024-06.1+workspace", "WORKSPACE system for explain/claude"},
		{"tests", "claude-sonnet-4-5", "tests/claude@7+user", "USER system for tests/claude"},
		{"chat", "gpt-4o", "chat/gpt@2+workspace", "WORKSPACE system for chat/gpt"},
		{"explain", "gpt-4o", "explain/gpt@1", "You are codemux"},
		{"chat", "claude-sonnet-4-5", "chat/claude@1", "You are codemux"},
	}
	for _, tt := range tests {
		t.Run(tt.task+"/"+tt.model, func(t *testing.T) {
			rd, err := r.Render(tt.task, tt.model, in)
			if err != nil {
				t.Fatalf("Render(%q, %q) = %v", tt.task, tt.model, err)
			}
			if rd.Version != tt.version || !strings.HasPrefix(rd.System, tt.system) {
				t.Errorf("Render(%q, %q) = version %q system %q, want %q and a system prompt starting %q", tt.task, tt.model, rd.Version, rd.System, tt.version, tt.system)
			}
			if v := r.Version(tt.task, tt.model); v != tt.version {
				t.Errorf("Version(%q, %q) = %q, want %q", tt.task, tt.model, v, tt.version)
			}
		})
	}
	rd, err := r.Render("explain", "claude-sonnet-4-5", in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rd.Messages[0].Content, "WORKSPACE [a.go:3-9] why?"; got != want {
		t.Errorf("override user message = %q, want %q", got, want)
	}

	// Missing directories mean no overrides.
	r, err = New(&Options{UserDir: filepath.Join(user, "absent"), WorkspaceDir: filepath.Join(ws, "absent")})
	if err != nil {
		t.Fatalf("New(missing dirs) = %v", err)
	}
	if v := r.Version("explain", "claude-sonnet-4-5"); v != "explain/claude@1" {
		t.Errorf("Version with missing override dirs = %q, want explain/claude@1", v)
	}
}

func TestBadOverride(t *testing.T) {
	good := override("1", "OK")
	tests := []struct {
		name, rel, content string
		want               string // in the error besides the file path
	}{
		{"parse error", "explain/gpt.tmpl", "{{/* version: 1 */}}\n{{define \"system\"}}{{.Question}{{end}}\n", ":2:"},
		{"no header", "explain/gpt.tmpl", strings.SplitN(good, "\n", 2)[1], "version header"},
		{"header not first", "explain/gpt.tmpl", "\n" + good, "version header"},
		{"no user template", "chat/small.tmpl", "{{/* version: 1 */}}\n{{define \"system\"}}s{{end}}\n", `no {{define "user"}}`},
		{"unknown field", "chat/claude.tmpl", strings.Replace(good, "{{.Question}}", "{{.Query}}", 1), "Query"},
		{"unknown function", "chat/claude.tmpl", strings.Replace(good, "{{.Question}}", "{{shout .Question}}", 1), `"shout" not defined`},
		{"runtime error", "reason/gpt.tmpl", strings.Replace(good, "{{.Question}}", "{{index .Pieces 0}}", 1), "index"},
		{"unknown task", "explian/claude.tmpl", good, "not a known task/family"},
		{"unknown family", "explain/llama.tmpl", good, "not a known task/family"},
	}
	for _, tt := range tests {
		for _, source := range []string{"user", "workspace"} {
			t.Run(tt.name+"/"+source, func(t *testing.T) {
				dir := t.TempDir()
				path := writeFile(t, dir, tt.rel, tt.content)
				opts := &Options{UserDir: dir}
				if source == "workspace" {
					opts = &Options{WorkspaceDir: dir}
				}
				r, err := New(opts)
				if err == nil || r != nil {
					t.Fatalf("New(%s override %s) = %v, %v, want an error", source, tt.rel, r, err)
				}
				if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, tt.want) {
					t.Errorf("New(%s override %s) error = %q, want it to name %s and say %q", source, tt.rel, msg, path, tt.want)
				}
			})
		}
	}
}

func TestBadOverridesAllReported(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "explain/gpt.tmpl", "no header")
	b := writeFile(t, dir, "tests/small.tmpl", "{{/* version: 1 */}}\n{{define \"system\"}}{{end}}")
	_, err := New(&Options{WorkspaceDir: dir})
	if err == nil || !strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Errorf("New() = %v, want an error naming %s and %s", err, a, b)
	}
}

func TestOverrideFailsAtRender(t *testing.T) {
	dir := t.TempDir()
	// Passes the load-time check, fails on one question.
	path := writeFile(t, dir, "chat/gpt.tmpl", strings.Replace(override("5", "WS"), "{{.Question}}",
		`{{if eq .Question "boom"}}{{index .Pieces 9}}{{end}}{{.Question}}`, 1))
	var logs bytes.Buffer
	r, err := New(&Options{WorkspaceDir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	tests := []struct {
		question, version string
		warned            bool
	}{
		{"fine", "chat/gpt@5+workspace", false},
		{"boom", "chat/gpt@1", true},
	}
	for _, tt := range tests {
		t.Run(tt.question, func(t *testing.T) {
			logs.Reset()
			rd, err := r.Render("chat", "gpt-4o", Input{Question: tt.question})
			if err != nil {
				t.Fatalf("Render(%q) = %v", tt.question, err)
			}
			if rd.Version != tt.version {
				t.Errorf("Render(%q) version = %q, want %q", tt.question, rd.Version, tt.version)
			}
			if got := strings.Contains(logs.String(), path); got != tt.warned {
				t.Errorf("Render(%q) logged %q; warning naming %s = %v, want %v", tt.question, logs.String(), path, got, tt.warned)
			}
		})
	}
}

func TestRenderTrimsPieceText(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Question: "  q  \n", Pieces: []Piece{{Path: "a.go", StartLine: 1, EndLine: 2, Language: "golang", Text: "\tx := 1\n\n\n"}}}
	rd, err := r.Render("explain", "gpt-4o", in)
	if err != nil {
		t.Fatal(err)
	}
	user := rd.Messages[0].Content
	if want := "```go\n\tx := 1\n```"; !strings.Contains(user, want) {
		t.Errorf("Render user = %q, want it to contain %q", user, want)
	}
	if in.Pieces[0].Text != "\tx := 1\n\n\n" {
		t.Errorf("Render changed the caller's piece text to %q", in.Pieces[0].Text)
	}
}
