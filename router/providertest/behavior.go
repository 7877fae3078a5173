package providertest

import (
	"fmt"
	"net/http"
	"time"
)

type behaviorKind int

const (
	kindOK behaviorKind = iota
	kindRateLimited
	kindServerError
	kindOverloaded
	kindHang
	kindCut
	kindErrorAfter
	kindHangAfter
	kindContextTooLong
	kindMalformed
	kindRaw
)

// Behavior is how the server answers one request. The zero Behavior echoes
// the last user message.
type Behavior struct {
	kind       behaviorKind
	text       string
	echo       bool
	n          int
	delay      time.Duration
	retryAfter time.Duration
	status     int
	header     http.Header
	body       string
}

func (b Behavior) String() string {
	switch b.kind {
	case kindOK:
		if b.echo || b.text == "" {
			return "ok(echo)"
		}
		if b.delay > 0 {
			return fmt.Sprintf("ok(%q after %v)", b.text, b.delay)
		}
		return fmt.Sprintf("ok(%q)", b.text)
	case kindRateLimited:
		return "rate_limited"
	case kindServerError:
		return "server_error"
	case kindOverloaded:
		return "overloaded"
	case kindHang:
		return "hang"
	case kindCut:
		return fmt.Sprintf("cut_after(%d)", b.n)
	case kindErrorAfter:
		return fmt.Sprintf("error_after(%d)", b.n)
	case kindHangAfter:
		return fmt.Sprintf("hang_after(%d)", b.n)
	case kindContextTooLong:
		return "context_too_long"
	case kindMalformed:
		return "malformed"
	case kindRaw:
		return fmt.Sprintf("raw(%d)", b.status)
	}
	return "unknown"
}

// OK answers normally with text; an empty text echoes the last user message
// ("echo: " + content). Streams split the text after each space, one delta
// per word.
func OK(text string) Behavior { return Behavior{kind: kindOK, text: text, echo: text == ""} }

// Echo answers "echo: " followed by the last user message.
func Echo() Behavior { return Behavior{kind: kindOK, echo: true} }

// SlowFirstToken answers like OK(text) after waiting d (real time, cut short
// when the client gives up or the server closes) before sending anything.
func SlowFirstToken(d time.Duration, text string) Behavior {
	b := OK(text)
	b.delay = d
	return b
}

// RateLimited answers 429 with the dialect's rate-limit error body and
// retry-after (whole seconds, rounded up; Azure also retry-after-ms). A
// retryAfter of 0 sends 1s.
func RateLimited(retryAfter time.Duration) Behavior {
	if retryAfter <= 0 {
		retryAfter = time.Second
	}
	return Behavior{kind: kindRateLimited, retryAfter: retryAfter}
}

// ServerError answers 500 with the dialect's internal error body.
func ServerError() Behavior { return Behavior{kind: kindServerError} }

// Overloaded answers as an overloaded service: Anthropic 529
// overloaded_error, the OpenAI dialects 503 "currently overloaded".
func Overloaded() Behavior { return Behavior{kind: kindOverloaded} }

// Hang sends nothing until the client gives up or the server closes.
func Hang() Behavior { return Behavior{kind: kindHang} }

// CutAfter streams the first n deltas of text and then drops the connection
// without the stream's terminal event. A non-streamed request gets half of
// its JSON body before the drop.
func CutAfter(n int, text string) Behavior { return Behavior{kind: kindCut, n: n, text: text} }

// ErrorAfter streams the first n deltas of text and then the dialect's
// in-stream error (Anthropic: an error event with overloaded_error; OpenAI
// dialects: a chunk holding a server_error) and ends the body. A
// non-streamed request gets Overloaded's answer.
func ErrorAfter(n int, text string) Behavior { return Behavior{kind: kindErrorAfter, n: n, text: text} }

// HangAfter streams the first n deltas of text and then sends nothing more
// until the client gives up or the server closes. A non-streamed request
// hangs before any byte.
func HangAfter(n int, text string) Behavior { return Behavior{kind: kindHangAfter, n: n, text: text} }

// ContextTooLong answers 400 with the dialect's real "prompt does not fit"
// body: OpenAI and Azure code context_length_exceeded, Anthropic
// invalid_request_error "prompt is too long".
func ContextTooLong() Behavior { return Behavior{kind: kindContextTooLong} }

// Malformed answers 200 with a body that is not valid JSON (streamed: an
// event whose data is not valid JSON).
func Malformed() Behavior { return Behavior{kind: kindMalformed} }

// Raw answers exactly status, header (may be nil) and body. Rate-limit
// headers are still added unless header sets them.
func Raw(status int, header http.Header, body string) Behavior {
	return Behavior{kind: kindRaw, status: status, header: header.Clone(), body: body}
}
