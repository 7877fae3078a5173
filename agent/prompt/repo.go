package prompt

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"github.com/codemux/codemux/router/provider"
)

// Format is the version of the template file contract: the header, the
// defined templates and the Data fields and functions templates may use.
// Override files are checked against it when they load.
//
// History:
//
//	1: first line {{/* version: V */}}; defines "system" and "user"; Data
//	   with Task, Family, Model and Input (Question, Pieces, Diagnostics,
//	   ToolOutput, Workspace, History); funcs fence, attr, lang, trim.
const Format = 1

// Sources of a template, as they appear after "+" in a version string.
const (
	SourceEmbedded  = ""          // built into the binary
	SourceUser      = "user"      // Options.UserDir
	SourceWorkspace = "workspace" // Options.WorkspaceDir
)

//go:embed templates
var embedded embed.FS

// Options configures a Repo. The zero value (or nil) uses the embedded
// templates only.
type Options struct {
	// UserDir holds the user's overrides, e.g. ~/.config/codemux/prompts;
	// "" or a missing directory means none.
	UserDir string
	// WorkspaceDir holds a workspace's overrides, <workspace>/.codemux/prompts;
	// they win over UserDir's.
	WorkspaceDir string
	// Logger receives a warning when an override fails while rendering and
	// the embedded template is used instead. Nil discards.
	Logger *slog.Logger
}

// Repo holds one template per task and family: an override when there is
// one, else the embedded default. A Repo is immutable after New and safe
// for concurrent use.
type Repo struct {
	log      *slog.Logger
	chosen   map[variantKey]*variant
	defaults map[variantKey]*variant
}

type variantKey struct{ task, family string }

// variant is one parsed template file.
type variant struct {
	tmpl    *template.Template
	version string // task/family@V[+source]
	path    string // where it was read from
}

// Rendered is a prompt ready for a provider.
type Rendered struct {
	System   string
	Messages []provider.Message // History, then the rendered user message
	Task     string
	Family   string
	// Version names the template used, "explain/claude@3", with "+user" or
	// "+workspace" when an override was used. Record it with the answer.
	Version string
}

// New loads the embedded templates and the overrides of opts. A template
// file that does not parse, lacks its version header or a "system" or
// "user" template, sits at an unknown task or family, or fails to execute
// on sample inputs is an error naming the file; New then returns no Repo,
// so a broken override is noticed rather than silently ignored. A caller
// that must answer anyway can fall back to New(nil), which only fails on a
// build defect.
func New(opts *Options) (*Repo, error) {
	if opts == nil {
		opts = &Options{}
	}
	r := &Repo{
		log:      opts.Logger,
		chosen:   make(map[variantKey]*variant),
		defaults: make(map[variantKey]*variant),
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	for _, task := range Tasks() {
		for _, fam := range Families() {
			name := "templates/" + task + "/" + fam + ".tmpl"
			src, err := fs.ReadFile(embedded, name)
			if err != nil {
				return nil, fmt.Errorf("reading embedded template %s: %w", name, err)
			}
			v, err := parseVariant(name, src, task, fam, SourceEmbedded)
			if err != nil {
				return nil, fmt.Errorf("parsing embedded template %s: %w", name, err)
			}
			k := variantKey{task, fam}
			r.defaults[k], r.chosen[k] = v, v
		}
	}
	var errs []error
	for _, o := range []struct{ dir, source string }{{opts.UserDir, SourceUser}, {opts.WorkspaceDir, SourceWorkspace}} {
		if o.dir == "" {
			continue
		}
		vs, err := loadDir(o.dir, o.source)
		errs = append(errs, err...)
		for k, v := range vs {
			r.chosen[k] = v
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return r, nil
}

// loadDir parses the overrides under dir: <dir>/<task>/<family>.tmpl.
// Other files are ignored; a .tmpl file at an unknown task or family is an
// error, since it is most likely a misspelt override.
func loadDir(dir, source string) (map[variantKey]*variant, []error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, []error{fmt.Errorf("reading %s prompt overrides in %s: %w", source, dir, err)}
	}
	out := make(map[variantKey]*variant)
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub := filepath.Join(dir, e.Name())
		files, err := os.ReadDir(sub)
		if err != nil {
			errs = append(errs, fmt.Errorf("reading %s prompt overrides in %s: %w", source, sub, err))
			continue
		}
		for _, f := range files {
			if f.IsDir() || filepath.Ext(f.Name()) != ".tmpl" {
				continue
			}
			path := filepath.Join(sub, f.Name())
			task, fam := e.Name(), strings.TrimSuffix(f.Name(), ".tmpl")
			if !slices.Contains(Tasks(), task) || !slices.Contains(Families(), fam) {
				errs = append(errs, fmt.Errorf("prompt override %s: not a known task/family.tmpl (tasks: %s; families: %s)",
					path, strings.Join(Tasks(), ", "), strings.Join(Families(), ", ")))
				continue
			}
			src, err := os.ReadFile(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("reading prompt override: %w", err))
				continue
			}
			v, err := parseVariant(path, src, task, fam, source)
			if err == nil {
				err = v.check()
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("prompt override %s: %w", path, err))
				continue
			}
			out[variantKey{task, fam}] = v
		}
	}
	return out, errs
}

// header is the first line of a template file: {{/* version: V */}}.
var header = regexp.MustCompile(`^\{\{-?\s*/\*\s*version:\s*([A-Za-z0-9._-]+)\s*\*/\s*-?\}\}`)

func parseVariant(name string, src []byte, task, family, source string) (*variant, error) {
	first, _, _ := bytes.Cut(src, []byte("\n"))
	m := header.FindSubmatch(bytes.TrimSpace(first))
	if m == nil {
		return nil, errors.New("the first line must be a version header such as {{/* version: 1 */}}")
	}
	t, err := template.New(name).Funcs(funcs()).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return nil, err // text/template's error names the file and line
	}
	for _, part := range []string{"system", "user"} {
		if t.Lookup(part) == nil {
			return nil, fmt.Errorf("no {{define %q}} template", part)
		}
	}
	version := task + "/" + family + "@" + string(m[1])
	if source != SourceEmbedded {
		version += "+" + source
	}
	return &variant{tmpl: t, version: version, path: name}, nil
}

// check executes v on sample inputs so that a template that parses but
// cannot run (a misspelt field, a wrong function argument) fails at load.
func (v *variant) check() error {
	for _, in := range sampleInputs() {
		if _, _, err := v.execute(&Data{Task: "check", Family: "check", Model: "check", Input: in}); err != nil {
			return err
		}
	}
	return nil
}

// sampleInputs covers the shapes a template must handle: no context, one
// piece, many pieces with tool results and history.
func sampleInputs() []Input {
	one := Piece{ID: "0", Path: "main.go", StartLine: 1, EndLine: 3, Language: "go", Symbol: "main", Text: "func main() {}"}
	return []Input{
		{Question: "What does this project do?"},
		{Question: "What does main do?", Pieces: []Piece{one}},
		{
			Question:  "Why does this fail?",
			Workspace: "demo",
			Pieces: []Piece{one,
				{ID: "1", Path: "a.py", StartLine: 10, EndLine: 10, Language: "python", Text: "x = 1"},
				{ID: "2", Path: "README.md", Text: "# Demo"}},
			Diagnostics: []Diagnostic{{Source: "go vet", Path: "main.go", Line: 2, Severity: "error", Code: "printf", Message: "bad verb"},
				{Source: "gosec", Message: "weak hash"}},
			ToolOutput: "--- FAIL: TestMain (0.00s)",
			History:    []provider.Message{{Role: "user", Content: "hi"}, {Role: "assistant", Content: "hello"}},
		},
	}
}

func (v *variant) execute(d *Data) (system, user string, err error) {
	var b strings.Builder
	if err := v.tmpl.ExecuteTemplate(&b, "system", d); err != nil {
		return "", "", err
	}
	system = strings.TrimSpace(b.String())
	b.Reset()
	if err := v.tmpl.ExecuteTemplate(&b, "user", d); err != nil {
		return "", "", err
	}
	return system, strings.TrimSpace(b.String()), nil
}

// Version returns the version string of the template Render would use for
// task and model, or "" for an unknown task.
func (r *Repo) Version(task, model string) string {
	if v := r.chosen[variantKey{task, Family(model)}]; v != nil {
		return v.version
	}
	return ""
}

// Render renders task's template for model's family on in. The empty
// task is resolved by Task. When an override fails on this input, Render
// logs a warning and renders the embedded template instead (its version
// says so).
func (r *Repo) Render(task, model string, in Input) (Rendered, error) {
	return r.renderFamily(task, Family(model), model, in)
}

func (r *Repo) renderFamily(task, fam, model string, in Input) (Rendered, error) {
	task, err := Task(task, &in)
	if err != nil {
		return Rendered{}, fmt.Errorf("rendering prompt: %w", err)
	}
	k := variantKey{task, fam}
	in.Question = strings.TrimSpace(in.Question)
	in.Pieces = slices.Clone(in.Pieces)
	for i := range in.Pieces {
		in.Pieces[i].Text = strings.TrimRight(in.Pieces[i].Text, " \t\r\n")
	}
	d := &Data{Task: task, Family: fam, Model: model, Input: in}
	v := r.chosen[k]
	system, user, err := v.execute(d)
	if err != nil && v != r.defaults[k] {
		r.log.Warn("prompt override failed; using the embedded template", "file", v.path, "err", err)
		v = r.defaults[k]
		system, user, err = v.execute(d)
	}
	if err != nil {
		return Rendered{}, fmt.Errorf("rendering prompt %s: %w", v.version, err)
	}
	msgs := make([]provider.Message, 0, len(in.History)+1)
	msgs = append(msgs, in.History...)
	msgs = append(msgs, provider.Message{Role: "user", Content: user})
	return Rendered{System: system, Messages: msgs, Task: task, Family: fam, Version: v.version}, nil
}
