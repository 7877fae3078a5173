// Package rpc is codemux's JSON-RPC 2.0 layer: LSP-framed streams with a
// size cap that survive malformed frames, server middleware (cancellation,
// bounded concurrency, panic recovery, error-code mapping, WorkDone
// progress), a client, and the protocol's parameter and result types.
//
// It builds on github.com/sourcegraph/jsonrpc2 and adds what that package
// leaves out: `$/cancelRequest`, a bound on concurrent handlers, a message
// size cap, typed error codes (a plain Go error never becomes code 0) and
// recovery from framing errors without dropping the connection.
//
// # Usage
//
// A server wraps its method dispatch once and attaches it to a stream:
//
//	h := rpc.NewHandler(dispatch, &rpc.HandlerOptions{MaxConcurrent: 16})
//	conn := jsonrpc2.NewConn(ctx, rpc.NewStream(rwc, nil), h)
//	<-conn.DisconnectNotify()
//
// A client dials the same framing:
//
//	c := rpc.NewClient(ctx, rwc, nil)
//	err := c.Call(ctx, "codemux/status", nil, &status)
//
// # Concurrency
//
// Notifications and the methods named in HandlerOptions.Ordered run in the
// connection's read loop, in arrival order. Every other request runs on its
// own goroutine, at most MaxConcurrent at a time per connection; when the
// bound is reached the read loop waits, which applies back-pressure to the
// peer. A request's context is cancelled by `$/cancelRequest`, by the
// connection closing, or by the handler returning. Stream writes are
// serialised; a Stream and a Client are safe for concurrent use.
package rpc
