package index

import (
	"bufio"
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/codemux/codemux/index/embed"
	"github.com/codemux/codemux/index/evalset"
)

var (
	benchRoot = flag.String("bench.root", "", "workspace for BenchmarkUpdate (default $(go env GOROOT)/src)")
	evalDocs  = flag.Int("bench.evaldocs", 0, "docs in the BenchmarkRetrieval corpus (0 = all)")
	evalCases = flag.Int("bench.evalcases", 500, "cases in BenchmarkRetrieval")
	benchData = flag.String("bench.data", "", "index directory BenchmarkSearch keeps between runs (default a temporary one)")
	benchCap  = flag.Int64("bench.cap", 256<<20, "Options.MemoryCap of BenchmarkUpdate and BenchmarkSearch; the soft memory limit follows it (0: none)")
	benchLim  = flag.Int64("bench.memlimit", 0, "soft memory limit of BenchmarkUpdate (0: SoftMemoryLimit of -bench.cap)")
	benchDim  = flag.Int("bench.dim", 0, "dimension of the built-in embedder in the benchmarks (0 = the index default)")
)

// benchOptions returns the index options of the benchmarks.
func benchOptions(data string) *Options {
	o := &Options{DataDir: data, MemoryCap: *benchCap}
	if *benchDim > 0 {
		o.Embedder = embed.NewBuiltin(&embed.BuiltinOptions{Dim: *benchDim})
	}
	return o
}

// rssLine returns the lines of /proc/self/status about resident memory.
func rssLine() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return ""
	}
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmHWM") || strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "RssAnon") || strings.HasPrefix(l, "RssFile") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, ", ")
}

// peakRSS returns VmHWM from /proc/self/status in bytes, or 0.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime returns the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkUpdate indexes a large workspace from scratch, then updates it
// with nothing changed, then reopens it. Run with -benchtime 1x.
func BenchmarkUpdate(b *testing.B) {
	root := *benchRoot
	if root == "" {
		var err error
		if root, err = evalset.GorootSrc(context.Background()); err != nil {
			b.Skip(err)
		}
	}
	ctx := context.Background()
	lim := SoftMemoryLimit(*benchCap)
	if *benchLim > 0 {
		lim = *benchLim
	}
	if lim > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(lim))
	}
	for b.Loop() {
		data := b.TempDir()
		ix, err := Open(ctx, root, benchOptions(data))
		if err != nil {
			b.Fatal(err)
		}
		start, cpu0 := time.Now(), cpuTime()
		sum, err := ix.Update(ctx, UpdateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		cold, coldCPU := time.Since(start), cpuTime()-cpu0
		coldPeak := peakRSS()
		b.Logf("after cold update: %s", rssLine())
		start = time.Now()
		warm, err := ix.Update(ctx, UpdateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		warmT := time.Since(start)
		st := ix.Stats()
		if sst, err := ix.st.Stats(); err == nil {
			rec, _ := ix.st.Reclaimable()
			b.Logf("store: %d bytes used of %d (%d free, %d reclaimable): %v", sst.UsedBytes, sst.DiskBytes, sst.FreeBytes, rec, sst.BucketBytes)
		}
		ix.st.ReleaseMemory()
		if err := ix.Close(); err != nil {
			b.Fatal(err)
		}
		start, cpu0 = time.Now(), cpuTime()
		ix, err = Open(ctx, root, benchOptions(data))
		if err != nil {
			b.Fatal(err)
		}
		openT, openCPU := time.Since(start), cpuTime()-cpu0
		b.Logf("after reopen: %s", rssLine())
		_ = ix.Close()
		b.ReportMetric(cold.Seconds(), "cold-s")
		b.ReportMetric(coldCPU.Seconds(), "cold-cpu-s")
		b.ReportMetric(float64(sum.Bytes)/1e6/cold.Seconds(), "MB/s")
		b.ReportMetric(float64(sum.Files)/cold.Seconds(), "files/s")
		b.ReportMetric(float64(sum.Chunks), "chunks")
		b.ReportMetric(float64(st.DiskBytes)/1e6, "disk-MB")
		b.ReportMetric(float64(st.MemoryBytes)/1e6, "mem-est-MB")
		b.ReportMetric(float64(warmT.Milliseconds()), "warm-ms")
		b.ReportMetric(float64(openT.Milliseconds()), "open-ms")
		b.ReportMetric(float64(openCPU.Milliseconds()), "open-cpu-ms")
		b.ReportMetric(float64(coldPeak)/1e6, "peakRSS-MB")
		b.ReportMetric(float64(peakRSS())/1e6, "peakRSS-all-MB")
		b.Logf("cold: %+v", sum)
		b.Logf("memory %.1f MB of cap %.1f MB; degraded: %q", float64(st.MemoryBytes)/1e6, float64(st.CapBytes)/1e6, st.Degraded)
		b.Logf("warm: files=%d indexed=%d removed=%d embedded=%d", warm.Files, warm.Indexed, warm.Removed, warm.Embedded)
		b.Logf("source %.1f MB, index file %.1f MB (%.2f×)", float64(sum.Bytes)/1e6, float64(st.DiskBytes)/1e6, float64(st.DiskBytes)/float64(sum.Bytes))
	}
}

// writeEvalCopy writes the docs of set under dir, each at its original line
// so that chunk line ranges map back to doc IDs.
func writeEvalCopy(b *testing.B, set *evalset.Set, dir string) {
	byRel := map[string][]evalset.Doc{}
	for _, d := range set.Docs {
		byRel[d.Rel] = append(byRel[d.Rel], d)
	}
	for rel, docs := range byRel {
		var sb strings.Builder
		sb.WriteString("package p\n")
		line := 2
		for _, d := range docs {
			for ; line < d.StartLine; line++ {
				sb.WriteByte('\n')
			}
			text := strings.TrimRight(d.Text, "\n") + "\n"
			sb.WriteString(text)
			line += strings.Count(text, "\n")
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(sb.String()), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRetrieval measures search quality through the whole index on
// doc-comment → function cases over the Go standard library, indexing a copy
// with the doc comments stripped. Run with -benchtime 1x.
func BenchmarkRetrieval(b *testing.B) {
	ctx := context.Background()
	goroot, err := evalset.GorootSrc(ctx)
	if err != nil {
		b.Skip(err)
	}
	set, err := evalset.Load(ctx, goroot, &evalset.Options{MaxCases: *evalCases})
	if err != nil {
		b.Fatal(err)
	}
	set = set.Subset(*evalDocs, 1)
	dir := b.TempDir()
	writeEvalCopy(b, set, dir)
	starts := map[string][]evalset.Doc{}
	for _, d := range set.Docs {
		starts[d.Rel] = append(starts[d.Rel], d)
	}
	for b.Loop() {
		ix, err := Open(ctx, dir, benchOptions(b.TempDir()))
		if err != nil {
			b.Fatal(err)
		}
		sum, err := ix.Update(ctx, UpdateOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("corpus: %d docs, %d cases; index: %d files, %d chunks", len(set.Docs), len(set.Cases), sum.Files, sum.Chunks)

		// Rank every case once, then fuse the rankings in several ways.
		cands := make([]candidates, len(set.Cases))
		rankAll := func() {
			start := time.Now()
			for i, c := range set.Cases {
				if cands[i], err = ix.candidates(ctx, Query{Text: c.Query, Mode: Hybrid}, minCandidates); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("%v per query for both rankings (%d vector cells, probing 1/%d)",
				time.Since(start)/time.Duration(max(1, len(set.Cases))), len(ix.eng.vec.cells), ix.eng.vec.probeDiv)
		}
		docsOf := map[uint32][]string{}
		toDocs := func(ids []uint32) []string {
			var need []uint32
			for _, id := range ids {
				if _, ok := docsOf[id]; !ok {
					need = append(need, id)
				}
			}
			chunks, err := ix.st.Chunks(need)
			if err != nil {
				b.Fatal(err)
			}
			for _, ch := range chunks {
				var docs []string
				for _, d := range starts[ch.Rel] {
					if d.StartLine >= ch.StartLine && d.StartLine <= ch.EndLine {
						docs = append(docs, d.ID)
					}
				}
				docsOf[ch.ID] = docs
			}
			var out []string
			for _, id := range ids {
				out = append(out, docsOf[id]...)
			}
			return out
		}
		score := func(mode Mode, f fusion) evalset.Metrics {
			ranked := make([][]string, len(set.Cases))
			for i := range set.Cases {
				ids, _ := f.rank(mode, cands[i])
				ranked[i] = toDocs(ids[:min(10, len(ids))])
			}
			return evalset.Score(ranked, set.Cases)
		}
		// The vector cells against an exhaustive search.
		for _, div := range []int{1, 8, probeDiv} {
			ix.eng.vec.probeDiv = div
			rankAll()
			for _, mode := range []Mode{Vector, Hybrid} {
				b.Logf("probing 1/%d: %-8v %v", div, mode, score(mode, ix.fusion))
			}
		}
		variants := []struct {
			name string
			mode Mode
			f    fusion
		}{
			{"lexical", Lexical, ix.fusion},
			{"vector", Vector, ix.fusion},
			{"hybrid", Hybrid, ix.fusion},
			{"hybrid k60 1/1/0", Hybrid, fusion{k: 60, lexical: 1, vector: 1}},
			{"hybrid k10 1/0.5/0", Hybrid, fusion{k: 10, lexical: 1, vector: 0.5}},
			{"hybrid k10 1/0.5/0.25", Hybrid, fusion{k: 10, lexical: 1, vector: 0.5, symbol: 0.25}},
			{"hybrid k10 1/0.35/0.25", Hybrid, fusion{k: 10, lexical: 1, vector: 0.35, symbol: 0.25}},
			{"hybrid k5 1/0.5/0.25", Hybrid, fusion{k: 5, lexical: 1, vector: 0.5, symbol: 0.25}},
			{"hybrid k5 1/0.35/0.25", Hybrid, fusion{k: 5, lexical: 1, vector: 0.35, symbol: 0.25}},
			{"hybrid k2 1/0.5/0.25", Hybrid, fusion{k: 2, lexical: 1, vector: 0.5, symbol: 0.25}},
		}
		for _, v := range variants {
			m := score(v.mode, v.f)
			b.Logf("%-24s %v", v.name, m)
			if v.name == v.mode.String() {
				b.ReportMetric(m.MRR10, "MRR10-"+v.name)
				b.ReportMetric(m.Recall1, "R1-"+v.name)
				b.ReportMetric(m.Recall5, "R5-"+v.name)
				b.ReportMetric(m.Recall10, "R10-"+v.name)
			}
		}
		_ = ix.Close()
	}
}

// BenchmarkSearch measures top-10 search latency on the index of a large
// workspace (default GOROOT/src) with the evalset queries, per mode, and
// reports p50 and p99. Run with -benchtime 1x; -bench.data keeps the index
// between runs.
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	goroot, err := evalset.GorootSrc(ctx)
	if err != nil {
		b.Skip(err)
	}
	root := *benchRoot
	if root == "" {
		root = goroot
	}
	set, err := evalset.Load(ctx, goroot, &evalset.Options{MaxCases: *evalCases})
	if err != nil {
		b.Fatal(err)
	}
	data := *benchData
	if data == "" {
		data = b.TempDir()
	}
	start := time.Now()
	ix, err := Open(ctx, root, benchOptions(data))
	if err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	openT := time.Since(start)
	start = time.Now()
	sum, err := ix.Update(ctx, UpdateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("open %v, update %v; index: %d files, %d chunks, memory %.1f MB, %d vector cells",
		openT, time.Since(start), sum.Files, sum.Chunks, float64(ix.Stats().MemoryBytes)/1e6, len(ix.eng.vec.cells))
	var sizes []int
	for _, c := range ix.eng.vec.cells {
		sizes = append(sizes, c.Count())
	}
	slices.Sort(sizes)
	b.Logf("cell sizes: %v", sizes)
	b.ResetTimer()
	for b.Loop() {
		for _, mode := range []Mode{Hybrid, Lexical, Vector} {
			lat := make([]time.Duration, 0, len(set.Cases))
			for _, c := range set.Cases {
				start := time.Now()
				if _, err := ix.Search(ctx, Query{Text: c.Query, K: 10, Mode: mode}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
			b.Logf("%-8v p50 %v p99 %v max %v (%d queries)", mode, p50, p99, lat[len(lat)-1], len(lat))
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms-"+mode.String())
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms-"+mode.String())
		}
	}
}
