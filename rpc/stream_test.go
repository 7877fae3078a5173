package rpc

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sourcegraph/jsonrpc2"
)

// rawPeer is the far end of a server connection, writing bytes by hand and
// reading framed replies.
type rawPeer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func frame(body string) string {
	return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body)
}

func (p *rawPeer) write(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.conn, s); err != nil {
		p.t.Fatalf("writing to server: %v", err)
	}
}

// reply reads one framed message.
func (p *rawPeer) reply() map[string]any {
	p.t.Helper()
	_ = p.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var n int
	for {
		line, err := p.r.ReadString('\n')
		if err != nil {
			p.t.Fatalf("reading reply header: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		fmt.Sscanf(line, "Content-Length: %d", &n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(p.r, body); err != nil {
		p.t.Fatalf("reading reply body: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		p.t.Fatalf("reply %q is not JSON: %v", body, err)
	}
	return m
}

func errCode(m map[string]any) int {
	e, ok := m["error"].(map[string]any)
	if !ok {
		return 0
	}
	return int(e["code"].(float64))
}

// echoServer serves a handler that answers "echo" with its params.
func echoServer(t *testing.T, max int64) *rawPeer {
	t.Helper()
	a, b := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Serve(ctx, a, func(ctx context.Context, r *Request) (any, error) {
			if r.Method == "echo" {
				return r.Params, nil
			}
			return nil, Errorf(CodeMethodNotFound, "unknown method %q", r.Method)
		}, &ServeOptions{Stream: StreamOptions{MaxMessageBytes: max}})
	}()
	t.Cleanup(func() { cancel(); b.Close(); <-done })
	return &rawPeer{t: t, conn: b, r: bufio.NewReader(b)}
}

func TestStreamSurvivesBadMessages(t *testing.T) {
	good := `{"jsonrpc":"2.0","id":7,"method":"echo","params":{"x":1}}`
	tests := []struct {
		name     string
		send     string
		wantCode int
	}{
		{"body not JSON", frame(`{"jsonrpc":"2.0","id":1,"method":`), CodeParseError},
		{"not an object", frame(`42`), CodeInvalidRequest},
		{"batch", frame(`[{"jsonrpc":"2.0","id":1,"method":"echo"}]`), CodeInvalidRequest},
		{"missing jsonrpc", frame(`{"id":1,"method":"echo"}`), CodeInvalidRequest},
		{"method not a string", frame(`{"jsonrpc":"2.0","id":1,"method":5}`), CodeInvalidRequest},
		{"missing content-length", "Content-Type: application/json\r\n\r\n", CodeParseError},
		{"garbled content-length", "Content-Length: ten\r\n\r\n", CodeParseError},
		{"content-length too short", fmt.Sprintf("Content-Length: %d\r\n\r\n%s", 10, `{"jsonrpc":"2.0","id":1,"method":"echo"}`), CodeParseError},
		{"noise between frames", "hello there\r\n", CodeParseError},
		{"oversize message", frame(`{"jsonrpc":"2.0","id":3,"method":"echo","params":"` + strings.Repeat("x", 2000) + `"}`), CodeInvalidRequest},
		{"unknown method", frame(`{"jsonrpc":"2.0","id":4,"method":"nope"}`), CodeMethodNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := echoServer(t, 1024)
			p.write(tt.send)
			if got := errCode(p.reply()); got != tt.wantCode {
				t.Fatalf("error code = %d, want %d", got, tt.wantCode)
			}
			// The connection keeps working.
			p.write(frame(good))
			m := p.reply()
			for m["id"] != float64(7) { // a resync may cost one more error reply
				if errCode(m) == 0 {
					t.Fatalf("unexpected message %v", m)
				}
				m = p.reply()
			}
			if res, _ := m["result"].(map[string]any); res["x"] != float64(1) {
				t.Fatalf("echo after %s = %v, want result {x:1}", tt.name, m)
			}
		})
	}
}

func TestStreamAcceptsLFHeadersAndCaseInsensitiveNames(t *testing.T) {
	p := echoServer(t, 0)
	body := `{"jsonrpc":"2.0","id":"a","method":"echo","params":[1]}`
	p.write(fmt.Sprintf("content-length: %d\nContent-Type: application/vscode-jsonrpc; charset=utf-8\n\n%s", len(body), body))
	m := p.reply()
	if m["id"] != "a" || errCode(m) != 0 {
		t.Fatalf("reply = %v, want result for id a", m)
	}
}

func TestStreamTruncatedBodyEndsConnection(t *testing.T) {
	a, b := net.Pipe()
	s := NewStream(a, nil)
	go func() {
		io.WriteString(b, "Content-Length: 100\r\n\r\n{\"jsonrpc\"")
		b.Close()
	}()
	var m json.RawMessage
	err := s.ReadObject(&m)
	if err == nil {
		t.Fatalf("ReadObject on a truncated body = nil error, want an I/O error")
	}
	var fe *frameError
	if ok := asFrameError(err, &fe); ok {
		t.Fatalf("ReadObject on a truncated body = frame error %v, want an I/O error", err)
	}
}

func asFrameError(err error, fe **frameError) bool {
	e, ok := err.(*frameError)
	if ok {
		*fe = e
	}
	return ok
}

// The stream must satisfy jsonrpc2's needs for requests and responses.
var _ jsonrpc2.ObjectStream = (*Stream)(nil)
