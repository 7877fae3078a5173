// Package limit tracks an account's requests and tokens per minute.
//
// A Limiter keeps a rolling one-minute window of the requests admitted for
// one (account, model) pair. Admission reserves an estimate (prompt tokens
// plus max_tokens); the reservation is later reconciled with the usage the
// provider reports, or released when the provider refused the request.
//
// The provider's rate-limit headers keep the view honest. Providers meter
// with buckets that refill continuously, so a response's remaining/limit/
// reset describe a bucket the limiter projects forward: refilling at
// (limit-remaining)/reset, less what others using the same key were seen to
// take (how far each observation fell short of the previous projection, an
// EWMA), and charged with what was admitted since. While such a view is
// fresh and the configured limit is not below the provider's, the projection
// replaces the rolling window: it sees other users of the same key and
// admits continuously instead of in minute-long waves. A configured limit
// below the provider's is a deliberate share and keeps binding. A 429 puts
// the limiter into cooldown until the reset the provider named.
//
// Time is always passed in: every method takes now, and a Limiter never reads
// the clock. A Limiter is safe for concurrent use.
package limit

import (
	"cmp"
	"math"
	"sync"
	"time"
)

// Window is the length of the rolling window RPM and TPM are counted over.
const Window = time.Minute

// Observation is what a provider's rate-limit headers said about an account.
// A Has flag false means the provider did not report that dimension. Reset
// is the time until the bucket is full again.
type Observation struct {
	HasRequests       bool
	RequestsLimit     int
	RequestsRemaining int
	RequestsReset     time.Duration

	HasTokens       bool
	TokensLimit     int
	TokensRemaining int
	TokensReset     time.Duration
}

// Headroom is what a limiter can still admit at a moment.
type Headroom struct {
	Requests      int       // requests that may start now
	Tokens        int       // tokens that may be reserved now
	RPM, TPM      int       // effective limits (configured, tightened by headers); 0 = none
	CooldownUntil time.Time // zero when not cooling down
}

// entry is one admitted request in the window.
type entry struct {
	at     time.Time
	tokens int
}

// bucket is the provider's view of one dimension as of a response, projected
// forward: it refills at rate per second up to limit, and what was admitted
// since the observation is charged against it.
type bucket struct {
	valid     bool
	remaining int
	limit     int     // bucket size; 0 when the provider did not say
	rate      float64 // refill per second net of others' use; 0 when unknown
	gross     float64 // refill per second the headers imply
	at, until time.Time
	charged   int // admitted since the observation, less refunds
}

func newBucket(now time.Time, limit, remaining int, reset time.Duration) bucket {
	b := bucket{valid: true, remaining: max(remaining, 0), limit: max(limit, 0), at: now}
	switch {
	case b.limit > 0 && reset > 0 && b.limit > b.remaining:
		b.rate = float64(b.limit-b.remaining) / reset.Seconds()
	case b.limit > 0:
		b.rate = float64(b.limit) / Window.Seconds()
	}
	b.gross = b.rate
	if b.rate > 0 {
		b.until = now.Add(Window) // the projection holds until traffic stops telling us more
	} else {
		b.until = now.Add(min(max(reset, 0), Window)) // no refill model: trust it until its reset
		if reset <= 0 {
			b.until = now.Add(Window)
		}
	}
	return b
}

// left is what the provider would still admit at now.
func (b *bucket) left(now time.Time) int {
	n := b.remaining
	if b.rate > 0 {
		n = min(b.limit, n+int(b.rate*now.Sub(b.at).Seconds()))
	}
	return max(n-b.charged, 0)
}

// fitAt is when the projection lets n more through, assuming no other
// admission; the view's expiry when it never would.
func (b *bucket) fitAt(now time.Time, n int) time.Time {
	short := n + b.charged - b.remaining
	if short <= 0 {
		return now
	}
	if b.rate <= 0 || n+b.charged > b.limit {
		return b.until
	}
	t := b.at.Add(time.Duration(float64(short) / b.rate * float64(time.Second)))
	if t.After(b.until) {
		return b.until
	}
	if t.Before(now) {
		return now
	}
	return t
}

// Limiter is the rolling-minute RPM/TPM state of one (account, model) pair.
type Limiter struct {
	mu sync.Mutex

	rpm, tpm       int // configured limits; 0 means unlimited
	hdrRPM, hdrTPM int // limits the provider reported; 0 means none reported

	entries []entry // admitted requests, oldest first; entries[head:] are live
	head    int
	first   uint64 // sequence number of entries[0]
	used    int    // sum of the live entries' tokens

	reqs, toks bucket
	// reqDrain and tokDrain estimate, per second, what others using the same
	// key take: the shortfall of each observation against the projection.
	reqDrain, tokDrain float64
	cooldown           time.Time
}

// New returns a limiter for rpm requests and tpm tokens per minute. A limit
// of 0 means that dimension is not limited.
func New(rpm, tpm int) *Limiter {
	return &Limiter{rpm: max(rpm, 0), tpm: max(tpm, 0)}
}

// SetLimits changes the configured limits, keeping the window.
func (l *Limiter) SetLimits(rpm, tpm int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rpm, l.tpm = max(rpm, 0), max(tpm, 0)
}

// Reservation is an admitted request's hold on the window.
type Reservation struct {
	l      *Limiter
	seq    uint64
	tokens int
	done   bool
}

// Tokens reports how many tokens the reservation holds.
func (r *Reservation) Tokens() int {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	return r.tokens
}

// Reserve admits one request of the given estimated tokens at now if there
// is room for it, and reports whether it did.
func (l *Limiter) Reserve(now time.Time, tokens int) (*Reservation, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	h := l.headroomLocked(now)
	if !h.CooldownUntil.IsZero() || h.Requests < 1 || tokens > h.Tokens {
		return nil, false
	}
	l.entries = append(l.entries, entry{at: now, tokens: tokens})
	l.used += tokens
	if l.reqs.valid {
		l.reqs.charged++
	}
	if l.toks.valid {
		l.toks.charged += tokens
	}
	return &Reservation{l: l, seq: l.first + uint64(len(l.entries)-1), tokens: tokens}, true
}

// Commit replaces the reservation's estimate with the tokens the provider
// reported using. It does nothing after Commit or Release.
func (r *Reservation) Commit(actual int) {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	r.l.adjust(r.seq, actual-r.tokens)
	r.tokens = actual
}

// Release gives back the reservation's tokens: the request was sent (it
// still counts as a request) but the provider charged no tokens for it.
// It does nothing after Commit or Release.
func (r *Reservation) Release() {
	r.l.mu.Lock()
	defer r.l.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	r.l.adjust(r.seq, -r.tokens)
	r.tokens = 0
}

// adjust changes the tokens of the entry with sequence seq by delta if it is
// still in the window.
func (l *Limiter) adjust(seq uint64, delta int) {
	if l.toks.valid {
		// May go negative: a refund of a request admitted before the
		// observation is a refund the provider makes too.
		l.toks.charged += delta
	}
	if seq < l.first+uint64(l.head) {
		return
	}
	i := int(seq - l.first)
	if i >= len(l.entries) {
		return
	}
	e := &l.entries[i]
	n := max(e.tokens+delta, 0)
	l.used += n - e.tokens
	e.tokens = n
}

// Observe brings the provider's rate-limit headers seen at now into the
// view. A reported limit lower than the configured one replaces it; when the
// provider reports only what remains (Azure), the configured limit sizes the
// bucket.
func (l *Limiter) Observe(now time.Time, o Observation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if o.HasRequests {
		if o.RequestsLimit > 0 {
			l.hdrRPM = o.RequestsLimit
		}
		l.reqDrain = learnDrain(&l.reqs, l.reqDrain, now, o.RequestsRemaining)
		l.reqs = newBucket(now, cmp.Or(o.RequestsLimit, l.rpm), o.RequestsRemaining, o.RequestsReset)
		l.reqs.rate = max(l.reqs.rate-max(l.reqDrain, 0), 0)
	}
	if o.HasTokens {
		if o.TokensLimit > 0 {
			l.hdrTPM = o.TokensLimit
		}
		l.tokDrain = learnDrain(&l.toks, l.tokDrain, now, o.TokensRemaining)
		l.toks = newBucket(now, cmp.Or(o.TokensLimit, l.tpm), o.TokensRemaining, o.TokensReset)
		l.toks.rate = max(l.toks.rate-max(l.tokDrain, 0), 0)
	}
}

// drainTau is the time constant of the drain estimate.
const drainTau = 10 * time.Second

// learnDrain updates the estimate of what others take per second from how
// far the provider's remaining falls short of the projection prev made. A
// projection that reached the bucket's limit says nothing and is skipped.
func learnDrain(prev *bucket, drain float64, now time.Time, remaining int) float64 {
	dt := now.Sub(prev.at)
	if !prev.valid || prev.gross <= 0 || dt <= 0 {
		return drain
	}
	refilled := float64(prev.remaining) + prev.gross*dt.Seconds()
	if refilled >= float64(prev.limit) {
		return drain
	}
	sample := (refilled - float64(prev.charged) - float64(remaining)) / dt.Seconds()
	w := 1 - math.Exp(-dt.Seconds()/drainTau.Seconds())
	return drain + w*(sample-drain)
}

// Cooldown stops admission until until (a 429's reset or retry-after). An
// earlier cooldown than the current one is ignored.
func (l *Limiter) Cooldown(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.cooldown) {
		l.cooldown = until
	}
}

// Headroom reports what can be admitted at now.
func (l *Limiter) Headroom(now time.Time) Headroom {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	return l.headroomLocked(now)
}

func (l *Limiter) effective() (rpm, tpm int) {
	rpm, tpm = l.rpm, l.tpm
	if l.hdrRPM > 0 && (rpm == 0 || l.hdrRPM < rpm) {
		rpm = l.hdrRPM
	}
	if l.hdrTPM > 0 && (tpm == 0 || l.hdrTPM < tpm) {
		tpm = l.hdrTPM
	}
	return rpm, tpm
}

// projected reports whether b alone decides a dimension: it is fresh, models
// refill, and the configured limit cfg does not ask for less than the
// provider allows.
func projected(b *bucket, cfg int) bool {
	return b.valid && b.rate > 0 && (cfg == 0 || cfg >= b.limit)
}

const unlimited = 1 << 40

func (l *Limiter) headroomLocked(now time.Time) Headroom {
	rpm, tpm := l.effective()
	h := Headroom{RPM: rpm, TPM: tpm, Requests: unlimited, Tokens: unlimited}
	if now.Before(l.cooldown) {
		h.CooldownUntil = l.cooldown
	}
	switch {
	case projected(&l.reqs, l.rpm):
		h.Requests = l.reqs.left(now)
	default:
		if rpm > 0 {
			h.Requests = max(rpm-(len(l.entries)-l.head), 0)
		}
		if l.reqs.valid {
			h.Requests = min(h.Requests, l.reqs.left(now))
		}
	}
	switch {
	case projected(&l.toks, l.tpm):
		h.Tokens = l.toks.left(now)
	default:
		if tpm > 0 {
			h.Tokens = max(tpm-l.used, 0)
		}
		if l.toks.valid {
			h.Tokens = min(h.Tokens, l.toks.left(now))
		}
	}
	return h
}

// prune drops entries older than the window and expired header views.
func (l *Limiter) prune(now time.Time) {
	cut := now.Add(-Window)
	for l.head < len(l.entries) && !l.entries[l.head].at.After(cut) {
		l.used -= l.entries[l.head].tokens
		l.head++
	}
	// Compact once the dead prefix outweighs the live entries: amortized O(1).
	if l.head > 0 && l.head >= len(l.entries)-l.head {
		n := copy(l.entries, l.entries[l.head:])
		l.entries = l.entries[:n]
		l.first += uint64(l.head)
		l.head = 0
	}
	if l.reqs.valid && !now.Before(l.reqs.until) {
		l.reqs = bucket{}
	}
	if l.toks.valid && !now.Before(l.toks.until) {
		l.toks = bucket{}
	}
}

// EarliestFit returns the earliest time at or after now when one request of
// the given tokens could be admitted, assuming nothing else is admitted in
// between and in-flight reservations keep their estimates. ok is false when
// the request can never fit (tokens above the per-minute limit).
func (l *Limiter) EarliestFit(now time.Time, tokens int) (at time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.prune(now)
	rpm, tpm := l.effective()
	if tpm > 0 && tokens > tpm {
		return time.Time{}, false
	}
	at = now
	if now.Before(l.cooldown) {
		at = l.cooldown
	}
	later := func(t time.Time) {
		if t.After(at) {
			at = t
		}
	}
	// Requests: entry i leaves the window at entries[i].at+Window.
	if projected(&l.reqs, l.rpm) {
		later(l.reqs.fitAt(now, 1))
	} else {
		if rpm > 0 && len(l.entries)-l.head >= rpm {
			later(l.entries[len(l.entries)-rpm].at.Add(Window))
		}
		if l.reqs.valid {
			later(l.reqs.fitAt(now, 1))
		}
	}
	if projected(&l.toks, l.tpm) {
		later(l.toks.fitAt(now, tokens))
	} else {
		if tpm > 0 {
			used := l.used
			for _, e := range l.entries[l.head:] {
				if used+tokens <= tpm {
					break
				}
				used -= e.tokens
				later(e.at.Add(Window))
			}
		}
		if l.toks.valid {
			later(l.toks.fitAt(now, tokens))
		}
	}
	return at, true
}
