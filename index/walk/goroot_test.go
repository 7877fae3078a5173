package walk

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

var gorootReport = flag.Bool("goroot", false, "walk GOROOT/src and log what is skipped, by reason")

func gorootSrc(tb testing.TB) string {
	tb.Helper()
	src := filepath.Join(runtime.GOROOT(), "src")
	if _, err := os.Stat(src); err != nil {
		tb.Skipf("GOROOT/src not available: %v", err)
	}
	return src
}

// TestGorootSkipped walks GOROOT/src and logs the number of files visited
// and of paths skipped by reason, with samples, for review:
// go test -run TestGorootSkipped -goroot -v
func TestGorootSkipped(t *testing.T) {
	if !*gorootReport {
		t.Skip("run with -goroot to walk GOROOT/src")
	}
	src := gorootSrc(t)
	var files int
	var bytes int64
	classified := map[string]int{}
	byReason := map[string][]string{}
	err := Walk(context.Background(), src, nil, func(f File) error {
		files++
		bytes += f.Size
		head, err := readHead(f.Abs)
		if err != nil {
			return err
		}
		if skip, reason := Classify(f.Rel, head, f.Size); skip {
			classified[reason]++
			byReason["classify: "+reason] = append(byReason["classify: "+reason], f.Rel)
		}
		return nil
	}, func(s Skipped) {
		byReason[s.Reason] = append(byReason[s.Reason], s.Rel)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("visited %d files, %d bytes", files, bytes)
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		rels := byReason[r]
		sample := rels[:min(len(rels), 8)]
		t.Logf("%-32s %5d  %s", r, len(rels), strings.Join(sample, " "))
	}
}

func readHead(abs string) ([]byte, error) {
	f, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, SniffLen)
	n, _ := f.Read(buf)
	return buf[:n], nil
}

// BenchmarkWalkGoroot walks all of GOROOT/src and reports files per second.
func BenchmarkWalkGoroot(b *testing.B) {
	src := gorootSrc(b)
	var files int
	for b.Loop() {
		files = 0
		err := Walk(context.Background(), src, nil, func(File) error {
			files++
			return nil
		}, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(files), "files/op")
	b.ReportMetric(float64(files)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkMatcherSkip measures Skip on paths of varying depth, as a file
// watcher calls it for every event.
func BenchmarkMatcherSkip(b *testing.B) {
	src := gorootSrc(b)
	m, err := NewMatcher(src, nil)
	if err != nil {
		b.Fatal(err)
	}
	paths := []string{"net/http/server.go", "cmd/compile/internal/ssa/rewriteAMD64.go", "go/build/build.go", "vendor/golang.org/x/net/idna/idna.go"}
	for b.Loop() {
		for _, p := range paths {
			m.Skip(p, false)
		}
	}
}
