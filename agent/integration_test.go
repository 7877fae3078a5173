package agent_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/codemux/codemux/agent"
	"github.com/codemux/codemux/agent/agenttest"
	"github.com/codemux/codemux/rpc"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func code(err error) int64 {
	if re, ok := rpc.RemoteError(err); ok {
		return re.Code
	}
	return 0
}

// TestLifecycle runs the LSP lifecycle in-process and through a real
// forwarder subprocess: the same test in both modes.
func TestLifecycle(t *testing.T) {
	for _, mode := range agenttest.Modes {
		t.Run(string(mode), func(t *testing.T) {
			ctx := ctxT(t)
			home := agenttest.Home(t)
			ws := t.TempDir()
			ed := agenttest.NewEditor(t, agenttest.Connect(t, mode, home, nil))

			if err := ed.Call(ctx, rpc.MethodStatus, nil, nil); code(err) != rpc.CodeServerNotInitialized {
				t.Fatalf("status before initialize: code %d (%v), want %d", code(err), err, rpc.CodeServerNotInitialized)
			}
			res, err := ed.Initialize(ctx, "test-editor", ws)
			if err != nil {
				t.Fatalf("initialize: %v", err)
			}
			if res.ServerInfo.Name != "codemux" || res.ServerInfo.Version != agent.Version {
				t.Errorf("serverInfo = %+v, want codemux %s", res.ServerInfo, agent.Version)
			}
			if !res.Capabilities.Workspace.WorkspaceFolders.Supported {
				t.Errorf("capabilities do not announce workspace folders: %+v", res.Capabilities)
			}
			if err := ed.Call(ctx, rpc.MethodInitialize, rpc.InitializeParams{}, nil); code(err) != rpc.CodeInvalidRequest {
				t.Errorf("second initialize: code %d, want %d", code(err), rpc.CodeInvalidRequest)
			}

			var st rpc.StatusResult
			if err := ed.Call(ctx, rpc.MethodStatus, nil, &st); err != nil {
				t.Fatalf("status: %v", err)
			}
			if st.Version != agent.Version || st.PID == 0 || len(st.Clients) == 0 {
				t.Errorf("status = %+v, want version, pid and a client", st)
			}
			if !hasFolder(st, ws) {
				t.Errorf("status folders = %+v, want %s", st.Folders, ws)
			}
			if mode == agenttest.Forwarder && (st.Socket == "" || st.PID == os.Getpid()) {
				t.Errorf("forwarded status = pid %d socket %q, want the daemon's", st.PID, st.Socket)
			}

			if err := ed.Call(ctx, "codemux/nonsense", nil, nil); code(err) != rpc.CodeMethodNotFound {
				t.Errorf("unknown method: code %d, want %d", code(err), rpc.CodeMethodNotFound)
			}
			if err := ed.Call(ctx, rpc.MethodSearch, []int{1, 2}, nil); code(err) != rpc.CodeInvalidParams {
				t.Errorf("search with array params: code %d (%v), want %d", code(err), err, rpc.CodeInvalidParams)
			}

			if err := ed.Call(ctx, rpc.MethodShutdown, nil, nil); err != nil {
				t.Fatalf("shutdown: %v", err)
			}
			if err := ed.Call(ctx, rpc.MethodStatus, nil, nil); code(err) != rpc.CodeInvalidRequest {
				t.Errorf("status after shutdown: code %d, want %d", code(err), rpc.CodeInvalidRequest)
			}
			if err := ed.Notify(ctx, rpc.MethodExit, nil); err != nil {
				t.Fatalf("exit: %v", err)
			}
			select {
			case <-ed.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("connection still open after exit")
			}
		})
	}
}

func hasFolder(st rpc.StatusResult, path string) bool {
	for _, f := range st.Folders {
		if f.URI == "file://"+path {
			return true
		}
	}
	return false
}

func TestStandaloneExitStatus(t *testing.T) {
	home := agenttest.Home(t)
	for _, tt := range []struct {
		name     string
		shutdown bool
		want     int
	}{{"shutdown then exit", true, 0}, {"exit without shutdown", false, 1}} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctxT(t)
			cmd := agenttest.Command(t, home, "serve", "--stdio", "--standalone")
			in, _ := cmd.StdinPipe()
			out, _ := cmd.StdoutPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			ed := agenttest.NewEditor(t, struct {
				io.Reader
				io.WriteCloser
			}{out, in})
			if _, err := ed.Initialize(ctx, "standalone"); err != nil {
				t.Fatal(err)
			}
			if tt.shutdown {
				if err := ed.Call(ctx, rpc.MethodShutdown, nil, nil); err != nil {
					t.Fatal(err)
				}
			}
			ed.Notify(ctx, rpc.MethodExit, nil)
			err := cmd.Wait()
			got := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				got = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("exit status = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestTwoClientsShareOneDaemon connects two forwarders; both reach the same
// daemon and see each other.
func TestTwoClientsShareOneDaemon(t *testing.T) {
	ctx := ctxT(t)
	home := agenttest.Home(t)
	a := agenttest.NewEditor(t, agenttest.Connect(t, agenttest.Forwarder, home, nil))
	if _, err := a.Initialize(ctx, "editor-a", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	b := agenttest.NewEditor(t, agenttest.Connect(t, agenttest.Forwarder, home, nil))
	if _, err := b.Initialize(ctx, "editor-b"); err != nil {
		t.Fatal(err)
	}
	var sa, sb rpc.StatusResult
	if err := a.Call(ctx, rpc.MethodStatus, nil, &sa); err != nil {
		t.Fatal(err)
	}
	if err := b.Call(ctx, rpc.MethodStatus, nil, &sb); err != nil {
		t.Fatal(err)
	}
	if sa.PID != sb.PID {
		t.Fatalf("clients reached daemons %d and %d, want one", sa.PID, sb.PID)
	}
	names := map[string]bool{}
	for _, c := range sb.Clients {
		names[c.Name] = true
	}
	if !names["editor-a"] || !names["editor-b"] {
		t.Fatalf("daemon clients = %+v, want editor-a and editor-b", sb.Clients)
	}
	if len(sb.Folders) != 1 {
		t.Fatalf("folders seen by b = %+v, want a's folder", sb.Folders)
	}
}

// rawClient writes bytes to a forwarder and reads framed replies.
type rawClient struct {
	t  *testing.T
	w  io.Writer
	r  *bufio.Reader
	rc io.ReadWriteCloser
}

func (c *rawClient) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.w, s); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) read() map[string]any {
	c.t.Helper()
	n := 0
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("reading reply: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break
		}
		fmt.Sscanf(line, "Content-Length: %d", &n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		c.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		c.t.Fatalf("reply %q: %v", body, err)
	}
	return m
}

func frame(body string) string { return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(body), body) }

func errCode(m map[string]any) int {
	if e, ok := m["error"].(map[string]any); ok {
		return int(e["code"].(float64))
	}
	return 0
}

// TestBadInputKeepsServing sends broken messages through a real forwarder
// while a second client keeps using the same daemon.
func TestBadInputKeepsServing(t *testing.T) {
	ctx := ctxT(t)
	home := agenttest.Home(t)
	good := agenttest.NewEditor(t, agenttest.Connect(t, agenttest.Forwarder, home, nil))
	if _, err := good.Initialize(ctx, "good"); err != nil {
		t.Fatal(err)
	}
	conn := agenttest.Connect(t, agenttest.Forwarder, home, nil)
	bad := &rawClient{t: t, w: conn, r: bufio.NewReader(conn), rc: conn}
	bad.send(frame(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
	if m := bad.read(); errCode(m) != 0 {
		t.Fatalf("initialize: %v", m)
	}
	huge := `{"jsonrpc":"2.0","id":2,"method":"codemux/status","params":{"pad":"` + strings.Repeat("x", rpc.DefaultMaxMessageBytes+10) + `"}}`
	cases := []struct {
		name string
		send string
		want int
	}{
		{"malformed JSON", frame(`{"jsonrpc":"2.0","id":3,"method":`), rpc.CodeParseError},
		{"wrong Content-Length", "Content-Length: 12\r\n\r\n" + `{"jsonrpc":"2.0","id":4,"method":"codemux/status"}`, rpc.CodeParseError},
		{"oversize message", frame(huge), rpc.CodeInvalidRequest},
		{"invalid params", frame(`{"jsonrpc":"2.0","id":5,"method":"initialize","params":"nope"}`), rpc.CodeInvalidParams},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bad.t = t
			bad.send(c.send)
			if m := bad.read(); errCode(m) != c.want {
				t.Fatalf("reply = %v, want code %d", m, c.want)
			}
			// Resynchronise: drain error replies until our status answer.
			id := 100 + i
			bad.send(frame(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"codemux/status"}`, id)))
			for {
				m := bad.read()
				if m["id"] == float64(id) {
					if errCode(m) != 0 {
						t.Fatalf("status after %s = %v", c.name, m)
					}
					break
				}
			}
			var st rpc.StatusResult
			if err := good.Call(ctx, rpc.MethodStatus, nil, &st); err != nil {
				t.Fatalf("other client's status after %s: %v", c.name, err)
			}
		})
	}
}

func TestSecondDaemonRefused(t *testing.T) {
	home := agenttest.Home(t)
	first := agenttest.Command(t, home, "daemon", "--idle-timeout", "0")
	stderr, _ := first.StderrPipe()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { first.Process.Kill(); first.Wait() }()
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "daemon listening") {
	}
	go io.Copy(io.Discard, stderr)

	out, err := agenttest.Command(t, home, "daemon").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("second daemon: err %v, output %q; want exit status 1", err, out)
	}
	if !strings.Contains(string(out), "already running") || !strings.Contains(string(out), fmt.Sprint(first.Process.Pid)) {
		t.Fatalf("second daemon said %q, want 'already running' with pid %d", out, first.Process.Pid)
	}
}

func TestIdleExit(t *testing.T) {
	ctx := ctxT(t)
	home := agenttest.Home(t)
	d := agenttest.Command(t, home, "daemon", "--idle-timeout", "300ms")
	stderr, _ := d.StderrPipe()
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() && !strings.Contains(sc.Text(), "daemon listening") {
	}
	go io.Copy(io.Discard, stderr)
	go func() { exited <- d.Wait() }()

	// A connected client keeps the daemon alive past the idle timeout.
	ed := agenttest.NewEditor(t, agenttest.Connect(t, agenttest.Forwarder, home, nil))
	if _, err := ed.Initialize(ctx, "keepalive"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		t.Fatalf("daemon exited with a client connected: %v", err)
	case <-time.After(time.Second):
	}
	var st rpc.StatusResult
	if err := ed.Call(ctx, rpc.MethodStatus, nil, &st); err != nil || st.PID != d.Process.Pid {
		t.Fatalf("status = pid %d, %v; want the daemon %d", st.PID, err, d.Process.Pid)
	}
	ed.Close()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("daemon exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("daemon did not exit after its last client left")
	}
	if _, err := os.Stat(st.Socket); !os.IsNotExist(err) {
		t.Fatalf("socket %s left behind after idle exit (stat: %v)", st.Socket, err)
	}
}
