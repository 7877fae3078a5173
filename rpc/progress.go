package rpc

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// Progress reports LSP WorkDone progress for one token. A Progress with no
// token (the client did not ask) does nothing, so callers need not check.
type Progress struct {
	conn  *jsonrpc2.Conn
	token json.RawMessage
	now   func() time.Time

	mu      sync.Mutex
	lastPct int
	lastAt  time.Time
	ended   bool
}

// minReportInterval limits report notifications when the percentage does
// not move.
const minReportInterval = 250 * time.Millisecond

// StartProgress sends the begin notification for token, if there is one.
func StartProgress(ctx context.Context, conn *jsonrpc2.Conn, token json.RawMessage, title string, cancellable bool) *Progress {
	p := &Progress{conn: conn, token: token, now: time.Now, lastPct: -1}
	if !p.active() {
		return p
	}
	zero := 0
	p.send(ctx, WorkDoneProgress{Kind: "begin", Title: title, Cancellable: cancellable, Percentage: &zero})
	p.lastAt = p.now()
	return p
}

func (p *Progress) active() bool {
	return p != nil && p.conn != nil && len(p.token) > 0 && string(p.token) != "null"
}

// Report sends a report when the percentage changed or some time passed.
func (p *Progress) Report(ctx context.Context, message string, pct int) {
	if !p.active() {
		return
	}
	pct = min(max(pct, 0), 100)
	p.mu.Lock()
	now := p.now()
	if p.ended || (pct == p.lastPct && now.Sub(p.lastAt) < minReportInterval) {
		p.mu.Unlock()
		return
	}
	p.lastPct, p.lastAt = pct, now
	p.mu.Unlock()
	p.send(ctx, WorkDoneProgress{Kind: "report", Message: message, Percentage: &pct})
}

// End sends the end notification once.
func (p *Progress) End(ctx context.Context, message string) {
	if !p.active() {
		return
	}
	p.mu.Lock()
	if p.ended {
		p.mu.Unlock()
		return
	}
	p.ended = true
	p.mu.Unlock()
	p.send(ctx, WorkDoneProgress{Kind: "end", Message: message})
}

func (p *Progress) send(ctx context.Context, v WorkDoneProgress) {
	// Progress is best effort: a client that went away is noticed by the
	// request's context, not here.
	_ = p.conn.Notify(context.WithoutCancel(ctx), MethodProgress, ProgressParams{Token: p.token, Value: v})
}
