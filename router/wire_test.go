package router

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/codemux/codemux/router/provider"
	"github.com/codemux/codemux/router/providertest"
)

// These tests run the router with its default provider clients against
// local servers speaking the real OpenAI and Anthropic wire formats.

// wireKey builds an obviously fake key at run time.
func wireKey(name string) string {
	return strings.Join([]string{"sk", "wire", name, "abcdef012345"}, "-")
}

func wireRouter(t *testing.T, accounts ...AccountConfig) *Router {
	t.Helper()
	r, err := New(Config{Accounts: accounts}, &Options{Rand: half})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return r
}

func outcomes(res *Result) []string {
	var out []string
	for _, a := range res.Attempts {
		out = append(out, a.Account+":"+a.Outcome)
	}
	return out
}

func TestWireRateLimitFallsBack(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "complete", true: "stream"}[stream], func(t *testing.T) {
			oa := providertest.NewServer(t, providertest.Options{Dialect: providertest.OpenAI, APIKey: wireKey("oa")})
			an := providertest.NewServer(t, providertest.Options{Dialect: providertest.Anthropic, APIKey: wireKey("an")})
			oa.Enqueue(providertest.RateLimited(20 * time.Second))
			an.Enqueue(providertest.OK("the answer from claude"))
			r := wireRouter(t,
				AccountConfig{Name: "openai-a", Provider: provider.OpenAI, BaseURL: oa.URL, APIKey: NewSecret(wireKey("oa")), Priority: -1,
					Models: []ModelLimit{{Model: "gpt-4o-mini", RPM: 100, TPM: 100000}}},
				AccountConfig{Name: "anthropic-b", Provider: provider.Anthropic, BaseURL: an.URL, APIKey: NewSecret(wireKey("an")),
					Models: []ModelLimit{{Model: "claude-haiku-4-5", RPM: 100, TPM: 100000}}},
			)
			var streamed strings.Builder
			res, err := r.Do(context.Background(), &Request{
				Messages: userMsg("what does Do return?"), Stream: stream,
				Context: []Piece{{ID: "router.go:1-9", Text: "func (r *Router) Do(...)", Rank: 0}},
			}, func(s string) { streamed.WriteString(s) })
			if err != nil {
				t.Fatalf("Do() = %v", err)
			}
			if res.Text != "the answer from claude" || res.Account != "anthropic-b" {
				t.Errorf("Do() = %q from %q, want the answer from anthropic-b", res.Text, res.Account)
			}
			if stream && streamed.String() != res.Text {
				t.Errorf("streamed %q, want %q", streamed.String(), res.Text)
			}
			if got, want := outcomes(res), []string{"openai-a:rate_limited", "anthropic-b:ok"}; !slices.Equal(got, want) {
				t.Errorf("Attempts = %v, want %v", got, want)
			}
			if res.Usage.PromptTokens == 0 || !slices.Equal(res.ContextUsed, []string{"router.go:1-9"}) {
				t.Errorf("Do() usage %+v, context %v; want usage and the piece", res.Usage, res.ContextUsed)
			}
			// The 429's retry-after became a cooldown on openai-a.
			st := r.Status()
			if cu := st[0].Models[0].CooldownUntil; cu.Before(time.Now().Add(15 * time.Second)) {
				t.Errorf("Status()[openai-a].CooldownUntil = %v, want about 20s from now", cu)
			}
			// The piece reached the provider inside the user message; no key
			// crossed accounts.
			reqs := an.Requests()
			if len(reqs) != 1 || !bytes.Contains(reqs[0].Body, []byte("func (r *Router) Do")) {
				t.Fatalf("anthropic got %d requests, want 1 carrying the context piece", len(reqs))
			}
			if bytes.Contains(reqs[0].Body, []byte(wireKey("oa"))) || reqs[0].Header.Get("x-api-key") != wireKey("an") {
				t.Errorf("anthropic request carries the wrong credentials")
			}
			js, _ := json.Marshal(st)
			if strings.Contains(string(js), "abcdef012345") {
				t.Errorf("Status JSON shows a key: %s", js)
			}
		})
	}
}

func TestWireStreamCutContinues(t *testing.T) {
	an := providertest.NewServer(t, providertest.Options{Dialect: providertest.Anthropic, APIKey: wireKey("an")})
	oa := providertest.NewServer(t, providertest.Options{Dialect: providertest.OpenAI, APIKey: wireKey("oa")})
	an.Enqueue(providertest.CutAfter(2, "alpha beta gamma delta"))
	oa.Enqueue(providertest.OK(" gamma delta"))
	r := wireRouter(t,
		AccountConfig{Name: "anthropic-a", Provider: provider.Anthropic, BaseURL: an.URL, APIKey: NewSecret(wireKey("an")), Priority: -1,
			Models: []ModelLimit{{Model: "claude-haiku-4-5", RPM: 100, TPM: 100000}}},
		AccountConfig{Name: "openai-b", Provider: provider.OpenAI, BaseURL: oa.URL, APIKey: NewSecret(wireKey("oa")),
			Models: []ModelLimit{{Model: "gpt-4o-mini", RPM: 100, TPM: 100000}}},
	)
	var streamed strings.Builder
	res, err := r.Do(context.Background(), &Request{Messages: userMsg("list four words"), Stream: true}, func(s string) { streamed.WriteString(s) })
	if err != nil {
		t.Fatalf("Do() = %v", err)
	}
	if !res.Continued || res.Account != "openai-b" {
		t.Errorf("Do() continued %v on %q, want true on openai-b", res.Continued, res.Account)
	}
	if res.Text != streamed.String() || !strings.HasSuffix(res.Text, " gamma delta") || !strings.HasPrefix(res.Text, "alpha") {
		t.Errorf("Do() text %q, streamed %q; want the partial answer then its continuation, identical", res.Text, streamed.String())
	}
	if got, want := outcomes(res), []string{"anthropic-a:stream_cut", "openai-b:ok"}; !slices.Equal(got, want) {
		t.Errorf("Attempts = %v, want %v", got, want)
	}
	// The continuation request carries the partial answer as an assistant turn.
	reqs := oa.Requests()
	if len(reqs) != 1 || !bytes.Contains(reqs[0].Body, []byte(`"role":"assistant"`)) {
		t.Errorf("openai-b request lacks the partial answer")
	}
}

func TestWireHeadersSteerAwayBefore429(t *testing.T) {
	// The server allows one request a minute although the config says 100:
	// its headers after the first answer must keep the router from sending
	// a second request there, so the provider never answers 429.
	oa := providertest.NewServer(t, providertest.Options{Dialect: providertest.OpenAI, APIKey: wireKey("oa"), RPM: 1, TPM: 1000000})
	an := providertest.NewServer(t, providertest.Options{Dialect: providertest.Anthropic, APIKey: wireKey("an")})
	r := wireRouter(t,
		AccountConfig{Name: "openai-a", Provider: provider.OpenAI, BaseURL: oa.URL, APIKey: NewSecret(wireKey("oa")), Priority: -1,
			Models: []ModelLimit{{Model: "gpt-4o-mini", RPM: 100, TPM: 1000000}}},
		AccountConfig{Name: "anthropic-b", Provider: provider.Anthropic, BaseURL: an.URL, APIKey: NewSecret(wireKey("an")),
			Models: []ModelLimit{{Model: "claude-haiku-4-5", RPM: 100, TPM: 100000}}},
	)
	var got []string
	for range 3 {
		res, err := r.Do(context.Background(), &Request{Messages: userMsg("hi")}, nil)
		if err != nil {
			t.Fatalf("Do() = %v", err)
		}
		got = append(got, outcomes(res)...)
	}
	if want := []string{"openai-a:ok", "anthropic-b:ok", "anthropic-b:ok"}; !slices.Equal(got, want) {
		t.Errorf("attempts over three requests = %v, want %v", got, want)
	}
	if n := oa.Count(); n != 1 {
		t.Errorf("openai server got %d requests, want 1", n)
	}
	if m := r.Status()[0].Models[0]; m.RPMLimit != 1 || m.RPMLeft != 0 {
		t.Errorf("Status()[openai-a] rpm limit/left = %d/%d, want 1/0 from the headers", m.RPMLimit, m.RPMLeft)
	}
}
