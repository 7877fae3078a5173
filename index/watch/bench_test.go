package watch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// BenchmarkNewGoroot measures adding a watch on every directory of
// GOROOT/src, the start-up cost of watching a large workspace.
//
//	go test -run XXX -bench NewGoroot -benchtime 3x ./index/watch/
func BenchmarkNewGoroot(b *testing.B) {
	src := filepath.Join(runtime.GOROOT(), "src")
	if _, err := os.Stat(src); err != nil {
		b.Skipf("GOROOT/src not available: %v", err)
	}
	var dirs int
	for b.Loop() {
		w, err := New(context.Background(), src, nil)
		if err != nil {
			b.Fatal(err)
		}
		dirs = w.Stats().Dirs
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(dirs), "dirs")
}

// BenchmarkBurst writes 1000 files in 10 directories at once and measures
// the time until every one has been reported, with the default debounce,
// and how many batches carried them.
//
//	go test -run XXX -bench Burst -benchtime 3x ./index/watch/
func BenchmarkBurst(b *testing.B) {
	const files = 1000
	var batches int
	b.StopTimer()
	for range b.N {
		dir := b.TempDir()
		for d := range 10 {
			if err := os.Mkdir(filepath.Join(dir, fmt.Sprintf("d%d", d)), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		w, err := New(context.Background(), dir, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		for i := range files {
			p := filepath.Join(dir, fmt.Sprintf("d%d", i%10), fmt.Sprintf("f%04d.go", i))
			if err := os.WriteFile(p, []byte("package d\n"), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		seen := map[string]bool{}
		batches = 0
		timeout := time.After(collectTimeout)
		for len(seen) < files {
			select {
			case batch := <-w.Batches():
				batches++
				for _, rel := range batch.Changed {
					seen[rel] = true
				}
			case <-timeout:
				b.Fatalf("only %d of %d files reported within %v", len(seen), files, collectTimeout)
			}
		}
		b.StopTimer()
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(batches), "batches")
}
