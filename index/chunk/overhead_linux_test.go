//go:build linux

package chunk

import (
	"context"
	"runtime"
	"syscall"
	"testing"
	"time"

	sitter "github.com/smacker/go-tree-sitter"
)

// threadCPU returns the CPU time the calling OS thread has used, or 0 where
// it cannot be read.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	const rusageThread = 1 // RUSAGE_THREAD on Linux
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkChunkOverhead parses and chunks each sampled file in turn on one
// locked OS thread and reports the ratio of the thread CPU time chunking
// takes (parse included) to the time parsing alone takes. Interleaving file
// by file and counting CPU rather than wall time keeps the ratio steady on a
// loaded machine.
func BenchmarkChunkOverhead(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if threadCPU() == 0 {
		b.Skip("no per-thread CPU time")
	}
	files := goSample(b, 20, 4<<20)
	c := New(nil)
	defer c.Close()
	p := sitter.NewParser()
	defer p.Close()
	p.SetLanguage(grammar("go"))
	ctx := context.Background()
	var parse, chunk time.Duration
	b.SetBytes(sampleBytes(files))
	for b.Loop() {
		for path, src := range files {
			t0 := threadCPU()
			tree, err := p.ParseCtx(ctx, nil, src)
			if err != nil {
				b.Fatalf("parsing %s: %v", path, err)
			}
			tree.Close()
			t1 := threadCPU()
			if _, err := c.Chunk(ctx, path, src); err != nil {
				b.Fatalf("Chunk(%q) error: %v", path, err)
			}
			t2 := threadCPU()
			parse += t1 - t0
			chunk += t2 - t1
		}
	}
	b.ReportMetric(float64(chunk)/float64(parse), "chunk/parse")
	b.ReportMetric(float64(sampleBytes(files))*float64(b.N)/parse.Seconds()/1e6, "parse-MB/s-cpu")
	b.ReportMetric(float64(sampleBytes(files))*float64(b.N)/chunk.Seconds()/1e6, "chunk-MB/s-cpu")
}
