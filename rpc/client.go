package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// ClientOptions configures NewClient. The zero value means defaults.
type ClientOptions struct {
	// OnNotify receives the server's notifications ($/progress,
	// codemux/askDelta, …) in arrival order.
	OnNotify func(method string, params json.RawMessage)
	// CancelGrace is how long Call waits for the server to answer a
	// cancelled request before giving up on it (default 2s).
	CancelGrace time.Duration
	Stream      StreamOptions
	Logger      *slog.Logger
}

// Client is a JSON-RPC client over an LSP-framed stream. It cancels
// server-side work when a call's context ends, and answers the server's
// window/workDoneProgress/create requests.
type Client struct {
	conn  *jsonrpc2.Conn
	seq   atomic.Uint64
	grace time.Duration
}

// NewClient starts a client on rwc. Close it when done.
func NewClient(ctx context.Context, rwc io.ReadWriteCloser, opts *ClientOptions) *Client {
	var o ClientOptions
	if opts != nil {
		o = *opts
	}
	if o.CancelGrace <= 0 {
		o.CancelGrace = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	so := o.Stream
	if so.Logger == nil {
		so.Logger = o.Logger
	}
	c := &Client{grace: o.CancelGrace}
	h := jsonrpc2.HandlerWithError(func(ctx context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) (any, error) {
		if req.Notif {
			if o.OnNotify != nil {
				var p json.RawMessage
				if req.Params != nil {
					p = *req.Params
				}
				o.OnNotify(req.Method, p)
			}
			return nil, nil
		}
		if req.Method == MethodProgressCreate {
			return nil, nil
		}
		return nil, &jsonrpc2.Error{Code: CodeMethodNotFound, Message: "client does not handle " + req.Method}
	})
	c.conn = jsonrpc2.NewConn(ctx, NewStream(rwc, &so), h, jsonrpc2.SetLogger(slogPrintf{o.Logger}))
	return c
}

// Call sends a request and waits for its result. If ctx ends first, the
// server is sent $/cancelRequest and Call returns ctx's error once the
// server answered or CancelGrace passed.
func (c *Client) Call(ctx context.Context, method string, params, result any) error {
	id := jsonrpc2.ID{Num: c.seq.Add(1)}
	w, err := c.conn.DispatchCall(context.WithoutCancel(ctx), method, params, jsonrpc2.PickID(id))
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- w.Wait(context.Background(), result) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	_ = c.conn.Notify(context.Background(), MethodCancelRequest, CancelParams{ID: id.Num})
	t := time.NewTimer(c.grace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
	return ctx.Err()
}

// Notify sends a notification.
func (c *Client) Notify(ctx context.Context, method string, params any) error {
	return c.conn.Notify(ctx, method, params)
}

// Done is closed when the connection is gone.
func (c *Client) Done() <-chan struct{} { return c.conn.DisconnectNotify() }

// Close closes the connection.
func (c *Client) Close() error {
	err := c.conn.Close()
	if errors.Is(err, jsonrpc2.ErrClosed) {
		return nil
	}
	return err
}

// slogPrintf adapts a *slog.Logger to jsonrpc2.Logger.
type slogPrintf struct{ l *slog.Logger }

func (s slogPrintf) Printf(format string, v ...any) {
	s.l.Debug("jsonrpc2", "msg", sprintf(format, v...))
}
