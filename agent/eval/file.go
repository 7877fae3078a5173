package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// DefaultPromptVersion is the prompt variant a file that names none runs.
const DefaultPromptVersion = "default"

// File is a parsed eval file.
type File struct {
	// Path is where the file was read from ("" when parsed from bytes).
	Path string `yaml:"-"`
	// Models are the models to run every case against; empty means one
	// run with whatever model the router picks (Asker.Ask gets "").
	Models []string `yaml:"models"`
	// PromptVersions are the prompt variants to run; empty means
	// DefaultPromptVersion.
	PromptVersions []string `yaml:"prompt_versions"`
	Cases          []Case   `yaml:"cases"`
}

// Case is one question and the checks its answer must pass.
type Case struct {
	Name     string `yaml:"name"`
	Question string `yaml:"question"`
	// Kind is the ask kind (explain, chat, …); "" leaves it to the asker.
	Kind string `yaml:"kind"`
	// Workspace is a directory to index and retrieve context from: relative
	// to the eval file in the file, absolute after Load or Parse.
	Workspace string `yaml:"workspace"`
	// Context is inline context sent instead of retrieval.
	Context []ContextFile `yaml:"context"`
	Checks  []Check       `yaml:"checks"`
	// Line is the case's line in the file.
	Line int `yaml:"-"`
}

// ContextFile is one piece of inline context.
type ContextFile struct {
	Path string `yaml:"path"`
	Text string `yaml:"text"`
}

// Check is one deterministic check of an answer. Exactly one of its kinds
// is set.
type Check struct {
	// Contains must occur in the answer, ignoring case.
	Contains string
	// NotContains must not occur in the answer, ignoring case.
	NotContains string
	// Regex must match somewhere in the answer (Go RE2 syntax; add (?i)
	// to ignore case).
	Regex string
	// JSONSchema must validate the answer, or the first ```json block in
	// it.
	JSONSchema *Schema
	// Line is the check's line in the file.
	Line int

	re *regexp.Regexp
}

// Load reads and parses the eval file at path; workspaces are resolved
// relative to the file's directory.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading eval file: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("reading eval file: %w", err)
	}
	f, err := Parse(data, filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.Path = path
	return f, nil
}

// Parse parses an eval file's contents; relative workspaces are resolved
// against dir. Unknown keys, a case without a question or checks, a check
// with no kind or two, a bad regular expression or schema, and a workspace
// that is not a directory are errors naming their line.
func Parse(data []byte, dir string) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("parsing eval file: the file is empty")
		}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("parsing eval file: %s", strings.Join(te.Errors, "; "))
		}
		return nil, fmt.Errorf("parsing eval file: %w", err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parsing eval file: %w", err)
	}
	for i, line := range caseLines(&root) {
		if i < len(f.Cases) {
			f.Cases[i].Line = line
		}
	}
	if len(f.Cases) == 0 {
		return nil, errors.New("parsing eval file: no cases: add a list under cases:")
	}
	if err := uniqueNames("models", f.Models); err != nil {
		return nil, err
	}
	if err := uniqueNames("prompt_versions", f.PromptVersions); err != nil {
		return nil, err
	}
	seen := make(map[string]int)
	for i := range f.Cases {
		c := &f.Cases[i]
		if err := c.validate(dir); err != nil {
			return nil, fmt.Errorf("parsing eval file: line %d: case %q: %w", c.Line, c.Name, err)
		}
		if prev, ok := seen[c.Name]; ok {
			return nil, fmt.Errorf("parsing eval file: line %d: case name %q is already used on line %d", c.Line, c.Name, prev)
		}
		seen[c.Name] = c.Line
	}
	return &f, nil
}

func uniqueNames(key string, names []string) error {
	for i, n := range names {
		if strings.TrimSpace(n) == "" {
			return fmt.Errorf("parsing eval file: %s: entry %d is empty", key, i+1)
		}
		if slices.Contains(names[:i], n) {
			return fmt.Errorf("parsing eval file: %s: %q is listed twice", key, n)
		}
	}
	return nil
}

// caseLines returns the line of each item of the top-level cases list.
func caseLines(root *yaml.Node) []int {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value != "cases" || m.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		var lines []int
		for _, item := range m.Content[i+1].Content {
			lines = append(lines, item.Line)
		}
		return lines
	}
	return nil
}

func (c *Case) validate(dir string) error {
	switch {
	case strings.TrimSpace(c.Name) == "":
		return errors.New("name is missing")
	case strings.TrimSpace(c.Question) == "":
		return errors.New("question is missing")
	case len(c.Checks) == 0:
		return errors.New("no checks: a case needs at least one of contains, not_contains, regex, json_schema")
	case c.Workspace != "" && len(c.Context) > 0:
		return errors.New("give either workspace or context, not both")
	}
	for i, cf := range c.Context {
		if cf.Path == "" || cf.Text == "" {
			return fmt.Errorf("context entry %d needs a path and a text", i+1)
		}
	}
	if c.Workspace != "" {
		if !filepath.IsAbs(c.Workspace) {
			c.Workspace = filepath.Join(dir, c.Workspace)
		}
		fi, err := os.Stat(c.Workspace)
		if err != nil {
			return fmt.Errorf("workspace: %w", err)
		}
		if !fi.IsDir() {
			return fmt.Errorf("workspace %s is not a directory", c.Workspace)
		}
	}
	return nil
}

// checkKeys are the keys a check may have.
var checkKeys = []string{"contains", "not_contains", "regex", "json_schema"}

// UnmarshalYAML decodes a check: a mapping with exactly one of checkKeys.
func (c *Check) UnmarshalYAML(n *yaml.Node) error {
	c.Line = n.Line
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: a check is a mapping with one of %s", n.Line, strings.Join(checkKeys, ", "))
	}
	if len(n.Content) != 2 {
		return fmt.Errorf("line %d: a check has exactly one of %s, got %d keys", n.Line, strings.Join(checkKeys, ", "), len(n.Content)/2)
	}
	key, val := n.Content[0], n.Content[1]
	str := func() (string, error) {
		if val.Kind != yaml.ScalarNode || val.Value == "" {
			return "", fmt.Errorf("line %d: %s wants a non-empty string", val.Line, key.Value)
		}
		return val.Value, nil
	}
	var err error
	switch key.Value {
	case "contains":
		c.Contains, err = str()
	case "not_contains":
		c.NotContains, err = str()
	case "regex":
		if c.Regex, err = str(); err == nil {
			if c.re, err = regexp.Compile(c.Regex); err != nil {
				err = fmt.Errorf("line %d: regex: %w", val.Line, err)
			}
		}
	case "json_schema":
		c.JSONSchema, err = schemaFromNode(val)
		if err != nil {
			err = fmt.Errorf("line %d: json_schema: %w", val.Line, err)
		}
	default:
		err = fmt.Errorf("line %d: unknown check %q (want one of %s)", key.Line, key.Value, strings.Join(checkKeys, ", "))
	}
	return err
}

// schemaFromNode compiles a schema written as YAML, or as a string of JSON.
func schemaFromNode(n *yaml.Node) (*Schema, error) {
	var v any
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		if err := json.Unmarshal([]byte(n.Value), &v); err != nil {
			return nil, fmt.Errorf("a string schema must be JSON: %w", err)
		}
	} else if err := n.Decode(&v); err != nil {
		return nil, err
	}
	return CompileSchema(v)
}

// String describes the check as written, for reports.
func (c *Check) String() string {
	switch {
	case c.Contains != "":
		return fmt.Sprintf("contains %q", c.Contains)
	case c.NotContains != "":
		return fmt.Sprintf("not_contains %q", c.NotContains)
	case c.Regex != "":
		return fmt.Sprintf("regex %q", c.Regex)
	case c.JSONSchema != nil:
		return "json_schema"
	}
	return "empty check"
}
