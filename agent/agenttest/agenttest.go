// Package agenttest holds helpers for end-to-end tests of codemux: building
// the real binary, isolated state directories, and editor-like clients
// connected either in-process or through a real `codemux serve --stdio`
// forwarder subprocess.
package agenttest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/codemux/codemux/agent"
	"github.com/codemux/codemux/rpc"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/codemux once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "codemux-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "codemux")
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/codemux")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building codemux: %v", buildErr)
	}
	return binPath
}

// Variant builds cmd/codemux as a different build (another Go build ID)
// into dir, as an upgrade would produce.
func Variant(t testing.TB, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "codemux-variant")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	cmd := exec.Command("go", "build", "-o", out, "-ldflags=-X=github.com/codemux/codemux/agent/agenttest.variant=other", "./cmd/codemux")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building a variant: %v\n%s", err, b)
	}
	return out
}

// Home returns a fresh CODEMUX_HOME short enough for a socket path. Any
// daemon started under it is stopped when the test ends.
func Home(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "cmx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		StopDaemons(d)
		os.RemoveAll(d)
	})
	return d
}

// StopDaemons kills the daemons whose lock files are under home.
func StopDaemons(home string) {
	locks, _ := filepath.Glob(filepath.Join(home, "run", "*.lock"))
	for _, l := range locks {
		b, err := os.ReadFile(l)
		if err != nil {
			continue
		}
		var pid int
		if _, err := fmt.Sscan(strings.TrimSpace(string(b)), &pid); err == nil && pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Env is the environment for a codemux subprocess using home.
func Env(home string, extra ...string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CODEMUX_") || strings.HasPrefix(kv, "XDG_") {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "CODEMUX_HOME="+home, "CODEMUX_IDLE_TIMEOUT=30s")
	return append(env, extra...)
}

// Command returns an exec.Cmd running the codemux binary under home.
func Command(t testing.TB, home string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(Binary(t), args...)
	cmd.Env = Env(home)
	return cmd
}

// procConn joins a subprocess's stdin and stdout into one connection.
type procConn struct {
	io.Reader
	io.WriteCloser
	cmd *exec.Cmd
}

func (p *procConn) Close() error { return p.WriteCloser.Close() }

// Mode says how a test client reaches the server.
type Mode string

const (
	InProcess Mode = "inprocess" // agent.Server in the test process
	Forwarder Mode = "forwarder" // `codemux serve --stdio` subprocess → daemon
)

// Modes lists both, for tests that must pass either way.
var Modes = []Mode{InProcess, Forwarder}

// Connect returns a raw connection to a codemux server in the given mode.
// For InProcess, srv serves it (a new Server when nil); for Forwarder, a
// real forwarder subprocess starts (and if needed the daemon) under home.
func Connect(t testing.TB, mode Mode, home string, srv *agent.Server) io.ReadWriteCloser {
	t.Helper()
	switch mode {
	case InProcess:
		if srv == nil {
			srv = serverFor(t, home)
		}
		a, b := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			srv.ServeConn(context.Background(), a)
			a.Close()
		}()
		t.Cleanup(func() { b.Close(); <-done })
		return b
	case Forwarder:
		cmd := Command(t, home, "serve", "--stdio")
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			in.Close()
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Errorf("forwarder did not exit after its stdin closed; stderr: %s", stderr.String())
			}
		})
		return &procConn{Reader: out, WriteCloser: in, cmd: cmd}
	}
	t.Fatalf("unknown mode %q", mode)
	return nil
}

// inProcess holds one in-process Server per CODEMUX_HOME, so that clients
// of one test share it as they would share a daemon.
var inProcess sync.Map // home → *agent.Server

func serverFor(t testing.TB, home string) *agent.Server {
	if v, ok := inProcess.Load(home); ok {
		return v.(*agent.Server)
	}
	srv := agent.NewServer(agent.Options{
		DataDir:    filepath.Join(home, "data"),
		ConfigPath: filepath.Join(home, "config.yaml"),
		Env:        os.LookupEnv,
	})
	inProcess.Store(home, srv)
	t.Cleanup(func() {
		inProcess.Delete(home)
		srv.Close()
	})
	return srv
}

// Editor is a client that behaves like an editor extension.
type Editor struct {
	*rpc.Client
	mu     sync.Mutex
	notifs []Notification
}

// Notification is one message the server sent unasked.
type Notification struct {
	Method string
	Params json.RawMessage
}

// NewEditor starts a client on conn (not yet initialized).
func NewEditor(t testing.TB, conn io.ReadWriteCloser) *Editor {
	e := &Editor{}
	e.Client = rpc.NewClient(context.Background(), conn, &rpc.ClientOptions{OnNotify: func(m string, p json.RawMessage) {
		e.mu.Lock()
		e.notifs = append(e.notifs, Notification{m, p})
		e.mu.Unlock()
	}})
	t.Cleanup(func() { e.Close() })
	return e
}

// Initialize runs the LSP handshake with the given workspace folders.
func (e *Editor) Initialize(ctx context.Context, name string, folders ...string) (rpc.InitializeResult, error) {
	pid := os.Getpid()
	p := rpc.InitializeParams{ProcessID: &pid, ClientInfo: &rpc.NameVersion{Name: name, Version: "test"}}
	for _, f := range folders {
		p.WorkspaceFolders = append(p.WorkspaceFolders, rpc.WorkspaceFolder{URI: "file://" + f, Name: filepath.Base(f)})
	}
	var res rpc.InitializeResult
	if err := e.Call(ctx, rpc.MethodInitialize, p, &res); err != nil {
		return res, err
	}
	return res, e.Notify(ctx, rpc.MethodInitialized, struct{}{})
}

// Notifications returns the notifications received so far.
func (e *Editor) Notifications() []Notification {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Notification(nil), e.notifs...)
}
