package agent

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/codemux/codemux/rpc"
)

// folder is one workspace folder known to the daemon, shared by every
// client that opened it.
type folder struct {
	path string // absolute, cleaned
	uri  string
	refs int // sessions holding it
}

func (f *folder) status() rpc.FolderStatus {
	return rpc.FolderStatus{URI: f.uri, State: "not indexed", Degraded: []string{}}
}

// folderPath turns a workspace folder reference — a file:// URI or a path —
// into a clean absolute path of an existing directory.
func folderPath(ref string) (string, error) {
	p := ref
	if strings.HasPrefix(ref, "file:") {
		u, err := url.Parse(ref)
		if err != nil {
			return "", fmt.Errorf("folder %q is not a valid file URI: %w", ref, err)
		}
		if u.Host != "" && u.Host != "localhost" {
			return "", fmt.Errorf("folder %q is on another host; only local folders can be indexed", ref)
		}
		p = u.Path
	} else if strings.Contains(ref, "://") {
		return "", fmt.Errorf("folder %q: only file:// URIs and local paths are supported", ref)
	}
	if p == "" {
		return "", fmt.Errorf("folder is empty")
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("folder %q: %w", ref, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("folder %s: %w", abs, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("folder %s is not a directory", abs)
	}
	return abs, nil
}

// fileURI returns the file:// URI of an absolute path.
func fileURI(path string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
}

// acquireFolderLocked registers (or shares) the folder at path.
func (s *Server) acquireFolderLocked(path string) *folder {
	f := s.folders[path]
	if f == nil {
		f = &folder{path: path, uri: fileURI(path)}
		s.folders[path] = f
	}
	f.refs++
	return f
}

// releaseFolderLocked drops one session's hold on f. Folders stay known
// while the daemon runs so the next client finds their index warm.
func (s *Server) releaseFolderLocked(f *folder) {
	if f.refs > 0 {
		f.refs--
	}
}
