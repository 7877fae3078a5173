package embed_test

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/codemux/codemux/index/embed"
	"github.com/codemux/codemux/index/evalset"
	"github.com/codemux/codemux/index/lexical"
)

var goroot struct {
	once sync.Once
	sets map[uint64]*evalset.Set
	err  error
}

// gorootSets loads the doc-comment → function benchmark over GOROOT/src
// once, with 1000 cases for each of two seeds.
func gorootSets(tb testing.TB) map[uint64]*evalset.Set {
	tb.Helper()
	if testing.Short() || raceEnabled {
		tb.Skip("evaluates over all of GOROOT/src; run without -short and -race")
	}
	goroot.once.Do(func() {
		ctx := context.Background()
		root, err := evalset.GorootSrc(ctx)
		if err != nil {
			goroot.err = err
			return
		}
		goroot.sets = make(map[uint64]*evalset.Set)
		for _, seed := range []uint64{1, 2} {
			set, err := evalset.Load(ctx, root, &evalset.Options{Seed: seed})
			if err != nil {
				goroot.err = err
				return
			}
			goroot.sets[seed] = set
		}
	})
	if goroot.err != nil {
		tb.Skipf("GOROOT/src unavailable: %v", goroot.err)
	}
	return goroot.sets
}

const depth = 100 // candidates per retriever fed to fusion

func lexicalRuns(set *evalset.Set) [][]uint32 {
	x := lexical.New(nil)
	for i, d := range set.Docs {
		x.Add(uint32(i), d.Text, d.Symbol)
	}
	runs := make([][]uint32, len(set.Cases))
	for i, c := range set.Cases {
		for _, h := range x.Search(c.Query, depth, nil) {
			runs[i] = append(runs[i], h.ID)
		}
	}
	return runs
}

// docText is what an index embeds for a function: its symbol and its source.
func docText(d evalset.Doc) string { return d.Symbol + "\n" + d.Text }

func vectorRuns(tb testing.TB, set *evalset.Set, e embed.Embedder) [][]uint32 {
	ctx := context.Background()
	texts := make([]string, len(set.Docs))
	for i, d := range set.Docs {
		texts[i] = docText(d)
	}
	docs, err := e.Embed(ctx, texts)
	if err != nil {
		tb.Fatalf("Embed(docs) error: %v", err)
	}
	queries := make([]string, len(set.Cases))
	for i, c := range set.Cases {
		queries[i] = c.Query
	}
	qv, err := e.Embed(ctx, queries)
	if err != nil {
		tb.Fatalf("Embed(queries) error: %v", err)
	}
	type scored struct {
		id uint32
		s  float32
	}
	runs := make([][]uint32, len(queries))
	all := make([]scored, len(docs))
	for qi, q := range qv {
		for i, d := range docs {
			all[i] = scored{uint32(i), embed.Dot(q, d)}
		}
		slices.SortFunc(all, func(a, b scored) int {
			if a.s != b.s {
				return cmp.Compare(b.s, a.s)
			}
			return cmp.Compare(a.id, b.id)
		})
		for _, s := range all[:min(depth, len(all))] {
			runs[qi] = append(runs[qi], s.id)
		}
	}
	return runs
}

func score(set *evalset.Set, runs [][]uint32) evalset.Metrics {
	ranked := make([][]string, len(runs))
	for i, r := range runs {
		for _, id := range r[:min(10, len(r))] {
			ranked[i] = append(ranked[i], set.Docs[id].ID)
		}
	}
	return evalset.Score(ranked, set.Cases)
}

func fuse(a, b [][]uint32, weights []float64, k int) [][]uint32 {
	out := make([][]uint32, len(a))
	for i := range a {
		for _, f := range lexical.Fuse([][]uint32{a[i], b[i]}, weights, k) {
			out[i] = append(out[i], f.ID)
		}
	}
	return out
}

// overlap counts the cases both runs, and at least one run, answer in the top 10.
func overlap(set *evalset.Set, a, b [][]uint32) (both, either int) {
	lookup := set.Lookup()
	for i, c := range set.Cases {
		want := uint32(lookup[c.ID()])
		ha := slices.Contains(a[i][:min(10, len(a[i]))], want)
		hb := slices.Contains(b[i][:min(10, len(b[i]))], want)
		if ha && hb {
			both++
		}
		if ha || hb {
			either++
		}
	}
	return both, either
}

// TestRetrievalGoroot is the measurement that decides the built-in
// embedder's design: doc comment → function over GOROOT/src (all ~45k
// functions, doc comments stripped), lexical-only vs vector-only vs fused,
// for two independent samples of 1000 queries. Run with -v for the table.
// The fused ranking must beat BM25 alone on MRR@10 and recall@10.
func TestRetrievalGoroot(t *testing.T) {
	sets := gorootSets(t)
	for _, seed := range []uint64{1, 2} {
		set := sets[seed]
		t.Logf("seed %d: %d docs (%d MB), %d cases", seed, len(set.Docs), set.Bytes()>>20, len(set.Cases))
		lex := lexicalRuns(set)
		lm := score(set, lex)
		t.Logf("  %-40s %v", "lexical (BM25)", lm)
		vec := vectorRuns(t, set, embed.NewBuiltin(nil))
		both, either := overlap(set, lex, vec)
		t.Logf("  %-40s %v (top-10 hits: both %d, either %d)", "vector (builtin/v1/384)", score(set, vec), both, either)
		for _, f := range []struct {
			name    string
			weights []float64
			k       int
			check   bool
		}{
			{"hybrid rrf k=60", nil, 60, false},
			{"hybrid rrf k=60 weights 1, 0.5", []float64{1, 0.5}, 60, false},
			{"hybrid rrf k=10 weights 1, 0.5", []float64{1, lexical.HybridVectorWeight}, lexical.HybridK, true},
		} {
			hm := score(set, fuse(lex, vec, f.weights, f.k))
			t.Logf("  %-40s %v", f.name, hm)
			if f.check && (hm.MRR10 <= lm.MRR10 || hm.Recall10 <= lm.Recall10) {
				t.Errorf("seed %d: %s = %v, want MRR@10 and R@10 above lexical %v", seed, f.name, hm, lm)
			}
		}
	}
}
