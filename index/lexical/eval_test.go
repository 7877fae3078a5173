package lexical

import (
	"context"
	"sync"
	"testing"

	"github.com/codemux/codemux/index/evalset"
)

var goroot struct {
	once sync.Once
	set  *evalset.Set
	err  error
}

// gorootSet loads the GOROOT/src benchmark once per test binary.
func gorootSet(tb testing.TB) *evalset.Set {
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
		goroot.set, goroot.err = evalset.Load(ctx, root, nil)
	})
	if goroot.err != nil {
		tb.Skipf("GOROOT/src unavailable: %v", goroot.err)
	}
	return goroot.set
}

func evalIndex(set *evalset.Set, p *Params) evalset.Metrics {
	x := New(p)
	for i, d := range set.Docs {
		x.Add(uint32(i), d.Text, d.Symbol)
	}
	ranked := make([][]string, len(set.Cases))
	for i, c := range set.Cases {
		for _, h := range x.Search(c.Query, 10, nil) {
			ranked[i] = append(ranked[i], set.Docs[h.ID].ID)
		}
	}
	return evalset.Score(ranked, set.Cases)
}

// TestRetrievalGoroot measures BM25 on the doc-comment → function benchmark
// and the tokenizer and parameter variants; run with -v to see the table.
func TestRetrievalGoroot(t *testing.T) {
	set := gorootSet(t)
	variants := []struct {
		name  string
		p     Params
		floor float64 // MRR@10 below this is a regression
	}{
		{"default", Params{}, 0.27},
		{"no stemming", Params{tok: tokenizer{noStem: true}}, 0},
		{"no whole identifiers", Params{tok: tokenizer{noWhole: true}}, 0},
		{"symbol weight 1", Params{SymbolWeight: 1}, 0},
		{"symbol weight 5", Params{SymbolWeight: 5}, 0},
		{"k1 0.9 b 0.4", Params{K1: 0.9, B: 0.4}, 0},
		{"k1 1.5 b 0.9", Params{K1: 1.5, B: 0.9}, 0},
		{"k1 1.2 b 0.9", Params{K1: 1.2, B: 0.9}, 0},
		{"k1 1.2 b 1.0", Params{K1: 1.2, B: 1.0}, 0},
		{"k1 2.0 b 0.9", Params{K1: 2.0, B: 0.9}, 0},
		{"k1 2.0 b 1.0", Params{K1: 2.0, B: 1.0}, 0},
	}
	t.Logf("%d docs, %d cases", len(set.Docs), len(set.Cases))
	for _, v := range variants {
		m := evalIndex(set, &v.p)
		t.Logf("%-22s %v", v.name, m)
		if m.MRR10 < v.floor {
			t.Errorf("%s: MRR@10 = %.4f, want >= %.2f", v.name, m.MRR10, v.floor)
		}
	}
}
