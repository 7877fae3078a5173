package eval

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// scriptedAsker answers from a script keyed by "case/model/version" (model
// "" for the router's choice); a missing key is an error, as an unreachable
// provider would be.
type scriptedAsker struct {
	mu      sync.Mutex
	answers map[string]string
	errs    map[string]error
	asked   []string
	block   chan struct{} // when set, every Ask waits on it or on ctx
}

func (a *scriptedAsker) Ask(ctx context.Context, c Case, model, version string) (Answer, error) {
	key := c.Name + "/" + model + "/" + version
	a.mu.Lock()
	a.asked = append(a.asked, key)
	a.mu.Unlock()
	if a.block != nil {
		select {
		case <-a.block:
		case <-ctx.Done():
			return Answer{}, ctx.Err()
		}
	}
	if err := a.errs[key]; err != nil {
		return Answer{}, err
	}
	text, ok := a.answers[key]
	if !ok {
		return Answer{}, fmt.Errorf("no scripted answer for %s", key)
	}
	answeredBy := model
	if model == "" {
		answeredBy = "picked-by-router"
	}
	return Answer{Text: text, Model: answeredBy, PromptVersion: version}, nil
}

const runFile = `models: [m1, m2]
cases:
  - name: retry
    question: How does the client retry?
    context:
      - {path: client.go, text: "func (c *Client) Do() {}"}
    checks:
      - contains: backoff
      - not_contains: "I don't know"
  - name: json
    question: Summarise as JSON.
    checks:
      - json_schema: {type: object, required: [summary]}
`

func parseRun(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse([]byte(src), t.TempDir())
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	return f
}

func goodAnswers() map[string]string {
	return map[string]string{
		"retry/m1/default": "It retries with exponential backoff.",
		"retry/m2/default": "Backoff, doubling each time.",
		"json/m1/default":  `{"summary": "a client"}`,
		"json/m2/default":  "```json\n{\"summary\": \"a client\"}\n```",
	}
}

func TestRun(t *testing.T) {
	f := parseRun(t, runFile)
	answers := goodAnswers()
	answers["retry/m2/default"] = "I don't know."
	asker := &scriptedAsker{answers: answers, errs: map[string]error{"json/m1/default": errors.New("provider unreachable")}}
	rep, err := Run(context.Background(), f, asker, &Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	want := []Result{
		{Case: "retry", Model: "m1", PromptVersion: "default", AnsweredBy: "m1", Pass: true},
		{Case: "json", Model: "m1", PromptVersion: "default", Failures: []string{"ask failed: provider unreachable"}},
		{Case: "retry", Model: "m2", PromptVersion: "default", AnsweredBy: "m2",
			Failures: []string{`contains "backoff": not in the answer`, `not_contains "I don't know": found at byte 0`}},
		{Case: "json", Model: "m2", PromptVersion: "default", AnsweredBy: "m2", Pass: true},
	}
	if !reflect.DeepEqual(rep.Results, want) {
		t.Errorf("Run() results = %+v, want %+v", rep.Results, want)
	}
	if rep.Version != ReportVersion || !rep.Time.Equal(t0) {
		t.Errorf("Run() version, time = %d, %v, want %d, %v", rep.Version, rep.Time, ReportVersion, t0)
	}
	wantRates := []Rate{{"m1", "default", 1, 2}, {"m2", "default", 1, 2}}
	if got := rep.Rates(); !reflect.DeepEqual(got, wantRates) {
		t.Errorf("Rates() = %+v, want %+v", got, wantRates)
	}
	var b bytes.Buffer
	if err := rep.Table(&b); err != nil {
		t.Fatal(err)
	}
	wantTable := `MODEL  PROMPT   PASSED  RATE
m1     default  1/2     50%
m2     default  1/2     50%

failed:
  json  m1/default
    - ask failed: provider unreachable
  retry  m2/default
    - contains "backoff": not in the answer
    - not_contains "I don't know": found at byte 0
`
	if b.String() != wantTable {
		t.Errorf("Table() =\n%s\nwant\n%s", b.String(), wantTable)
	}
}

func TestRunDefaults(t *testing.T) {
	// No models and no prompt versions: one run with the router's choice
	// and the default prompt.
	f := parseRun(t, "cases:\n  - name: c\n    question: q\n    checks: [{regex: '^ok$'}]\n")
	asker := &scriptedAsker{answers: map[string]string{"c//default": "ok"}}
	rep, err := Run(context.Background(), f, asker, nil)
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	want := []Result{{Case: "c", Model: AutoModel, PromptVersion: DefaultPromptVersion, AnsweredBy: "picked-by-router", Pass: true}}
	if !reflect.DeepEqual(rep.Results, want) {
		t.Errorf("Run() results = %+v, want %+v", rep.Results, want)
	}
}

func TestRunParallel(t *testing.T) {
	var src strings.Builder
	src.WriteString("models: [m1, m2, m3]\nprompt_versions: [v1, v2]\ncases:\n")
	answers := make(map[string]string)
	for i := range 10 {
		fmt.Fprintf(&src, "  - name: c%d\n    question: q%d\n    checks: [{contains: 'answer %d'}]\n", i, i, i)
		for _, m := range []string{"m1", "m2", "m3"} {
			for _, v := range []string{"v1", "v2"} {
				answers[fmt.Sprintf("c%d/%s/%s", i, m, v)] = fmt.Sprintf("answer %d", i)
			}
		}
	}
	f := parseRun(t, src.String())
	asker := &scriptedAsker{answers: answers}
	var progress []Result
	rep, err := Run(context.Background(), f, asker, &Options{Parallel: 4, Progress: func(r Result) { progress = append(progress, r) }})
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if len(rep.Results) != 60 || len(progress) != 60 || len(asker.asked) != 60 {
		t.Fatalf("Run() = %d results, %d progress calls, %d asks, want 60 each", len(rep.Results), len(progress), len(asker.asked))
	}
	for i, r := range rep.Results {
		// Results keep the model × version × case order whatever the
		// order answers arrived in.
		wantCase := fmt.Sprintf("c%d", i%10)
		wantModel := []string{"m1", "m2", "m3"}[i/20]
		wantVersion := []string{"v1", "v2"}[i/10%2]
		if r.Case != wantCase || r.Model != wantModel || r.PromptVersion != wantVersion || !r.Pass {
			t.Errorf("Results[%d] = %+v, want a pass of %s/%s/%s", i, r, wantCase, wantModel, wantVersion)
		}
	}
}

func TestRunCanceled(t *testing.T) {
	f := parseRun(t, runFile)
	asker := &scriptedAsker{answers: goodAnswers(), block: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, f, asker, &Options{Parallel: 2})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run(canceled) = %v, want context.Canceled", err)
	}
}

func TestCompare(t *testing.T) {
	res := func(c, m string, pass bool) Result {
		r := Result{Case: c, Model: m, PromptVersion: "default", Pass: pass}
		if !pass {
			r.Failures = []string{"contains \"x\": not in the answer"}
		}
		return r
	}
	report := func(rs ...Result) *Report { return &Report{Version: ReportVersion, Results: rs} }
	tests := []struct {
		name      string
		base, now *Report
		want      []string
	}{
		{"same", report(res("a", "m", true), res("b", "m", false)), report(res("a", "m", true), res("b", "m", false)), nil},
		{"case now fails",
			report(res("a", "m", true), res("b", "m", true)),
			report(res("a", "m", true), res("b", "m", false)),
			[]string{
				"m/default: pass rate fell from 2/2 (100%) to 1/2 (50%)",
				`b m/default: passed in the baseline, fails now: contains "x": not in the answer`,
			}},
		{"swap keeps the rate but names the case",
			report(res("a", "m", true), res("b", "m", false)),
			report(res("a", "m", false), res("b", "m", true)),
			[]string{`a m/default: passed in the baseline, fails now: contains "x": not in the answer`}},
		{"improvement", report(res("a", "m", false)), report(res("a", "m", true)), nil},
		{"new model and case not compared",
			report(res("a", "m", true)),
			report(res("a", "m", true), res("new", "m", false), res("a", "m2", false)),
			[]string{"m/default: pass rate fell from 1/1 (100%) to 1/2 (50%)"}},
		{"removed model not compared", report(res("a", "m", true), res("a", "old", true)), report(res("a", "m", true)), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, g := range Compare(tt.base, tt.now) {
				got = append(got, g.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestRegressionAgainstSavedBaseline runs a file, saves the report as the
// baseline, runs it again with an answer that now fails a check, and finds
// the regression.
func TestRegressionAgainstSavedBaseline(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ask.yaml")
	if err := os.WriteFile(path, []byte(runFile), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	baselinePath := filepath.Join(dir, "ask.baseline.json")
	if _, err := LoadBaseline(baselinePath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadBaseline(missing) = %v, want fs.ErrNotExist", err)
	}
	first, err := Run(context.Background(), f, &scriptedAsker{answers: goodAnswers()}, &Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if err := first.Save(baselinePath); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	base, err := LoadBaseline(baselinePath)
	if err != nil {
		t.Fatalf("LoadBaseline() = %v", err)
	}
	if !reflect.DeepEqual(base, first) {
		t.Errorf("LoadBaseline() = %+v, want the saved %+v", base, first)
	}
	if regs := Compare(base, first); len(regs) != 0 {
		t.Errorf("Compare(base, same) = %v, want none", regs)
	}

	answers := goodAnswers()
	answers["json/m2/default"] = "It is a client that retries."
	second, err := Run(context.Background(), f, &scriptedAsker{answers: answers}, nil)
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	regs := Compare(base, second)
	if len(regs) != 2 || regs[0].Case != "" || regs[0].Model != "m2" || regs[1].Case != "json" || regs[1].Model != "m2" {
		t.Fatalf("Compare() = %v, want the m2 rate drop and case json on m2", regs)
	}
	if want := "json_schema: the answer is not JSON and has no ```json block"; !reflect.DeepEqual(regs[1].Failures, []string{want}) {
		t.Errorf("Compare() case failures = %q, want %q", regs[1].Failures, want)
	}
}

func TestLoadBaselineErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		wantErr error
		want    string
	}{
		{"other version", `{"version": 99, "results": []}`, ErrReportVersion, "version 99"},
		{"not json", `MODEL PROMPT`, nil, "loading eval baseline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadBaseline(path)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadBaseline(%s) = %v, want %v containing %q", tt.name, err, tt.wantErr, tt.want)
			}
		})
	}
}

func TestBaselinePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"evals/ask.yaml", "evals/ask.baseline.json"},
		{"ask.yml", "ask.baseline.json"},
		{"/x/cases", "/x/cases.baseline.json"},
	}
	for _, tt := range tests {
		if got := BaselinePath(tt.in); got != tt.want {
			t.Errorf("BaselinePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
