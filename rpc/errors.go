package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sourcegraph/jsonrpc2"
)

// JSON-RPC and LSP error codes used on the wire.
const (
	CodeParseError           = -32700
	CodeInvalidRequest       = -32600
	CodeMethodNotFound       = -32601
	CodeInvalidParams        = -32602
	CodeInternalError        = -32603
	CodeServerNotInitialized = -32002
	CodeRequestFailed        = -32803 // LSP: the request was valid but failed
	CodeRequestCancelled     = -32800
)

// Error is an error with a JSON-RPC code and a message a person can act on.
// Err, when set, is the internal cause; it is kept for errors.Is and logs and
// is never sent to the peer.
type Error struct {
	Code    int64
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code int64, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidParams reports params that do not fit the method.
func InvalidParams(method string, err error) *Error {
	return &Error{Code: CodeInvalidParams, Message: fmt.Sprintf("invalid params for %s: %v", method, err)}
}

// errCancelled is the cause attached to a request context cancelled by the
// peer's $/cancelRequest.
var errCancelled = errors.New("request cancelled by the client")

// toWire maps any handler error to a JSON-RPC error object. Context errors
// from a client cancellation become -32800, typed errors keep their code and
// everything else becomes -32603 with its message: never code 0.
func toWire(ctx context.Context, method string, err error) *jsonrpc2.Error {
	if errors.Is(context.Cause(ctx), errCancelled) {
		return &jsonrpc2.Error{Code: CodeRequestCancelled, Message: method + ": request cancelled"}
	}
	var e *Error
	if errors.As(err, &e) {
		return &jsonrpc2.Error{Code: e.Code, Message: e.Message}
	}
	var je *jsonrpc2.Error
	if errors.As(err, &je) && je.Code != 0 {
		return je
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) {
		return &jsonrpc2.Error{Code: CodeInvalidParams, Message: fmt.Sprintf("invalid params for %s: %v", method, err)}
	}
	return &jsonrpc2.Error{Code: CodeInternalError, Message: fmt.Sprintf("%s failed: %v", method, err)}
}

// RemoteError converts an error returned by Client.Call into an *Error when
// it came from the peer, so callers can switch on the code.
func RemoteError(err error) (*Error, bool) {
	var je *jsonrpc2.Error
	if errors.As(err, &je) {
		return &Error{Code: je.Code, Message: je.Message}, true
	}
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

func sprintf(format string, v ...any) string { return fmt.Sprintf(format, v...) }
