package provider

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codemux/codemux/router/providertest"
)

var dialects = []string{OpenAI, Azure, Anthropic, OpenAICompatible}

// fakeClock is a settable clock shared by a server and a client.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// setup starts a server speaking dialect and a client for it.
func setup(t *testing.T, dialect string, opts providertest.Options) (*providertest.Server, Client, string) {
	t.Helper()
	key := fakeKey("sk-test-")
	opts.Dialect = dialect
	if opts.APIKey == "" {
		opts.APIKey = key
	}
	srv := providertest.NewServer(t, opts)
	c, err := New(Config{Provider: dialect, BaseURL: srv.URL, APIKey: opts.APIKey, HTTPClient: srv.HTTPClient(), Now: opts.Now})
	if err != nil {
		t.Fatalf("New(%s) = %v", dialect, err)
	}
	return srv, c, opts.APIKey
}

func request() *Request {
	return &Request{
		Model:     "model-a",
		System:    "be brief",
		Messages:  []Message{{Role: "user", Content: "hello world"}},
		MaxTokens: 100,
	}
}

// complete runs c.Complete, streaming when stream is set, and returns the
// deltas it saw.
func complete(ctx context.Context, c Client, req *Request, stream bool) (*Response, []string, error) {
	var deltas []string
	var onDelta func(string)
	if stream {
		onDelta = func(s string) { deltas = append(deltas, s) }
	}
	resp, err := c.Complete(ctx, req, onDelta)
	return resp, deltas, err
}

func mode(stream bool) string {
	if stream {
		return "stream"
	}
	return "plain"
}

func TestCompleteOK(t *testing.T) {
	const text = "The quick brown fox"
	for _, d := range dialects {
		for _, stream := range []bool{false, true} {
			t.Run(d+"/"+mode(stream), func(t *testing.T) {
				clock := newFakeClock()
				srv, c, key := setup(t, d, providertest.Options{RPM: 10, TPM: 1000, Now: clock.Now})
				srv.Enqueue(providertest.OK(text))
				req := request()
				resp, deltas, err := complete(context.Background(), c, req, stream)
				if err != nil {
					t.Fatalf("Complete() = %v", err)
				}
				prompt := providertest.EstimateTokens("be brief") + providertest.EstimateTokens("hello world")
				finish := "stop"
				if d == Anthropic {
					finish = "end_turn"
				}
				want := Response{
					Text:         text,
					Model:        "model-a",
					FinishReason: finish,
					Usage:        Usage{PromptTokens: prompt, CompletionTokens: providertest.EstimateTokens(text)},
					Limits: Limits{
						HasRequests: true, RequestsLimit: 10, RequestsRemaining: 9, RequestsReset: time.Minute,
						HasTokens: true, TokensLimit: 1000, TokensRemaining: 1000 - prompt - 100, TokensReset: time.Minute,
					},
				}
				if d == Azure {
					want.Limits = Limits{HasRequests: true, RequestsRemaining: 9, HasTokens: true, TokensRemaining: 1000 - prompt - 100}
				}
				if *resp != want {
					t.Errorf("Complete() = %+v, want %+v", *resp, want)
				}
				if stream {
					if got := strings.Join(deltas, ""); got != text || len(deltas) != 4 {
						t.Errorf("deltas = %q, want 4 deltas joining to %q", deltas, text)
					}
				}
				checkWire(t, d, srv, key, stream)
			})
		}
	}
}

// checkWire asserts the request the server received has the dialect's
// shape (the server itself already rejects what the real service rejects).
func checkWire(t *testing.T, d string, srv *providertest.Server, key string, stream bool) {
	t.Helper()
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	var body map[string]any
	if err := json.Unmarshal(r.Body, &body); err != nil {
		t.Fatalf("request body is not JSON: %v", err)
	}
	wantField := func(name string, want any) {
		t.Helper()
		got, _ := json.Marshal(body[name])
		w, _ := json.Marshal(want)
		if string(got) != string(w) {
			t.Errorf("request %s = %s, want %s", name, got, w)
		}
	}
	if stream != r.Stream {
		t.Errorf("request stream = %v, want %v", r.Stream, stream)
	}
	switch d {
	case Anthropic:
		if r.Path != "/v1/messages" || r.Header.Get("x-api-key") != key || r.Header.Get("anthropic-version") != DefaultAnthropicVersion {
			t.Errorf("request %v has the wrong path or auth headers", r)
		}
		wantField("system", "be brief")
		wantField("max_tokens", 100)
		wantField("model", "model-a")
		wantField("messages", []map[string]string{{"role": "user", "content": "hello world"}})
		return
	case Azure:
		if r.Path != "/openai/deployments/model-a/chat/completions" || r.Query != "api-version="+DefaultAzureAPIVersion || r.Header.Get("api-key") != key {
			t.Errorf("request %v (query %q) has the wrong path, query or auth header", r, r.Query)
		}
		if r.Header.Get("Authorization") != "" {
			t.Errorf("azure request carries an Authorization header")
		}
		wantField("model", nil)
		wantField("max_tokens", 100)
	case OpenAI:
		wantField("model", "model-a")
		wantField("max_completion_tokens", 100)
		wantField("max_tokens", nil)
	case OpenAICompatible:
		wantField("model", "model-a")
		wantField("max_tokens", 100)
	}
	if d != Azure && (r.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer "+key) {
		t.Errorf("request %v has the wrong path or auth header", r)
	}
	wantField("messages", []map[string]string{{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello world"}})
	if stream {
		wantField("stream_options", map[string]bool{"include_usage": true})
	} else {
		wantField("stream_options", nil)
	}
}

func TestCompleteErrors(t *testing.T) {
	type want struct {
		kind    ErrorKind
		status  int
		started bool
		partial string
	}
	tests := []struct {
		name     string
		behavior providertest.Behavior
		timeout  bool
		// plain and stream give the expectation per mode; dialect-specific
		// statuses are patched below.
		plain, stream want
	}{
		{"rate limited", providertest.RateLimited(3 * time.Second), false,
			want{kind: KindRateLimited, status: 429}, want{kind: KindRateLimited, status: 429}},
		{"server error", providertest.ServerError(), false,
			want{kind: KindServer, status: 500}, want{kind: KindServer, status: 500}},
		{"overloaded", providertest.Overloaded(), false,
			want{kind: KindOverloaded, status: 503}, want{kind: KindOverloaded, status: 503}},
		{"context too long", providertest.ContextTooLong(), false,
			want{kind: KindContextTooLong, status: 400}, want{kind: KindContextTooLong, status: 400}},
		{"malformed", providertest.Malformed(), false,
			want{kind: KindBadResponse, status: 200}, want{kind: KindBadResponse}},
		{"hang", providertest.Hang(), true,
			want{kind: KindTimeout}, want{kind: KindTimeout}},
		{"cut", providertest.CutAfter(2, "a b c d"), false,
			want{kind: KindNetwork}, want{kind: KindStreamCut, started: true, partial: "a b "}},
		{"cut before first delta", providertest.CutAfter(0, "a b c d"), false,
			want{kind: KindNetwork}, want{kind: KindStreamCut}},
		{"error event", providertest.ErrorAfter(1, "a b c"), false,
			want{kind: KindOverloaded, status: 503}, want{kind: KindServer, started: true, partial: "a "}},
		{"hang mid-stream", providertest.HangAfter(2, "a b c"), true,
			want{kind: KindTimeout}, want{kind: KindTimeout, started: true, partial: "a b "}},
	}
	for _, d := range dialects {
		for _, tt := range tests {
			for _, stream := range []bool{false, true} {
				t.Run(d+"/"+tt.name+"/"+mode(stream), func(t *testing.T) {
					srv, c, key := setup(t, d, providertest.Options{})
					srv.Enqueue(tt.behavior)
					w := tt.plain
					if stream {
						w = tt.stream
					}
					if d == Anthropic && w.status == 503 {
						w.status = 529
					}
					if d == Anthropic && tt.name == "error event" && stream {
						w.kind = KindOverloaded
					}
					ctx := context.Background()
					if tt.timeout {
						var cancel context.CancelFunc
						ctx, cancel = context.WithTimeout(ctx, 200*time.Millisecond)
						defer cancel()
					}
					resp, deltas, err := complete(ctx, c, request(), stream)
					var e *Error
					if !errors.As(err, &e) {
						t.Fatalf("Complete() = %+v, %v; want an *Error", resp, err)
					}
					if e.Kind != w.kind || e.Status != w.status || e.Started != w.started || e.Partial != w.partial {
						t.Errorf("Complete() error = {Kind:%v Status:%d Started:%v Partial:%q} (%v), want {Kind:%v Status:%d Started:%v Partial:%q}",
							e.Kind, e.Status, e.Started, e.Partial, e, w.kind, w.status, w.started, w.partial)
					}
					if got := strings.Join(deltas, ""); got != w.partial {
						t.Errorf("deltas before the failure = %q, want %q", got, w.partial)
					}
					if strings.Contains(e.Error(), key) {
						t.Errorf("error %q contains the api key", e.Error())
					}
					if tt.name == "rate limited" && e.Limits.RetryAfter != 3*time.Second {
						t.Errorf("Complete() error Limits.RetryAfter = %v, want 3s", e.Limits.RetryAfter)
					}
				})
			}
		}
	}
}

func TestCompleteWrongKey(t *testing.T) {
	for _, d := range dialects {
		for _, stream := range []bool{false, true} {
			t.Run(d+"/"+mode(stream), func(t *testing.T) {
				srv, _, _ := setup(t, d, providertest.Options{})
				wrong := fakeKey("sk-wrong-")
				c, err := New(Config{Provider: d, BaseURL: srv.URL, APIKey: wrong, HTTPClient: srv.HTTPClient()})
				if err != nil {
					t.Fatalf("New() = %v", err)
				}
				_, _, err = complete(context.Background(), c, request(), stream)
				var e *Error
				if !errors.As(err, &e) || e.Kind != KindAuth || e.Status != http.StatusUnauthorized {
					t.Fatalf("Complete() with a wrong key = %v, want %v (HTTP 401)", err, KindAuth)
				}
				if strings.Contains(e.Error(), wrong) || e.Message == "" {
					t.Errorf("error %q: want the provider's message without the key", e.Error())
				}
			})
		}
	}
}

func TestCompleteRedactsEchoedKey(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			srv, c, key := setup(t, d, providertest.Options{})
			body := `{"error":{"message":"key ` + key + ` is not valid here","type":"invalid_request_error","param":null,"code":null}}`
			if d == Anthropic {
				body = `{"type":"error","error":{"type":"invalid_request_error","message":"key ` + key + ` is not valid here"}}`
			}
			srv.Enqueue(providertest.Raw(http.StatusBadRequest, http.Header{"Content-Type": {"application/json"}}, body))
			_, err := c.Complete(context.Background(), request(), nil)
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindBadRequest {
				t.Fatalf("Complete() = %v, want %v", err, KindBadRequest)
			}
			if want := "key [redacted] is not valid here"; e.Message != want {
				t.Errorf("Complete() error message = %q, want %q", e.Message, want)
			}
		})
	}
}

func TestCompleteRawErrors(t *testing.T) {
	tests := []struct {
		name    string
		dialect string
		status  int
		body    string
		want    ErrorKind
	}{
		{"openai quota", OpenAI, 429, `{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`, KindAuth},
		{"azure content filter", Azure, 400, `{"error":{"message":"The response was filtered","type":null,"param":"prompt","code":"content_filter","status":400}}`, KindBadRequest},
		{"azure 429 numeric code", Azure, 429, `{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation have exceeded call rate limit."}}`, KindRateLimited},
		{"anthropic 413", Anthropic, 413, `{"type":"error","error":{"type":"request_too_large","message":"Request exceeds the maximum allowed number of bytes."}}`, KindContextTooLong},
		{"anthropic 403", Anthropic, 403, `{"type":"error","error":{"type":"permission_error","message":"Your API key does not have permission to use the specified resource."}}`, KindAuth},
		{"ollama string error", OpenAICompatible, 404, `{"error":"model \"llama9\" not found, try pulling it first"}`, KindBadRequest},
		{"html gateway page", OpenAI, 502, `<html><body>Bad Gateway</body></html>`, KindServer},
		{"empty body", Anthropic, 500, ``, KindServer},
		{"garbage 200", OpenAI, 200, `not json`, KindBadResponse},
		{"200 without choices", OpenAI, 200, `{"id":"x","choices":[]}`, KindBadResponse},
		{"200 carrying an error", OpenAICompatible, 200, `{"error":{"message":"upstream overloaded","type":"server_error","code":"503"}}`, KindOverloaded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, _ := setup(t, tt.dialect, providertest.Options{})
			srv.Enqueue(providertest.Raw(tt.status, http.Header{"Content-Type": {"application/json"}}, tt.body))
			_, err := c.Complete(context.Background(), request(), nil)
			var e *Error
			if !errors.As(err, &e) || e.Kind != tt.want {
				t.Errorf("Complete() on HTTP %d %s = %v, want %v", tt.status, tt.body, err, tt.want)
			}
		})
	}
}

func TestCompleteStreamIgnored(t *testing.T) {
	// Some compatible servers answer a streamed request with one JSON body.
	srv, c, _ := setup(t, OpenAICompatible, providertest.Options{})
	body := `{"id":"x","object":"chat.completion","model":"llama3","choices":[{"index":0,"message":{"role":"assistant","content":"whole answer"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}}`
	srv.Enqueue(providertest.Raw(200, http.Header{"Content-Type": {"application/json"}}, body))
	resp, deltas, err := complete(context.Background(), c, request(), true)
	if err != nil {
		t.Fatalf("Complete() = %v", err)
	}
	if resp.Text != "whole answer" || len(deltas) != 1 || deltas[0] != "whole answer" || resp.Usage != (Usage{5, 2}) {
		t.Errorf("Complete() = %+v with deltas %q, want the whole answer as one delta", resp, deltas)
	}
}

func TestCompleteCancelClosesStream(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			srv, c, _ := setup(t, d, providertest.Options{})
			srv.Enqueue(providertest.HangAfter(1, "first second"))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// The server never sends more; only the cancellation closing the
			// body can end this call.
			_, err := c.Complete(ctx, request(), func(string) { cancel() })
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, context.Canceled) || !e.Started || e.Partial != "first " {
				t.Errorf("Complete() cancelled after the first delta = %v (started %v, partial %q), want context.Canceled with the partial text", err, e != nil && e.Started, partialOf(e))
			}
		})
	}
}

func partialOf(e *Error) string {
	if e == nil {
		return ""
	}
	return e.Partial
}

func TestCompleteServerRateLimit(t *testing.T) {
	for _, d := range dialects {
		t.Run(d, func(t *testing.T) {
			clock := newFakeClock()
			_, c, _ := setup(t, d, providertest.Options{RPM: 2, Now: clock.Now})
			for i := range 2 {
				if _, err := c.Complete(context.Background(), request(), nil); err != nil {
					t.Fatalf("request %d: Complete() = %v", i, err)
				}
				clock.Advance(10 * time.Second)
			}
			_, err := c.Complete(context.Background(), request(), nil)
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindRateLimited {
				t.Fatalf("third request in a minute with RPM 2: Complete() = %v, want %v", err, KindRateLimited)
			}
			if e.Limits.RetryAfter != 40*time.Second || e.Limits.RequestsRemaining != 0 || !e.Limits.HasRequests {
				t.Errorf("rate-limited Limits = %+v, want RetryAfter 40s and 0 requests remaining", e.Limits)
			}
			clock.Advance(40 * time.Second)
			resp, err := c.Complete(context.Background(), request(), nil)
			if err != nil {
				t.Fatalf("after the oldest request left the window: Complete() = %v", err)
			}
			if resp.Limits.RequestsRemaining != 0 {
				t.Errorf("Limits.RequestsRemaining = %d, want 0", resp.Limits.RequestsRemaining)
			}
			if d != Azure && resp.Limits.RequestsReset != 10*time.Second {
				t.Errorf("Limits.RequestsReset = %v, want 10s (the second request leaves the window then)", resp.Limits.RequestsReset)
			}
		})
	}
}

func TestCompleteCompatibleWithoutKey(t *testing.T) {
	srv := providertest.NewServer(t, providertest.Options{Dialect: providertest.OpenAICompatible})
	c, err := New(Config{Provider: OpenAICompatible, BaseURL: srv.URL, HTTPClient: srv.HTTPClient()})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	resp, err := c.Complete(context.Background(), request(), nil)
	if err != nil || resp.Text != "echo: hello world" {
		t.Fatalf("Complete() = %+v, %v; want the echo", resp, err)
	}
	if h := srv.Requests()[0].Header.Get("Authorization"); h != "" {
		t.Errorf("request without a key sent Authorization %q, want none", h)
	}
}

func TestCompleteNetworkError(t *testing.T) {
	srv := providertest.NewServer(nil, providertest.Options{Dialect: providertest.OpenAI})
	url := srv.URL
	srv.Close()
	c, err := New(Config{Provider: OpenAI, BaseURL: url, APIKey: fakeKey("sk-")})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	_, err = c.Complete(context.Background(), request(), nil)
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindNetwork {
		t.Errorf("Complete() against a closed server = %v, want %v", err, KindNetwork)
	}
}

func TestAnthropicSystemMessagesFolded(t *testing.T) {
	srv, c, _ := setup(t, Anthropic, providertest.Options{})
	req := &Request{Model: "m", System: "one", Messages: []Message{
		{Role: "system", Content: "two"},
		{Role: "user", Content: "hi"},
	}}
	if _, err := c.Complete(context.Background(), req, nil); err != nil {
		t.Fatalf("Complete() = %v", err)
	}
	var body struct {
		System    string `json:"system"`
		MaxTokens int    `json:"max_tokens"`
		Messages  []Message
	}
	if err := json.Unmarshal(srv.Requests()[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.System != "one\n\ntwo" || len(body.Messages) != 1 || body.MaxTokens != DefaultAnthropicMaxTokens {
		t.Errorf("request body = %+v, want system %q, one message, max_tokens %d", body, "one\n\ntwo", DefaultAnthropicMaxTokens)
	}
}

func TestNew(t *testing.T) {
	key := fakeKey("sk-")
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"openai default url", Config{Provider: OpenAI, APIKey: key}, ""},
		{"anthropic default url", Config{Provider: Anthropic, APIKey: key}, ""},
		{"azure", Config{Provider: Azure, APIKey: key, BaseURL: "https://res.openai.azure.com/"}, ""},
		{"compatible without key", Config{Provider: OpenAICompatible, BaseURL: "http://127.0.0.1:11434/v1"}, ""},
		{"empty provider", Config{APIKey: key}, "provider is empty"},
		{"unknown provider", Config{Provider: "gemini", APIKey: key}, `unknown provider "gemini"`},
		{"missing key", Config{Provider: OpenAI}, "api key is empty"},
		{"azure without url", Config{Provider: Azure, APIKey: key}, "base url is required"},
		{"compatible without url", Config{Provider: OpenAICompatible}, "base url is required"},
		{"bad scheme", Config{Provider: OpenAI, APIKey: key, BaseURL: "ftp://x"}, "scheme must be http or https"},
		{"relative url", Config{Provider: OpenAI, APIKey: key, BaseURL: "api.openai.com/v1"}, "scheme must be http or https"},
		{"query in url", Config{Provider: OpenAI, APIKey: key, BaseURL: "https://x/v1?a=b"}, "must not carry a query"},
		{"key with newline", Config{Provider: OpenAI, APIKey: key + "\n"}, "whitespace or control characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("New(%s) = %v, want no error", tt.name, err)
			case tt.wantErr == "" && c == nil:
				t.Errorf("New(%s) = nil client", tt.name)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("New(%s) = %v, want an error containing %q", tt.name, err, tt.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), key) {
				t.Errorf("New(%s) error %q contains the key", tt.name, err)
			}
		})
	}
}

func TestCompleteClientTimeout(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(mode(stream), func(t *testing.T) {
			srv := providertest.NewServer(t, providertest.Options{Dialect: providertest.Anthropic})
			srv.Enqueue(providertest.HangAfter(1, "first second"))
			hc := *srv.HTTPClient()
			hc.Timeout = 200 * time.Millisecond
			c, err := New(Config{Provider: Anthropic, BaseURL: srv.URL, APIKey: fakeKey("sk-ant-"), HTTPClient: &hc})
			if err != nil {
				t.Fatalf("New() = %v", err)
			}
			_, _, err = complete(context.Background(), c, request(), stream)
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindTimeout || e.Started != stream {
				t.Errorf("Complete() past the client's timeout = %v (started %v), want %v with started %v", err, e != nil && e.Started, KindTimeout, stream)
			}
		})
	}
}

func TestCompleteLogs(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, _, key := setup(t, OpenAI, providertest.Options{})
	c, err := New(Config{Provider: OpenAI, BaseURL: srv.URL, APIKey: key, HTTPClient: srv.HTTPClient(), Logger: logger})
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	srv.Enqueue(providertest.OK("secret answer text"), providertest.RateLimited(time.Second))
	for range 2 {
		_, _ = c.Complete(context.Background(), request(), nil)
	}
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	if strings.Count(out, "provider call") != 2 || !strings.Contains(out, "kind=rate_limited") {
		t.Errorf("log = %q, want two call records, one rate_limited", out)
	}
	for _, secret := range []string{key, "secret answer", "hello world", "be brief"} {
		if strings.Contains(out, secret) {
			t.Errorf("log %q contains %q", out, secret)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func BenchmarkCompleteStream(b *testing.B) {
	for _, d := range []string{OpenAI, Anthropic} {
		b.Run(d, func(b *testing.B) {
			key := fakeKey("sk-bench-")
			text := strings.TrimSpace(strings.Repeat("word ", 200))
			srv := providertest.NewServer(b, providertest.Options{Dialect: d, APIKey: key, Default: providertest.OK(text)})
			c, err := New(Config{Provider: d, BaseURL: srv.URL, APIKey: key, HTTPClient: srv.HTTPClient()})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Complete(context.Background(), request(), func(string) {}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
