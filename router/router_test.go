package router

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/codemux/codemux/router/provider"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func acct(name, prov string, models ...ModelLimit) AccountConfig {
	return AccountConfig{Name: name, Provider: prov, APIKey: NewSecret("k-" + name), Models: models}
}

func ml(model string, rpm, tpm int) ModelLimit { return ModelLimit{Model: model, RPM: rpm, TPM: tpm} }

func userMsg(s string) []provider.Message { return []provider.Message{{Role: "user", Content: s}} }

// catalog is a small test catalog with round numbers.
func catalog() map[string]ModelInfo {
	m := map[string]ModelInfo{
		"small":  {ContextWindow: 2000, MaxOutputTokens: 500, Tier: 1, InputCostPerMTok: 0.1, OutputCostPerMTok: 0.4},
		"cheap":  {ContextWindow: 100000, MaxOutputTokens: 4000, Tier: 1, InputCostPerMTok: 0.15, OutputCostPerMTok: 0.6},
		"mid":    {ContextWindow: 100000, MaxOutputTokens: 4000, Tier: 2, InputCostPerMTok: 2.5, OutputCostPerMTok: 10},
		"strong": {ContextWindow: 100000, MaxOutputTokens: 4000, Tier: 3, InputCostPerMTok: 3, OutputCostPerMTok: 15},
		"gpt-4o": {ContextWindow: 128000, MaxOutputTokens: 16384, Tier: 2, InputCostPerMTok: 2.5, OutputCostPerMTok: 10},
	}
	for k, v := range m {
		v.Name = k
		m[k] = v
	}
	return m
}

// newTestRouter builds a router on a manual clock at t0.
func newTestRouter(t *testing.T, cfg Config, f *fleet, now *time.Time) *Router {
	t.Helper()
	if cfg.Models == nil {
		cfg.Models = catalog()
	}
	opts := &Options{NewClient: f.newClient, Rand: half}
	if now != nil {
		opts.Now = func() time.Time { return *now }
	}
	r, err := New(cfg, opts)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return r
}

// planAt returns the plan a router over accounts makes for req at t0,
// after setup (if not nil); nil when no target fits.
func planAt(t *testing.T, accounts []AccountConfig, setup func(*Router), req Request) *plan {
	t.Helper()
	now := t0
	r := newTestRouter(t, Config{Accounts: accounts}, newFleet(nil), &now)
	if setup != nil {
		setup(r)
	}
	rq, err := r.prepare(context.Background(), &req)
	if err != nil {
		t.Fatalf("prepare() = %v", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.planLocked(t0, rq, nil)
}

func TestSelect(t *testing.T) {
	pieces := func(n, size int) []Piece {
		var ps []Piece
		for i := range n {
			ps = append(ps, Piece{ID: fmt.Sprintf("p%d", i), Text: strings.Repeat("x", size), Rank: i})
		}
		return ps
	}
	tests := []struct {
		name     string
		accounts []AccountConfig
		setup    func(r *Router) // runs before planning, at t0
		req      Request
		want     string // account/model, "" for no plan
		trimmed  int
		degraded bool
	}{
		{
			name:     "cheapest tier-eligible model",
			accounts: []AccountConfig{acct("a", "openai", ml("mid", 100, 100000), ml("cheap", 100, 100000))},
			req:      Request{Messages: userMsg("hi")},
			want:     "a/cheap",
		},
		{
			name:     "kind raises the tier",
			accounts: []AccountConfig{acct("a", "openai", ml("cheap", 100, 100000), ml("mid", 100, 100000), ml("strong", 100, 100000))},
			req:      Request{Kind: "reason", Messages: userMsg("hi")},
			want:     "a/strong",
		},
		{
			name: "priority beats cost",
			accounts: []AccountConfig{
				acct("a", "openai", ml("cheap", 100, 100000)),
				{Name: "b", Provider: "anthropic", APIKey: NewSecret("kb"), Priority: -1, Models: []ModelLimit{ml("mid", 100, 100000)}},
			},
			req:  Request{Messages: userMsg("hi")},
			want: "b/mid",
		},
		{
			name: "equal cost spreads by headroom",
			accounts: []AccountConfig{
				acct("a", "openai", ml("cheap", 100, 20000)),
				acct("b", "openai", ml("cheap", 100, 30000)),
			},
			req:  Request{Messages: userMsg("hi"), MaxTokens: 100},
			want: "b/cheap",
		},
		{
			name: "latency decides between equal headroom",
			accounts: []AccountConfig{
				acct("a", "openai", ml("cheap", 100, 100000)),
				acct("b", "openai", ml("cheap", 100, 100000)),
			},
			setup: func(r *Router) {
				r.targets[0].h.latency.add(900)
				r.targets[1].h.latency.add(300)
				r.targets[1].lim.Reserve(t0, 1000) // 1% less room: same 5% step
			},
			req:  Request{Messages: userMsg("hi"), MaxTokens: 100},
			want: "b/cheap",
		},
		{
			name: "time to first token decides for streams",
			accounts: []AccountConfig{
				acct("a", "openai", ml("cheap", 100, 100000)),
				acct("b", "openai", ml("cheap", 100, 100000)),
			},
			setup: func(r *Router) {
				r.targets[0].h.success(time.Second, 100*time.Millisecond, true)
				r.targets[1].h.success(500*time.Millisecond, 400*time.Millisecond, true)
			},
			req:  Request{Messages: userMsg("hi"), MaxTokens: 100, Stream: true},
			want: "a/cheap",
		},
		{
			name: "no headroom falls to the next",
			accounts: []AccountConfig{
				acct("a", "openai", ml("cheap", 1, 100000)),
				acct("b", "openai", ml("mid", 100, 100000)),
			},
			setup: func(r *Router) { r.targets[0].lim.Reserve(t0, 10) },
			req:   Request{Messages: userMsg("hi")},
			want:  "b/mid",
		},
		{
			name: "cooldown skipped",
			accounts: []AccountConfig{
				acct("a", "openai", ml("cheap", 100, 100000)),
				acct("b", "openai", ml("cheap", 100, 100000)),
			},
			setup: func(r *Router) { r.targets[1].lim.Cooldown(t0.Add(time.Second)); r.targets[0].lim.Reserve(t0, 50000) },
			req:   Request{Messages: userMsg("hi")},
			want:  "a/cheap",
		},
		{
			name: "open circuit skipped",
			accounts: []AccountConfig{
				acct("a", "openai", ml("cheap", 100, 100000)),
				acct("b", "openai", ml("mid", 100, 100000)),
			},
			setup: func(r *Router) {
				for range defaultBreakerThreshold {
					r.targets[0].h.failure(t0, "server_error", 0, defaultBreakerThreshold, time.Minute, half)
				}
			},
			req:  Request{Messages: userMsg("hi")},
			want: "b/mid",
		},
		{
			name: "auth failed skipped",
			accounts: []AccountConfig{
				acct("a", "openai", ml("cheap", 100, 100000)),
				acct("b", "openai", ml("mid", 100, 100000)),
			},
			setup: func(r *Router) { r.accounts[0].authFailed = true },
			req:   Request{Messages: userMsg("hi")},
			want:  "b/mid",
		},
		{
			name: "degrade when the tier is exhausted",
			accounts: []AccountConfig{
				acct("a", "anthropic", ml("strong", 1, 100000)),
				acct("b", "openai", ml("mid", 100, 100000), ml("cheap", 100, 100000)),
			},
			setup:    func(r *Router) { r.targets[0].lim.Reserve(t0, 1) },
			req:      Request{Kind: "reason", Messages: userMsg("hi")},
			want:     "b/mid",
			degraded: true,
		},
		{
			name: "no degrade for chat-only kinds",
			accounts: []AccountConfig{
				acct("a", "openai", ml("mid", 1, 100000)),
			},
			setup: func(r *Router) { r.targets[0].lim.Reserve(t0, 1) },
			req:   Request{Kind: "chat", Messages: userMsg("hi")},
			want:  "",
		},
		{
			name: "full context preferred over trimming",
			accounts: []AccountConfig{
				acct("a", "openai", ml("small", 100, 100000)),
				acct("b", "openai", ml("mid", 100, 100000)),
			},
			req:  Request{Messages: userMsg("hi"), Context: pieces(5, 2000), MaxTokens: 200},
			want: "b/mid",
		},
		{
			name: "trim to fit a small window",
			accounts: []AccountConfig{
				acct("a", "openai", ml("small", 100, 100000)),
				acct("b", "openai", ml("mid", 1, 100000)),
			},
			setup:   func(r *Router) { r.targets[1].lim.Reserve(t0, 1) },
			req:     Request{Messages: userMsg("hi"), Context: pieces(5, 2000), MaxTokens: 200},
			want:    "a/small",
			trimmed: 3, // 2000 bytes ≈ 690 tokens per piece with margin; two fit in 2000-200
		},
		{
			name: "too long even without context",
			accounts: []AccountConfig{
				acct("a", "openai", ml("small", 100, 100000)),
			},
			req:  Request{Messages: userMsg(strings.Repeat("y", 8000)), MaxTokens: 200},
			want: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planAt(t, tt.accounts, tt.setup, tt.req)
			got := ""
			if p != nil {
				got = p.t.String()
			}
			if got != tt.want {
				t.Fatalf("plan(%s) = %q, want %q", tt.name, got, tt.want)
			}
			if p == nil {
				return
			}
			if p.trimmed != tt.trimmed || p.degraded != tt.degraded {
				t.Errorf("plan(%s) trimmed, degraded = %d, %v, want %d, %v", tt.name, p.trimmed, p.degraded, tt.trimmed, tt.degraded)
			}
		})
	}
}

func TestDoFallsBackInvisibly(t *testing.T) {
	tests := []struct {
		name       string
		first      reply
		wantFirst  string
		wantHealth string
	}{
		{"rate limited", reply{fail: provider.KindRateLimited, limits: provider.Limits{RetryAfter: 20 * time.Second}}, "rate_limited", HealthOK},
		{"server error", fail(provider.KindServer), "server_error", HealthDegraded},
		{"overloaded", fail(provider.KindOverloaded), "overloaded", HealthDegraded},
		{"timeout", reply{hang: true}, "timeout", HealthDegraded},
		{"auth", fail(provider.KindAuth), "auth", HealthAuthFailed},
		{"context too long", fail(provider.KindContextTooLong), "context_too_long", HealthOK},
		{"stream cut before first token", reply{fail: provider.KindStreamCut, text: "never sent", cut: 0}, "stream_cut", HealthDegraded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFleet(map[string][]reply{"a": {tt.first}, "b": {ok("fine answer")}})
				cfg := Config{Accounts: []AccountConfig{
					{Name: "a", Provider: "openai", APIKey: NewSecret("ka"), Priority: -1, Models: []ModelLimit{ml("cheap", 100, 100000)}},
					acct("b", "anthropic", ml("cheap", 100, 100000)),
				}}
				r := newTestRouter(t, cfg, f, nil)
				ctx := context.Background()
				if tt.first.hang {
					var cancel context.CancelFunc
					// The fake hangs until the attempt's context ends; give the
					// whole request a deadline the second account can meet.
					ctx, cancel = context.WithTimeout(ctx, time.Minute)
					defer cancel()
					f.clients["a"].script[0] = reply{fail: provider.KindTimeout}
				}
				var deltas []string
				res, err := r.Do(ctx, &Request{Messages: userMsg("q"), Stream: true}, func(s string) { deltas = append(deltas, s) })
				if err != nil {
					t.Fatalf("Do() = %v", err)
				}
				if res.Text != "fine answer" || res.Account != "b" {
					t.Errorf("Do() = %q from %q, want %q from b", res.Text, res.Account, "fine answer")
				}
				if got := strings.Join(deltas, ""); got != "fine answer" {
					t.Errorf("deltas = %q, want only the answer", got)
				}
				var outcomes []string
				for _, a := range res.Attempts {
					outcomes = append(outcomes, a.Account+":"+a.Outcome)
				}
				want := []string{"a:" + tt.wantFirst, "b:ok"}
				if tt.first.hang {
					want[0] = "a:timeout"
				}
				if !slices.Equal(outcomes, want) {
					t.Errorf("Attempts = %v, want %v", outcomes, want)
				}
				if h := r.Status()[0].Models[0].Health; h != tt.wantHealth {
					t.Errorf("Status()[a].Health = %q, want %q", h, tt.wantHealth)
				}
			})
		})
	}
}

func TestRateLimitCooldownUntilReset(t *testing.T) {
	now := t0
	f := newFleet(map[string][]reply{"a": {{fail: provider.KindRateLimited, limits: provider.Limits{
		HasTokens: true, TokensLimit: 100000, TokensRemaining: 0, TokensReset: 17 * time.Second,
	}}}})
	r := newTestRouter(t, Config{Accounts: []AccountConfig{acct("a", "openai", ml("cheap", 100, 100000)), acct("b", "openai", ml("mid", 100, 100000))}}, f, &now)
	if _, err := r.Do(context.Background(), &Request{Messages: userMsg("q")}, nil); err != nil {
		t.Fatalf("Do() = %v", err)
	}
	st := r.Status()
	if got, want := st[0].Models[0].CooldownUntil, t0.Add(17*time.Second); !got.Equal(want) {
		t.Errorf("Status()[a].CooldownUntil = %v, want %v", got, want)
	}
	if got := st[0].Models[0].TPMLeft; got != 0 {
		t.Errorf("Status()[a].TPMLeft = %d, want 0 (the provider said none remain)", got)
	}
	now = t0.Add(17 * time.Second)
	if got := r.Status()[0].Models[0]; !got.CooldownUntil.IsZero() || got.TPMLeft != 100000 {
		t.Errorf("Status()[a] after reset = cooldown %v, tpmLeft %d; want none, 100000", got.CooldownUntil, got.TPMLeft)
	}
}

func TestStreamCutContinues(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(map[string][]reply{
			"a": {{fail: provider.KindStreamCut, text: "one two three four", cut: 2}},
			"b": {{ok: true, text: "three four", deltas: 2}},
		})
		cfg := Config{Accounts: []AccountConfig{
			{Name: "a", Provider: "openai", APIKey: NewSecret("ka"), Priority: -1, Models: []ModelLimit{ml("cheap", 100, 100000)}},
			acct("b", "anthropic", ml("cheap", 100, 100000)),
		}}
		r := newTestRouter(t, cfg, f, nil)
		var got strings.Builder
		res, err := r.Do(context.Background(), &Request{Messages: userMsg("count"), Stream: true}, func(s string) { got.WriteString(s) })
		if err != nil {
			t.Fatalf("Do() = %v", err)
		}
		if !res.Continued || res.Text != "one two three four" || got.String() != "one two three four" {
			t.Errorf("Do() = continued %v, text %q, streamed %q; want true, %q, same", res.Continued, res.Text, got.String(), "one two three four")
		}
		reqs := f.clients["b"].requests()
		if len(reqs) != 1 {
			t.Fatalf("b got %d requests, want 1", len(reqs))
		}
		msgs := reqs[0].Messages
		if len(msgs) != 3 || msgs[1].Role != "assistant" || msgs[1].Content != "one two " || msgs[2].Role != "user" {
			t.Errorf("continuation messages = %+v, want user, assistant %q, user", msgs, "one two ")
		}
	})
}

func TestTrimAndRender(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(nil)
		r := newTestRouter(t, Config{Accounts: []AccountConfig{acct("a", "openai", ml("small", 100, 100000))}}, f, nil)
		ctxPieces := []Piece{
			{ID: "low", Text: strings.Repeat("l", 2500), Rank: 2},
			{ID: "top", Text: strings.Repeat("t", 2500), Rank: 0},
			{ID: "mid", Text: strings.Repeat("m", 2500), Rank: 1},
		}
		res, err := r.Do(context.Background(), &Request{Messages: userMsg("why?"), Context: ctxPieces, MaxTokens: 200}, nil)
		if err != nil {
			t.Fatalf("Do() = %v", err)
		}
		if !slices.Equal(res.ContextUsed, []string{"top", "mid"}) || res.Trimmed != 1 {
			t.Errorf("Do() ContextUsed = %v, Trimmed = %d; want [top mid], 1", res.ContextUsed, res.Trimmed)
		}
		sent := f.clients["a"].requests()[0].Messages[0].Content
		if !strings.Contains(sent, "--- top ---") || strings.Contains(sent, "--- low ---") || !strings.HasSuffix(sent, "why?") {
			t.Errorf("sent prompt lacks the kept pieces or the question: %.80q…", sent)
		}
	})
}

func TestNoCandidateError(t *testing.T) {
	tests := []struct {
		name     string
		accounts []AccountConfig
		setup    func(r *Router)
		req      Request
		want     []string // substrings of the error
	}{
		{
			name:     "no accounts",
			accounts: nil,
			req:      Request{Messages: userMsg("q")},
			want:     []string{"no accounts are configured"},
		},
		{
			name:     "tier too low",
			accounts: []AccountConfig{acct("a", "openai", ml("cheap", 10, 1000))},
			req:      Request{Kind: "reason", Messages: userMsg("q")},
			want:     []string{"a/cheap: tier 1 is below tier 2, the lowest reason requests may use"},
		},
		{
			name:     "above the TPM limit",
			accounts: []AccountConfig{acct("a", "openai", ml("cheap", 10, 1000))},
			req:      Request{Messages: userMsg("q"), MaxTokens: 2000},
			want:     []string{"more than its limit of 1000 tokens per minute"},
		},
		{
			name:     "cooldown past the deadline",
			accounts: []AccountConfig{acct("a", "openai", ml("cheap", 10, 100000))},
			setup:    func(r *Router) { r.targets[0].lim.Cooldown(r.now().Add(10 * time.Minute)) },
			req:      Request{Messages: userMsg("q")},
			want:     []string{"a/cheap: rate limited by the provider until", "in 10m0s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := newTestRouter(t, Config{Accounts: tt.accounts}, newFleet(nil), nil)
				if tt.setup != nil {
					tt.setup(r)
				}
				_, err := r.Do(context.Background(), &tt.req, nil)
				var nc *NoCandidateError
				if !errors.As(err, &nc) {
					t.Fatalf("Do() = %v, want a *NoCandidateError", err)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Do() error = %q, want it to contain %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "429") {
					t.Errorf("Do() error = %q mentions a raw 429", err)
				}
			})
		})
	}
}

func TestBadRequestReturned(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(map[string][]reply{"a": {fail(provider.KindBadRequest)}})
		r := newTestRouter(t, Config{Accounts: []AccountConfig{acct("a", "openai", ml("cheap", 10, 100000)), acct("b", "openai", ml("cheap", 10, 100000))}}, f, nil)
		_, err := r.Do(context.Background(), &Request{Messages: userMsg("q")}, nil)
		var pe *provider.Error
		if !errors.As(err, &pe) || pe.Kind != provider.KindBadRequest {
			t.Fatalf("Do() = %v, want the bad request error", err)
		}
	})
}

func TestWaitsForReset(t *testing.T) {
	// One account with one request per minute: the second request waits in
	// the queue for the window to roll rather than failing.
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(nil)
		r := newTestRouter(t, Config{Accounts: []AccountConfig{acct("a", "openai", ml("cheap", 1, 100000))}}, f, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		start := time.Now()
		for i := range 2 {
			if _, err := r.Do(ctx, &Request{Messages: userMsg("q")}, nil); err != nil {
				t.Fatalf("Do() #%d = %v", i, err)
			}
		}
		if waited := time.Since(start); waited != time.Minute {
			t.Errorf("second request admitted after %v of virtual time, want exactly the 1m window", waited)
		}
	})
}

func TestQueueFairness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(nil)
		r := newTestRouter(t, Config{Accounts: []AccountConfig{acct("a", "openai", ml("cheap", 1, 100000))}}, f, nil)
		if _, err := r.Do(context.Background(), &Request{Messages: userMsg("first")}, nil); err != nil {
			t.Fatalf("Do(first) = %v", err)
		}
		var mu sync.Mutex
		var order []string
		var wg sync.WaitGroup
		for i := range 4 {
			name := fmt.Sprintf("r%d", i)
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				defer cancel()
				if _, err := r.Do(ctx, &Request{Messages: userMsg(name)}, nil); err != nil {
					t.Errorf("Do(%s) = %v", name, err)
					return
				}
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
			})
			synctest.Wait() // r_i is queued before r_{i+1} arrives
		}
		wg.Wait()
		if want := []string{"r0", "r1", "r2", "r3"}; !slices.Equal(order, want) {
			t.Errorf("completion order = %v, want FIFO %v", order, want)
		}
	})
}

func TestCircuitBreakerHalfOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(map[string][]reply{
			"a": {fail(provider.KindServer), fail(provider.KindServer), fail(provider.KindServer), ok("recovered")},
		})
		opts := &Options{NewClient: f.newClient, Rand: half, BreakerThreshold: 2, BreakerCooldown: 10 * time.Second}
		r, err := New(Config{Models: catalog(), Accounts: []AccountConfig{
			{Name: "a", Provider: "openai", APIKey: NewSecret("ka"), Priority: -1, Models: []ModelLimit{ml("cheap", 100, 100000)}},
			acct("b", "openai", ml("cheap", 100, 100000)),
		}}, opts)
		if err != nil {
			t.Fatal(err)
		}
		health := func() string { return r.Status()[0].Models[0].Health }
		do := func() string {
			t.Helper()
			res, err := r.Do(context.Background(), &Request{Messages: userMsg("q")}, nil)
			if err != nil {
				t.Fatalf("Do() = %v", err)
			}
			return res.Account
		}
		// Two failures (each backed off, each invisible) open the circuit.
		do()
		time.Sleep(time.Second) // past the backoff
		do()
		if h := health(); h != HealthOpen {
			t.Fatalf("health after 2 failures = %q, want %q", h, HealthOpen)
		}
		if got := do(); got != "b" {
			t.Errorf("Do() while open answered from %q, want b", got)
		}
		if n := len(f.clients["a"].requests()); n != 2 {
			t.Errorf("a got %d requests while open, want 2", n)
		}
		// After the cooldown one probe is let through; it fails and the
		// circuit opens again for twice as long.
		time.Sleep(10 * time.Second)
		do()
		if n := len(f.clients["a"].requests()); n != 3 {
			t.Fatalf("a got %d requests after the cooldown, want 3 (one probe)", n)
		}
		if h := health(); h != HealthOpen {
			t.Fatalf("health after a failed probe = %q, want %q", h, HealthOpen)
		}
		time.Sleep(10 * time.Second)
		do()
		if n := len(f.clients["a"].requests()); n != 3 {
			t.Errorf("a got %d requests 10s after a failed probe, want still 3", n)
		}
		time.Sleep(10 * time.Second)
		if got := do(); got != "a" {
			t.Errorf("probe after 20s answered from %q, want a", got)
		}
		if h := health(); h != HealthOK {
			t.Errorf("health after a successful probe = %q, want %q", h, HealthOK)
		}
	})
}

func TestHealthHalfOpenSingleProbe(t *testing.T) {
	var h health
	for range 3 {
		h.failure(t0, "server_error", 0, 3, 10*time.Second, half)
	}
	tests := []struct {
		at        time.Duration
		wantOK    bool
		wantProbe bool
	}{
		{at: 5 * time.Second, wantOK: false},
		{at: 10 * time.Second, wantOK: true, wantProbe: true},
	}
	for _, tt := range tests {
		ok, probe := h.admits(t0.Add(tt.at))
		if ok != tt.wantOK || probe != tt.wantProbe {
			t.Errorf("admits(%v) = %v, %v, want %v, %v", tt.at, ok, probe, tt.wantOK, tt.wantProbe)
		}
	}
	h.startProbe()
	if ok, _ := h.admits(t0.Add(11 * time.Second)); ok {
		t.Errorf("admits() during a probe = true, want false")
	}
	h.success(time.Second, 0, false)
	if ok, probe := h.admits(t0.Add(11 * time.Second)); !ok || probe {
		t.Errorf("admits() after a successful probe = %v, %v, want true, false", ok, probe)
	}
}

func TestJitter(t *testing.T) {
	tests := []struct {
		n    int
		rnd  float64
		want time.Duration
	}{
		{1, 0.5, 100 * time.Millisecond},
		{3, 0.5, 400 * time.Millisecond},
		{3, 0, 0},
		{20, 0.5, 15 * time.Second},
		{100, 0.99, time.Duration(0.99 * float64(30*time.Second))},
	}
	for _, tt := range tests {
		if got := jitter(backoffBase, tt.n, func() float64 { return tt.rnd }); got != tt.want {
			t.Errorf("jitter(%v, %d, %v) = %v, want %v", backoffBase, tt.n, tt.rnd, got, tt.want)
		}
	}
}

func TestReloadKeepsState(t *testing.T) {
	now := t0
	f := newFleet(nil)
	cfg := Config{Accounts: []AccountConfig{acct("a", "openai", ml("cheap", 10, 100000)), acct("b", "openai", ml("cheap", 10, 100000))}}
	r := newTestRouter(t, cfg, f, &now)
	r.targets[0].lim.Reserve(now, 40000)
	r.targets[1].lim.Reserve(now, 40000)

	cfg2 := Config{Models: catalog(), Accounts: []AccountConfig{
		acct("a", "openai", ml("cheap", 20, 200000)), // same endpoint, new limits
		{Name: "b", Provider: "openai", APIKey: NewSecret("rotated"), Models: []ModelLimit{ml("cheap", 10, 100000)}},
		acct("c", "anthropic", ml("mid", 5, 5000)),
	}}
	if err := r.Reload(cfg2); err != nil {
		t.Fatalf("Reload() = %v", err)
	}
	want := map[string][2]int{"a": {19, 160000}, "b": {10, 100000}, "c": {5, 5000}}
	for _, a := range r.Status() {
		got := [2]int{a.Models[0].RPMLeft, a.Models[0].TPMLeft}
		if got != want[a.Name] {
			t.Errorf("after Reload, %s rpmLeft, tpmLeft = %v, want %v", a.Name, got, want[a.Name])
		}
	}
	if err := r.Reload(Config{Accounts: []AccountConfig{acct("x", "nope", ml("cheap", 1, 1))}}); err == nil {
		t.Errorf("Reload(bad provider) = nil, want an error")
	}
	if len(r.Status()) != 3 {
		t.Errorf("a failed Reload changed the accounts")
	}
}

func TestSecretsNeverShown(t *testing.T) {
	key := strings.Join([]string{"sk", "test", "0123456789abcdef"}, "-")
	var logs bytes.Buffer
	f := newFleet(map[string][]reply{"a": {fail(provider.KindAuth)}})
	cfg := Config{Models: catalog(), Accounts: []AccountConfig{{Name: "a", Provider: "openai", APIKey: NewSecret(key), Models: []ModelLimit{ml("cheap", 1, 100000)}}}}
	r, err := New(cfg, &Options{NewClient: f.newClient, Rand: half, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	_, doErr := r.Do(context.Background(), &Request{Messages: userMsg("q")}, nil)
	if doErr == nil {
		t.Fatal("Do() with a refused key = nil error")
	}
	status, err := json.Marshal(r.Status())
	if err != nil {
		t.Fatal(err)
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	slog.New(slog.NewTextHandler(&logs, nil)).Info("config", "account", cfg.Accounts[0], "key", cfg.Accounts[0].APIKey)
	shown := map[string]string{
		"Status JSON": string(status),
		"error":       doErr.Error(),
		"config JSON": string(cfgJSON),
		"%v":          fmt.Sprintf("%v", cfg),
		"%+v":         fmt.Sprintf("%+v", cfg),
		"%#v":         fmt.Sprintf("%#v", cfg),
		"%s":          fmt.Sprintf("%s", cfg.Accounts[0].APIKey),
		"%q":          fmt.Sprintf("%q", cfg.Accounts[0].APIKey),
		"logs":        logs.String(),
	}
	for where, s := range shown {
		if strings.Contains(s, key) || strings.Contains(s, "0123456789abcdef") {
			t.Errorf("%s shows the API key: %s", where, s)
		}
	}
	if !strings.Contains(string(status), `"health":"auth_failed"`) {
		t.Errorf("Status JSON = %s, want health auth_failed", status)
	}
	if got := cfg.Accounts[0].APIKey.Reveal(); got != key {
		t.Errorf("Reveal() = %q, want the key", got)
	}
}

func TestUnknownKind(t *testing.T) {
	r := newTestRouter(t, Config{Accounts: []AccountConfig{acct("a", "openai", ml("cheap", 1, 1000))}}, newFleet(nil), nil)
	_, err := r.Do(context.Background(), &Request{Kind: "poetry", Messages: userMsg("q")}, nil)
	if err == nil || !strings.Contains(err.Error(), `unknown request kind "poetry"`) {
		t.Errorf("Do(kind poetry) = %v, want an unknown kind error", err)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"ok", Config{Accounts: []AccountConfig{acct("a", "openai", ml("gpt-4o-mini", 1, 1))}}, ""},
		{"duplicate", Config{Accounts: []AccountConfig{acct("a", "openai", ml("gpt-4o", 1, 1)), acct("a", "openai", ml("gpt-4o", 1, 1))}}, `account "a": defined twice`},
		{"provider", Config{Accounts: []AccountConfig{acct("a", "gemini", ml("gpt-4o", 1, 1))}}, `unknown provider "gemini"`},
		{"negative", Config{Accounts: []AccountConfig{acct("a", "openai", ml("gpt-4o", -1, 1))}}, "negative limit"},
		{"not in catalog", Config{Accounts: []AccountConfig{acct("a", "azure", ml("my-deploy", 1, 1))}}, `model "my-deploy" is not in the catalog`},
		{"catalog alias", Config{Accounts: []AccountConfig{acct("a", "azure", ModelLimit{Model: "my-deploy", Catalog: "gpt-4o", RPM: 1})}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

// BenchmarkSelect measures one planning decision (candidate filtering,
// ranking and reservation) over 24 targets with ranked context, the work
// Do does under its lock for each attempt. It reports the p99 of single
// decisions as p99-ns/op.
func BenchmarkSelect(b *testing.B) {
	var accounts []AccountConfig
	models := []string{"cheap", "mid", "strong", "small"}
	for i := range 6 {
		var ms []ModelLimit
		for _, m := range models {
			ms = append(ms, ml(m, 1<<30, 1<<40))
		}
		accounts = append(accounts, AccountConfig{Name: fmt.Sprintf("acct-%d", i), Provider: "openai", APIKey: NewSecret("k"), Priority: i % 2, Models: ms})
	}
	now := t0
	r, err := New(Config{Models: catalog(), Accounts: accounts}, &Options{NewClient: newFleet(nil).newClient, Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	var pieces []Piece
	for i := range 20 {
		pieces = append(pieces, Piece{ID: fmt.Sprintf("p%d", i), Text: strings.Repeat("func f() { return nil }\n", 20), Rank: i})
	}
	rq, err := r.prepare(context.Background(), &Request{Kind: "generate", Messages: userMsg("write a test"), Context: pieces, MaxTokens: 1000})
	if err != nil {
		b.Fatal(err)
	}
	samples := make([]time.Duration, 0, 1<<16)
	for b.Loop() {
		now = now.Add(time.Millisecond)
		start := time.Now()
		r.mu.Lock()
		p := r.planLocked(now, rq, nil)
		r.mu.Unlock()
		if len(samples) < cap(samples) {
			samples = append(samples, time.Since(start))
		}
		if p == nil {
			b.Fatal("planLocked() = nil with unlimited accounts")
		}
		p.res.Commit(500)
	}
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns/op")
}

func TestQueueBackfill(t *testing.T) {
	// The head of the queue needs tier 2 or more (reason) and waits for the
	// only such model; a chat request behind it is served at once by the model the
	// head cannot use, instead of waiting out the head's minute.
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(nil)
		r := newTestRouter(t, Config{Accounts: []AccountConfig{
			acct("a", "openai", ml("strong", 1, 100000)),
			acct("b", "openai", ml("cheap", 100, 100000)),
		}}, f, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		if _, err := r.Do(ctx, &Request{Kind: "reason", Messages: userMsg("first")}, nil); err != nil {
			t.Fatalf("Do(first reason) = %v", err)
		}
		start := time.Now()
		headDone := make(chan *Result, 1)
		go func() {
			res, err := r.Do(ctx, &Request{Kind: "reason", Messages: userMsg("head")}, nil)
			if err != nil {
				t.Errorf("Do(head) = %v", err)
			}
			headDone <- res
		}()
		synctest.Wait() // the head is queued for a/strong
		res, err := r.Do(ctx, &Request{Kind: "chat", Messages: userMsg("behind")}, nil)
		if err != nil {
			t.Fatalf("Do(behind) = %v", err)
		}
		if res.Account != "b" || time.Since(start) != 0 {
			t.Errorf("Do(behind) answered by %q after %v, want b at once", res.Account, time.Since(start))
		}
		head := <-headDone
		if head.Account != "a" || time.Since(start) != time.Minute {
			t.Errorf("Do(head) answered by %q after %v, want a after the 1m window", head.Account, time.Since(start))
		}
	})
}

func TestCustomRender(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(nil)
		r := newTestRouter(t, Config{Accounts: []AccountConfig{acct("a", "openai", ml("mid", 10, 100000))}}, f, nil)
		var gotModel string
		var gotPieces []string
		req := &Request{
			Messages: userMsg("q"),
			Context:  []Piece{{ID: "b", Text: "second", Rank: 1}, {ID: "a", Text: "first", Rank: 0}},
			Render: func(m ModelInfo, pieces []Piece) (string, []provider.Message) {
				gotModel = m.Name
				for _, p := range pieces {
					gotPieces = append(gotPieces, p.ID)
				}
				return "sys for " + m.Name, []provider.Message{{Role: "user", Content: "rendered"}}
			},
		}
		if _, err := r.Do(context.Background(), req, nil); err != nil {
			t.Fatalf("Do() = %v", err)
		}
		if gotModel != "mid" || !slices.Equal(gotPieces, []string{"a", "b"}) {
			t.Errorf("Render got model %q, pieces %v; want mid, [a b] in rank order", gotModel, gotPieces)
		}
		sent := f.clients["a"].requests()[0]
		if sent.System != "sys for mid" || sent.Messages[0].Content != "rendered" || sent.Model != "mid" || sent.MaxTokens != 4000 {
			t.Errorf("sent %+v, want the rendered prompt for mid with max_tokens 4000", sent)
		}
	})
}
