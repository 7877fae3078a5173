package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/codemux/codemux/agent/agenttest"
	"github.com/codemux/codemux/rpc"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var workspace = map[string]string{
	"config/load.go": `package config

// LoadConfig reads the YAML configuration file from disk and validates it.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseYAML(data)
}
`,
	"server/http.go": `package server

// ServeHTTP answers health checks.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.WriteHeader(http.StatusOK)
}
`,
	"README.md": "# demo\n\nA demo workspace.\n",
}

// TestSearchIndexesOnFirstUse: the first search of a folder indexes it and
// answers from the real index, in both modes.
func TestSearchIndexesOnFirstUse(t *testing.T) {
	for _, mode := range agenttest.Modes {
		t.Run(string(mode), func(t *testing.T) {
			ctx := ctxT(t)
			ws := t.TempDir()
			writeFiles(t, ws, workspace)
			ed := agenttest.NewEditor(t, agenttest.Connect(t, mode, agenttest.Home(t), nil))
			if _, err := ed.Initialize(ctx, "search-test", ws); err != nil {
				t.Fatal(err)
			}
			var res rpc.SearchResult
			if err := ed.Call(ctx, rpc.MethodSearch, rpc.SearchParams{Query: "load config file", K: 5}, &res); err != nil {
				t.Fatalf("search: %v", err)
			}
			if len(res.Results) == 0 || res.Results[0].Path != "config/load.go" || res.Results[0].Symbol != "LoadConfig" {
				t.Fatalf("search results = %+v, want config/load.go LoadConfig first", res.Results)
			}
			top := res.Results[0]
			if top.StartLine != 3 || top.EndLine != 10 || top.Language != "go" || top.Folder != "file://"+ws || top.Snippet == "" {
				t.Errorf("top hit = %+v, want lines 3-10 of a go file in %s with a snippet", top, ws)
			}
			var st rpc.StatusResult
			if err := ed.Call(ctx, rpc.MethodStatus, nil, &st); err != nil {
				t.Fatal(err)
			}
			if len(st.Folders) != 1 || st.Folders[0].Files != 3 || st.Folders[0].State != "ready" {
				t.Errorf("status folders = %+v, want one ready folder with 3 files", st.Folders)
			}
			if err := ed.Call(ctx, rpc.MethodSearch, rpc.SearchParams{Query: " "}, nil); code(err) != rpc.CodeInvalidParams {
				t.Errorf("empty query: code %d, want %d", code(err), rpc.CodeInvalidParams)
			}
			if err := ed.Call(ctx, rpc.MethodSearch, rpc.SearchParams{Query: "x", Folder: "/does/not/exist"}, nil); code(err) != rpc.CodeInvalidParams {
				t.Errorf("missing folder: code %d, want %d", code(err), rpc.CodeInvalidParams)
			}
		})
	}
}

// indexedWorkspace writes the test workspace, connects an editor in mode
// with it as the workspace folder and indexes it.
func indexedWorkspace(t *testing.T, mode agenttest.Mode, name string) (context.Context, string, *agenttest.Editor) {
	t.Helper()
	ctx := ctxT(t)
	ws := t.TempDir()
	writeFiles(t, ws, workspace)
	ed := agenttest.NewEditor(t, agenttest.Connect(t, mode, agenttest.Home(t), nil))
	if _, err := ed.Initialize(ctx, name, ws); err != nil {
		t.Fatal(err)
	}
	if err := ed.Call(ctx, rpc.MethodIndex, rpc.IndexParams{}, nil); err != nil {
		t.Fatal(err)
	}
	return ctx, ws, ed
}

// TestDidSaveReindexes: a saved file is searchable without an explicit
// index request.
func TestDidSaveReindexes(t *testing.T) {
	for _, mode := range agenttest.Modes {
		t.Run(string(mode), func(t *testing.T) {
			ctx, ws, ed := indexedWorkspace(t, mode, "save-test")
			writeFiles(t, ws, map[string]string{"server/quota.go": `package server

// EnforceQuota rejects tenants that exceeded their monthly quota.
func EnforceQuota(tenant string) error { return nil }
`})
			if err := ed.Notify(ctx, rpc.MethodDidSave, rpc.DidSaveParams{TextDocument: rpc.TextDocumentIdentifier{URI: "file://" + filepath.Join(ws, "server/quota.go")}}); err != nil {
				t.Fatal(err)
			}
			for {
				var res rpc.SearchResult
				if err := ed.Call(ctx, rpc.MethodSearch, rpc.SearchParams{Query: "EnforceQuota", K: 1, Mode: "lexical"}, &res); err != nil {
					t.Fatal(err)
				}
				if len(res.Results) > 0 && res.Results[0].Symbol == "EnforceQuota" {
					return
				}
				select {
				case <-ctx.Done():
					t.Fatalf("saved function never became searchable; last results %+v", res.Results)
				case <-time.After(20 * time.Millisecond):
				}
			}
		})
	}
}

func goroot(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Skipf("no go toolchain: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// copyTree copies the .go files under src (a big enough tree that indexing
// takes a while) into a fresh directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		writeFiles(t, dst, map[string]string{rel: string(data)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestIndexProgressCancelAndDisconnect: a long index reports progress, is
// cancelled by $/cancelRequest, and a client vanishing mid-request does not
// disturb the other clients of the daemon.
func TestIndexProgressCancelAndDisconnect(t *testing.T) {
	big := copyTree(t, filepath.Join(goroot(t), "src", "net"))
	for _, mode := range agenttest.Modes {
		t.Run(string(mode), func(t *testing.T) {
			ctx := ctxT(t)
			home := agenttest.Home(t)
			ed := agenttest.NewEditor(t, agenttest.Connect(t, mode, home, nil))
			if _, err := ed.Initialize(ctx, "cancel-test", big); err != nil {
				t.Fatal(err)
			}
			callCtx, cancel := context.WithCancel(ctx)
			errc := make(chan error, 1)
			go func() {
				errc <- ed.Call(callCtx, rpc.MethodIndex, rpc.IndexParams{WorkDoneProgressParams: rpc.WorkDoneProgressParams{WorkDoneToken: json.RawMessage(`"tok"`)}, Full: true}, nil)
			}()
			waitProgress(t, ctx, ed, "report", errc)
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled index returned %v, want context.Canceled", err)
			}
			// The connection and the index still work.
			var res rpc.SearchResult
			if err := ed.Call(ctx, rpc.MethodSearch, rpc.SearchParams{Query: "dial tcp", Mode: "lexical"}, &res); err != nil {
				t.Fatalf("search after cancel: %v", err)
			}

			// A second client starts a long request and disconnects.
			conn := agenttest.Connect(t, mode, home, nil)
			other := agenttest.NewEditor(t, conn)
			if _, err := other.Initialize(ctx, "leaver", big); err != nil {
				t.Fatal(err)
			}
			errc2 := make(chan error, 1)
			go func() {
				errc2 <- other.Call(ctx, rpc.MethodIndex, rpc.IndexParams{WorkDoneProgressParams: rpc.WorkDoneProgressParams{WorkDoneToken: json.RawMessage(`"t2"`)}, Full: true}, nil)
			}()
			waitProgress(t, ctx, other, "report", errc2)
			other.Close()
			conn.Close()
			var st rpc.StatusResult
			if err := ed.Call(ctx, rpc.MethodStatus, nil, &st); err != nil {
				t.Fatalf("status after the other client left: %v", err)
			}
			if err := ed.Call(ctx, rpc.MethodIndex, rpc.IndexParams{}, nil); err != nil {
				t.Fatalf("index after the other client left: %v", err)
			}
		})
	}
}

// waitProgress waits for a progress notification of the given kind while
// the request whose result arrives on errc runs.
func waitProgress(t *testing.T, ctx context.Context, ed *agenttest.Editor, kind string, errc chan error) {
	t.Helper()
	for {
		for _, n := range ed.Notifications() {
			if n.Method != rpc.MethodProgress {
				continue
			}
			var p struct {
				Value rpc.WorkDoneProgress `json:"value"`
			}
			if json.Unmarshal(n.Params, &p) == nil && p.Value.Kind == kind {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no %s progress notification arrived", kind)
		case err := <-errc:
			t.Fatalf("request ended (%v) before any %s progress notification", err, kind)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// TestWatcherKeepsIndexFresh: changes made outside any editor (a new file,
// a deleted directory) reach the index without didSave.
func TestWatcherKeepsIndexFresh(t *testing.T) {
	for _, mode := range agenttest.Modes {
		t.Run(string(mode), func(t *testing.T) {
			ctx, ws, ed := indexedWorkspace(t, mode, "watch-test")
			search := func(q string) []rpc.SearchHit {
				var res rpc.SearchResult
				if err := ed.Call(ctx, rpc.MethodSearch, rpc.SearchParams{Query: q, Mode: "lexical"}, &res); err != nil {
					t.Fatal(err)
				}
				return res.Results
			}
			waitFor := func(what string, ok func() bool) {
				for !ok() {
					select {
					case <-ctx.Done():
						t.Fatalf("%s never happened", what)
					case <-time.After(20 * time.Millisecond):
					}
				}
			}
			writeFiles(t, ws, map[string]string{"jobs/nightly.go": "package jobs\n\n// RotateLogsNightly compresses yesterday's logs.\nfunc RotateLogsNightly() {}\n"})
			waitFor("the new file becoming searchable", func() bool {
				hits := search("RotateLogsNightly")
				return len(hits) > 0 && hits[0].Path == "jobs/nightly.go"
			})
			if err := os.RemoveAll(filepath.Join(ws, "config")); err != nil {
				t.Fatal(err)
			}
			waitFor("the deleted directory leaving the index", func() bool {
				for _, h := range search("LoadConfig") {
					if strings.HasPrefix(h.Path, "config/") {
						return false
					}
				}
				return true
			})
		})
	}
}
