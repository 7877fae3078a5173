package agent_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codemux/codemux/agent/agenttest"
	"github.com/codemux/codemux/rpc"
)

// TestDaemonKilledMidIndex kills the real daemon with SIGKILL at random
// moments while it indexes, many times, and checks after each kill that
// the index opens and answers without duplicates, and that the next run
// catches up with the whole workspace.
func TestDaemonKilledMidIndex(t *testing.T) {
	if testing.Short() {
		t.Skip("kills real daemons many times")
	}
	ws := copyTree(t, filepath.Join(goroot(t), "src", "net"))
	home := agenttest.Home(t)
	rng := rand.New(rand.NewPCG(1, 2))
	const kills = 12
	for i := 0; i < kills; i++ {
		// Edit a few files so that kills land in replacements too.
		for j := 0; j < 5; j++ {
			writeFiles(t, ws, map[string]string{fmt.Sprintf("edits/edit%d.go", j): fmt.Sprintf("package edits\n\n// Version%d_%d marks edit round %d.\nfunc Version%d_%d() int { return %d }\n", j, i, i, j, i, i)})
		}
		idx := agenttest.Command(t, home, "index", "--full", ws)
		if err := idx.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		killDaemons(t, home)
		idx.Wait()

		res := searchJSON(t, home, ws, "dial tcp connection")
		seen := map[string]bool{}
		for _, h := range res.Results {
			key := fmt.Sprintf("%s:%d-%d", h.Path, h.StartLine, h.EndLine)
			if seen[key] {
				t.Fatalf("kill %d: duplicate hit %s", i, key)
			}
			seen[key] = true
		}
		killDaemons(t, home)
	}
	// The next full run catches up: every edit of the last round is found.
	out, err := agenttest.Command(t, home, "index", "--json", ws).Output()
	if err != nil {
		t.Fatalf("final index: %v", err)
	}
	var sum rpc.IndexSummary
	if err := json.Unmarshal(out, &sum); err != nil || sum.Files == 0 {
		t.Fatalf("final index summary %q: %v", out, err)
	}
	res := searchJSON(t, home, ws, fmt.Sprintf("Version3_%d", kills-1))
	if len(res.Results) == 0 || res.Results[0].Symbol != fmt.Sprintf("Version3_%d", kills-1) {
		t.Fatalf("last edit not found after catching up: %+v", res.Results)
	}
}

func searchJSON(t *testing.T, home, ws, q string) rpc.SearchResult {
	t.Helper()
	cmd := agenttest.Command(t, home, "search", "--json", "--mode", "lexical", "--dir", ws, q)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("search after kill: %v: %s", err, stderr.String())
	}
	var res rpc.SearchResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("search output %q: %v", out, err)
	}
	if len(res.Results) == 0 {
		t.Fatalf("search after kill found nothing")
	}
	return res
}

// killDaemons SIGKILLs the daemons under home and waits until their lock
// is free.
func killDaemons(t *testing.T, home string) {
	t.Helper()
	agenttest.StopDaemons(home)
	locks, _ := filepath.Glob(filepath.Join(home, "run", "*.lock"))
	deadline := time.Now().Add(10 * time.Second)
	for _, l := range locks {
		for !lockFree(l) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func lockFree(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return true
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return false
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}

// TestNewBuildTakesOverIndex: a daemon of another build holding a folder's
// index is asked to exit when a new build's daemon needs that index.
func TestNewBuildTakesOverIndex(t *testing.T) {
	home := agenttest.Home(t)
	ws := t.TempDir()
	writeFiles(t, ws, workspace)
	oldRes := searchJSON(t, home, ws, "LoadConfig")
	if oldRes.Results[0].Symbol != "LoadConfig" {
		t.Fatalf("old build's search = %+v", oldRes.Results)
	}
	locks, _ := filepath.Glob(filepath.Join(home, "run", "*.lock"))
	if len(locks) != 1 {
		t.Fatalf("lock files = %v, want the old daemon's", locks)
	}
	variant := agenttest.Variant(t, t.TempDir())
	cmd := exec.Command(variant, "search", "--json", "--dir", ws, "ServeHTTP")
	cmd.Env = agenttest.Env(home)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("new build's search: %v: %s", err, out)
	}
	if !strings.Contains(string(out), `"Server.ServeHTTP"`) {
		t.Fatalf("new build's search = %s", out)
	}
	if !lockFree(locks[0]) {
		t.Fatalf("old build's daemon still running after the takeover")
	}
}
