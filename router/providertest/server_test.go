package providertest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
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

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 4, 5, 6, 0, 0, time.UTC)} }

// testKey builds a key-shaped string at run time; it is no real credential.
func testKey() string { return "sk-" + strings.Repeat("x1y2", 8) }

// call describes one raw request in a dialect.
type call struct {
	path   string
	header http.Header
	body   string
}

// okCall is a valid request in dialect d with key.
func okCall(d, key string, stream bool) call {
	c := call{header: http.Header{"Content-Type": {"application/json"}}}
	switch d {
	case Anthropic:
		c.path = "/v1/messages"
		c.header.Set("x-api-key", key)
		c.header.Set("anthropic-version", "2023-06-01")
		c.body = fmt.Sprintf(`{"model":"claude-x","max_tokens":50,"system":"sys","messages":[{"role":"user","content":"hello there"}],"stream":%v}`, stream)
		return c
	case Azure:
		c.path = "/openai/deployments/dep1/chat/completions?api-version=2024-10-21"
		c.header.Set("api-key", key)
	default:
		c.path = "/v1/chat/completions"
		c.header.Set("Authorization", "Bearer "+key)
	}
	opts := ""
	if stream {
		opts = `,"stream_options":{"include_usage":true}`
	}
	c.body = fmt.Sprintf(`{"model":"gpt-x","max_tokens":50,"messages":[{"role":"system","content":"sys"},{"role":"user","content":"hello there"}],"stream":%v%s}`, stream, opts)
	return c
}

func do(t *testing.T, s *Server, c call) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.hs.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = c.header
	resp, err := s.HTTPClient().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", c.path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading %s: %v", c.path, err)
	}
	return resp, string(b)
}

var allDialects = []string{OpenAI, Azure, Anthropic, OpenAICompatible}

func TestAuth(t *testing.T) {
	key := testKey()
	tests := []struct {
		dialect, send string
		wantStatus    int
		wantBody      string
	}{
		{OpenAI, key, 200, `"object":"chat.completion"`},
		{OpenAI, "", 401, `You didn't provide an API key`},
		{OpenAI, "sk-wrongwrongwrong", 401, `"code":"invalid_api_key"`},
		{Azure, key, 200, `"object":"chat.completion"`},
		{Azure, "wrong", 401, `"code":"401"`},
		{Anthropic, key, 200, `"type":"message"`},
		{Anthropic, "", 401, `"type":"authentication_error","message":"x-api-key header is required"`},
		{Anthropic, "wrong", 401, `"message":"invalid x-api-key"`},
		{OpenAICompatible, key, 200, `"object":"chat.completion"`},
		{OpenAICompatible, "wrong", 401, `"code":"invalid_api_key"`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/status-%d-%d", tt.dialect, tt.wantStatus, len(tt.send)), func(t *testing.T) {
			s := NewServer(t, Options{Dialect: tt.dialect, APIKey: key})
			c := okCall(tt.dialect, tt.send, false)
			if tt.send == "" {
				c.header.Del("Authorization")
				c.header.Del("x-api-key")
			}
			resp, body := do(t, s, c)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("POST with key %v = %d %s, want %d containing %s", tt.send == key, resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
			if strings.Contains(body, tt.send) && tt.send != "" && tt.wantStatus == 401 && len(tt.send) > 8 {
				t.Errorf("401 body %s echoes the whole key", body)
			}
		})
	}
	t.Run("compatible without configured key", func(t *testing.T) {
		s := NewServer(t, Options{})
		c := okCall(OpenAICompatible, "", false)
		c.header.Del("Authorization")
		if resp, body := do(t, s, c); resp.StatusCode != 200 {
			t.Errorf("keyless POST = %d %s, want 200", resp.StatusCode, body)
		}
	})
}

func TestValidation(t *testing.T) {
	key := testKey()
	tests := []struct {
		name, dialect string
		edit          func(*call)
		wantStatus    int
		wantBody      string
	}{
		{"anthropic without version", Anthropic, func(c *call) { c.header.Del("anthropic-version") }, 400, "anthropic-version: header is required"},
		{"anthropic without max_tokens", Anthropic, func(c *call) { c.body = strings.Replace(c.body, `"max_tokens":50,`, "", 1) }, 400, "max_tokens: Field required"},
		{"anthropic extra field", Anthropic, func(c *call) { c.body = strings.Replace(c.body, `{`, `{"stream_options":{},`, 1) }, 400, "stream_options: Extra inputs are not permitted"},
		{"anthropic system role", Anthropic, func(c *call) {
			c.body = strings.Replace(c.body, `"role":"user"`, `"role":"system"`, 1)
		}, 400, "messages.0.role"},
		{"anthropic bad json", Anthropic, func(c *call) { c.body = "{" }, 400, `"type":"invalid_request_error"`},
		{"anthropic wrong path", Anthropic, func(c *call) { c.path = "/v1/complete" }, 404, `"type":"not_found_error"`},
		{"openai without model", OpenAI, func(c *call) { c.body = strings.Replace(c.body, `"model":"gpt-x",`, "", 1) }, 400, "you must provide a model parameter"},
		{"openai no messages", OpenAI, func(c *call) { c.body = `{"model":"m","messages":[]}` }, 400, "is too short"},
		{"openai stream_options without stream", OpenAI, func(c *call) {
			c.body = `{"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}`
		}, 400, "only allowed when 'stream' is enabled"},
		{"openai wrong path", OpenAI, func(c *call) { c.path = "/v1/completions" }, 404, "Invalid URL (POST /v1/completions)"},
		{"azure without api-version", Azure, func(c *call) { c.path = "/openai/deployments/dep1/chat/completions" }, 404, "Resource not found"},
		{"azure model in body is fine", Azure, func(c *call) {}, 200, `"model":"dep1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewServer(t, Options{Dialect: tt.dialect, APIKey: key})
			c := okCall(tt.dialect, key, false)
			tt.edit(&c)
			resp, body := do(t, s, c)
			if resp.StatusCode != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
				t.Errorf("POST = %d %s, want %d containing %q", resp.StatusCode, body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func TestRateLimitHeaders(t *testing.T) {
	key := testKey()
	// The request costs EstimateTokens("sys")+EstimateTokens("hello there")+50 = 1+3+50 tokens.
	const cost = 54
	tests := []struct {
		dialect string
		check   func(h http.Header, i int) string
	}{
		{OpenAI, func(h http.Header, i int) string {
			return fmt.Sprintf("%s %s %s %s %s %s", h.Get("x-ratelimit-limit-requests"), h.Get("x-ratelimit-remaining-requests"), h.Get("x-ratelimit-reset-requests"),
				h.Get("x-ratelimit-limit-tokens"), h.Get("x-ratelimit-remaining-tokens"), h.Get("x-ratelimit-reset-tokens"))
		}},
		{Azure, func(h http.Header, i int) string {
			return fmt.Sprintf("%s %s", h.Get("x-ratelimit-remaining-requests"), h.Get("x-ratelimit-remaining-tokens"))
		}},
		{Anthropic, func(h http.Header, i int) string {
			return fmt.Sprintf("%s %s %s %s %s %s %s", h.Get("Date"), h.Get("anthropic-ratelimit-requests-limit"), h.Get("anthropic-ratelimit-requests-remaining"), h.Get("anthropic-ratelimit-requests-reset"),
				h.Get("anthropic-ratelimit-tokens-limit"), h.Get("anthropic-ratelimit-tokens-remaining"), h.Get("anthropic-ratelimit-input-tokens-reset"))
		}},
	}
	want := map[string][]string{
		OpenAI: {
			fmt.Sprintf("3 2 1m0s 1000 %d 1m0s", 1000-cost),
			fmt.Sprintf("3 1 50s 1000 %d 50s", 1000-2*cost),
			fmt.Sprintf("3 0 40s 1000 %d 40s", 1000-3*cost),
		},
		Azure: {
			fmt.Sprintf("2 %d", 1000-cost),
			fmt.Sprintf("1 %d", 1000-2*cost),
			fmt.Sprintf("0 %d", 1000-3*cost),
		},
		Anthropic: {
			fmt.Sprintf("Wed, 04 Mar 2026 05:06:00 GMT 3 2 2026-03-04T05:07:00Z 1000 %d 2026-03-04T05:07:00Z", 1000-cost),
			fmt.Sprintf("Wed, 04 Mar 2026 05:06:10 GMT 3 1 2026-03-04T05:07:00Z 1000 %d 2026-03-04T05:07:00Z", 1000-2*cost),
			fmt.Sprintf("Wed, 04 Mar 2026 05:06:20 GMT 3 0 2026-03-04T05:07:00Z 1000 %d 2026-03-04T05:07:00Z", 1000-3*cost),
		},
	}
	for _, tt := range tests {
		t.Run(tt.dialect, func(t *testing.T) {
			clock := newClock()
			s := NewServer(t, Options{Dialect: tt.dialect, APIKey: key, RPM: 3, TPM: 1000, Now: clock.Now})
			for i, w := range want[tt.dialect] {
				resp, body := do(t, s, okCall(tt.dialect, key, false))
				if resp.StatusCode != 200 {
					t.Fatalf("request %d = %d %s, want 200", i, resp.StatusCode, body)
				}
				if got := tt.check(resp.Header, i); got != w {
					t.Errorf("request %d headers = %q, want %q", i, got, w)
				}
				clock.Advance(10 * time.Second)
			}
			// Fourth request at +30s: the first leaves the window at +60s.
			resp, body := do(t, s, okCall(tt.dialect, key, false))
			if resp.StatusCode != 429 || resp.Header.Get("retry-after") != "30" {
				t.Fatalf("fourth request = %d retry-after %q %s, want 429 with retry-after 30", resp.StatusCode, resp.Header.Get("retry-after"), body)
			}
			if tt.dialect == Azure && resp.Header.Get("retry-after-ms") != "30000" {
				t.Errorf("azure 429 retry-after-ms = %q, want 30000", resp.Header.Get("retry-after-ms"))
			}
			wantBody := map[string]string{OpenAI: `"code":"rate_limit_exceeded"`, Azure: `"code":"429"`, Anthropic: `"type":"rate_limit_error"`}[tt.dialect]
			if !strings.Contains(body, wantBody) {
				t.Errorf("429 body %s, want it to contain %s", body, wantBody)
			}
			clock.Advance(30 * time.Second)
			if resp, body := do(t, s, okCall(tt.dialect, key, false)); resp.StatusCode != 200 {
				t.Errorf("request after the window moved = %d %s, want 200", resp.StatusCode, body)
			}
			if got := s.Count(); got != 5 {
				t.Errorf("Count() = %d, want 5", got)
			}
		})
	}
}

func TestTokenLimit(t *testing.T) {
	key := testKey()
	clock := newClock()
	s := NewServer(t, Options{Dialect: OpenAI, APIKey: key, TPM: 100, Now: clock.Now})
	if resp, body := do(t, s, okCall(OpenAI, key, false)); resp.StatusCode != 200 {
		t.Fatalf("first request = %d %s", resp.StatusCode, body)
	}
	clock.Advance(15 * time.Second)
	resp, body := do(t, s, okCall(OpenAI, key, false))
	if resp.StatusCode != 429 || resp.Header.Get("retry-after") != "45" || !strings.Contains(body, "tokens per min (TPM)") {
		t.Errorf("second 54-token request under TPM 100 = %d retry-after %q %s, want 429 after 45s on tokens", resp.StatusCode, resp.Header.Get("retry-after"), body)
	}
}

func TestContextWindow(t *testing.T) {
	key := testKey()
	for _, d := range allDialects {
		t.Run(d, func(t *testing.T) {
			s := NewServer(t, Options{Dialect: d, APIKey: key, ContextWindow: 3})
			resp, body := do(t, s, okCall(d, key, false))
			want := `"code":"context_length_exceeded"`
			if d == Anthropic {
				want = "prompt is too long: 4 tokens > 3 maximum"
			}
			if resp.StatusCode != 400 || !strings.Contains(body, want) {
				t.Errorf("over-long prompt = %d %s, want 400 containing %s", resp.StatusCode, body, want)
			}
		})
	}
}

// events reads an event stream body into (event, data) pairs.
func events(body string) [][2]string {
	var out [][2]string
	var ev string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "event: "):
			ev = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			out = append(out, [2]string{ev, strings.TrimPrefix(line, "data: ")})
			ev = ""
		}
	}
	return out
}

func TestStreamShapes(t *testing.T) {
	key := testKey()
	t.Run("openai", func(t *testing.T) {
		s := NewServer(t, Options{Dialect: OpenAI, APIKey: key})
		s.Enqueue(OK("one two"))
		resp, body := do(t, s, okCall(OpenAI, key, true))
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			t.Errorf("Content-Type = %q, want text/event-stream", ct)
		}
		evs := events(body)
		if len(evs) != 6 || evs[len(evs)-1][1] != "[DONE]" {
			t.Fatalf("stream = %q, want role, 2 deltas, finish, usage, [DONE]", evs)
		}
		var usage struct {
			Choices []any          `json:"choices"`
			Usage   map[string]int `json:"usage"`
		}
		if err := json.Unmarshal([]byte(evs[4][1]), &usage); err != nil || len(usage.Choices) != 0 || usage.Usage["prompt_tokens"] != 4 || usage.Usage["completion_tokens"] != 2 {
			t.Errorf("usage chunk = %s (%v), want empty choices and usage 4/2", evs[4][1], err)
		}
	})
	t.Run("openai without include_usage", func(t *testing.T) {
		s := NewServer(t, Options{Dialect: OpenAI, APIKey: key})
		s.Enqueue(OK("one two"))
		c := okCall(OpenAI, key, true)
		c.body = strings.Replace(c.body, `,"stream_options":{"include_usage":true}`, "", 1)
		_, body := do(t, s, c)
		if evs := events(body); len(evs) != 5 || strings.Contains(body, `"prompt_tokens"`) {
			t.Errorf("stream = %q, want no usage chunk", evs)
		}
	})
	t.Run("azure opens with prompt filter results", func(t *testing.T) {
		s := NewServer(t, Options{Dialect: Azure, APIKey: key})
		_, body := do(t, s, okCall(Azure, key, true))
		if evs := events(body); len(evs) < 2 || !strings.Contains(evs[0][1], "prompt_filter_results") {
			t.Errorf("stream = %q, want a prompt_filter_results chunk first", evs)
		}
	})
	t.Run("anthropic", func(t *testing.T) {
		s := NewServer(t, Options{Dialect: Anthropic, APIKey: key})
		s.Enqueue(OK("one two"))
		_, body := do(t, s, okCall(Anthropic, key, true))
		var names []string
		for _, e := range events(body) {
			names = append(names, e[0])
		}
		want := "message_start content_block_start ping content_block_delta content_block_delta content_block_stop message_delta message_stop"
		if got := strings.Join(names, " "); got != want {
			t.Errorf("events = %s, want %s", got, want)
		}
	})
	t.Run("anthropic error event", func(t *testing.T) {
		s := NewServer(t, Options{Dialect: Anthropic, APIKey: key})
		s.Enqueue(ErrorAfter(1, "one two"))
		_, body := do(t, s, okCall(Anthropic, key, true))
		evs := events(body)
		if last := evs[len(evs)-1]; last[0] != "error" || !strings.Contains(last[1], "overloaded_error") {
			t.Errorf("last event = %q, want an overloaded_error event", last)
		}
	})
}

func TestScript(t *testing.T) {
	key := testKey()
	s := NewServer(t, Options{Dialect: Anthropic, APIKey: key, Default: OK("default answer")})
	s.Enqueue(ServerError(), Overloaded(), SlowFirstToken(time.Millisecond, "slow"), Echo())
	wants := []struct {
		status int
		body   string
	}{
		{500, `"type":"api_error"`},
		{529, `"type":"overloaded_error"`},
		{200, `"text":"slow"`},
		{200, `"text":"echo: hello there"`},
		{200, `"text":"default answer"`},
	}
	for i, w := range wants {
		resp, body := do(t, s, okCall(Anthropic, key, false))
		if resp.StatusCode != w.status || !strings.Contains(body, w.body) {
			t.Errorf("request %d = %d %s, want %d containing %s", i, resp.StatusCode, body, w.status, w.body)
		}
	}
	reqs := s.Requests()
	if len(reqs) != len(wants) {
		t.Fatalf("Requests() has %d entries, want %d", len(reqs), len(wants))
	}
	if r := reqs[0]; r.Model != "claude-x" || r.Stream || !strings.Contains(string(r.Body), "hello there") || r.Header.Get("x-api-key") != key {
		t.Errorf("recorded request %v does not match what was sent", r)
	}
	if str := fmt.Sprint(reqs[0]); strings.Contains(str, key) {
		t.Errorf("Request printed as %q, which shows the key", str)
	}
}

func TestConcurrentRequests(t *testing.T) {
	key := testKey()
	clock := newClock()
	s := NewServer(t, Options{Dialect: OpenAI, APIKey: key, RPM: 10, Now: clock.Now})
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for range 20 {
		wg.Go(func() {
			resp, err := s.HTTPClient().Do(mustRequest(s, okCall(OpenAI, key, false)))
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			mu.Lock()
			statuses[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if statuses[200] != 10 || statuses[429] != 10 || s.Count() != 20 {
		t.Errorf("20 concurrent requests under RPM 10 gave %v with Count %d, want 10×200, 10×429, 20", statuses, s.Count())
	}
}

func mustRequest(s *Server, c call) *http.Request {
	req, err := http.NewRequest(http.MethodPost, s.hs.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		panic(err)
	}
	req.Header = c.header
	return req
}

func TestCloseReleasesHang(t *testing.T) {
	key := testKey()
	s := NewServer(nil, Options{Dialect: OpenAI, APIKey: key})
	s.Enqueue(Hang())
	done := make(chan error, 1)
	go func() {
		resp, err := s.HTTPClient().Do(mustRequest(s, okCall(OpenAI, key, false)))
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	for s.Count() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Close() // returns only once the hanging handler has
	<-done
}

func TestHangUntilClientGivesUp(t *testing.T) {
	key := testKey()
	s := NewServer(t, Options{Dialect: Azure, APIKey: key})
	s.Enqueue(Hang())
	ctx, cancel := context.WithCancel(context.Background())
	req := mustRequest(s, okCall(Azure, key, false)).WithContext(ctx)
	go func() {
		for s.Count() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	if resp, err := s.HTTPClient().Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("hanging request returned %d, want the client's cancellation", resp.StatusCode)
	}
}
