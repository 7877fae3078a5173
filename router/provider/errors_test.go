package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
)

func TestClassifyStatus(t *testing.T) {
	tests := []struct {
		name               string
		status             int
		errType, code, msg string
		want               ErrorKind
	}{
		{"openai 429", 429, "requests", "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini", KindRateLimited},
		{"openai quota", 429, "insufficient_quota", "insufficient_quota", "You exceeded your current quota", KindAuth},
		{"anthropic 429", 429, "rate_limit_error", "", "This request would exceed the rate limit", KindRateLimited},
		{"anthropic 529", 529, "overloaded_error", "", "Overloaded", KindOverloaded},
		{"overloaded type on 500", 500, "overloaded_error", "", "Overloaded", KindOverloaded},
		{"openai 503 overloaded", 503, "server_error", "", "The engine is currently overloaded, please try again later.", KindOverloaded},
		{"503 other", 503, "", "", "Service Unavailable", KindServer},
		{"500", 500, "server_error", "", "The server had an error", KindServer},
		{"502", 502, "", "", "Bad Gateway", KindServer},
		{"openai context", 400, "invalid_request_error", "context_length_exceeded", "This model's maximum context length is 128000 tokens.", KindContextTooLong},
		{"anthropic context", 400, "invalid_request_error", "", "prompt is too long: 210000 tokens > 200000 maximum", KindContextTooLong},
		{"vllm context", 400, "BadRequestError", "400", "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens", KindContextTooLong},
		{"413", 413, "request_too_large", "", "Request exceeds the maximum allowed number of bytes.", KindContextTooLong},
		{"401", 401, "authentication_error", "", "invalid x-api-key", KindAuth},
		{"403", 403, "permission_error", "", "Your API key does not have permission", KindAuth},
		{"400", 400, "invalid_request_error", "", "max_tokens: Field required", KindBadRequest},
		{"404", 404, "not_found_error", "", "model: claude-nope", KindBadRequest},
		{"408", 408, "", "", "Request Timeout", KindTimeout},
		{"in-stream overloaded", 0, "overloaded_error", "", "Overloaded", KindOverloaded},
		{"in-stream api error", 0, "api_error", "", "Internal server error", KindServer},
		{"in-stream server error", 0, "server_error", "", "The server had an error", KindServer},
		{"in-stream rate limit", 0, "rate_limit_error", "", "slow down", KindRateLimited},
		{"in-stream auth", 0, "authentication_error", "", "invalid x-api-key", KindAuth},
		{"in-stream context", 0, "invalid_request_error", "", "prompt is too long: 5 tokens > 4 maximum", KindContextTooLong},
		{"in-stream invalid", 0, "invalid_request_error", "", "bad", KindBadRequest},
		{"in-stream unknown", 0, "", "", "hmm", KindUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := classifyStatus(tt.status, tt.errType, tt.code, tt.msg); got != tt.want {
				t.Errorf("classifyStatus(%d, %q, %q, %q) = %v, want %v", tt.status, tt.errType, tt.code, tt.msg, got, tt.want)
			}
		})
	}
}

func TestTransportError(t *testing.T) {
	deadline, cancelDeadline := context.WithTimeout(context.Background(), 0)
	defer cancelDeadline()
	<-deadline.Done()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	live := context.Background()
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errors.New("connection refused"))}
	tests := []struct {
		name string
		ctx  context.Context
		err  error
		want ErrorKind
		is   error
	}{
		{"deadline", deadline, context.DeadlineExceeded, KindTimeout, context.DeadlineExceeded},
		{"canceled", canceled, context.Canceled, KindUnknown, context.Canceled},
		{"client timeout", live, timeoutErr{}, KindTimeout, nil},
		{"dial", live, dial, KindNetwork, nil},
		{"dns", live, &net.DNSError{Err: "no such host", Name: "api.example.invalid", IsNotFound: true}, KindNetwork, nil},
		{"early eof", live, io.ErrUnexpectedEOF, KindNetwork, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := transportError(tt.ctx, "sending request", tt.err)
			if e.Kind != tt.want {
				t.Errorf("transportError(%v).Kind = %v, want %v", tt.err, e.Kind, tt.want)
			}
			if tt.is != nil && !errors.Is(e, tt.is) {
				t.Errorf("errors.Is(transportError(%v), %v) = false, want true", tt.err, tt.is)
			}
			if !strings.HasPrefix(e.Message, "sending request: ") {
				t.Errorf("transportError(%v).Message = %q, want it to start with what was being done", tt.err, e.Message)
			}
		})
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestRedact(t *testing.T) {
	key := fakeKey("sk-")
	tests := []struct {
		name, in, key, want string
	}{
		{"key removed", "Incorrect API key provided: " + key + ".", key, "Incorrect API key provided: [redacted]."},
		{"every occurrence", key + " and " + key, key, "[redacted] and [redacted]"},
		{"short placeholder key not searched", "use ollama", "ollama", "use ollama"},
		{"no key", "plain", "", "plain"},
		{"long message bounded", strings.Repeat("é", 400), "", strings.Repeat("é", 256) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(tt.in, tt.key); got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// fakeKey builds a key-shaped string at run time; it is no real credential.
func fakeKey(prefix string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for i := range 40 {
		fmt.Fprintf(&b, "%c", 'a'+rune(i*7%26))
	}
	return b.String()
}
