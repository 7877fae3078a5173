package prompt

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/codemux/codemux/router/provider"
)

// Tasks: the kinds of request a prompt is written for. They match the
// router's request kinds, so a task is also the router.Request.Kind.
const (
	TaskExplain  = "explain"  // explain code from the workspace
	TaskGenerate = "generate" // write new code that fits the workspace
	TaskTests    = "tests"    // write tests for code from the workspace
	TaskChat     = "chat"     // general question, with or without context
	TaskReason   = "reason"   // reasoning-heavy: design, debugging, trade-offs
)

// Tasks returns the tasks in a fixed order. Each call returns a new slice.
func Tasks() []string {
	return []string{TaskExplain, TaskGenerate, TaskTests, TaskChat, TaskReason}
}

// Task resolves the task of a request. A named task must be one of Tasks.
// The empty task is TaskExplain when the input carries tool results
// (diagnostics or tool output: the client wants them explained) and
// TaskChat otherwise. Retrieved code alone does not imply explain: every
// question is sent with context, and the chat prompt already answers from
// it when the question is about the workspace.
func Task(task string, in *Input) (string, error) {
	if task == "" {
		if in != nil && in.HasTools() {
			return TaskExplain, nil
		}
		return TaskChat, nil
	}
	if !slices.Contains(Tasks(), task) {
		return "", fmt.Errorf("unknown task %q: want one of %s", task, strings.Join(Tasks(), ", "))
	}
	return task, nil
}

// Input is what a prompt is rendered from.
type Input struct {
	Question string
	// Pieces is the retrieved code, most relevant first.
	Pieces []Piece
	// Diagnostics are results of deterministic tools (linters, compilers,
	// test runners, security scanners) the model must explain, not
	// re-derive.
	Diagnostics []Diagnostic
	// ToolOutput is raw tool output passed with the question (a failing
	// test's log, a scanner report), treated like Diagnostics.
	ToolOutput string
	// Workspace names the workspace (a folder name, not a path the model
	// needs); "" leaves it out.
	Workspace string
	// History is earlier turns of a conversation, oldest first; the
	// rendered question follows them.
	History []provider.Message
}

// HasTools reports whether the input carries tool results.
func (in Input) HasTools() bool {
	return len(in.Diagnostics) > 0 || strings.TrimSpace(in.ToolOutput) != ""
}

// Piece is one retrieved piece of code.
type Piece struct {
	// ID identifies the piece to the router (router.Piece.ID); Bind numbers
	// pieces that have none.
	ID        string
	Path      string // relative to the workspace
	StartLine int    // 1-based, inclusive
	EndLine   int    // 1-based, inclusive
	Language  string // as the index names it: go, python, tsx, …
	Symbol    string // e.g. Server.handleSearch
	Text      string
}

// Lines returns the piece's line range as "12-40", "12" or "".
func (p Piece) Lines() string {
	switch {
	case p.StartLine <= 0:
		return ""
	case p.EndLine <= p.StartLine:
		return strconv.Itoa(p.StartLine)
	}
	return strconv.Itoa(p.StartLine) + "-" + strconv.Itoa(p.EndLine)
}

// Diagnostic is one finding of a deterministic tool.
type Diagnostic struct {
	Source   string // the tool: go vet, staticcheck, eslint, gosec, go test…
	Path     string
	Line     int    // 1-based; 0 when unknown
	Severity string // error, warning, info…
	Code     string // the tool's rule or check id, e.g. SA4006
	Message  string
}

// Location returns "path:line", "path" or "".
func (d Diagnostic) Location() string {
	if d.Path == "" || d.Line <= 0 {
		return d.Path
	}
	return d.Path + ":" + strconv.Itoa(d.Line)
}

// Data is what a template executes on: the Input plus the task and the
// model it is rendered for. Templates see its fields and methods, e.g.
// {{.Question}}, {{range .Pieces}}{{.Path}}:{{.Lines}}{{end}},
// {{if .HasTools}}…{{end}}.
type Data struct {
	Task   string
	Family string
	Model  string
	Input
}
