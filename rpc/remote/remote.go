// Package remote connects processes to the per-user codemux daemon over a
// Unix socket: it owns the socket directory's safety checks, the lock that
// keeps one daemon per user and build, starting the daemon on demand and
// forwarding a stdio stream to it.
//
// The model is gopls' -remote=auto: the process an editor starts dials the
// socket, starts the daemon detached (setsid) when nobody answers, retries
// the dial and then pipes bytes both ways.
package remote

import (
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// maxSocketPath is the longest path a Unix socket address can hold on Linux
// (sun_path is 108 bytes including the terminating NUL).
const maxSocketPath = 107

// BuildID names a build: two different builds get different IDs, so they
// never share a daemon whose protocol or index format they might not agree
// on, while the same build run from two places (`go run` links into a new
// temporary directory each time) shares one. It hashes the version with the
// Go toolchain's content-based build ID from the executable's ELF note, and
// falls back to the file's path, size and modification time.
func BuildID(version, executable string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00", version)
	if id := goBuildID(executable); id != "" {
		fmt.Fprintf(h, "go:%s", id)
	} else {
		fmt.Fprintf(h, "%s\x00", executable)
		if fi, err := os.Stat(executable); err == nil {
			fmt.Fprintf(h, "%d\x00%d", fi.Size(), fi.ModTime().UnixNano())
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// goBuildID reads the Go build ID note of an ELF executable, "" if none.
func goBuildID(executable string) string {
	f, err := elf.Open(executable)
	if err != nil {
		return ""
	}
	defer f.Close()
	sec := f.Section(".note.go.buildid")
	if sec == nil {
		return ""
	}
	data, err := sec.Data()
	if err != nil || len(data) < 16 {
		return ""
	}
	// ELF note: namesz, descsz, type (4 bytes each), name "Go\0\0", desc.
	namesz := binary.LittleEndian.Uint32(data[0:4])
	descsz := binary.LittleEndian.Uint32(data[4:8])
	off := 12 + int((namesz+3)&^3)
	if off+int(descsz) > len(data) {
		return ""
	}
	return string(data[off : off+int(descsz)])
}

// Endpoint is where one build's daemon listens.
type Endpoint struct {
	Dir    string // 0700, owned by the user
	Socket string // Dir/codemux-<build>.sock, 0600
	Lock   string // Dir/codemux-<build>.lock
}

// NewEndpoint returns the endpoint for build inside dir.
func NewEndpoint(dir, build string) Endpoint {
	return Endpoint{
		Dir:    dir,
		Socket: filepath.Join(dir, "codemux-"+build+".sock"),
		Lock:   filepath.Join(dir, "codemux-"+build+".lock"),
	}
}

// ErrNotOwner is returned for a socket or directory another user owns.
var ErrNotOwner = errors.New("owned by another user")

// EnsureDir creates dir with mode 0700 if needed and checks that it belongs
// to this user and nobody else can enter it.
func EnsureDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating socket directory %s: %w", dir, err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("checking socket directory %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("socket directory %s is not a directory", dir)
	}
	if err := checkOwner(dir, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("socket directory %s is accessible to other users (mode %v) and cannot be fixed: %w", dir, fi.Mode().Perm(), err)
		}
	}
	return nil
}

func checkOwner(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	if int(st.Uid) != os.Getuid() {
		return fmt.Errorf("refusing %s: %w (uid %d, we are uid %d)", path, ErrNotOwner, st.Uid, os.Getuid())
	}
	return nil
}

func checkSocketPath(p string) error {
	if len(p) > maxSocketPath {
		return fmt.Errorf("socket path %s is %d bytes, longer than the %d a Unix socket allows; set CODEMUX_HOME or XDG_RUNTIME_DIR to a shorter directory", p, len(p), maxSocketPath)
	}
	return nil
}

// ErrAlreadyRunning reports that a daemon for this user and build holds the
// lock.
var ErrAlreadyRunning = errors.New("a codemux daemon is already running")

// Listen takes the endpoint's lock and listens on its socket with mode
// 0600. A second daemon of the same build fails fast with
// ErrAlreadyRunning naming the running daemon's pid. Closing the listener
// does not release the lock: call release when the daemon is done.
func Listen(ep Endpoint) (l net.Listener, release func(), err error) {
	if err := EnsureDir(ep.Dir); err != nil {
		return nil, nil, err
	}
	if err := checkSocketPath(ep.Socket); err != nil {
		return nil, nil, err
	}
	lf, err := os.OpenFile(ep.Lock, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("opening daemon lock %s: %w", ep.Lock, err)
	}
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		pid, _ := os.ReadFile(ep.Lock)
		lf.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil, fmt.Errorf("%w (pid %s, socket %s)", ErrAlreadyRunning, strings.TrimSpace(string(pid)), ep.Socket)
		}
		return nil, nil, fmt.Errorf("locking %s: %w", ep.Lock, err)
	}
	_ = lf.Truncate(0)
	_, _ = lf.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	release = func() {
		_ = os.Remove(ep.Socket)
		_ = lf.Close()
	}
	// We hold the lock, so a socket file left behind is stale.
	if fi, err := os.Lstat(ep.Socket); err == nil {
		if err := checkOwner(ep.Socket, fi); err != nil {
			lf.Close()
			return nil, nil, err
		}
		_ = os.Remove(ep.Socket)
	}
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", ep.Socket)
	syscall.Umask(old)
	if err != nil {
		lf.Close()
		return nil, nil, fmt.Errorf("listening on %s: %w", ep.Socket, err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	if err := os.Chmod(ep.Socket, 0o600); err != nil {
		ln.Close()
		release()
		return nil, nil, fmt.Errorf("setting socket mode: %w", err)
	}
	return ln, release, nil
}

// Dial connects to the endpoint's daemon after checking that the directory
// and the socket belong to this user.
func Dial(ctx context.Context, ep Endpoint) (net.Conn, error) {
	if err := checkSocketPath(ep.Socket); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(ep.Dir); err == nil {
		if err := checkOwner(ep.Dir, fi); err != nil {
			return nil, err
		}
	}
	fi, err := os.Lstat(ep.Socket)
	if err != nil {
		return nil, fmt.Errorf("connecting to daemon: %w", err)
	}
	if err := checkOwner(ep.Socket, fi); err != nil {
		return nil, err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return nil, fmt.Errorf("connecting to daemon: %s is not a socket", ep.Socket)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", ep.Socket)
	if err != nil {
		return nil, fmt.Errorf("connecting to daemon at %s: %w", ep.Socket, err)
	}
	return c, nil
}

// Spawn describes how to start the daemon.
type Spawn struct {
	Path string   // executable
	Args []string // arguments after the program name
	Env  []string // nil: inherit
	Log  string   // file that receives the daemon's stdout and stderr
}

// Start starts the daemon detached in its own session, so it outlives the
// process that started it and never receives that terminal's signals.
func (s Spawn) Start() error {
	if err := os.MkdirAll(filepath.Dir(s.Log), 0o700); err != nil {
		return fmt.Errorf("creating log directory: %w", err)
	}
	logf, err := os.OpenFile(s.Log, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("opening daemon log %s: %w", s.Log, err)
	}
	defer logf.Close()
	cmd := exec.Command(s.Path, s.Args...)
	cmd.Env = s.Env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting daemon %s: %w", s.Path, err)
	}
	// Reap it if it exits while we still run, so no zombie is left.
	go func() { _ = cmd.Wait() }()
	return nil
}

// DialOrStart dials the daemon; when nobody listens it starts one with
// spawn and retries until timeout.
func DialOrStart(ctx context.Context, ep Endpoint, spawn Spawn, timeout time.Duration) (net.Conn, error) {
	c, err := Dial(ctx, ep)
	if err == nil {
		return c, nil
	}
	if errors.Is(err, ErrNotOwner) {
		return nil, err
	}
	if err := EnsureDir(ep.Dir); err != nil {
		return nil, err
	}
	if err := spawn.Start(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	delay := 5 * time.Millisecond
	for {
		c, err := Dial(ctx, ep)
		if err == nil {
			return c, nil
		}
		if errors.Is(err, ErrNotOwner) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("daemon did not start within %v (see %s): %w", timeout, spawn.Log, err)
		case <-time.After(delay):
		}
		delay = min(delay*2, 200*time.Millisecond)
	}
}

// Forward pipes bytes between a client stream and the daemon connection
// until either side ends. When the client's input ends, the daemon sees
// end of input too and closes the session; when the daemon closes, Forward
// returns.
func Forward(ctx context.Context, in io.Reader, out io.Writer, conn net.Conn) error {
	go func() {
		// The client's input ending is not an error: the daemon sees end of
		// input, closes the session, and the copy below returns.
		_, _ = io.Copy(conn, in)
		if uc, ok := conn.(*net.UnixConn); ok {
			_ = uc.CloseWrite()
		}
	}()
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(out, conn)
		done <- err
	}()
	select {
	case err := <-done:
		conn.Close()
		return err
	case <-ctx.Done():
		conn.Close()
		<-done
		return ctx.Err()
	}
}

// OtherDaemons returns the pids of running daemons of other builds whose
// endpoints share ep's directory (they hold their lock files).
func OtherDaemons(ep Endpoint) []int {
	locks, _ := filepath.Glob(filepath.Join(ep.Dir, "codemux-*.lock"))
	var pids []int
	for _, l := range locks {
		if l == ep.Lock {
			continue
		}
		if pid := lockHolderPID(l); pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// lockHolderPID returns the pid written in a lock file that is currently
// held, 0 if it is free or unreadable.
func lockHolderPID(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err == nil {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return 0 // nobody holds it
	}
	b, err := io.ReadAll(io.LimitReader(f, 32))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return 0
	}
	return pid
}

// RetireOthers asks the daemons of other builds in ep's directory to exit
// (SIGTERM: they close their indexes cleanly) and waits up to timeout for
// them to go. It reports whether any was asked.
func RetireOthers(ctx context.Context, ep Endpoint, timeout time.Duration) bool {
	pids := OtherDaemons(ep)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	if len(pids) == 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for len(OtherDaemons(ep)) > 0 {
		select {
		case <-ctx.Done():
			return true
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true
}
