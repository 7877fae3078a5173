package router

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Queue settings.
const (
	// minWait is the shortest sleep of the queue's head, so that a head
	// whose earliest fit is "now" (a half-open probe in flight) does not
	// spin.
	minWait = 50 * time.Millisecond
	// backfillScan bounds how many waiters behind the head are offered
	// capacity the head cannot use.
	backfillScan = 64
)

// waiter is a request queued for capacity. The head of the queue plans for
// itself; the others wait for their turn or for a plan handed to them.
type waiter struct {
	rq   *routeReq
	turn chan struct{} // capacity 1: "you are head", "capacity changed" or "plan handed"
	plan *plan         // set under Router.mu by backfill
}

// acquire returns an admitted plan for rq, queueing in FIFO order when
// nothing can take it now. A request that already made an attempt (retry)
// may plan ahead of the queue and otherwise waits at its front.
//
// The queue is fair without idling capacity: the head has first pick, and
// only targets the head cannot use at all (tier, window, or an answer that
// would come after its deadline) are offered to the waiters behind it, in
// order.
func (r *Router) acquire(ctx context.Context, rq *routeReq, retry bool) (*plan, error) {
	r.mu.Lock()
	if retry || len(r.queue) == 0 {
		if p := r.planLocked(r.now(), rq, nil); p != nil {
			r.mu.Unlock()
			return p, nil
		}
	}
	w := &waiter{rq: rq, turn: make(chan struct{}, 1)}
	if retry {
		r.queue = slices.Insert(r.queue, 0, w)
	} else {
		r.queue = append(r.queue, w)
	}
	if r.queue[0] != w {
		// What the head cannot use may serve the newcomer now.
		r.backfillLocked(r.now(), r.queue[0].rq)
	}
	r.mu.Unlock()

	defer func() {
		r.mu.Lock()
		if i := slices.Index(r.queue, w); i >= 0 {
			r.queue = slices.Delete(r.queue, i, i+1)
		}
		if w.plan != nil { // handed a plan it will not use
			r.dropPlanLocked(w.plan)
			w.plan = nil
		}
		r.wakeLocked()
		r.mu.Unlock()
	}()
	for {
		r.mu.Lock()
		if p := w.plan; p != nil {
			w.plan = nil
			r.mu.Unlock()
			return p, nil
		}
		if r.queue[0] != w {
			r.mu.Unlock()
			select {
			case <-w.turn:
				continue
			case <-ctx.Done():
				return nil, r.waitErr(ctx, rq)
			}
		}
		now := r.now()
		if p := r.planLocked(now, rq, nil); p != nil {
			r.mu.Unlock()
			return p, nil
		}
		at, ok := r.earliestLocked(now, rq)
		if !ok || at.After(rq.deadline) {
			err := r.noCandidateLocked(now, rq)
			r.mu.Unlock()
			return nil, err
		}
		r.backfillLocked(now, rq)
		r.mu.Unlock()
		select {
		case <-w.turn:
		case <-r.after(max(at.Sub(now), minWait)):
		case <-ctx.Done():
			return nil, r.waitErr(ctx, rq)
		}
	}
}

// backfillLocked offers the targets the head cannot use to the waiters
// behind it, in queue order.
func (r *Router) backfillLocked(now time.Time, head *routeReq) {
	unusable := make(map[*target]bool)
	low := head.lowestTier()
	for _, t := range r.targets {
		_, excluded := head.excluded[t]
		if !head.allows(t) || t.info.Tier < low || excluded || !r.fitLocked(t, head, true).ok || r.tooLate(t, head, now) {
			unusable[t] = true
		}
	}
	if len(unusable) == 0 {
		return
	}
	only := func(t *target) bool { return unusable[t] }
	for _, w := range r.queue[1:min(len(r.queue), backfillScan+1)] {
		if w.plan != nil {
			continue
		}
		if p := r.planLocked(now, w.rq, only); p != nil {
			w.plan = p
			select {
			case w.turn <- struct{}{}:
			default:
			}
		}
	}
}

// dropPlanLocked gives back an admitted plan that was never sent.
func (r *Router) dropPlanLocked(p *plan) {
	p.res.Release()
	if p.probe {
		p.t.h.abandon()
	}
}

// waitErr is the error of a queued request whose context ended: past its
// deadline the user learns why nothing could answer; a cancellation is
// reported as such.
func (r *Router) waitErr(ctx context.Context, rq *routeReq) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.noCandidateLocked(r.now(), rq)
	}
	return fmt.Errorf("waiting for capacity for a %s request: %w", rq.kind, ctx.Err())
}

// wakeLocked tells the head of the queue that capacity may have changed.
func (r *Router) wakeLocked() {
	if len(r.queue) == 0 {
		return
	}
	select {
	case r.queue[0].turn <- struct{}{}:
	default:
	}
}
