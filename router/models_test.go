package router

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestSelectModels(t *testing.T) {
	tests := []struct {
		name     string
		accounts []AccountConfig
		setup    func(r *Router)
		req      Request
		want     string // account/model, "" for no plan
	}{
		{
			name:     "only the named model",
			accounts: []AccountConfig{acct("a", "openai", ml("cheap", 100, 100000), ml("mid", 100, 100000))},
			req:      Request{Messages: userMsg("hi"), Models: []string{"mid"}},
			want:     "a/mid",
		},
		{
			name: "any account offering it",
			accounts: []AccountConfig{
				acct("a", "openai", ml("cheap", 100, 100000)),
				acct("b", "anthropic", ml("strong", 100, 100000)),
			},
			req:  Request{Messages: userMsg("hi"), Models: []string{"strong"}},
			want: "b/strong",
		},
		{
			name: "headroom decides among the named",
			accounts: []AccountConfig{
				acct("a", "openai", ml("mid", 100, 100000)),
				acct("b", "openai", ml("mid", 100, 100000)),
				acct("c", "openai", ml("cheap", 100, 100000)),
			},
			setup: func(r *Router) { r.targets[0].lim.Reserve(t0, 50000) },
			req:   Request{Messages: userMsg("hi"), Models: []string{"mid"}},
			want:  "b/mid",
		},
		{
			name:     "catalog name matches a deployment",
			accounts: []AccountConfig{acct("az", "azure", ml("cheap", 100, 100000), ModelLimit{Model: "prod-deploy", Catalog: "mid", RPM: 100, TPM: 100000})},
			req:      Request{Messages: userMsg("hi"), Models: []string{"mid"}},
			want:     "az/prod-deploy",
		},
		{
			name:     "deployment name matches",
			accounts: []AccountConfig{acct("az", "azure", ml("mid", 100, 100000), ModelLimit{Model: "prod-deploy", Catalog: "mid", RPM: 100, TPM: 100000})},
			req:      Request{Messages: userMsg("hi"), Models: []string{"prod-deploy"}},
			want:     "az/prod-deploy",
		},
		{
			name:     "named model below the kind's tier",
			accounts: []AccountConfig{acct("a", "openai", ml("cheap", 100, 100000), ml("strong", 100, 100000))},
			req:      Request{Kind: "reason", Messages: userMsg("hi"), Models: []string{"cheap"}},
			want:     "a/cheap",
		},
		{
			name:     "named model without headroom",
			accounts: []AccountConfig{acct("a", "openai", ml("cheap", 1, 100000), ml("mid", 100, 100000))},
			setup:    func(r *Router) { r.targets[0].lim.Reserve(t0, 1) },
			req:      Request{Messages: userMsg("hi"), Models: []string{"cheap"}},
			want:     "",
		},
		{
			name:     "unknown model",
			accounts: []AccountConfig{acct("a", "openai", ml("cheap", 100, 100000))},
			req:      Request{Messages: userMsg("hi"), Models: []string{"gpt-unknown"}},
			want:     "",
		},
		{
			name:     "empty list allows all",
			accounts: []AccountConfig{acct("a", "openai", ml("mid", 100, 100000), ml("cheap", 100, 100000))},
			req:      Request{Messages: userMsg("hi")},
			want:     "a/cheap",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planAt(t, tt.accounts, tt.setup, tt.req)
			got := ""
			if p != nil {
				got = p.t.String()
				if p.degraded {
					t.Errorf("plan(%s) degraded, want a named model never to count as degraded", tt.name)
				}
			}
			if got != tt.want {
				t.Fatalf("plan(%s) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestModelsNoCandidateError(t *testing.T) {
	tests := []struct {
		name      string
		accounts  []AccountConfig
		setup     func(r *Router)
		models    []string
		want      []string // substrings of the error
		wantRejct []string // account/model of the rejections
	}{
		{
			name:      "no configured model matches",
			accounts:  []AccountConfig{acct("a", "openai", ml("cheap", 100, 100000)), acct("b", "openai", ml("mid", 100, 100000))},
			models:    []string{"gpt-unknown", "other"},
			want:      []string{"with gpt-unknown or other in time", "a/cheap: not one of the requested models"},
			wantRejct: []string{"a/cheap", "b/mid"},
		},
		{
			name:     "named model rate limited while another is free",
			accounts: []AccountConfig{acct("a", "openai", ml("cheap", 100, 100000)), acct("b", "openai", ml("mid", 100, 100000))},
			setup:    func(r *Router) { r.targets[0].lim.Cooldown(r.now().Add(10 * time.Minute)) },
			models:   []string{"cheap"},
			want:     []string{"with cheap in time", "a/cheap: rate limited by the provider until"},
			// b/mid is not requested, so it is not listed as a candidate.
			wantRejct: []string{"a/cheap"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFleet(nil)
				r := newTestRouter(t, Config{Accounts: tt.accounts}, f, nil)
				if tt.setup != nil {
					tt.setup(r)
				}
				start := time.Now()
				_, err := r.Do(context.Background(), &Request{Messages: userMsg("q"), Models: tt.models}, nil)
				var nc *NoCandidateError
				if !errors.As(err, &nc) {
					t.Fatalf("Do() = %v, want a *NoCandidateError", err)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("Do() error = %q, want it to contain %q", err, w)
					}
				}
				var got []string
				for _, rj := range nc.Rejections {
					got = append(got, rj.Account+"/"+rj.Model)
				}
				if !slices.Equal(got, tt.wantRejct) {
					t.Errorf("Do() rejections = %v, want %v", got, tt.wantRejct)
				}
				if !slices.Equal(nc.Models, tt.models) {
					t.Errorf("Do() error Models = %v, want %v", nc.Models, tt.models)
				}
				for name, c := range f.clients {
					if n := len(c.requests()); n != 0 {
						t.Errorf("account %s got %d calls, want none", name, n)
					}
				}
				if tt.setup == nil && time.Since(start) != 0 {
					t.Errorf("Do() failed after %v of queueing, want at once for an unknown model", time.Since(start))
				}
			})
		})
	}
}

func TestDoModels(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFleet(nil)
		r := newTestRouter(t, Config{Accounts: []AccountConfig{
			acct("a", "openai", ml("cheap", 100, 100000)),
			acct("b", "anthropic", ml("strong", 100, 100000)),
		}}, f, nil)
		res, err := r.Do(context.Background(), &Request{Messages: userMsg("q"), Models: []string{"strong"}}, nil)
		if err != nil {
			t.Fatalf("Do() = %v", err)
		}
		if res.Account != "b" || res.Model != "strong" || res.Degraded {
			t.Errorf("Do() answered by %s/%s (degraded %v), want b/strong", res.Account, res.Model, res.Degraded)
		}
		if n := len(f.clients["a"].requests()); n != 0 {
			t.Errorf("account a got %d calls, want none", n)
		}
	})
}

func TestQueueBackfillModels(t *testing.T) {
	// The head of the queue asks for the strong model only and waits for its
	// minute; a request behind it without a model list is served at once by
	// the model the head did not ask for.
	synctest.Test(t, func(t *testing.T) {
		r := newTestRouter(t, Config{Accounts: []AccountConfig{
			acct("a", "openai", ml("strong", 1, 100000)),
			acct("b", "openai", ml("cheap", 100, 100000)),
		}}, newFleet(nil), nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		only := []string{"strong"}
		if _, err := r.Do(ctx, &Request{Messages: userMsg("first"), Models: only}, nil); err != nil {
			t.Fatalf("Do(first) = %v", err)
		}
		start := time.Now()
		headDone := make(chan *Result, 1)
		go func() {
			res, err := r.Do(ctx, &Request{Messages: userMsg("head"), Models: only}, nil)
			if err != nil {
				t.Errorf("Do(head) = %v", err)
			}
			headDone <- res
		}()
		synctest.Wait()
		res, err := r.Do(ctx, &Request{Messages: userMsg("behind")}, nil)
		if err != nil {
			t.Fatalf("Do(behind) = %v", err)
		}
		if res.Account != "b" || time.Since(start) != 0 {
			t.Errorf("Do(behind) answered by %q after %v, want b at once", res.Account, time.Since(start))
		}
		head := <-headDone
		if head == nil || head.Account != "a" || time.Since(start) != time.Minute {
			t.Errorf("Do(head) = %+v after %v, want a after the 1m window", head, time.Since(start))
		}
	})
}
