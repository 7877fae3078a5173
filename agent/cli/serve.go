package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/codemux/codemux/agent"
	"github.com/codemux/codemux/agent/config"
	"github.com/codemux/codemux/index"
	"github.com/codemux/codemux/rpc/remote"
)

func (e *env) endpoint() remote.Endpoint {
	return remote.NewEndpoint(e.paths.Run, buildID())
}

func (e *env) logger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if e.getenv("CODEMUX_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func cmdDaemon(ctx context.Context, e *env, args []string) error {
	def, err := e.idleTimeout()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	idle := fs.Duration("idle-timeout", def, "exit after this long without clients (0: never)")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("daemon takes no arguments")
	}
	log := e.logger(e.stderr)
	srv := agent.NewServer(e.serverOptions(log))
	defer srv.Close()
	err = agent.RunDaemon(ctx, srv, agent.DaemonOptions{Endpoint: e.endpoint(), IdleTimeout: *idle})
	if errors.Is(err, remote.ErrAlreadyRunning) {
		return &exitError{code: 1, msg: err.Error()}
	}
	return err
}

// stdio joins stdin and stdout into one connection.
type stdio struct {
	io.Reader
	io.Writer
}

func (stdio) Close() error { return nil }

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	useStdio := fs.Bool("stdio", false, "speak JSON-RPC on stdin/stdout")
	standalone := fs.Bool("standalone", false, "serve in this process instead of forwarding to the daemon")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("serve takes no arguments")
	}
	if !*useStdio {
		return usageError("serve needs --stdio (the only transport editors use)")
	}
	if *standalone {
		// Logs go to stderr, which editors show in their output panel.
		srv := agent.NewServer(e.serverOptions(e.logger(e.stderr)))
		defer srv.Close()
		res := srv.ServeConn(ctx, stdio{e.stdin, e.stdout})
		if res.Exited && !res.Shutdown {
			return &exitError{code: 1, msg: "exit received before shutdown"}
		}
		return nil
	}
	conn, err := e.dialDaemon(ctx)
	if err != nil {
		return err
	}
	return remote.Forward(ctx, e.stdin, e.stdout, conn)
}

// dialDaemon connects to this user's daemon, starting it when none runs.
func (e *env) dialDaemon(ctx context.Context) (remoteConn, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the codemux executable: %w", err)
	}
	spawn := remote.Spawn{
		Path: exe,
		Args: []string{"daemon"},
		Log:  filepath.Join(e.paths.Logs, "daemon.log"),
	}
	return remote.DialOrStart(ctx, e.endpoint(), spawn, 10*time.Second)
}

// serverOptions configures a Server from this process's environment. The
// process serving indexes also gets a soft Go memory limit derived from
// memory_cap, so the heap does not grow to twice its live size.
func (e *env) serverOptions(log *slog.Logger) agent.Options {
	if cfg, err := config.Load(e.paths.Config, os.LookupEnv); err == nil && cfg.MemoryCap > 0 {
		debug.SetMemoryLimit(index.SoftMemoryLimit(cfg.MemoryCap))
	}
	return agent.Options{
		Logger:     log,
		DataDir:    e.paths.Data,
		ConfigPath: e.paths.Config,
		Env:        os.LookupEnv,
	}
}
