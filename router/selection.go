package router

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/codemux/codemux/router/limit"
)

// Framing overheads added to raw token counts: chat formats spend a few
// tokens per message and per context piece header.
const (
	perMessage = 4
	perPrompt  = 3
	perPiece   = 6
	// expectedOutput is the answer length used to compare costs.
	expectedOutput = 1024
)

// sizing is a request's prompt size in one encoding.
type sizing struct {
	base   int   // system prompt, messages, partial answer and framing
	pieces []int // per piece in rank order, including its header
}

// routeReq is the state of one request across its attempts.
type routeReq struct {
	req      *Request
	kind     string
	policy   KindPolicy
	ranked   []Piece // req.Context by rank, most important first
	sizes    map[string]sizing
	deadline time.Time
	hard     bool               // the deadline is the caller's: an answer after it is lost
	partial  string             // answer streamed so far by cut attempts
	excluded map[*target]string // failed for good in this request, and why
	models   map[string]bool    // Request.Models; nil allows every model
}

// allows reports whether the request's model list admits t.
func (rq *routeReq) allows(t *target) bool {
	return rq.models == nil || rq.models[t.model.Model] || rq.models[t.model.CatalogName()]
}

// plan is an admitted attempt: a target, its reservation and what to send.
type plan struct {
	t         *target
	res       *limit.Reservation
	keep      []Piece
	trimmed   int
	degraded  bool
	maxTokens int
	prompt    int // raw prompt count, for calibration
	probe     bool
}

// fit is how a request fits one target's window.
type fit struct {
	ok        bool
	keep      int // pieces kept (a prefix of the ranking)
	raw       int // raw prompt tokens
	need      int // tokens to reserve: adjusted prompt + maxTokens
	maxTokens int
}

// stage is one step of the fallback order.
type stage struct {
	minTier, maxTier int
	trim, degraded   bool
}

func (rq *routeReq) stages() []stage {
	p := rq.policy
	s := []stage{{minTier: p.MinTier, maxTier: math.MaxInt}}
	deg := p.DegradeTo > 0 && p.DegradeTo < p.MinTier
	if deg {
		s = append(s, stage{minTier: p.DegradeTo, maxTier: p.MinTier - 1, degraded: true})
	}
	s = append(s, stage{minTier: p.MinTier, maxTier: math.MaxInt, trim: true})
	if deg {
		s = append(s, stage{minTier: p.DegradeTo, maxTier: p.MinTier - 1, trim: true, degraded: true})
	}
	return s
}

// lowestTier is the lowest tier the request may use.
func (rq *routeReq) lowestTier() int {
	if p := rq.policy; p.DegradeTo > 0 && p.DegradeTo < p.MinTier {
		return p.DegradeTo
	}
	return rq.policy.MinTier
}

// measure counts the request's prompt in every encoding in encs.
func (r *Router) measure(rq *routeReq, encs []string) {
	if rq.sizes == nil {
		rq.sizes = make(map[string]sizing, len(encs))
	}
	for _, enc := range encs {
		if _, ok := rq.sizes[enc]; ok {
			continue
		}
		rq.sizes[enc] = r.size(rq, enc)
	}
}

func (r *Router) size(rq *routeReq, enc string) sizing {
	c := r.counter
	s := sizing{base: perPrompt}
	if rq.req.System != "" {
		s.base += c.CountEncoding(enc, rq.req.System) + perMessage
	}
	for _, m := range rq.req.Messages {
		s.base += c.CountEncoding(enc, m.Content) + perMessage
	}
	if rq.partial != "" {
		s.base += c.CountEncoding(enc, rq.partial) + c.CountEncoding(enc, continuePrompt) + 2*perMessage
	}
	if len(rq.ranked) > 0 {
		s.base += perPiece
		s.pieces = make([]int, len(rq.ranked))
		for i, p := range rq.ranked {
			s.pieces[i] = c.CountEncoding(enc, p.Text) + c.CountEncoding(enc, p.ID) + perPiece
		}
	}
	return s
}

// sizingLocked returns the request's size in enc, counting it if a reload
// brought a new encoding since the request was measured.
func (r *Router) sizingLocked(rq *routeReq, enc string) sizing {
	s, ok := rq.sizes[enc]
	if !ok {
		r.measure(rq, []string{enc})
		s = rq.sizes[enc]
	}
	return s
}

// maxTokens is the answer budget of the request on t.
func maxTokens(req *Request, info ModelInfo) int {
	m := req.MaxTokens
	if m <= 0 {
		m = DefaultMaxTokens
	}
	if info.MaxOutputTokens > 0 {
		m = min(m, info.MaxOutputTokens)
	}
	return m
}

// fitLocked computes how the request fits t's window, trimming pieces
// highest rank first when trim is set.
func (r *Router) fitLocked(t *target, rq *routeReq, trim bool) fit {
	s := r.sizingLocked(rq, t.enc)
	mt := maxTokens(rq.req, t.info)
	raw := s.base
	for _, n := range s.pieces {
		raw += n
	}
	keep := len(s.pieces)
	name := t.model.CatalogName()
	for {
		need := r.counter.Adjust(name, raw) + mt
		if need <= t.info.ContextWindow {
			return fit{ok: true, keep: keep, raw: raw, need: need, maxTokens: mt}
		}
		if !trim || keep == 0 {
			return fit{keep: keep, raw: raw, need: need, maxTokens: mt}
		}
		keep--
		raw -= s.pieces[keep]
	}
}

// candidate is an eligible target with its ranking keys.
type candidate struct {
	t     *target
	f     fit
	probe bool
	cost  float64 // estimated USD for this request
	free  float64 // headroom fraction left this minute
	lat   float64 // ms; time to first token when streaming
}

func better(a, b *candidate) bool {
	if pa, pb := a.t.acct.cfg.Priority, b.t.acct.cfg.Priority; pa != pb {
		return pa < pb
	}
	if d := a.cost - b.cost; math.Abs(d) > 1e-12*math.Max(a.cost, b.cost) {
		return d < 0
	}
	// Headroom in 5% steps, so that latency decides between targets with
	// about as much room left.
	if fa, fb := math.Floor(a.free*20), math.Floor(b.free*20); fa != fb {
		return fa > fb
	}
	if a.lat != b.lat {
		return a.lat < b.lat
	}
	return a.free > b.free
}

// planLocked picks the best target that can take the request at now and
// reserves its capacity, following the fallback order: full context at the
// kind's tier, a lower tier if allowed, then trimmed context. It returns nil
// when nothing can take the request now. A non-nil only restricts the
// targets considered.
func (r *Router) planLocked(now time.Time, rq *routeReq, only func(*target) bool) *plan {
	cands := make([]candidate, 0, len(r.targets))
	for _, st := range rq.stages() {
		cands = cands[:0]
		for _, t := range r.targets {
			if only != nil && !only(t) {
				continue
			}
			if c, ok := r.eligibleLocked(now, t, rq, st); ok {
				cands = append(cands, c)
			}
		}
		slices.SortFunc(cands, func(a, b candidate) int {
			if better(&a, &b) {
				return -1
			}
			if better(&b, &a) {
				return 1
			}
			return 0
		})
		for i := range cands {
			c := &cands[i]
			res, ok := c.t.lim.Reserve(now, c.f.need)
			if !ok {
				continue
			}
			if c.probe {
				c.t.h.startProbe()
			}
			return &plan{
				t: c.t, res: res, keep: rq.ranked[:c.f.keep:c.f.keep], trimmed: len(rq.ranked) - c.f.keep,
				degraded: st.degraded, maxTokens: c.f.maxTokens, prompt: c.f.raw, probe: c.probe,
			}
		}
	}
	return nil
}

func (r *Router) eligibleLocked(now time.Time, t *target, rq *routeReq, st stage) (candidate, bool) {
	if !rq.allows(t) || t.acct.authFailed || t.info.Tier < st.minTier || t.info.Tier > st.maxTier {
		return candidate{}, false
	}
	if _, ok := rq.excluded[t]; ok {
		return candidate{}, false
	}
	ok, probe := t.h.admits(now)
	if !ok {
		return candidate{}, false
	}
	f := r.fitLocked(t, rq, st.trim)
	if !f.ok || (!st.trim && f.keep < len(rq.ranked)) {
		return candidate{}, false
	}
	if r.tooLate(t, rq, now) {
		return candidate{}, false // do not spend capacity on an answer the caller will not wait for
	}
	hr := t.lim.Headroom(now)
	if !hr.CooldownUntil.IsZero() || hr.Requests < 1 || hr.Tokens < f.need {
		return candidate{}, false
	}
	c := candidate{t: t, f: f, probe: probe, free: 1}
	c.cost = (float64(f.need-f.maxTokens)*t.info.InputCostPerMTok + float64(min(f.maxTokens, expectedOutput))*t.info.OutputCostPerMTok) / 1e6
	switch {
	case hr.TPM > 0:
		c.free = float64(hr.Tokens-f.need) / float64(hr.TPM)
	case hr.RPM > 0:
		c.free = float64(hr.Requests-1) / float64(hr.RPM)
	}
	if rq.req.Stream && t.h.ttft.ok {
		c.lat = t.h.ttft.v
	} else if t.h.latency.ok {
		c.lat = t.h.latency.v
	}
	return c, true
}

// earliestLocked returns the earliest time any target could take the
// request, assuming nothing else is admitted first; ok is false when none
// ever can.
func (r *Router) earliestLocked(now time.Time, rq *routeReq) (at time.Time, ok bool) {
	low := rq.lowestTier()
	for _, t := range r.targets {
		if !rq.allows(t) || t.acct.authFailed || t.info.Tier < low {
			continue
		}
		if _, bad := rq.excluded[t]; bad {
			continue
		}
		f := r.fitLocked(t, rq, true)
		if !f.ok {
			continue
		}
		when, fits := t.lim.EarliestFit(now, f.need)
		if !fits {
			continue
		}
		if ra := t.h.readyAt(); ra.After(when) {
			when = ra
		}
		if r.tooLate(t, rq, when) {
			continue
		}
		if !ok || when.Before(at) {
			at, ok = when, true
		}
	}
	return at, ok
}

// tooLate reports whether an answer from t started at start would arrive
// after the caller's deadline, judging by t's latency so far (mean plus
// twice its deviation).
func (r *Router) tooLate(t *target, rq *routeReq, start time.Time) bool {
	return rq.hard && t.h.latency.ok && start.Add(t.h.latency.high()).After(rq.deadline)
}

// Rejection says why one candidate could not take a request.
type Rejection struct {
	Account string `json:"account"`
	Model   string `json:"model"`
	Reason  string `json:"reason"`
}

// NoCandidateError is the one error a user sees when no account could
// answer: it lists why each candidate was rejected. It never carries a
// provider's raw rate-limit error.
type NoCandidateError struct {
	Kind string
	// Models is the request's model list (Request.Models); when it is set,
	// Rejections covers only the targets it allows, or, when it allows
	// none, every target with the reason that it was not requested.
	Models     []string
	Rejections []Rejection
	Attempts   []Attempt
}

func (e *NoCandidateError) Error() string {
	if len(e.Rejections) == 0 {
		return "no accounts are configured: add one under accounts: in the config file"
	}
	var b strings.Builder
	if len(e.Models) > 0 {
		fmt.Fprintf(&b, "no account can answer this %s request with %s in time", e.Kind, strings.Join(e.Models, " or "))
	} else {
		fmt.Fprintf(&b, "no account can answer this %s request in time", e.Kind)
	}
	if n := len(e.Attempts); n > 0 {
		fmt.Fprintf(&b, " (%d attempts failed)", n)
	}
	for i, rj := range e.Rejections {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s/%s: %s", rj.Account, rj.Model, rj.Reason)
	}
	return b.String()
}

// noCandidateLocked builds the error of a request nothing can take.
func (r *Router) noCandidateLocked(now time.Time, rq *routeReq) *NoCandidateError {
	return &NoCandidateError{Kind: rq.kind, Models: rq.req.Models, Rejections: r.rejectionsLocked(now, rq)}
}

// rejectionsLocked explains, for every target the request's model list
// allows, why it cannot take the request before its deadline. When the list
// allows none, every target is rejected for not being requested.
func (r *Router) rejectionsLocked(now time.Time, rq *routeReq) []Rejection {
	low := rq.lowestTier()
	out := make([]Rejection, 0, len(r.targets))
	clock := func(t time.Time) string {
		return fmt.Sprintf("%s (in %s)", t.UTC().Format(time.TimeOnly), t.Sub(now).Round(time.Second))
	}
	if !slices.ContainsFunc(r.targets, rq.allows) {
		for _, t := range r.targets {
			out = append(out, Rejection{Account: t.acct.cfg.Name, Model: t.model.Model,
				Reason: "not one of the requested models; configure one of them under accounts: or request a configured model"})
		}
		return out
	}
	for _, t := range r.targets {
		if !rq.allows(t) {
			continue
		}
		rj := Rejection{Account: t.acct.cfg.Name, Model: t.model.Model}
		f := r.fitLocked(t, rq, true)
		hr := t.lim.Headroom(now)
		when, fits := t.lim.EarliestFit(now, f.need)
		switch {
		case t.acct.authFailed:
			rj.Reason = "the provider refused the API key; fix the key and reload"
		case rq.excluded[t] != "":
			rj.Reason = rq.excluded[t]
		case t.info.Tier < low:
			rj.Reason = fmt.Sprintf("tier %d is below tier %d, the lowest %s requests may use", t.info.Tier, low, rq.kind)
		case !f.ok:
			rj.Reason = fmt.Sprintf("the prompt (~%d tokens without context) and %d output tokens exceed its %d-token window", f.need-f.maxTokens, f.maxTokens, t.info.ContextWindow)
		case !fits:
			rj.Reason = fmt.Sprintf("the request needs %d tokens, more than its limit of %d tokens per minute", f.need, hr.TPM)
		case t.h.state != closed && now.Before(t.h.openUntil):
			rj.Reason = fmt.Sprintf("circuit open after repeated %s errors until %s", t.h.lastErr, clock(t.h.openUntil))
		case now.Before(t.h.notBefore):
			rj.Reason = fmt.Sprintf("backing off after %s until %s", t.h.lastErr, clock(t.h.notBefore))
		case t.h.state == halfOpen && t.h.probing:
			rj.Reason = "circuit half-open: a probe request is in flight"
		case fits && r.tooLate(t, rq, when):
			rj.Reason = fmt.Sprintf("its answers take ~%s and it has room at %s, too late for the request's deadline",
				t.h.latency.high().Round(100*time.Millisecond), clock(when))
		case !hr.CooldownUntil.IsZero():
			rj.Reason = fmt.Sprintf("rate limited by the provider until %s", clock(hr.CooldownUntil))
		default:
			rj.Reason = fmt.Sprintf("no headroom: %d of %d tokens and %d requests left this minute, the request needs %d tokens; room at %s",
				hr.Tokens, hr.TPM, hr.Requests, f.need, clock(when))
		}
		out = append(out, rj)
	}
	return out
}

// encodings lists the tokens encodings the current targets use.
func (r *Router) encodings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.encs)
}
