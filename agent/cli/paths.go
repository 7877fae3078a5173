package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// paths says where codemux keeps its state.
type paths struct {
	Config string // config file
	Data   string // indexes and other persistent state
	Run    string // the daemon's socket directory
	Logs   string
}

// resolvePaths applies DESIGN §1: CODEMUX_HOME puts everything under one
// directory; otherwise the XDG directories. CODEMUX_CONFIG overrides the
// config file.
func resolvePaths(getenv func(string) string) (paths, error) {
	var p paths
	if h := getenv("CODEMUX_HOME"); h != "" {
		abs, err := filepath.Abs(h)
		if err != nil {
			return p, fmt.Errorf("CODEMUX_HOME %q: %w", h, err)
		}
		p = paths{
			Config: filepath.Join(abs, "config.yaml"),
			Data:   filepath.Join(abs, "data"),
			Run:    filepath.Join(abs, "run"),
			Logs:   filepath.Join(abs, "logs"),
		}
	} else {
		home := getenv("HOME")
		xdg := func(env, fallback string) string {
			if v := getenv(env); filepath.IsAbs(v) {
				return v
			}
			if home == "" {
				return ""
			}
			return filepath.Join(home, fallback)
		}
		cfg, cache, state := xdg("XDG_CONFIG_HOME", ".config"), xdg("XDG_CACHE_HOME", ".cache"), xdg("XDG_STATE_HOME", ".local/state")
		if cfg == "" || cache == "" || state == "" {
			return p, fmt.Errorf("cannot find a place for codemux's state: set HOME or CODEMUX_HOME")
		}
		p = paths{
			Config: filepath.Join(cfg, "codemux", "config.yaml"),
			Data:   filepath.Join(cache, "codemux"),
			Logs:   filepath.Join(state, "codemux"),
		}
		if rt := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(rt) {
			p.Run = filepath.Join(rt, "codemux")
		} else {
			p.Run = filepath.Join(os.TempDir(), "codemux-"+strconv.Itoa(os.Getuid()))
		}
	}
	if c := getenv("CODEMUX_CONFIG"); c != "" {
		abs, err := filepath.Abs(c)
		if err != nil {
			return p, fmt.Errorf("CODEMUX_CONFIG %q: %w", c, err)
		}
		p.Config = abs
	}
	return p, nil
}
