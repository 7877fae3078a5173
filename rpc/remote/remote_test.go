package remote

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func shortDir(t *testing.T) string {
	t.Helper()
	// t.TempDir() can be longer than a socket path allows.
	d, err := os.MkdirTemp("", "cmx")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestListenPermissionsAndSecondDaemon(t *testing.T) {
	ep := NewEndpoint(filepath.Join(shortDir(t), "run"), "b1")
	ln, release, err := Listen(ep)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	defer release()
	defer ln.Close()
	for _, c := range []struct {
		path string
		want os.FileMode
	}{{ep.Dir, 0o700}, {ep.Socket, 0o600}} {
		fi, err := os.Stat(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != c.want {
			t.Errorf("mode of %s = %v, want %v", c.path, got, c.want)
		}
	}
	_, _, err = Listen(ep)
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second Listen = %v, want ErrAlreadyRunning", err)
	}
	if !strings.Contains(err.Error(), "pid") {
		t.Errorf("second Listen error %q does not name the running daemon's pid", err)
	}
	// A different build gets its own socket and may run beside it.
	ln2, release2, err := Listen(NewEndpoint(ep.Dir, "b2"))
	if err != nil {
		t.Fatalf("Listen for another build: %v", err)
	}
	ln2.Close()
	release2()
}

func TestListenReplacesStaleSocket(t *testing.T) {
	ep := NewEndpoint(filepath.Join(shortDir(t), "run"), "b1")
	if err := EnsureDir(ep.Dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ep.Socket, nil, 0o600); err != nil { // left by a crashed daemon
		t.Fatal(err)
	}
	ln, release, err := Listen(ep)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	ln.Close()
	release()
}

func TestDirModeIsTightened(t *testing.T) {
	dir := filepath.Join(shortDir(t), "run")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := EnsureDir(dir); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(dir)
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("mode = %v, want 0700", fi.Mode().Perm())
	}
}

func TestRefusesOtherUsersSocket(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to create files owned by another user")
	}
	const nobody = 65534
	base := shortDir(t)

	// Another user's directory.
	dir := filepath.Join(base, "theirs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Listen(NewEndpoint(dir, "b")); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Listen in another user's dir = %v, want ErrNotOwner", err)
	}
	if _, err := Dial(context.Background(), NewEndpoint(dir, "b")); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Dial in another user's dir = %v, want ErrNotOwner", err)
	}

	// Our directory, but a socket another user planted in it.
	ep := NewEndpoint(filepath.Join(base, "ours"), "b")
	if err := EnsureDir(ep.Dir); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", ep.Socket)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Chown(ep.Socket, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(context.Background(), ep); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Dial of another user's socket = %v, want ErrNotOwner", err)
	}
	if _, _, err := Listen(ep); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Listen over another user's socket = %v, want ErrNotOwner", err)
	}
}

func TestSocketPathTooLong(t *testing.T) {
	ep := NewEndpoint("/tmp/"+strings.Repeat("d", 120), "b")
	if _, err := Dial(context.Background(), ep); err == nil || !strings.Contains(err.Error(), "CODEMUX_HOME") {
		t.Fatalf("Dial with a long path = %v, want an error suggesting CODEMUX_HOME", err)
	}
}

func TestBuildIDDiffersByBuild(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "codemux")
	os.WriteFile(exe, []byte("one"), 0o700)
	a := BuildID("0.1.0", exe)
	os.WriteFile(exe, []byte("build two"), 0o700)
	b := BuildID("0.1.0", exe)
	if a == b {
		t.Fatalf("BuildID is %s for two different binaries", a)
	}
	if c := BuildID("0.2.0", exe); c == b {
		t.Fatalf("BuildID is %s for two versions", c)
	}
}

func TestForwardPipesBothWays(t *testing.T) {
	ep := NewEndpoint(filepath.Join(shortDir(t), "run"), "b")
	ln, release, err := Listen(ep)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c) // echo until the forwarder closes its side
		c.Close()
	}()
	conn, err := Dial(context.Background(), ep)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := Forward(ctx, strings.NewReader("hello daemon"), &out, conn); err != nil {
		t.Fatalf("Forward: %v", err)
	}
	if out.String() != "hello daemon" {
		t.Fatalf("forwarded %q, want %q", out.String(), "hello daemon")
	}
}

func TestBuildIDSameForCopiesOfOneBinary(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), "copy")
	if err := os.WriteFile(cp, data, 0o700); err != nil {
		t.Fatal(err)
	}
	if goBuildID(self) == "" {
		t.Fatalf("no Go build ID note in %s", self)
	}
	if a, b := BuildID("v", self), BuildID("v", cp); a != b {
		t.Fatalf("BuildID of two copies of one binary = %s, %s; want equal", a, b)
	}
}
