package lexical

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/codemux/codemux/index/evalset"
)

const benchDocs = 100_000

var bench struct {
	once  sync.Once
	docs  []evalset.Doc // benchDocs functions: GOROOT/src with tests, cycled
	cases []evalset.Case
	idx   *Index
	data  []byte
	err   error
}

// benchCorpus returns ~100k GOROOT functions (test files included; the
// corpus is cycled to reach the count) and an index over them.
func benchCorpus(b *testing.B) ([]evalset.Doc, []evalset.Case, *Index, []byte) {
	b.Helper()
	bench.once.Do(func() {
		ctx := context.Background()
		root, err := evalset.GorootSrc(ctx)
		if err != nil {
			bench.err = err
			return
		}
		set, err := evalset.Load(ctx, root, &evalset.Options{Tests: true})
		if err != nil {
			bench.err = err
			return
		}
		for i := 0; len(bench.docs) < benchDocs; i++ {
			bench.docs = append(bench.docs, set.Docs[i%len(set.Docs)])
		}
		bench.cases = set.Cases
		bench.idx = New(nil)
		for i, d := range bench.docs {
			bench.idx.Add(uint32(i), d.Text, d.Symbol)
		}
		bench.data, bench.err = bench.idx.MarshalBinary()
	})
	if bench.err != nil {
		b.Skipf("GOROOT/src unavailable: %v", bench.err)
	}
	return bench.docs, bench.cases, bench.idx, bench.data
}

// BenchmarkSearch runs the evalset queries against 100k functions and
// reports the median and 99th percentile latency of one top-10 search.
func BenchmarkSearch(b *testing.B) {
	_, cases, x, _ := benchCorpus(b)
	var lat []time.Duration
	b.ResetTimer()
	i := 0
	for b.Loop() {
		start := time.Now()
		x.Search(cases[i%len(cases)].Query, 10, nil)
		lat = append(lat, time.Since(start))
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(x.MemoryBytes())/(1<<20), "index-MB")
}

// BenchmarkBuild indexes 100k functions from their text.
func BenchmarkBuild(b *testing.B) {
	docs, _, _, _ := benchCorpus(b)
	size := 0
	for _, d := range docs {
		size += len(d.Text)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		x := New(nil)
		for i, d := range docs {
			x.Add(uint32(i), d.Text, d.Symbol)
		}
	}
}

// BenchmarkUnmarshal restores a 100k-function index from MarshalBinary
// output, the daemon-start path.
func BenchmarkUnmarshal(b *testing.B) {
	_, _, _, data := benchCorpus(b)
	for b.Loop() {
		if err := New(nil).UnmarshalBinary(data); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data))/(1<<20), "encoded-MB")
}

// BenchmarkMarshal encodes a 100k-function index.
func BenchmarkMarshal(b *testing.B) {
	_, _, x, _ := benchCorpus(b)
	for b.Loop() {
		if _, err := x.MarshalBinary(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAdd indexes the functions of GOROOT/src/net/http (tests
// included) four times over, under distinct IDs, into a fresh index per
// iteration: the cost of Add alone on chunk-sized texts, mostly for terms
// the index already has, as in a large workspace.
func BenchmarkAdd(b *testing.B) {
	ctx := context.Background()
	set, err := evalset.GorootPackage(ctx, "net/http")
	if err != nil {
		b.Skipf("GOROOT/src/net/http unavailable: %v", err)
	}
	const rounds = 4
	b.SetBytes(rounds * int64(set.Bytes()))
	b.ReportAllocs()
	for b.Loop() {
		x := New(nil)
		for r := range rounds {
			for i, d := range set.Docs {
				x.Add(uint32(r*len(set.Docs)+i), d.Text, d.Symbol)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rounds*len(set.Docs)), "ns/doc")
}

// BenchmarkTokens splits the functions of GOROOT/src/net/http (tests
// included) into terms.
func BenchmarkTokens(b *testing.B) {
	ctx := context.Background()
	set, err := evalset.GorootPackage(ctx, "net/http")
	if err != nil {
		b.Skipf("GOROOT/src/net/http unavailable: %v", err)
	}
	b.SetBytes(int64(set.Bytes()))
	b.ReportAllocs()
	for b.Loop() {
		for _, d := range set.Docs {
			Tokens(d.Text)
		}
	}
}
