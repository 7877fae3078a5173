package agent_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codemux/codemux/agent/agenttest"
	"github.com/codemux/codemux/router/providertest"
	"github.com/codemux/codemux/rpc"
)

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestFeedbackAndEvalThroughTheTerminal: an answer is rated and exported
// as JSON lines; an eval run saves its baseline, and a later run whose
// answer fails a check exits non-zero naming the regression.
func TestFeedbackAndEvalThroughTheTerminal(t *testing.T) {
	key := fakeKey("sk-e")
	t.Setenv("CMXTEST_KEY_E", key)
	home := agenttest.Home(t)
	srv := providertest.NewServer(t, providertest.Options{Dialect: providertest.OpenAI, APIKey: key,
		Default: providertest.OK("Failed requests are retried with exponential backoff.")})
	writeConfig(t, home, fmt.Sprintf("accounts:\n  - name: main\n    provider: openai\n    base_url: %s\n    api_key_env: CMXTEST_KEY_E\n    models:\n      - model: gpt-4o-mini\n        rpm: 1000\n        tpm: 1000000\n", srv.URL))

	out, err := agenttest.Command(t, home, "ask", "--json", "--no-context", "how are failed requests retried?").Output()
	if err != nil {
		t.Fatalf("ask: %v", err)
	}
	var res rpc.AskResult
	if err := json.Unmarshal(out, &res); err != nil || res.ID == "" {
		t.Fatalf("ask output %q: %v", out, err)
	}
	if out, err := agenttest.Command(t, home, "feedback", res.ID, "up", "clear", "answer").CombinedOutput(); err != nil {
		t.Fatalf("feedback: %v: %s", err, out)
	}
	if out, err := agenttest.Command(t, home, "feedback", "nope", "up").CombinedOutput(); exitCode(err) != 1 || !strings.Contains(string(out), "no answer with id") {
		t.Fatalf("feedback for an unknown id: %v: %s", err, out)
	}
	out, err = agenttest.Command(t, home, "feedback", "export").Output()
	if err != nil {
		t.Fatalf("feedback export: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var rec struct {
		ID, Question, Rating, Comment, Answer, Model, PromptVersion string
	}
	if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &rec) != nil {
		t.Fatalf("export = %q, want one JSON line", out)
	}
	if rec.ID != res.ID || rec.Rating != "up" || rec.Comment != "clear answer" || rec.Question == "" || rec.Answer != res.Answer || rec.Model == "" || rec.PromptVersion == "" {
		t.Fatalf("exported record = %+v", rec)
	}

	dir := t.TempDir()
	evalFile := filepath.Join(dir, "retry.yaml")
	os.WriteFile(evalFile, []byte(`models: [gpt-4o-mini]
cases:
  - name: explains-retry
    question: "How does the client retry failed requests?"
    kind: explain
    context:
      - path: client.go
        text: |
          func (c *Client) Do(r *Request) error { return retry(c.send, r, backoff) }
    checks:
      - contains: backoff
      - not_contains: "I don't know"
      - regex: "(?i)retr(y|ied|ies)"
`), 0o644)
	run := func() (string, int) {
		cmd := agenttest.Command(t, home, "eval", evalFile)
		out, err := cmd.CombinedOutput()
		return string(out), exitCode(err)
	}
	if out, code := run(); code != 0 || !strings.Contains(out, "baseline") {
		t.Fatalf("first eval: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "retry.baseline.json")); err != nil {
		t.Fatalf("no baseline saved: %v", err)
	}
	srv.Enqueue(providertest.OK("It tries again a few times."))
	out2, code := run()
	if code != 1 || !strings.Contains(out2, "explains-retry") || !strings.Contains(out2, "regression") {
		t.Fatalf("eval after the answer lost a check: exit %d: %s", code, out2)
	}
}
