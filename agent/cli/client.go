package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/codemux/codemux/agent"
	"github.com/codemux/codemux/rpc"
)

type remoteConn = net.Conn

// connect dials the daemon and initializes a session.
func (e *env) connect(ctx context.Context, onNotify func(string, json.RawMessage)) (*rpc.Client, error) {
	conn, err := e.dialDaemon(ctx)
	if err != nil {
		return nil, err
	}
	c := rpc.NewClient(ctx, conn, &rpc.ClientOptions{OnNotify: onNotify})
	pid := os.Getpid()
	var res rpc.InitializeResult
	err = c.Call(ctx, rpc.MethodInitialize, rpc.InitializeParams{
		ProcessID:  &pid,
		ClientInfo: &rpc.NameVersion{Name: "codemux-cli", Version: agent.Version},
	}, &res)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("initializing session with the daemon: %w", err)
	}
	_ = c.Notify(ctx, rpc.MethodInitialized, struct{}{})
	return c, nil
}

func cmdStatus(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the protocol result as JSON")
	if pos, err := parseFlags(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return usageError("status takes no arguments")
	}
	c, err := e.connect(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	var st rpc.StatusResult
	if err := c.Call(ctx, rpc.MethodStatus, nil, &st); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, st)
	}
	printStatus(e, st)
	return nil
}

func printStatus(e *env, st rpc.StatusResult) {
	w := e.stdout
	up := time.Duration(st.UptimeSeconds * float64(time.Second)).Round(time.Second)
	fmt.Fprintf(w, "codemux %s — daemon pid %d, up %s\n", st.Version, st.PID, up)
	if st.Socket != "" {
		fmt.Fprintf(w, "  socket   %s\n", st.Socket)
	}
	fmt.Fprintf(w, "  clients  %d\n", len(st.Clients))
	for _, c := range st.Clients {
		name := c.Name
		if name == "" {
			name = "(unnamed client)"
		}
		if c.Version != "" {
			name += " " + c.Version
		}
		if c.ProcessID != 0 {
			name += fmt.Sprintf(" (pid %d)", c.ProcessID)
		}
		fmt.Fprintf(w, "           %s\n", name)
	}
	if len(st.Folders) == 0 {
		fmt.Fprintln(w, "  folders  none yet — run 'codemux index' in a project")
	} else {
		fmt.Fprintln(w, "  folders")
		for _, f := range st.Folders {
			line := fmt.Sprintf("    %s  %s", uriPath(f.URI), f.State)
			if f.Files > 0 || f.Chunks > 0 {
				line += fmt.Sprintf(", %d files, %d chunks", f.Files, f.Chunks)
			}
			if f.CapBytes > 0 {
				line += fmt.Sprintf(", memory %s of %s", humanBytes(f.MemoryBytes), humanBytes(f.CapBytes))
			}
			if len(f.Degraded) > 0 {
				line += ", degraded: " + strings.Join(f.Degraded, "; ")
			}
			if f.Error != "" {
				line += ", error: " + f.Error
			}
			fmt.Fprintln(w, line)
		}
	}
	if st.ConfigError != "" {
		fmt.Fprintf(w, "  config   %s: %s\n", st.ConfigPath, st.ConfigError)
	}
	if len(st.Accounts) == 0 {
		cfg := st.ConfigPath
		if cfg == "" {
			cfg = e.paths.Config
		}
		fmt.Fprintf(w, "  accounts none configured — add one to %s to use 'codemux ask'\n", cfg)
		return
	}
	fmt.Fprintln(w, "  accounts")
	for _, a := range st.Accounts {
		fmt.Fprintf(w, "    %s (%s)\n", a.Name, a.Provider)
		for _, m := range a.Models {
			line := fmt.Sprintf("      %-28s rpm %d/%d  tpm %d/%d  %s", m.Model, m.RPMLeft, m.RPMLimit, m.TPMLeft, m.TPMLimit, m.Health)
			if m.CooldownUntil != "" {
				line += "  cooling down until " + m.CooldownUntil
			}
			fmt.Fprintln(w, line)
		}
	}
}

func uriPath(uri string) string {
	if p, ok := strings.CutPrefix(uri, "file://"); ok {
		return p
	}
	return uri
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// folderArg resolves a DIR argument (default: the current directory).
func folderArg(dir string) (string, error) {
	if dir == "" {
		dir = "."
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("cannot use %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	return abs, nil
}
