package provider

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// openAILimits reads the rate-limit headers OpenAI and Azure OpenAI send:
//
//	x-ratelimit-limit-requests: 5000
//	x-ratelimit-remaining-requests: 4999
//	x-ratelimit-reset-requests: 12ms
//	x-ratelimit-limit-tokens: 160000
//	x-ratelimit-remaining-tokens: 159976
//	x-ratelimit-reset-tokens: 6m0s
//
// Azure sends only the two remaining-* headers; the limits then stay 0.
// retry-after and retry-after-ms are read as well.
func openAILimits(h http.Header, now time.Time) Limits {
	var l Limits
	if n, ok := headerInt(h, "x-ratelimit-remaining-requests"); ok {
		l.HasRequests = true
		l.RequestsRemaining = n
	}
	if n, ok := headerInt(h, "x-ratelimit-limit-requests"); ok {
		l.HasRequests = true
		l.RequestsLimit = n
	}
	if d, ok := parseResetDuration(h.Get("x-ratelimit-reset-requests")); ok {
		l.RequestsReset = d
	}
	if n, ok := headerInt(h, "x-ratelimit-remaining-tokens"); ok {
		l.HasTokens = true
		l.TokensRemaining = n
	}
	if n, ok := headerInt(h, "x-ratelimit-limit-tokens"); ok {
		l.HasTokens = true
		l.TokensLimit = n
	}
	if d, ok := parseResetDuration(h.Get("x-ratelimit-reset-tokens")); ok {
		l.TokensReset = d
	}
	l.RetryAfter = retryAfter(h, responseTime(h, now))
	return l
}

// anthropicLimits reads Anthropic's rate-limit headers:
//
//	anthropic-ratelimit-requests-limit: 1000
//	anthropic-ratelimit-requests-remaining: 999
//	anthropic-ratelimit-requests-reset: 2025-08-21T12:40:59Z
//	anthropic-ratelimit-tokens-{limit,remaining,reset}
//	anthropic-ratelimit-input-tokens-{limit,remaining,reset}
//	anthropic-ratelimit-output-tokens-{limit,remaining,reset}
//
// Reset timestamps become durations relative to the response's Date header
// (the provider's own clock, so local clock skew does not matter) or, without
// one, relative to now. Of the three token limits the tightest one — the
// smallest fraction remaining — is reported, with its own limit and reset.
func anthropicLimits(h http.Header, now time.Time) Limits {
	var l Limits
	at := responseTime(h, now)
	if w, ok := anthropicWindow(h, "requests", at); ok {
		l.HasRequests = true
		l.RequestsLimit, l.RequestsRemaining, l.RequestsReset = w.limit, w.remaining, w.reset
	}
	var best window
	for _, name := range []string{"tokens", "input-tokens", "output-tokens"} {
		w, ok := anthropicWindow(h, name, at)
		if !ok {
			continue
		}
		if !l.HasTokens || w.fraction() < best.fraction() {
			best = w
		}
		l.HasTokens = true
	}
	if l.HasTokens {
		l.TokensLimit, l.TokensRemaining, l.TokensReset = best.limit, best.remaining, best.reset
	}
	l.RetryAfter = retryAfter(h, at)
	return l
}

// window is one rate-limit window as a provider reported it.
type window struct {
	limit, remaining int
	reset            time.Duration
}

// fraction is the share of the window left; an unknown limit counts as full.
func (w window) fraction() float64 {
	if w.limit <= 0 {
		return 1
	}
	return float64(w.remaining) / float64(w.limit)
}

func anthropicWindow(h http.Header, name string, at time.Time) (window, bool) {
	prefix := "anthropic-ratelimit-" + name + "-"
	var w window
	limit, hasLimit := headerInt(h, prefix+"limit")
	remaining, hasRemaining := headerInt(h, prefix+"remaining")
	if !hasLimit && !hasRemaining {
		return w, false
	}
	w.limit, w.remaining = limit, remaining
	if !hasRemaining {
		w.remaining = limit
	}
	if v := strings.TrimSpace(h.Get(prefix + "reset")); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			w.reset = max(t.Sub(at), 0)
		}
	}
	return w, true
}

// responseTime is the instant the response describes: its Date header when
// it has a valid one, else now.
func responseTime(h http.Header, now time.Time) time.Time {
	if v := h.Get("Date"); v != "" {
		if t, err := http.ParseTime(v); err == nil {
			return t
		}
	}
	return now
}

// retryAfter reads retry-after-ms (milliseconds, Azure and Anthropic's SDKs
// honour it) in preference to retry-after (delta-seconds or an HTTP-date,
// RFC 9110 section 10.2.3). at is the time an HTTP-date is measured from.
// It returns 0 when neither header holds a usable value.
func retryAfter(h http.Header, at time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("retry-after-ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && !math.IsInf(ms, 0) && ms < float64(math.MaxInt64/int64(time.Millisecond)) {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("retry-after"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s < 0 || math.IsNaN(s) || s >= float64(math.MaxInt64/int64(time.Second)) {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(at), 0)
	}
	return 0
}

// parseResetDuration reads OpenAI's reset values: Go-style durations such as
// "1s", "6m0s", "20ms" or "1m30.5s". A bare number is taken as seconds.
func parseResetDuration(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if d, err := time.ParseDuration(v); err == nil {
		return max(d, 0), true
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(s * float64(time.Second)), true
	}
	return 0, false
}

// headerInt reads a non-negative integer header.
func headerInt(h http.Header, name string) (int, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}
