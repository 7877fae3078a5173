// Package cli is codemux's command line: the terminal client, the daemon
// and the stdio server that editors launch. It is the only package that
// reads the environment.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/codemux/codemux/agent"
	"github.com/codemux/codemux/rpc"
	"github.com/codemux/codemux/rpc/remote"
)

const usage = `codemux — a local code index and LLM router for your editor and terminal

Usage:
  codemux index [DIR] [--full]           index DIR (default: the current directory)
  codemux search [-k N] [--dir DIR] QUERY
  codemux ask [--dir DIR] [--no-context] QUESTION
  codemux status                         the daemon, its folders and accounts
  codemux feedback ID up|down [COMMENT]   or: codemux feedback export [--all]
  codemux eval FILE [--update]            run prompt regression cases
  codemux daemon [--idle-timeout D]      run the per-user daemon in the foreground
  codemux serve --stdio [--standalone]   what editors launch (JSON-RPC on stdio)
  codemux version

Every command takes --json and then prints exactly the protocol result.
State lives under $CODEMUX_HOME, or the XDG directories when it is unset.
`

// exitError carries an exit status and one line for stderr.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageError(format string, args ...any) error {
	return &exitError{code: 2, msg: fmt.Sprintf(format, args...)}
}

// env is the process environment and standard streams a command runs with.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	paths  paths
}

// Main runs codemux with args (without the program name) and returns the
// process exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{getenv: os.Getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	err := run(ctx, e, args)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(stderr, "codemux: %s\n", ee.msg)
		}
		if ee.code == 2 {
			fmt.Fprintln(stderr, "run 'codemux help' for usage")
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "codemux: %s\n", oneLine(err))
	return 1
}

func run(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return &exitError{code: 2}
	}
	cmd, rest := args[0], args[1:]
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(e.stdout, usage)
		return nil
	}
	p, err := resolvePaths(e.getenv)
	if err != nil {
		return err
	}
	e.paths = p
	switch cmd {
	case "version":
		return cmdVersion(ctx, e, rest)
	case "status":
		return cmdStatus(ctx, e, rest)
	case "daemon":
		return cmdDaemon(ctx, e, rest)
	case "serve":
		return cmdServe(ctx, e, rest)
	case "index":
		return cmdIndex(ctx, e, rest)
	case "search":
		return cmdSearch(ctx, e, rest)
	case "ask":
		return cmdAsk(ctx, e, rest)
	case "feedback":
		return cmdFeedback(ctx, e, rest)
	case "eval":
		return cmdEval(ctx, e, rest)
	}
	return usageError("unknown command %q", cmd)
}

// parseFlags parses flags anywhere among the positional arguments, so that
// `codemux search foo --json` works as a person expects. Arguments after
// "--" are always positional.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func oneLine(err error) string {
	msg := err.Error()
	if re, ok := rpc.RemoteError(err); ok {
		msg = re.Message
	}
	return strings.Join(strings.Fields(msg), " ")
}

func buildID() string {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return remote.BuildID(agent.Version, exe)
}

func cmdVersion(_ context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parseFlags(fs, args); err != nil {
		return err
	}
	v := struct {
		Version string `json:"version"`
		Build   string `json:"build"`
		Go      string `json:"go"`
		OS      string `json:"os"`
		Arch    string `json:"arch"`
	}{agent.Version, buildID(), runtime.Version(), runtime.GOOS, runtime.GOARCH}
	if *asJSON {
		return printJSON(e.stdout, v)
	}
	fmt.Fprintf(e.stdout, "codemux %s (build %s, %s %s/%s)\n", v.Version, v.Build, v.Go, v.OS, v.Arch)
	return nil
}

// idleTimeout is the daemon's default idle timeout, overridable with
// CODEMUX_IDLE_TIMEOUT so that daemons started on demand inherit it.
func (e *env) idleTimeout() (time.Duration, error) {
	if v := e.getenv("CODEMUX_IDLE_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return 0, fmt.Errorf("CODEMUX_IDLE_TIMEOUT %q: %w", v, err)
		}
		return d, nil
	}
	return 15 * time.Minute, nil
}
