package agent_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codemux/codemux/agent/agenttest"
	"github.com/codemux/codemux/router/providertest"
	"github.com/codemux/codemux/rpc"
)

// fakeKey builds a key-shaped value at run time so no key literal is
// committed.
func fakeKey(prefix string) string { return prefix + strings.Repeat("t3st", 8) }

func writeConfig(t *testing.T, home, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(home, "config.yaml"), []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestAskFallsBackPastRateLimit: the first account answers 429, the ask
// still succeeds on the second, streams its deltas in order, and lists
// both attempts. Status shows both accounts without their keys.
func TestAskFallsBackPastRateLimit(t *testing.T) {
	keyA, keyB := fakeKey("sk-a"), fakeKey("sk-ant-b")
	t.Setenv("CMXTEST_KEY_A", keyA)
	t.Setenv("CMXTEST_KEY_B", keyB)
	for _, mode := range agenttest.Modes {
		t.Run(string(mode), func(t *testing.T) {
			ctx := ctxT(t)
			home := agenttest.Home(t)
			oa := providertest.NewServer(t, providertest.Options{Dialect: providertest.OpenAI, APIKey: keyA, RPM: 100, TPM: 100000})
			an := providertest.NewServer(t, providertest.Options{Dialect: providertest.Anthropic, APIKey: keyB, RPM: 100, TPM: 100000})
			oa.Enqueue(providertest.RateLimited(0))
			an.Enqueue(providertest.OK("The answer is forty-two."))
			writeConfig(t, home, fmt.Sprintf(`accounts:
  - name: openai-a
    provider: openai
    base_url: %s
    api_key_env: CMXTEST_KEY_A
    priority: 1
    models:
      - model: gpt-4o-mini
        rpm: 100
        tpm: 100000
  - name: anthropic-b
    provider: anthropic
    base_url: %s
    api_key_env: CMXTEST_KEY_B
    priority: 2
    models:
      - model: claude-3-5-haiku-latest
        rpm: 100
        tpm: 100000
`, oa.URL, an.URL))
			ed := agenttest.NewEditor(t, agenttest.Connect(t, mode, home, nil))
			if _, err := ed.Initialize(ctx, "ask-test"); err != nil {
				t.Fatal(err)
			}
			var res rpc.AskResult
			if err := ed.Call(ctx, rpc.MethodAsk, rpc.AskParams{Question: "What is the answer?", NoContext: true, Stream: true}, &res); err != nil {
				t.Fatalf("ask: %v", err)
			}
			if res.Answer != "The answer is forty-two." || res.Account != "anthropic-b" {
				t.Fatalf("ask = %q from %s, want the anthropic answer", res.Answer, res.Account)
			}
			if len(res.Attempts) != 2 || res.Attempts[0].Outcome != "rate_limited" || res.Attempts[1].Outcome != "ok" {
				t.Errorf("attempts = %+v, want rate_limited then ok", res.Attempts)
			}
			var streamed strings.Builder
			for _, n := range ed.Notifications() {
				if n.Method == rpc.MethodAskDelta {
					var d rpc.AskDelta
					json.Unmarshal(n.Params, &d)
					if d.ID != res.ID {
						t.Errorf("delta for id %q, want %q", d.ID, res.ID)
					}
					streamed.WriteString(d.Text)
				}
			}
			if streamed.String() != res.Answer {
				t.Errorf("streamed deltas = %q, want the answer %q in order", streamed.String(), res.Answer)
			}

			var st rpc.StatusResult
			if err := ed.Call(ctx, rpc.MethodStatus, nil, &st); err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(st)
			if strings.Contains(string(raw), keyA) || strings.Contains(string(raw), keyB) {
				t.Fatalf("status leaks an API key")
			}
			if len(st.Accounts) != 2 || st.ConfigError != "" {
				t.Fatalf("status accounts = %+v (config error %q), want two", st.Accounts, st.ConfigError)
			}
			if m := st.Accounts[0].Models; len(m) != 1 || m[0].RPMLimit != 100 || m[0].TPMLimit != 100000 {
				t.Errorf("account models = %+v", m)
			}
		})
	}
}

// TestAskWithoutAccounts fails with one actionable line, and a broken
// config is reported by status.
func TestAskWithoutAccounts(t *testing.T) {
	home := agenttest.Home(t)
	out, err := agenttest.Command(t, home, "ask", "--no-context", "why?").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no LLM accounts configured") || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
		t.Fatalf("ask without accounts: %v, %q; want one line about configuring an account", err, out)
	}
	writeConfig(t, home, "accounts:\n  - name: x\n    provider: nope\n")
	out, err = agenttest.Command(t, home, "status", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var st rpc.StatusResult
	json.Unmarshal(out, &st)
	if !strings.Contains(st.ConfigError, "config.yaml:2") || !strings.Contains(st.ConfigError, `"nope"`) {
		t.Fatalf("status configError = %q, want the file and line of the bad provider", st.ConfigError)
	}
}

// TestAskNeverSendsSecrets plants secrets in workspace code, the question
// and tool output; none reaches any provider, a dry run shows the redacted
// prompt and sends nothing, and the answer cites what was sent.
func TestAskNeverSendsSecrets(t *testing.T) {
	key := fakeKey("sk-c")
	t.Setenv("CMXTEST_KEY_C", key)
	awsKey := "AKIA" + strings.Repeat("Z7", 8)
	ghToken := "ghp_" + strings.Repeat("aB3d", 9)
	slack := "xoxb-" + strings.Repeat("1234", 3) + "-" + strings.Repeat("5678", 3) + "-" + strings.Repeat("AbCd", 6)
	for _, mode := range agenttest.Modes {
		t.Run(string(mode), func(t *testing.T) {
			ctx := ctxT(t)
			home := agenttest.Home(t)
			srv := providertest.NewServer(t, providertest.Options{Dialect: providertest.OpenAI, APIKey: key})
			writeConfig(t, home, fmt.Sprintf("accounts:\n  - name: main\n    provider: openai\n    base_url: %s\n    api_key_env: CMXTEST_KEY_C\n    models:\n      - model: gpt-4o-mini\n        rpm: 100\n        tpm: 100000\n", srv.URL))
			ws := t.TempDir()
			writeFiles(t, ws, map[string]string{"deploy/upload.go": `package deploy

// UploadArtifact pushes the build artifact to the release bucket.
func UploadArtifact(path string) error {
	accessKey := "` + awsKey + `"
	return push(path, accessKey)
}
`})
			ed := agenttest.NewEditor(t, agenttest.Connect(t, mode, home, nil))
			if _, err := ed.Initialize(ctx, "secrets-test", ws); err != nil {
				t.Fatal(err)
			}
			q := "Why does UploadArtifact fail with my token " + ghToken + "?"
			params := rpc.AskParams{Question: q, Kind: "explain", ToolOutput: "upload.go:5: auth failed for " + slack, DryRun: true}

			var dry rpc.AskResult
			if err := ed.Call(ctx, rpc.MethodAsk, params, &dry); err != nil {
				t.Fatalf("dry run: %v", err)
			}
			if srv.Count() != 0 {
				t.Fatalf("a dry run sent %d requests", srv.Count())
			}
			preview, _ := json.Marshal(dry.Request)
			for _, s := range []string{awsKey, ghToken, slack} {
				if strings.Contains(string(preview), s) {
					t.Fatalf("dry-run prompt contains a planted secret")
				}
			}
			if dry.Request == nil || !strings.Contains(string(preview), "UploadArtifact") || !strings.Contains(string(preview), "REDACTED") || dry.Redacted < 2 {
				t.Fatalf("dry run = %+v, want the redacted prompt with the retrieved code", dry)
			}

			params.DryRun = false
			var res rpc.AskResult
			if err := ed.Call(ctx, rpc.MethodAsk, params, &res); err != nil {
				t.Fatalf("ask: %v", err)
			}
			if srv.Count() == 0 {
				t.Fatal("no request reached the provider")
			}
			for _, r := range srv.Requests() {
				for _, s := range []string{awsKey, ghToken, slack} {
					if strings.Contains(string(r.Body), s) {
						t.Fatalf("a planted secret left the machine in %s", r)
					}
				}
			}
			if res.Redacted < 2 || res.PromptVersion == "" || !strings.HasPrefix(res.PromptVersion, "explain/gpt@") {
				t.Errorf("result redacted=%d promptVersion=%q, want ≥2 and explain/gpt@N", res.Redacted, res.PromptVersion)
			}
			if len(res.Context) == 0 || res.Context[0].Path != "deploy/upload.go" {
				t.Errorf("citations = %+v, want deploy/upload.go", res.Context)
			}
		})
	}
}

// TestAskTrimsContextForSmallWindow: when the big model is rate limited,
// the answer comes from a small-window model with the least relevant code
// trimmed, instead of failing.
func TestAskTrimsContextForSmallWindow(t *testing.T) {
	keyBig, keySmall := fakeKey("sk-big"), fakeKey("sk-small")
	t.Setenv("CMXTEST_KEY_BIG", keyBig)
	t.Setenv("CMXTEST_KEY_SMALL", keySmall)
	ctx := ctxT(t)
	home := agenttest.Home(t)
	big := providertest.NewServer(t, providertest.Options{Dialect: providertest.OpenAI, APIKey: keyBig, Default: providertest.RateLimited(0)})
	small := providertest.NewServer(t, providertest.Options{Dialect: providertest.OpenAICompatible, APIKey: keySmall,
		Default: providertest.OK("Handlers are in the handlers package.")})
	writeConfig(t, home, fmt.Sprintf(`models:
  tiny-coder: {context_window: 2500, max_output_tokens: 256, tier: 1}
accounts:
  - name: big
    provider: openai
    base_url: %s
    api_key_env: CMXTEST_KEY_BIG
    priority: 1
    models:
      - {model: gpt-4o-mini, rpm: 100, tpm: 100000}
  - name: small
    provider: openai-compatible
    base_url: %s
    api_key_env: CMXTEST_KEY_SMALL
    priority: 2
    models:
      - {model: tiny-coder, rpm: 100, tpm: 100000}
`, big.URL, small.URL))
	ws := t.TempDir()
	files := map[string]string{}
	for i := 0; i < 12; i++ {
		var body strings.Builder
		fmt.Fprintf(&body, "package handlers\n\n// Handler%d handles route %d of the request router.\nfunc Handler%d(w Writer, r *Request) {\n", i, i, i)
		for j := 0; j < 25; j++ {
			fmt.Fprintf(&body, "\twriteField(w, \"route-%d-field-%d\", r.Value(%d))\n", i, j, j)
		}
		body.WriteString("}\n")
		files[fmt.Sprintf("handlers/h%d.go", i)] = body.String()
	}
	writeFiles(t, ws, files)
	ed := agenttest.NewEditor(t, agenttest.Connect(t, agenttest.InProcess, home, nil))
	if _, err := ed.Initialize(ctx, "trim-test", ws); err != nil {
		t.Fatal(err)
	}
	k := 10
	var res rpc.AskResult
	if err := ed.Call(ctx, rpc.MethodAsk, rpc.AskParams{Question: "which handler handles a route of the request router?", ContextK: &k}, &res); err != nil {
		t.Fatalf("ask: %v", err)
	}
	if res.Account != "small" || res.Answer != "Handlers are in the handlers package." {
		t.Fatalf("answer %q from %s, want the small model's", res.Answer, res.Account)
	}
	if len(res.Context) == 0 || len(res.Context) >= k {
		t.Fatalf("cited %d chunks, want some but fewer than the %d retrieved", len(res.Context), k)
	}
	reqs := small.Requests()
	if len(reqs) != 1 {
		t.Fatalf("small model got %d requests", len(reqs))
	}
	sent := strings.Count(string(reqs[0].Body), "func Handler")
	if sent != len(res.Context) {
		t.Errorf("request carried %d chunks, result cites %d", sent, len(res.Context))
	}
}
