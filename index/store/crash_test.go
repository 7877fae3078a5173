package store

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashChildEnv, when set to an index path, makes the test binary write to
// that index until it is killed.
const crashChildEnv = "CODEMUX_STORE_CRASH_CHILD"

// crashTexts are the chunk texts the child uses; few, so vectors are shared.
var crashTexts = func() []string {
	var out []string
	for i := range 24 {
		out = append(out, strings.Repeat(fmt.Sprintf("func f%d() { return %d }\n", i, i*i), 1+i%9))
	}
	return out
}()

// crashFile builds a file whose content hash commits to its chunk texts, so
// a reader can tell a wholly written version from a mixed one.
func crashFile(r *rand.Rand, rel string) FileUpdate {
	var texts []string
	for range r.IntN(8) {
		texts = append(texts, crashTexts[r.IntN(len(crashTexts))])
	}
	u := update(rel, texts...)
	if r.IntN(3) == 0 {
		u.Vectors = nil // rely on stored vectors where there are any
	}
	return u
}

func crashChild(path string) {
	s, err := Open(path, &Options{Timeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	fmt.Println("ready")
	r := rand.New(rand.NewPCG(uint64(os.Getpid()), uint64(time.Now().UnixNano())))
	ctx := context.Background()
	for i := 0; ; i++ {
		var err error
		switch {
		case i%40 == 39:
			err = s.Compact(ctx)
		case r.IntN(5) == 0:
			var rels []string
			for range 1 + r.IntN(4) {
				rels = append(rels, fmt.Sprintf("d%d/f%d.go", r.IntN(3), r.IntN(20)))
			}
			_, err = s.DeleteFiles(ctx, rels)
		default:
			var batch []FileUpdate
			for range 1 + r.IntN(12) {
				batch = append(batch, crashFile(r, fmt.Sprintf("d%d/f%d.go", r.IntN(3), r.IntN(20))))
			}
			_, err = s.ReplaceFiles(ctx, batch)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(3)
		}
	}
}

func TestCrashConsistency(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns subprocesses")
	}
	path := filepath.Join(t.TempDir(), "index.bolt")
	r := rand.New(rand.NewPCG(7, 8))
	const iterations = 30
	maxFiles := 0
	for i := range iterations {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != "ready\n" {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("iteration %d: child said %q, %v; stderr: %s", i, line, err, stderr.String())
		}
		// Let it write for a random while, then kill it without warning.
		time.Sleep(time.Duration(2+r.IntN(80)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("iteration %d: child ended by itself (%v); stderr: %s", i, err, stderr.String())
		}

		s, err := Open(path, &Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("iteration %d: Open after kill = %v", i, err)
		}
		if err := s.Verify(context.Background()); err != nil {
			t.Errorf("iteration %d: Verify after kill = %v", i, err)
		}
		for rel, texts := range contents(t, s) {
			f, _, err := s.File(rel)
			if err != nil {
				t.Fatal(err)
			}
			if want := HashString(strings.Join(texts, "")); f.ContentHash != want {
				t.Errorf("iteration %d: %s holds chunks %q that are not one version of the file", i, rel, texts)
			}
		}
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		maxFiles = max(maxFiles, st.Files)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d kills; at most %d files in the index after a kill", iterations, maxFiles)
	if maxFiles == 0 {
		t.Errorf("children never committed a batch in %d runs", iterations)
	}
	if _, err := os.Stat(path + ".compact"); err == nil {
		t.Logf("a kill during Compact left %s.compact; the next Compact removes it", filepath.Base(path))
	}
}
