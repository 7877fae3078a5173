package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/sourcegraph/jsonrpc2"
)

// Request is an incoming request or notification as a handler sees it.
type Request struct {
	Method string
	Params json.RawMessage // nil when absent
	Notif  bool
	ID     jsonrpc2.ID
	Conn   *jsonrpc2.Conn
}

// Decode unmarshals the params into v. Absent or null params leave v
// untouched; params of the wrong shape are an invalid-params error.
func (r *Request) Decode(v any) error {
	if len(r.Params) == 0 || string(r.Params) == "null" {
		return nil
	}
	if err := json.Unmarshal(r.Params, v); err != nil {
		return InvalidParams(r.Method, err)
	}
	return nil
}

// HandlerFunc handles one request. For a notification the result is
// ignored and an error is only logged.
type HandlerFunc func(ctx context.Context, r *Request) (result any, err error)

// HandlerOptions configures NewHandler. The zero value means defaults.
type HandlerOptions struct {
	// MaxConcurrent bounds the requests of one connection running at once
	// (default 16).
	MaxConcurrent int
	// Ordered reports methods that must run in arrival order in the read
	// loop, like the lifecycle methods. Notifications always do.
	Ordered func(method string) bool
	Logger  *slog.Logger
}

// Handler is the middleware around a HandlerFunc for one connection:
// `$/cancelRequest`, bounded concurrency, panic recovery, exactly one reply
// per request and error-code mapping.
type Handler struct {
	h       HandlerFunc
	ordered func(string) bool
	log     *slog.Logger
	sem     chan struct{}
	wg      sync.WaitGroup

	mu       sync.Mutex
	inflight map[jsonrpc2.ID]context.CancelCauseFunc
}

var _ jsonrpc2.Handler = (*Handler)(nil)

// NewHandler wraps h. Use one Handler per connection.
func NewHandler(h HandlerFunc, opts *HandlerOptions) *Handler {
	var o HandlerOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = 16
	}
	if o.Ordered == nil {
		o.Ordered = func(string) bool { return false }
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		h:        h,
		ordered:  o.Ordered,
		log:      o.Logger,
		sem:      make(chan struct{}, o.MaxConcurrent),
		inflight: make(map[jsonrpc2.ID]context.CancelCauseFunc),
	}
}

// Handle implements jsonrpc2.Handler. It is called from the connection's
// read loop.
func (h *Handler) Handle(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	r := &Request{Method: req.Method, Notif: req.Notif, ID: req.ID, Conn: conn}
	if req.Params != nil {
		r.Params = *req.Params
	}
	if req.Method == "$/cancelRequest" {
		h.cancel(r)
		if !req.Notif {
			h.reply(ctx, conn, r, nil, nil)
		}
		return
	}
	if req.Notif {
		h.run(ctx, r)
		return
	}
	ctx, cancel := context.WithCancelCause(ctx)
	h.mu.Lock()
	if _, dup := h.inflight[req.ID]; dup {
		h.mu.Unlock()
		cancel(nil)
		h.reply(ctx, conn, r, nil, Errorf(CodeInvalidRequest, "request id %s is already in use by a running request", req.ID))
		return
	}
	h.inflight[req.ID] = cancel
	h.mu.Unlock()

	if h.ordered(req.Method) {
		h.serve(ctx, cancel, r)
		return
	}
	select {
	case h.sem <- struct{}{}:
	case <-ctx.Done():
		h.serve(ctx, cancel, r) // replies with the cancellation
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		defer func() { <-h.sem }()
		h.serve(ctx, cancel, r)
	}()
}

// Wait blocks until every running request handler has returned.
func (h *Handler) Wait() { h.wg.Wait() }

func (h *Handler) serve(ctx context.Context, cancel context.CancelCauseFunc, r *Request) {
	defer func() {
		h.mu.Lock()
		delete(h.inflight, r.ID)
		h.mu.Unlock()
		cancel(nil)
	}()
	var result any
	var err error
	if ctx.Err() == nil {
		result, err = h.run(ctx, r)
	} else {
		err = context.Cause(ctx)
	}
	h.reply(ctx, r.Conn, r, result, err)
}

// run calls the handler, turning a panic into an error.
func (h *Handler) run(ctx context.Context, r *Request) (result any, err error) {
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("handler panic", "method", r.Method, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			result, err = nil, Errorf(CodeInternalError, "internal error while handling %s: %v", r.Method, p)
		}
	}()
	result, err = h.h(ctx, r)
	if err != nil && r.Notif {
		h.log.Warn("notification failed", "method", r.Method, "error", err)
	}
	return result, err
}

func (h *Handler) reply(ctx context.Context, conn *jsonrpc2.Conn, r *Request, result any, err error) {
	var rerr error
	if err != nil {
		we := toWire(ctx, r.Method, err)
		if we.Code == CodeInternalError {
			h.log.Warn("request failed", "method", r.Method, "error", err)
		}
		rerr = conn.ReplyWithError(context.WithoutCancel(ctx), r.ID, we)
	} else {
		rerr = conn.Reply(context.WithoutCancel(ctx), r.ID, result)
	}
	if rerr != nil && !errors.Is(rerr, jsonrpc2.ErrClosed) {
		h.log.Warn("sending reply", "method", r.Method, "error", rerr)
	}
}

func (h *Handler) cancel(r *Request) {
	var p struct {
		ID jsonrpc2.ID `json:"id"`
	}
	if err := r.Decode(&p); err != nil {
		h.log.Warn("bad $/cancelRequest", "error", err)
		return
	}
	h.mu.Lock()
	cancel := h.inflight[p.ID]
	h.mu.Unlock()
	if cancel != nil {
		cancel(errCancelled)
	}
}

// ServeOptions configures Serve.
type ServeOptions struct {
	Handler HandlerOptions
	Stream  StreamOptions
}

// Serve runs h over rwc until the peer disconnects or ctx ends, then waits
// for running handlers to return. The returned Conn is closed by the time
// Serve returns.
func Serve(ctx context.Context, rwc io.ReadWriteCloser, h HandlerFunc, opts *ServeOptions) {
	var o ServeOptions
	if opts != nil {
		o = *opts
	}
	if o.Stream.Logger == nil {
		o.Stream.Logger = o.Handler.Logger
	}
	hd := NewHandler(h, &o.Handler)
	lg := o.Handler.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	conn := jsonrpc2.NewConn(ctx, NewStream(rwc, &o.Stream), hd, jsonrpc2.SetLogger(slogPrintf{lg}))
	<-conn.DisconnectNotify()
	hd.Wait()
}
