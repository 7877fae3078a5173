package router

import (
	"math"
	"time"
)

// Health values reported by Status.
const (
	HealthOK         = "ok"
	HealthDegraded   = "degraded"    // recent failures or cooling down after a 429
	HealthOpen       = "open"        // circuit open (or half-open, probing)
	HealthAuthFailed = "auth_failed" // the provider refused the key
)

// Breaker and backoff settings. Options may override the breaker's.
const (
	defaultBreakerThreshold = 5                // consecutive failures that open the circuit
	defaultBreakerCooldown  = 30 * time.Second // first open period; doubles on a failed probe
	maxBreakerCooldown      = 5 * time.Minute
	backoffBase             = 200 * time.Millisecond
	backoffCap              = 30 * time.Second
	rateLimitBase           = time.Second // 429 without reset or retry-after
	ewmaAlpha               = 0.3
)

type breakerState int

const (
	closed breakerState = iota
	open
	halfOpen
)

// health is the failure state of one (account, model). The Router's mutex
// guards it.
type health struct {
	state     breakerState
	fails     int       // consecutive failures (not 429s)
	limited   int       // consecutive 429s
	openUntil time.Time // end of the open period
	openFor   time.Duration
	probing   bool      // a half-open probe is in flight
	notBefore time.Time // backoff after a failure
	lastErr   string

	latency, ttft ewma // milliseconds
}

// admits reports whether a request may be sent at now and, when the circuit
// is half-open, whether it would be the probe.
func (h *health) admits(now time.Time) (ok, probe bool) {
	if now.Before(h.notBefore) {
		return false, false
	}
	switch h.state {
	case open:
		if now.Before(h.openUntil) {
			return false, false
		}
		return true, true
	case halfOpen:
		return !h.probing, true
	}
	return true, false
}

// readyAt is the earliest time the breaker and backoff allow a request.
func (h *health) readyAt() time.Time {
	t := h.notBefore
	if h.state != closed && h.openUntil.After(t) {
		t = h.openUntil
	}
	return t
}

func (h *health) startProbe() {
	h.state = halfOpen
	h.probing = true
}

func (h *health) success(latency, ttft time.Duration, streamed bool) {
	h.state, h.fails, h.limited, h.probing, h.openFor = closed, 0, 0, false, 0
	h.lastErr = ""
	h.latency.add(float64(latency.Milliseconds()))
	if streamed {
		h.ttft.add(float64(ttft.Milliseconds()))
	}
}

// failure records a transient failure and sets the backoff: full jitter over
// an exponentially growing window, never shorter than retryAfter.
func (h *health) failure(now time.Time, kind string, retryAfter time.Duration, threshold int, cooldown time.Duration, rnd func() float64) {
	h.fails++
	h.lastErr = kind
	wasProbe := h.probing
	h.probing = false
	h.notBefore = now.Add(max(retryAfter, jitter(backoffBase, h.fails, rnd)))
	if wasProbe || h.state == halfOpen {
		h.openFor = min(max(h.openFor*2, cooldown), maxBreakerCooldown)
		h.state, h.openUntil = open, now.Add(h.openFor)
		return
	}
	if h.state == closed && h.fails >= threshold {
		h.openFor = cooldown
		h.state, h.openUntil = open, now.Add(cooldown)
	}
}

// rateLimited records a 429 and returns how long to cool down: the wait the
// provider named, or full jitter over a growing window when it named none.
func (h *health) rateLimited(named time.Duration, rnd func() float64) time.Duration {
	h.limited++
	h.lastErr = "rate_limited"
	if h.probing {
		h.probing = false
		h.state = open // the probe was answered; probe again after the cooldown
	}
	if named > 0 {
		return named
	}
	return jitter(rateLimitBase, h.limited, rnd)
}

// abandon ends a probe that never reached the provider.
func (h *health) abandon() { h.probing = false }

// jitter returns full jitter over base·2^(n-1), capped at backoffCap.
func jitter(base time.Duration, n int, rnd func() float64) time.Duration {
	d := float64(backoffCap)
	if n < 30 {
		d = math.Min(d, float64(base)*math.Pow(2, float64(n-1)))
	}
	return time.Duration(rnd() * d)
}

func (h *health) status(now time.Time) string {
	switch {
	case h.state != closed:
		return HealthOpen
	case h.fails > 0 || now.Before(h.notBefore):
		return HealthDegraded
	}
	return HealthOK
}

// ewma is an exponentially weighted moving average with its mean deviation
// (the way TCP estimates round-trip time).
type ewma struct {
	v, dev float64
	ok     bool
}

func (e *ewma) add(x float64) {
	if !e.ok {
		e.v, e.dev, e.ok = x, x/2, true
		return
	}
	e.dev += ewmaAlpha * (math.Abs(x-e.v) - e.dev)
	e.v += ewmaAlpha * (x - e.v)
}

// high is a pessimistic estimate: the mean plus twice the deviation.
func (e *ewma) high() time.Duration {
	return time.Duration((e.v + 2*e.dev) * float64(time.Millisecond))
}
