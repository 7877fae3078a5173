package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults applied by New when the Config leaves a field empty.
const (
	DefaultOpenAIBaseURL    = "https://api.openai.com/v1"
	DefaultAnthropicBaseURL = "https://api.anthropic.com"
	DefaultAzureAPIVersion  = "2024-10-21"
	DefaultAnthropicVersion = "2023-06-01"
	// DefaultAnthropicMaxTokens is sent when Request.MaxTokens is 0: the
	// Messages API requires max_tokens and has no default of its own.
	DefaultAnthropicMaxTokens = 4096
)

// maxBody bounds a non-streamed response body or an error body.
const maxBody = 32 << 20

// Config describes one account of one provider.
type Config struct {
	// Provider is OpenAI, Azure, Anthropic or OpenAICompatible.
	Provider string
	// BaseURL overrides the endpoint. Defaults: DefaultOpenAIBaseURL,
	// DefaultAnthropicBaseURL. Azure requires it
	// (https://{resource}.openai.azure.com); OpenAI-compatible servers
	// require it (e.g. http://127.0.0.1:11434/v1 for Ollama).
	BaseURL string
	// APIKey is required except for OpenAI-compatible servers.
	APIKey string
	// APIVersion is Azure's api-version query parameter.
	APIVersion string
	// AnthropicVersion is the anthropic-version header.
	AnthropicVersion string
	// HTTPClient sends the requests; nil means a client with its own
	// transport and no overall timeout (streams may run long: bound each
	// call with its context).
	HTTPClient *http.Client
	// Logger receives one debug record per call; nil discards. Keys and
	// message text are never logged.
	Logger *slog.Logger
	// Now is the clock used when a response has no Date header; nil means
	// time.Now.
	Now func() time.Time
}

// New validates cfg and returns a client for its provider.
func New(cfg Config) (Client, error) {
	if strings.ContainsFunc(cfg.APIKey, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, errors.New("creating provider client: api key contains whitespace or control characters")
	}
	switch cfg.Provider {
	case OpenAI, OpenAICompatible, Azure, Anthropic:
	case "":
		return nil, fmt.Errorf("creating provider client: provider is empty (want %s, %s, %s or %s)", OpenAI, Azure, Anthropic, OpenAICompatible)
	default:
		return nil, fmt.Errorf("creating provider client: unknown provider %q (want %s, %s, %s or %s)", cfg.Provider, OpenAI, Azure, Anthropic, OpenAICompatible)
	}
	if cfg.APIKey == "" && cfg.Provider != OpenAICompatible {
		return nil, fmt.Errorf("creating %s client: api key is empty", cfg.Provider)
	}
	base := cfg.BaseURL
	if base == "" {
		switch cfg.Provider {
		case OpenAI:
			base = DefaultOpenAIBaseURL
		case Anthropic:
			base = DefaultAnthropicBaseURL
		default:
			return nil, fmt.Errorf("creating %s client: base url is required", cfg.Provider)
		}
	}
	base, err := checkBaseURL(base)
	if err != nil {
		return nil, fmt.Errorf("creating %s client: %w", cfg.Provider, err)
	}
	t := transport{
		provider: cfg.Provider,
		client:   cfg.HTTPClient,
		logger:   cfg.Logger,
		now:      cfg.Now,
		key:      cfg.APIKey,
	}
	if t.client == nil {
		t.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	if t.logger == nil {
		t.logger = slog.New(slog.DiscardHandler)
	}
	if t.now == nil {
		t.now = time.Now
	}
	switch cfg.Provider {
	case Anthropic:
		v := cfg.AnthropicVersion
		if v == "" {
			v = DefaultAnthropicVersion
		}
		return newAnthropic(t, base, v), nil
	case Azure:
		v := cfg.APIVersion
		if v == "" {
			v = DefaultAzureAPIVersion
		}
		return newAzure(t, base, v), nil
	}
	return newOpenAI(t, base), nil
}

// checkBaseURL accepts an absolute http(s) URL without query or fragment
// and returns it without a trailing slash.
func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("parsing base url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("base url %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("base url %q: no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("base url %q: must not carry a query, fragment or user info", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

// apiError is a provider's error body reduced to what classification needs.
type apiError struct {
	Type    string
	Code    string
	Message string
}

// transport is the HTTP machinery every provider shares.
type transport struct {
	provider string
	client   *http.Client
	logger   *slog.Logger
	now      func() time.Time
	key      string
}

// call describes one HTTP exchange in a provider's dialect.
type call struct {
	url        string
	header     http.Header
	body       any
	model      string
	limits     func(http.Header, time.Time) Limits
	parseError func([]byte) (apiError, bool)
}

// post sends c and returns the response when its status is 2xx. Otherwise it
// reads the error body and returns a classified *Error.
func (t *transport) post(ctx context.Context, c *call) (*http.Response, Limits, error) {
	body, err := json.Marshal(c.body)
	if err != nil {
		return nil, Limits{}, &Error{Kind: KindBadRequest, Message: "encoding request: " + err.Error(), Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, Limits{}, &Error{Kind: KindBadRequest, Message: "building request: " + redact(err.Error(), t.key), Err: err}
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return nil, Limits{}, transportError(ctx, "sending request", err)
	}
	limits := c.limits(resp.Header, t.now())
	if resp.StatusCode/100 == 2 {
		return resp, limits, nil
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		e := transportError(ctx, fmt.Sprintf("reading HTTP %d error body", resp.StatusCode), err)
		e.Status = resp.StatusCode
		e.Limits = limits
		return nil, limits, e
	}
	ae, ok := c.parseError(data)
	if !ok {
		ae = apiError{Message: strings.TrimSpace(string(data))}
		if ae.Message == "" {
			ae.Message = http.StatusText(resp.StatusCode)
		}
	}
	return nil, limits, &Error{
		Kind:    classifyStatus(resp.StatusCode, ae.Type, ae.Code, ae.Message),
		Status:  resp.StatusCode,
		Message: redact(ae.Message, t.key),
		Limits:  limits,
	}
}

// readJSON decodes a non-streamed 2xx body into v.
func (t *transport) readJSON(ctx context.Context, resp *http.Response, v any) error {
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return transportError(ctx, "reading response body", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return &Error{Kind: KindBadResponse, Status: resp.StatusCode, Message: "decoding response body: " + err.Error(), Err: err}
	}
	return nil
}

// log records the outcome of one call, without keys or text.
func (t *transport) log(ctx context.Context, model string, stream bool, start time.Time, err error) {
	if !t.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []any{"provider", t.provider, "model", model, "stream", stream, "ms", time.Since(start).Milliseconds()}
	var e *Error
	if errors.As(err, &e) {
		attrs = append(attrs, "kind", e.Kind.String(), "status", e.Status)
	}
	t.logger.DebugContext(ctx, "provider call", attrs...)
}

// isEventStream reports whether a 2xx response carries an event stream
// rather than a single JSON document (some compatible servers ignore
// "stream": true).
func isEventStream(resp *http.Response) bool {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	return err != nil || mt != "application/json"
}

// stream accumulates a streamed answer.
type stream struct {
	text    strings.Builder
	started bool
	onDelta func(string)
	resp    Response
}

func (s *stream) delta(text string) {
	if text == "" {
		return
	}
	s.text.WriteString(text)
	s.started = true
	s.onDelta(text)
}

// run feeds events from body to handle until handle reports the terminal
// event. A stream that ends or breaks before it is a KindStreamCut error.
func (s *stream) run(ctx context.Context, body io.Reader, handle func(sseEvent) (done bool, err error)) error {
	r := newSSEReader(body)
	for {
		if err := ctx.Err(); err != nil {
			return transportError(ctx, "reading event stream", err)
		}
		ev, err := r.Next()
		if err != nil {
			if ctx.Err() != nil {
				return transportError(ctx, "reading event stream", err)
			}
			if errors.Is(err, io.EOF) {
				return &Error{Kind: KindStreamCut, Message: "event stream ended before its final event"}
			}
			if errors.Is(err, errSSELineTooLong) {
				return &Error{Kind: KindBadResponse, Message: "reading event stream: " + err.Error(), Err: err}
			}
			e := transportError(ctx, "reading event stream", err)
			if e.Kind == KindNetwork {
				e.Kind = KindStreamCut
			}
			return e
		}
		done, err := handle(ev)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}

// fail turns err into the *Error a streamed call returns: what was
// streamed so far travels with it.
func (s *stream) fail(err error, limits Limits) *Error {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Kind: KindUnknown, Message: err.Error(), Err: err}
	}
	e.Limits = limits
	e.Partial = s.text.String()
	e.Started = s.started
	return e
}
