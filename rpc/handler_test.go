package rpc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testServer runs h on one end of a pipe and returns a Client on the other.
func testServer(t *testing.T, h HandlerFunc, opts *HandlerOptions, onNotify func(string, json.RawMessage)) *Client {
	t.Helper()
	a, b := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var ho HandlerOptions
	if opts != nil {
		ho = *opts
	}
	go func() {
		defer close(done)
		Serve(ctx, a, h, &ServeOptions{Handler: ho})
	}()
	c := NewClient(ctx, b, &ClientOptions{OnNotify: onNotify})
	t.Cleanup(func() { c.Close(); cancel(); <-done })
	return c
}

func code(err error) int64 {
	if re, ok := RemoteError(err); ok {
		return re.Code
	}
	return 0
}

func TestHandlerErrorCodes(t *testing.T) {
	h := func(ctx context.Context, r *Request) (any, error) {
		switch r.Method {
		case "typed":
			var p struct {
				N int `json:"n"`
			}
			if err := r.Decode(&p); err != nil {
				return nil, err
			}
			return p.N, nil
		case "plain":
			return nil, errors.New("disk on fire")
		case "panic":
			panic("boom")
		case "ok":
			return "fine", nil
		}
		return nil, Errorf(CodeMethodNotFound, "unknown method %q", r.Method)
	}
	c := testServer(t, h, nil, nil)
	tests := []struct {
		method string
		params any
		want   int64
	}{
		{"typed", map[string]any{"n": "not a number"}, CodeInvalidParams},
		{"typed", []int{1}, CodeInvalidParams},
		{"plain", nil, CodeInternalError},
		{"panic", nil, CodeInternalError},
		{"missing", nil, CodeMethodNotFound},
		{"typed", map[string]any{"n": 3}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			var res any
			err := c.Call(context.Background(), tt.method, tt.params, &res)
			if got := code(err); got != tt.want {
				t.Fatalf("Call(%s, %v) code = %d (err %v), want %d", tt.method, tt.params, got, err, tt.want)
			}
		})
	}
	// After a panic the connection still serves.
	var s string
	if err := c.Call(context.Background(), "ok", nil, &s); err != nil || s != "fine" {
		t.Fatalf("Call(ok) after panic = %q, %v; want fine", s, err)
	}
}

func TestCancelRequest(t *testing.T) {
	started := make(chan struct{})
	sawCancel := make(chan error, 1)
	h := func(ctx context.Context, r *Request) (any, error) {
		if r.Method == "slow" {
			close(started)
			<-ctx.Done()
			sawCancel <- ctx.Err()
			return nil, ctx.Err()
		}
		return "fast", nil
	}
	c := testServer(t, h, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Call(ctx, "slow", nil, nil) }()
	<-started
	// Other requests are served while slow runs.
	var s string
	if err := c.Call(context.Background(), "fast", nil, &s); err != nil || s != "fast" {
		t.Fatalf("Call(fast) during slow = %q, %v", s, err)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Call(slow) after cancel = %v, want context.Canceled", err)
	}
	if err := <-sawCancel; err == nil {
		t.Fatalf("handler context was not cancelled")
	}
}

func TestCancelRequestReplyCode(t *testing.T) {
	started := make(chan struct{})
	h := func(ctx context.Context, r *Request) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	p := echoServerWith(t, h)
	p.write(frame(`{"jsonrpc":"2.0","id":9,"method":"slow"}`))
	<-started
	p.write(frame(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":9}}`))
	m := p.reply()
	if m["id"] != float64(9) || errCode(m) != CodeRequestCancelled {
		t.Fatalf("reply to cancelled request = %v, want code %d", m, CodeRequestCancelled)
	}
}

func echoServerWith(t *testing.T, h HandlerFunc) *rawPeer {
	t.Helper()
	a, b := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Serve(ctx, a, h, nil)
	}()
	t.Cleanup(func() { cancel(); b.Close(); <-done })
	return &rawPeer{t: t, conn: b, r: bufio.NewReader(b)}
}

func TestConcurrencyBound(t *testing.T) {
	const limit = 2
	var running, peak atomic.Int32
	release := make(chan struct{})
	entered := make(chan struct{}, 5)
	h := func(ctx context.Context, r *Request) (any, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		entered <- struct{}{}
		<-release
		running.Add(-1)
		return nil, nil
	}
	c := testServer(t, h, &HandlerOptions{MaxConcurrent: limit}, nil)
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Call(context.Background(), "work", nil, nil); err != nil {
				t.Errorf("Call(work) = %v", err)
			}
		}()
	}
	for i := 0; i < limit; i++ {
		<-entered
	}
	// With the bound reached, no third handler may start.
	select {
	case <-entered:
		t.Fatalf("a third handler started while %d were running", limit)
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	wg.Wait()
	if p := peak.Load(); p > limit {
		t.Fatalf("peak concurrent handlers = %d, want at most %d", p, limit)
	}
}

func TestDisconnectCancelsRunningRequest(t *testing.T) {
	started := make(chan struct{})
	cancelled := make(chan struct{})
	h := func(ctx context.Context, r *Request) (any, error) {
		close(started)
		<-ctx.Done()
		close(cancelled)
		return nil, ctx.Err()
	}
	a, b := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		Serve(context.Background(), a, h, nil)
	}()
	c := NewClient(context.Background(), b, nil)
	go c.Call(context.Background(), "slow", nil, nil)
	<-started
	c.Close()
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("handler context not cancelled after the client disconnected")
	}
	<-done
}

func TestProgress(t *testing.T) {
	var mu sync.Mutex
	var kinds []string
	h := func(ctx context.Context, r *Request) (any, error) {
		var p WorkDoneProgressParams
		if err := r.Decode(&p); err != nil {
			return nil, err
		}
		pr := StartProgress(ctx, r.Conn, p.WorkDoneToken, "Indexing", true)
		for i := 1; i <= 4; i++ {
			pr.Report(ctx, "step", i*25)
		}
		pr.End(ctx, "done")
		return "ok", nil
	}
	c := testServer(t, h, nil, func(method string, raw json.RawMessage) {
		if method != MethodProgress {
			return
		}
		var p struct {
			Token string           `json:"token"`
			Value WorkDoneProgress `json:"value"`
		}
		if err := json.Unmarshal(raw, &p); err != nil || p.Token != "tok" {
			t.Errorf("bad progress %s: %v", raw, err)
		}
		mu.Lock()
		kinds = append(kinds, p.Value.Kind)
		mu.Unlock()
	})
	var res string
	if err := c.Call(context.Background(), "index", map[string]any{"workDoneToken": "tok"}, &res); err != nil {
		t.Fatal(err)
	}
	// Notifications are delivered before the reply, in order.
	mu.Lock()
	defer mu.Unlock()
	want := []string{"begin", "report", "report", "report", "report", "end"}
	if len(kinds) != len(want) {
		t.Fatalf("progress kinds = %v, want %v", kinds, want)
	}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("progress kinds = %v, want %v", kinds, want)
		}
	}
}
