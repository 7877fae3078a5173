package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Dialects a Server can speak, named as in the config file.
const (
	OpenAI           = "openai"
	Azure            = "azure"
	Anthropic        = "anthropic"
	OpenAICompatible = "openai-compatible"
)

// Options configure a Server. The zero value is an OpenAI-compatible server
// that takes any key, has no limits and echoes.
type Options struct {
	// Dialect is OpenAI, Azure, Anthropic or OpenAICompatible ("" means
	// OpenAICompatible).
	Dialect string
	// APIKey is the key the server accepts. Empty: OpenAI, Azure and
	// Anthropic accept any non-empty key; OpenAI-compatible checks nothing.
	APIKey string
	// RPM and TPM are the limits over a rolling minute; 0 means no limit
	// and no rate-limit headers for that window.
	RPM, TPM int
	// ContextWindow, when positive, makes requests whose estimated prompt
	// exceeds it fail with the dialect's context-length error.
	ContextWindow int
	// Model is the model name reported in answers; "" reports the
	// requested model (Azure: the deployment).
	Model string
	// Now is the clock for rate-limit accounting and the Date header; nil
	// means time.Now.
	Now func() time.Time
	// Default answers requests when the script queue is empty; the zero
	// Behavior echoes.
	Default Behavior
}

// Request is one request the server received, kept verbatim.
type Request struct {
	Method string
	Path   string
	Query  string
	// Header holds the credentials the client sent. Never print it.
	Header http.Header
	Body   []byte
	// Model is the requested model (Azure: the deployment in the path).
	Model string
	// Stream reports whether the body asked for a stream.
	Stream bool
}

// String describes r without its headers or body.
func (r Request) String() string {
	return fmt.Sprintf("%s %s (model %q, stream %v, %d-byte body)", r.Method, r.Path, r.Model, r.Stream, len(r.Body))
}

// Server is a local provider endpoint. See the package documentation.
type Server struct {
	// URL is the base URL a client config uses: for OpenAI and compatible
	// dialects it ends in /v1; for Azure and Anthropic it is the server root.
	URL string

	opts Options
	hs   *httptest.Server
	done chan struct{}
	once sync.Once

	mu       sync.Mutex
	queue    []Behavior
	requests []Request
	uses     []use // accepted requests still in the rolling minute
	nextID   int
}

// use is one accepted request in the rate-limit window.
type use struct {
	at     time.Time
	tokens int
}

const window = time.Minute

// NewServer starts a server; tb, when non-nil, closes it at cleanup.
func NewServer(tb testing.TB, opts Options) *Server {
	if opts.Dialect == "" {
		opts.Dialect = OpenAICompatible
	}
	switch opts.Dialect {
	case OpenAI, Azure, Anthropic, OpenAICompatible:
	default:
		panic(fmt.Sprintf("providertest: unknown dialect %q", opts.Dialect))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, done: make(chan struct{})}
	s.hs = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.hs.URL
	if opts.Dialect == OpenAI || opts.Dialect == OpenAICompatible {
		s.URL += "/v1"
	}
	if tb != nil {
		tb.Cleanup(s.Close)
	}
	return s
}

// Close releases hanging handlers, then shuts the server down.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.hs.CloseClientConnections()
		s.hs.Close()
	})
}

// HTTPClient returns a client for the server.
func (s *Server) HTTPClient() *http.Client { return s.hs.Client() }

// Enqueue appends behaviours for the next requests, one per request, in
// order. Requests rejected before scripting (bad credentials, bad path or
// body, the server's own rate limit) do not consume the queue.
func (s *Server) Enqueue(b ...Behavior) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, b...)
}

// Requests returns a copy of every request received so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Header = r.Header.Clone()
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// Count returns how many requests the server has received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// chatInput is what the server needs from a request body, in any dialect.
type chatInput struct {
	Model               string          `json:"model"`
	Messages            []inputMessage  `json:"messages"`
	System              json.RawMessage `json:"system"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type inputMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// text returns a message's text: a string, or text parts.
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &parts) == nil {
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		return b.String()
	}
	return ""
}

// EstimateTokens is the server's token count for text: one token per four
// bytes, rounded up. Prompt usage is the sum over the system prompt and every
// message; completion usage is the count for the answer text.
func EstimateTokens(text string) int { return (len(text) + 3) / 4 }

func (in *chatInput) promptTokens() int {
	n := EstimateTokens(contentText(in.System))
	for _, m := range in.Messages {
		n += EstimateTokens(contentText(m.Content))
	}
	return n
}

func (in *chatInput) maxTokens() int {
	switch {
	case in.MaxCompletionTokens != nil:
		return *in.MaxCompletionTokens
	case in.MaxTokens != nil:
		return *in.MaxTokens
	}
	return 0
}

func (in *chatInput) lastUser() string {
	for i := len(in.Messages) - 1; i >= 0; i-- {
		if in.Messages[i].Role == "user" {
			return contentText(in.Messages[i].Content)
		}
	}
	return ""
}

// exchange is one request being answered.
type exchange struct {
	w      http.ResponseWriter
	r      *http.Request
	body   []byte
	in     chatInput
	model  string
	id     string
	limits limitState
	now    time.Time
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	now := s.opts.Now()
	x := &exchange{w: w, r: r, body: body, now: now}

	model, pathOK := s.route(r)
	rec.Model = model
	var in chatInput
	bodyErr := json.Unmarshal(body, &in)
	rec.Stream = bodyErr == nil && in.Stream
	if rec.Model == "" && bodyErr == nil {
		rec.Model = in.Model
	}

	s.mu.Lock()
	s.requests = append(s.requests, rec)
	s.nextID++
	id := s.nextID
	x.limits = s.limitsLocked(now)
	s.mu.Unlock()

	x.model = rec.Model
	if s.opts.Model != "" {
		x.model = s.opts.Model
	}
	if s.opts.Dialect == Anthropic {
		x.id = fmt.Sprintf("msg_%024d", id)
	} else {
		x.id = fmt.Sprintf("chatcmpl-%d", id)
	}
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))

	if !pathOK {
		s.notFound(x)
		return
	}
	if !s.authorized(x) {
		return
	}
	if bodyErr != nil {
		s.invalidJSON(x)
		return
	}
	x.in = in
	if !s.validate(x) {
		return
	}
	prompt := in.promptTokens()
	if s.opts.ContextWindow > 0 && prompt > s.opts.ContextWindow {
		s.contextTooLong(x, prompt)
		return
	}
	s.mu.Lock()
	limited, retry, which := s.admitLocked(now, prompt+in.maxTokens())
	x.limits = s.limitsLocked(now)
	var b Behavior
	if !limited {
		b = s.opts.Default
		if len(s.queue) > 0 {
			b = s.queue[0]
			s.queue = s.queue[1:]
		}
	}
	s.mu.Unlock()
	if limited {
		s.rateLimited(x, retry, which)
		return
	}
	s.behave(x, b)
}

// route checks the method and path and returns the deployment for Azure.
func (s *Server) route(r *http.Request) (deployment string, ok bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	switch s.opts.Dialect {
	case Anthropic:
		return "", r.URL.Path == "/v1/messages"
	case Azure:
		rest, found := strings.CutPrefix(r.URL.Path, "/openai/deployments/")
		if !found {
			return "", false
		}
		dep, tail, found := strings.Cut(rest, "/")
		if !found || dep == "" || tail != "chat/completions" || r.URL.Query().Get("api-version") == "" {
			return "", false
		}
		return dep, true
	}
	return "", r.URL.Path == "/v1/chat/completions"
}

// authorized checks credentials as the real service does and answers 401
// when they are wrong.
func (s *Server) authorized(x *exchange) bool {
	h := x.r.Header
	var got string
	switch s.opts.Dialect {
	case Anthropic:
		got = h.Get("x-api-key")
	case Azure:
		got = h.Get("api-key")
	default:
		auth := h.Get("Authorization")
		got, _ = strings.CutPrefix(auth, "Bearer ")
		if s.opts.Dialect == OpenAICompatible && s.opts.APIKey == "" {
			return true
		}
	}
	switch {
	case got == "":
		s.unauthorized(x, true)
		return false
	case s.opts.APIKey != "" && got != s.opts.APIKey:
		s.unauthorized(x, false)
		return false
	}
	return true
}

// admitLocked applies the rolling-minute limits to a request costing tokens.
// It records the use when admitted; otherwise it reports how long until the
// request would fit and which limit refused it ("requests" or "tokens").
func (s *Server) admitLocked(now time.Time, tokens int) (limited bool, retry time.Duration, which string) {
	s.pruneLocked(now)
	if s.opts.RPM > 0 && len(s.uses) >= s.opts.RPM {
		return true, s.uses[0].at.Add(window).Sub(now), "requests"
	}
	if s.opts.TPM > 0 {
		used := 0
		for _, u := range s.uses {
			used += u.tokens
		}
		if used+tokens > s.opts.TPM {
			retry = window
			freed := 0
			for _, u := range s.uses {
				freed += u.tokens
				if used-freed+tokens <= s.opts.TPM {
					retry = u.at.Add(window).Sub(now)
					break
				}
			}
			return true, retry, "tokens"
		}
	}
	s.uses = append(s.uses, use{at: now, tokens: tokens})
	return false, 0, ""
}

func (s *Server) pruneLocked(now time.Time) {
	i := 0
	for i < len(s.uses) && !s.uses[i].at.Add(window).After(now) {
		i++
	}
	s.uses = s.uses[i:]
}

// limitState is the window as the rate-limit headers report it.
type limitState struct {
	rpm, tpm                   int
	requestsLeft, tokensLeft   int
	requestsReset, tokensReset time.Duration
}

func (s *Server) limitsLocked(now time.Time) limitState {
	s.pruneLocked(now)
	l := limitState{rpm: s.opts.RPM, tpm: s.opts.TPM}
	used := 0
	for _, u := range s.uses {
		used += u.tokens
	}
	l.requestsLeft = max(s.opts.RPM-len(s.uses), 0)
	l.tokensLeft = max(s.opts.TPM-used, 0)
	if len(s.uses) > 0 {
		l.requestsReset = s.uses[0].at.Add(window).Sub(now)
		for _, u := range s.uses {
			if u.tokens > 0 {
				l.tokensReset = u.at.Add(window).Sub(now)
				break
			}
		}
	}
	return l
}
