package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestLowPriority(t *testing.T) {
	tests := []struct {
		rel  string
		want bool
	}{
		{"server/server.go", false},
		{"server/server_test.go", true},
		{"internal/testdata/input.go", true},
		{"docs/guide.md", true},
		{"README.md", true},
		{"web/app.spec.ts", true},
		{"web/app.test.js", true},
		{"py/test_parse.py", true},
		{"api/service.pb.go", true},
		{"examples/hello/main.go", true},
		{"src/Main.java", false},
		{"src/MainTest.java", true},
		{"contest/solve.go", false},
		{"latest.go", false},
	}
	for _, tt := range tests {
		if got := lowPriority(tt.rel); got != tt.want {
			t.Errorf("lowPriority(%q) = %v, want %v", tt.rel, got, tt.want)
		}
	}
}

// capWorkspace writes n source files and n test files, each with its own
// vocabulary, and returns the root.
func capWorkspace(t *testing.T, n int) string {
	t.Helper()
	root := t.TempDir()
	words := []string{"parse", "render", "encode", "decode", "merge", "split", "hash", "sort", "fetch", "store", "index", "queue"}
	for i := range n {
		var src, test strings.Builder
		fmt.Fprintf(&src, "package pkg%d\n\n", i)
		fmt.Fprintf(&test, "package pkg%d\n\nimport \"testing\"\n\n", i)
		for j := range 6 {
			w := words[(i+j)%len(words)]
			fmt.Fprintf(&src, "// %s%dItem%d does the %s work of item %d.\nfunc %s%dItem%d(x int) int {\n\treturn x*%d + %d\n}\n\n",
				w, i, j, w, j, upper(w), i, j, i+1, j)
			fmt.Fprintf(&test, "func Test%s%dItem%d(t *testing.T) {\n\tif %s%dItem%d(1) == 0 {\n\t\tt.Fatal(\"zero\")\n\t}\n}\n\n",
				upper(w), i, j, upper(w), i, j)
		}
		dir := filepath.Join(root, fmt.Sprintf("pkg%d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "code.go"), []byte(src.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "code_test.go"), []byte(test.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestMemoryCap indexes a workspace that does not fit a cap and checks the
// documented order of degradation, that memory stays near the cap and that
// search still answers.
func TestMemoryCap(t *testing.T) {
	ctx := context.Background()
	const files = 60 // source files; as many test files
	root := capWorkspace(t, files)

	open := func(t *testing.T, data string, cap int64) *Index {
		t.Helper()
		ix, err := Open(ctx, root, &Options{DataDir: data, Workers: 2, MemoryCap: cap})
		if err != nil {
			t.Fatalf("Open(cap %d) = %v", cap, err)
		}
		t.Cleanup(func() { _ = ix.Close() })
		ix.batch.files = 4 // many batches, so the cap is checked often
		return ix
	}

	// Without a cap: the full size, and what the test files' vectors take.
	fullData := t.TempDir()
	full := open(t, fullData, 0)
	if _, err := full.Update(ctx, UpdateOptions{}); err != nil {
		t.Fatalf("Update() without cap = %v", err)
	}
	st := full.Stats()
	if st.Files != 2*files || st.CapBytes != 0 || len(st.Degraded) != 0 {
		t.Fatalf("Stats() without cap = %+v, want %d files, no cap, nothing degraded", st, 2*files)
	}
	fullMem := st.MemoryBytes
	lowChunks := 0
	full.eng.mu.RLock()
	for _, c := range full.eng.chunks {
		if lowPriority(c.rel) {
			lowChunks++
		}
	}
	lowVec := int64(lowChunks) * full.eng.docBytes()
	full.eng.mu.RUnlock()
	if err := full.Close(); err != nil {
		t.Fatal(err)
	}
	perFile := fullMem / (2 * files)
	slack := 16 * perFile // the batches in flight when the cap is reached

	tests := []struct {
		name       string
		cap        int64
		reopen     bool     // open the uncapped index with the cap instead of indexing
		degraded   []string // prefixes of lines Stats().Degraded must have
		notDegr    []string // and must not have
		wantAll    bool     // every file indexed
		wantRefuse bool     // Update reports files skipped for the cap
	}{
		{
			name:     "test files lexical-only",
			cap:      fullMem - lowVec/2,
			degraded: []string{"low-priority files lexical-only"},
			notDegr:  []string{"vectors not kept", "stopped adding files"},
			wantAll:  true,
		},
		{
			name: "stop adding files",
			cap:  fullMem / 3,
			// Files in flight when the cap is reached may also lose
			// their vectors ("vectors not kept").
			degraded:   []string{"low-priority files lexical-only", "stopped adding files"},
			wantRefuse: true,
		},
		{
			name:     "reopen larger index",
			cap:      fullMem / 2,
			reopen:   true,
			degraded: []string{"low-priority files lexical-only", "vectors not kept"},
			notDegr:  []string{"stopped adding files"},
			wantAll:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := t.TempDir()
			if tt.reopen {
				data = fullData
			}
			ix := open(t, data, tt.cap)
			var sum Summary
			if !tt.reopen {
				var err error
				if sum, err = ix.Update(ctx, UpdateOptions{}); err != nil {
					t.Fatalf("Update() = %v", err)
				}
			}
			st := ix.Stats()
			if st.CapBytes != tt.cap {
				t.Errorf("Stats().CapBytes = %d, want %d", st.CapBytes, tt.cap)
			}
			if st.MemoryBytes > tt.cap+slack {
				t.Errorf("Stats().MemoryBytes = %d, want at most cap %d + %d", st.MemoryBytes, tt.cap, slack)
			}
			has := func(prefix string) bool {
				return slices.ContainsFunc(st.Degraded, func(l string) bool { return strings.HasPrefix(l, prefix) })
			}
			for _, p := range tt.degraded {
				if !has(p) {
					t.Errorf("Stats().Degraded = %q, want a line starting %q", st.Degraded, p)
				}
			}
			for _, p := range tt.notDegr {
				if has(p) {
					t.Errorf("Stats().Degraded = %q, want no line starting %q", st.Degraded, p)
				}
			}
			if got := st.Files == 2*files; got != tt.wantAll {
				t.Errorf("Stats().Files = %d of %d, want all indexed: %v", st.Files, 2*files, tt.wantAll)
			}
			if got := sum.SkippedReasons[reasonMemoryCap] > 0; got != tt.wantRefuse {
				t.Errorf("Update() skipped %v, want files refused for the cap: %v", sum.SkippedReasons, tt.wantRefuse)
			}

			// The first files are always in; search finds them both ways.
			for _, q := range []struct {
				text, want string
			}{
				{"Parse0Item0", "pkg0/code.go:Parse0Item0"},
				{"TestParse0Item0", "pkg0/code_test.go:TestParse0Item0"},
			} {
				res, err := ix.Search(ctx, Query{Text: q.text, K: 5})
				if err != nil {
					t.Fatalf("Search(%q) = %v", q.text, err)
				}
				if !slices.Contains(paths(res), q.want) {
					t.Errorf("Search(%q) = %q, want %s", q.text, paths(res), q.want)
				}
			}
			// Vector search still answers from what is in memory.
			res, err := ix.Search(ctx, Query{Text: "render the item", K: 5, Mode: Vector})
			if err != nil || len(res) == 0 {
				t.Errorf("Search(vector) = %v, %v; want results", res, err)
			}
			for _, r := range res {
				if lowPriority(r.Path) {
					t.Errorf("Search(vector) returned %s, whose vectors should be dropped", r.Path)
				}
			}
		})
	}
}

func upper(w string) string { return strings.ToUpper(w[:1]) + w[1:] }

// TestMemoryEstimate checks the engine's heap estimate against the heap it
// really takes for many chunks with vectors.
func TestMemoryEstimate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes allocation sizes")
	}
	ctx := context.Background()
	const n = 20000
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	e, err := newEngine()
	if err != nil {
		t.Fatal(err)
	}
	vec := make([]float32, DefaultDim)
	batch := make([]entry, 0, 1000)
	for i := range n {
		for j := range vec {
			vec[j] = float32((i*31+j*17)%97) - 48
		}
		batch = append(batch, entry{
			id:   uint32(i + 1),
			info: chunkInfo{rel: "pkg/file.go", lang: "go", symbol: fmt.Sprintf("Type%d.Method", i%5000)},
			text: fmt.Sprintf("func (t *Type%d) Method(x int) int { return x + %d }", i%5000, i),
			vec:  slices.Clone(vec),
		})
		if len(batch) == cap(batch) {
			if err := e.apply(ctx, nil, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms)
	got := int64(ms.HeapAlloc) - int64(before)
	est := e.memoryBytes()
	t.Logf("%d chunks: heap %d bytes (%d per chunk), estimate %d (%d per chunk)", n, got, got/n, est, est/n)
	if est < got*3/4 || est > got*5/4 {
		t.Errorf("memoryBytes() = %d, heap grew by %d; want within 25%%", est, got)
	}
	runtime.KeepAlive(e)
}

// TestOverCapDoesNotWait checks that overCap answers from the estimate of
// the last change while a change holds the engine (as an Update's workers
// ask before each file while batches are applied), and that the estimate
// follows applies.
func TestOverCapDoesNotWait(t *testing.T) {
	ctx := context.Background()
	e, err := newEngine()
	if err != nil {
		t.Fatal(err)
	}
	e.capBytes = 1 << 20
	if e.overCap() {
		t.Fatalf("overCap() of an empty engine = true, want false")
	}
	var batch []entry
	for i := range 4000 {
		batch = append(batch, entry{id: uint32(i + 1), info: chunkInfo{rel: "a.go", symbol: fmt.Sprintf("F%d", i)}, text: fmt.Sprintf("func F%d() {}", i)})
	}
	if err := e.apply(ctx, nil, batch); err != nil {
		t.Fatal(err)
	}
	if got := e.mem.Load(); got != e.memoryBytes() {
		t.Errorf("published estimate %d, memoryBytes() = %d; want equal", got, e.memoryBytes())
	}
	e.mu.Lock()
	over := e.overCap() // would deadlock if it took mu
	e.mu.Unlock()
	if want := e.memoryBytes() >= e.capBytes; over != want {
		t.Errorf("overCap() with %d of %d bytes = %v, want %v", e.memoryBytes(), e.capBytes, over, want)
	}
	if !over {
		t.Errorf("overCap() after %d chunks = false; the test wants them past the cap of %d bytes (estimate %d)", len(batch), e.capBytes, e.memoryBytes())
	}
}
