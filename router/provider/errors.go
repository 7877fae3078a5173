package provider

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"
)

// maxMessage bounds the provider message kept in an Error.
const maxMessage = 512

// redacted replaces every occurrence of an API key in provider text.
const redacted = "[redacted]"

// classifyStatus maps a failed HTTP response to an ErrorKind. errType and
// code are the provider's machine-readable error type and code (either may
// be empty); message is its human-readable text.
func classifyStatus(status int, errType, code, message string) ErrorKind {
	lower := strings.ToLower(message)
	switch {
	case errType == "overloaded_error" || status == 529:
		return KindOverloaded
	case status == http.StatusTooManyRequests:
		if code == "insufficient_quota" || errType == "insufficient_quota" {
			// Out of credit: waiting does not help, the account needs a fix.
			return KindAuth
		}
		return KindRateLimited
	case isContextTooLong(status, code, lower):
		return KindContextTooLong
	case status == http.StatusServiceUnavailable && strings.Contains(lower, "overloaded"):
		return KindOverloaded
	case status >= 500 || errType == "api_error" || errType == "server_error":
		return KindServer
	case status == http.StatusUnauthorized || status == http.StatusForbidden,
		errType == "authentication_error", errType == "permission_error":
		return KindAuth
	case status == http.StatusRequestTimeout:
		return KindTimeout
	case status >= 400:
		return KindBadRequest
	case errType == "rate_limit_error":
		return KindRateLimited
	case errType == "invalid_request_error":
		return KindBadRequest
	}
	return KindUnknown
}

// isContextTooLong recognises "the prompt does not fit" across providers:
// OpenAI and Azure send code context_length_exceeded, Anthropic says
// "prompt is too long", vLLM and other compatible servers say "maximum
// context length". 413 means the request body itself is too large, which
// less context also fixes.
func isContextTooLong(status int, code, lowerMessage string) bool {
	if code == "context_length_exceeded" || code == "string_above_max_length" {
		return true
	}
	if status == http.StatusRequestEntityTooLarge {
		return true
	}
	if status != http.StatusBadRequest && status != 0 {
		return false
	}
	return strings.Contains(lowerMessage, "prompt is too long") ||
		strings.Contains(lowerMessage, "maximum context length") ||
		strings.Contains(lowerMessage, "context length exceeded") ||
		strings.Contains(lowerMessage, "context_length_exceeded")
}

// transportError classifies a failure to get or read a response: the
// context's deadline or a client timeout is KindTimeout, a cancelled context
// is KindUnknown (errors.Is(err, context.Canceled) holds), anything else
// below HTTP (dial, DNS, reset, early EOF) is KindNetwork.
func transportError(ctx context.Context, doing string, err error) *Error {
	e := &Error{Err: err}
	var netErr net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		e.Kind = KindTimeout
		e.Message = doing + ": deadline exceeded"
	case ctx.Err() != nil || errors.Is(err, context.Canceled):
		e.Kind = KindUnknown
		e.Message = doing + ": canceled"
		if ctx.Err() != nil {
			e.Err = errors.Join(ctx.Err(), err)
		}
	case errors.As(err, &netErr) && netErr.Timeout():
		e.Kind = KindTimeout
		e.Message = doing + ": timed out"
	default:
		e.Kind = KindNetwork
		e.Message = doing + ": " + describeNetErr(err)
	}
	return e
}

// describeNetErr names a network failure without echoing request details.
func describeNetErr(err error) string {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.As(err, &dnsErr):
		return "resolving " + dnsErr.Name + ": " + dnsErr.Err
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "connecting: " + opErr.Err.Error()
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "connection closed early"
	case errors.As(err, &opErr):
		return opErr.Op + ": " + opErr.Err.Error()
	}
	return "transport failure"
}

// redact removes the API key from provider-supplied text and bounds its
// length. Keys shorter than 8 bytes are not searched for: such a key is a
// placeholder (local servers), and replacing it would mangle ordinary text.
func redact(s, key string) string {
	if len(key) >= 8 {
		s = strings.ReplaceAll(s, key, redacted)
	}
	if len(s) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.TrimSpace(s)
}
