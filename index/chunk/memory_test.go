package chunk

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// procStatus returns a field of /proc/self/status in bytes ("VmRSS",
// "VmHWM"), or -1 where there is no such file.
func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, rest, ok := strings.Cut(s.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return -1
		}
		return kb << 10
	}
	return -1
}

// settledRSS returns the resident set after returning freed Go memory to
// the system.
func settledRSS() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return procStatus("VmRSS")
}

// TestChunkMemoryBounded chunks the same sample of GOROOT/src five times
// and checks that the resident set does not grow with the amount parsed:
// trees, parsers and cursors are freed as the chunker goes, not left to
// finalizers.
func TestChunkMemoryBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("chunks megabytes of source")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory swamps the measurement")
	}
	if procStatus("VmRSS") < 0 {
		t.Skip("no /proc/self/status")
	}
	files := goSample(t, 7, 6<<20)
	c := New(nil)
	defer c.Close()
	base := settledRSS()
	var rss []int64
	for range 5 {
		for path, src := range files {
			if _, err := c.Chunk(context.Background(), path, src); err != nil {
				t.Fatalf("Chunk(%q) error: %v", path, err)
			}
		}
		// No forced collection: trees left to finalizers would still
		// hold their C memory here.
		rss = append(rss, procStatus("VmRSS"))
	}
	mb := make([]int64, len(rss))
	for i, x := range rss {
		mb[i] = x >> 20
	}
	t.Logf("chunked %d files, %d MB per pass; RSS before %d MB, after each pass %v MB",
		len(files), sampleBytes(files)>>20, base>>20, mb)
	// With every tree closed the first pass adds about 50 MB here and
	// later passes stay level within the noise of the C allocator (±30 MB).
	// Trees left to finalizers add about 150 MB; memory that is never
	// freed would grow with every pass. The bounds are loose so that only
	// such growth fails.
	if growth := rss[0] - base; growth > 256<<20 {
		t.Errorf("RSS grew by %d MB over one pass of %d MB, want under 256 MB", growth>>20, sampleBytes(files)>>20)
	}
	if growth := rss[4] - rss[1]; growth > 128<<20 {
		t.Errorf("RSS grew by %d MB from the second to the fifth pass of %d MB, want under 128 MB", growth>>20, sampleBytes(files)>>20)
	}
}

// BenchmarkChunkGOROOT chunks every file of GOROOT/src once (run with
// -benchtime 1x) and reports throughput and resident memory.
func BenchmarkChunkGOROOT(b *testing.B) {
	root := filepath.Join(runtime.GOROOT(), "src")
	var paths []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || LanguageOf(path) == "" {
			return err
		}
		paths = append(paths, path)
		return nil
	})
	if err != nil {
		b.Fatalf("walking %s: %v", root, err)
	}
	before := settledRSS()
	c := New(nil)
	defer c.Close()
	var total, chunks int64
	b.ResetTimer()
	for b.Loop() {
		total, chunks = 0, 0
		for _, path := range paths {
			src, err := os.ReadFile(path)
			if err != nil {
				b.Fatal(err)
			}
			if bytes.IndexByte(src, 0) >= 0 {
				continue // binary test data
			}
			got, err := c.Chunk(context.Background(), path, src)
			if err != nil {
				b.Fatalf("Chunk(%q) error: %v", path, err)
			}
			total += int64(len(src))
			chunks += int64(len(got))
		}
	}
	b.StopTimer()
	b.SetBytes(total)
	b.ReportMetric(float64(chunks), "chunks")
	b.ReportMetric(float64(before>>20), "rss-before-MB")
	b.ReportMetric(float64(settledRSS()>>20), "rss-after-MB")
	b.ReportMetric(float64(procStatus("VmHWM")>>20), "rss-peak-MB")
}

// TestChunkReleasesCMemory chunks large files between small ones on two
// goroutines, as the index does, and checks that the C heap does not keep
// the large files' freed trees resident: without releaseCMemory 122 MB of
// freed tree memory stayed in glibc's arenas here, with it 1 MB.
func TestChunkReleasesCMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("chunks megabytes of source")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory swamps the measurement")
	}
	if procStatus("RssAnon") < 0 {
		t.Skip("no RssAnon in /proc/self/status")
	}
	small := goSample(t, 13, 2<<20)
	var big strings.Builder
	big.WriteString("package big\n\n")
	for i := 0; big.Len() < 900<<10; i++ {
		fmt.Fprintf(&big, "// f%d adds.\nfunc f%d(a, b int) int {\n\tif a > b {\n\t\treturn a - b + %d\n\t}\n\treturn a + b\n}\n\n", i, i, i)
	}
	runtime.GC()
	debug.FreeOSMemory()
	base := procStatus("RssAnon")
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := New(nil)
			defer c.Close()
			for range 3 {
				if _, err := c.Chunk(context.Background(), fmt.Sprintf("big%d.go", w), []byte(big.String())); err != nil {
					t.Errorf("Chunk(big%d.go) error: %v", w, err)
					return
				}
				for path, src := range small {
					if _, err := c.Chunk(context.Background(), path, src); err != nil {
						t.Errorf("Chunk(%q) error: %v", path, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	runtime.GC()
	debug.FreeOSMemory()
	after := procStatus("RssAnon")
	t.Logf("anonymous RSS %d MB before, %d MB after chunking", base>>20, after>>20)
	if growth := after - base; growth > 12<<20 {
		t.Errorf("anonymous RSS grew by %d MB after chunking and closing, want under 12 MB", growth>>20)
	}
}
