package router

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/codemux/codemux/router/limit"
	"github.com/codemux/codemux/router/provider"
)

// Do routes req to the best account that can take it and returns the answer.
// When req.Stream is set and onDelta is non-nil, onDelta receives the answer
// as it arrives; a fallback before the first token is invisible, and a
// stream cut mid-answer continues on another candidate (Result.Continued).
//
// Do waits for capacity up to ctx's deadline, or Options.QueueDeadline when
// ctx has none. The only rate-limit error it returns is a *NoCandidateError
// explaining why each candidate was rejected.
func (r *Router) Do(ctx context.Context, req *Request, onDelta func(string)) (*Result, error) {
	if req == nil {
		return nil, errors.New("routing request: request is nil")
	}
	rq, err := r.prepare(ctx, req)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for retry := false; ; retry = true {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("routing %s request: %w", rq.kind, err)
		}
		if len(res.Attempts) >= r.attempts {
			r.mu.Lock()
			err := r.noCandidateLocked(r.now(), rq)
			err.Attempts = res.Attempts
			r.mu.Unlock()
			return nil, err
		}
		p, err := r.acquire(ctx, rq, retry)
		if err != nil {
			var nc *NoCandidateError
			if errors.As(err, &nc) {
				nc.Attempts = res.Attempts
			}
			return nil, err
		}
		resp, text, err := r.attempt(ctx, rq, p, onDelta, res)
		if err == nil {
			res.Text = rq.partial + resp.Text
			res.Model = cmp.Or(resp.Model, p.t.model.Model)
			res.Account = p.t.acct.cfg.Name
			res.ContextUsed = res.ContextUsed[:0]
			for _, pc := range p.keep {
				res.ContextUsed = append(res.ContextUsed, pc.ID)
			}
			res.Trimmed, res.Degraded = p.trimmed, p.degraded
			return res, nil
		}
		var pe *provider.Error
		if errors.As(err, &pe) && pe.Kind == provider.KindBadRequest {
			return nil, fmt.Errorf("%s/%s rejected the request: %w", p.t.acct.cfg.Name, p.t.model.Model, err)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("routing %s request: %w", rq.kind, ctx.Err())
		}
		if text != "" {
			// Part of the answer reached the caller: continue from it.
			rq.partial += text
			res.Continued = true
			rq.sizes = nil
			r.measure(rq, r.encodings())
		}
	}
}

// prepare resolves the request's kind and deadline and counts its prompt.
func (r *Router) prepare(ctx context.Context, req *Request) (*routeReq, error) {
	kind := cmp.Or(req.Kind, DefaultKind)
	r.mu.Lock()
	policy, ok := r.kinds[kind]
	var known []string
	if !ok {
		for k := range r.kinds {
			known = append(known, k)
		}
	}
	encs := slices.Clone(r.encs)
	r.mu.Unlock()
	if !ok {
		slices.Sort(known)
		return nil, fmt.Errorf("routing request: unknown request kind %q (want one of %s)", kind, strings.Join(known, ", "))
	}
	rq := &routeReq{req: req, kind: kind, policy: policy, excluded: make(map[*target]string)}
	if len(req.Models) > 0 {
		rq.models = make(map[string]bool, len(req.Models))
		for _, m := range req.Models {
			rq.models[m] = true
		}
		rq.policy = KindPolicy{} // the caller chose the models: any tier
	}
	rq.ranked = slices.Clone(req.Context)
	slices.SortStableFunc(rq.ranked, func(a, b Piece) int { return cmp.Compare(a.Rank, b.Rank) })
	if d, ok := ctx.Deadline(); ok {
		rq.deadline, rq.hard = d, true
	} else {
		rq.deadline = r.now().Add(r.deadline)
	}
	r.measure(rq, encs)
	return rq, nil
}

// attempt sends one planned attempt, settles its reservation and health, and
// records it in res. It returns the text streamed to the caller when the
// attempt failed after its first token.
func (r *Router) attempt(ctx context.Context, rq *routeReq, p *plan, onDelta func(string), res *Result) (*provider.Response, string, error) {
	t := p.t
	preq := render(rq.req, t.info, t.model.Model, p.keep, p.maxTokens, rq.partial)
	start := r.now()
	var first time.Time
	var streamed strings.Builder
	var cb func(string)
	if rq.req.Stream && onDelta != nil {
		cb = func(s string) {
			if first.IsZero() {
				first = r.now()
			}
			streamed.WriteString(s)
			onDelta(s)
		}
	}
	resp, err := t.acct.client.Complete(ctx, preq, cb)
	end := r.now()

	a := Attempt{Account: t.acct.cfg.Name, Model: t.model.Model, Outcome: "ok", Ms: end.Sub(start).Milliseconds()}
	var pe *provider.Error
	if err != nil && !errors.As(err, &pe) {
		pe = &provider.Error{Kind: provider.KindUnknown, Message: "client error", Err: err}
	}
	if err != nil {
		a.Outcome = pe.Kind.String()
		if ctx.Err() != nil {
			a.Outcome = "canceled"
		}
	}
	res.Attempts = append(res.Attempts, a)
	if err == nil {
		res.Usage.PromptTokens += resp.Usage.PromptTokens
		res.Usage.CompletionTokens += resp.Usage.CompletionTokens
		r.counter.Observe(t.model.CatalogName(), p.prompt, resp.Usage.PromptTokens)
	}
	r.log.DebugContext(ctx, "llm attempt", "account", a.Account, "model", a.Model, "outcome", a.Outcome,
		"ms", a.Ms, "reserved", p.res.Tokens(), "trimmed", p.trimmed)

	text := streamed.String()
	if text == "" && pe != nil && pe.Started {
		text = pe.Partial
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	defer r.wakeLocked()
	if err == nil {
		used := resp.Usage.PromptTokens + resp.Usage.CompletionTokens
		if used == 0 {
			used = p.res.Tokens() // the provider reported no usage: keep the estimate
		}
		p.res.Commit(used)
		t.lim.Observe(end, observation(resp.Limits))
		t.h.success(end.Sub(start), first.Sub(start), !first.IsZero())
		return resp, "", nil
	}
	// A provider charges a request it accepted even when the answer never
	// arrives: keep the estimate for calls that may have been processed
	// (cancelled, timed out or cut mid-stream) and release it for calls it
	// refused.
	switch {
	case text != "" || ctx.Err() != nil || pe.Kind == provider.KindTimeout:
		p.res.Commit(p.res.Tokens())
	default:
		p.res.Release()
	}
	if ctx.Err() != nil {
		if p.probe {
			t.h.abandon()
		}
		return nil, "", err
	}
	switch pe.Kind {
	case provider.KindRateLimited:
		t.lim.Observe(end, observation(pe.Limits))
		t.lim.Cooldown(end.Add(t.h.rateLimited(rateLimitWait(pe.Limits), r.rand)))
	case provider.KindContextTooLong:
		rq.excluded[t] = "the provider said the prompt exceeds the model's window"
		if p.probe {
			t.h.abandon()
		}
	case provider.KindAuth:
		t.acct.authFailed = true
		t.h.lastErr = "auth"
		if p.probe {
			t.h.abandon()
		}
	case provider.KindBadRequest:
		if p.probe {
			t.h.abandon()
		}
	default: // overloaded, server, timeout, network, stream cut, bad response, unknown
		t.lim.Observe(end, observation(pe.Limits))
		t.h.failure(end, pe.Kind.String(), pe.Limits.RetryAfter, r.threshold, r.cooldown, r.rand)
	}
	return nil, text, err
}

// rateLimitWait is how long a 429 asks us to wait: retry-after, or the reset
// of a dimension the provider says is exhausted. 0 means it did not say.
func rateLimitWait(l provider.Limits) time.Duration {
	d := l.RetryAfter
	if l.HasRequests && l.RequestsRemaining <= 0 {
		d = max(d, l.RequestsReset)
	}
	if l.HasTokens && l.TokensRemaining <= 0 {
		d = max(d, l.TokensReset)
	}
	return d
}

func observation(l provider.Limits) limit.Observation {
	return limit.Observation{
		HasRequests: l.HasRequests, RequestsLimit: l.RequestsLimit, RequestsRemaining: l.RequestsRemaining, RequestsReset: l.RequestsReset,
		HasTokens: l.HasTokens, TokensLimit: l.TokensLimit, TokensRemaining: l.TokensRemaining, TokensReset: l.TokensReset,
	}
}
