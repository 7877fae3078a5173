package lexical

import (
	"cmp"
	"slices"
)

// Fused is one result of Fuse.
type Fused struct {
	ID    uint32
	Score float64
}

// Fuse merges ranked lists of IDs (best first) by weighted reciprocal rank
// fusion: each ID scores the sum over lists of weights[i] / (k + rank), with
// rank starting at 1. A nil weights means 1 for every list; a missing weight
// is 1. k <= 0 means 60. Results are best first, ties by ascending ID. An ID
// repeated within one list counts at its best rank only.
func Fuse(lists [][]uint32, weights []float64, k int) []Fused {
	if k <= 0 {
		k = 60
	}
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	score := make(map[uint32]float64, n)
	for i, l := range lists {
		w := 1.0
		if i < len(weights) {
			w = weights[i]
		}
		seen := make(map[uint32]bool, len(l))
		for r, id := range l {
			if seen[id] {
				continue
			}
			seen[id] = true
			score[id] += w / float64(k+r+1)
		}
	}
	out := make([]Fused, 0, len(score))
	for id, s := range score {
		out = append(out, Fused{ID: id, Score: s})
	}
	slices.SortFunc(out, func(a, b Fused) int {
		if a.Score != b.Score {
			return cmp.Compare(b.Score, a.Score)
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}

// Fusion settings measured on the doc-comment → function benchmark over
// GOROOT/src (index/embed TestRetrievalGoroot): a small k with the vector
// list at half weight beats classic RRF (k=60, equal weights), which loses
// to BM25 alone when the vector side is the built-in embedder.
const (
	HybridK            = 10
	HybridVectorWeight = 0.5
)
