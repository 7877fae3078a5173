// Package provider translates chat requests into the wire formats of LLM
// providers (OpenAI, Azure OpenAI, Anthropic and OpenAI-compatible servers)
// and sends them. It makes no policy decisions: which account, which model,
// whether to retry and how much context to send are the router's business.
//
// Each Complete call is one HTTP request: no retries, no waiting, no
// fallback. What the router needs to decide comes back with every outcome:
// the rate-limit headers as Limits (on success and on failure), and failures
// as *Error classified by ErrorKind. A streamed failure carries the text
// already delivered (Partial, Started) so the caller knows whether the user
// saw anything. Clients hold no mutable state and are safe for concurrent
// use; they start no goroutines.
//
// Streams are read with a small Server-Sent Events parser of our own
// (sse.go) rather than a library: the format is a one-page part of the
// WHATWG HTML standard, the maintained Go SSE libraries are built around
// reconnecting EventSource clients (retry, Last-Event-ID) that would fight
// the router's own retry policy, and a parser we own lets us guarantee what
// matters here — CR, LF and CRLF line endings, multi-line data, comments,
// an event dispatched the moment its blank line arrives, a bounded line
// length, and "ended inside an event" told apart from a clean end.
package provider

import (
	"context"
	"fmt"
	"time"
)

// Names of the supported providers, as written in the config file.
const (
	OpenAI           = "openai"
	Azure            = "azure"
	Anthropic        = "anthropic"
	OpenAICompatible = "openai-compatible"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"` // "user" or "assistant"
	Content string `json:"content"`
}

// Request is a provider-neutral chat request.
type Request struct {
	Model       string // name sent to the provider (Azure: deployment name)
	System      string // system prompt; Anthropic gets it in the "system" field
	Messages    []Message
	MaxTokens   int
	Temperature *float64
}

// Usage is the token accounting a provider reports.
type Usage struct {
	PromptTokens     int
	CompletionTokens int
}

// Limits is what a response's rate-limit headers said. A zero field with its
// Has flag false means the provider did not say. Azure reports only the
// remaining counts: HasRequests/HasTokens are then set with a zero limit.
// Anthropic's tightest token window (tokens, input-tokens, output-tokens by
// fraction remaining) is the one reported. Resets are relative to the
// response's Date header.
type Limits struct {
	HasRequests       bool
	RequestsLimit     int
	RequestsRemaining int
	RequestsReset     time.Duration // time until the request window resets

	HasTokens       bool
	TokensLimit     int
	TokensRemaining int
	TokensReset     time.Duration

	RetryAfter time.Duration // from retry-after / retry-after-ms, 0 if absent
}

// Response is a completed answer.
type Response struct {
	Text         string
	Model        string // model name the provider reported
	FinishReason string
	Usage        Usage
	Limits       Limits
}

// ErrorKind classifies a failed call so the router can decide what to do.
type ErrorKind int

const (
	KindUnknown        ErrorKind = iota
	KindRateLimited              // 429
	KindOverloaded               // Anthropic 529, 503 "overloaded"
	KindServer                   // other 5xx
	KindTimeout                  // deadline or connection timeout
	KindNetwork                  // connection refused/reset, DNS
	KindContextTooLong           // prompt exceeds the model's window
	KindAuth                     // 401/403: the account is unusable until fixed
	KindBadRequest               // other 4xx: not retried
	KindStreamCut                // stream ended before its final event
	KindBadResponse              // unparseable body or event
)

func (k ErrorKind) String() string {
	switch k {
	case KindRateLimited:
		return "rate_limited"
	case KindOverloaded:
		return "overloaded"
	case KindServer:
		return "server_error"
	case KindTimeout:
		return "timeout"
	case KindNetwork:
		return "network"
	case KindContextTooLong:
		return "context_too_long"
	case KindAuth:
		return "auth"
	case KindBadRequest:
		return "bad_request"
	case KindStreamCut:
		return "stream_cut"
	case KindBadResponse:
		return "bad_response"
	}
	return "unknown"
}

// Error is a classified provider failure. Message never contains an API key.
// Status is 0 for failures without an HTTP status of their own: transport
// errors and errors reported inside a stream. A cancelled context gives
// KindUnknown with errors.Is(err, context.Canceled).
type Error struct {
	Kind    ErrorKind
	Status  int    // HTTP status, 0 if none
	Message string // provider's message, redacted
	Limits  Limits // rate-limit headers of the failing response
	// Partial is the text already streamed when a stream failed after its
	// first token; Started reports whether any token was delivered.
	Partial string
	Started bool
	Err     error // underlying transport error, if any
}

func (e *Error) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s (HTTP %d): %s", e.Kind, e.Status, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Kind, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Client sends requests to one account of one provider.
type Client interface {
	// Complete sends req. When onDelta is non-nil the request is streamed
	// (SSE) and onDelta is called with each text fragment in order, before
	// Complete returns. Failures are returned as *Error.
	Complete(ctx context.Context, req *Request, onDelta func(text string)) (*Response, error)
}
