package evalset

import "fmt"

// Metrics summarises ranked results against cases. Every value is in [0, 1].
type Metrics struct {
	MRR10    float64 // mean reciprocal rank of the answer, 0 when below rank 10
	Recall1  float64 // fraction of cases whose answer is ranked first
	Recall5  float64 // ... within the top 5
	Recall10 float64 // ... within the top 10
	N        int     // number of cases scored
}

// String formats the metrics as one table row.
func (m Metrics) String() string {
	return fmt.Sprintf("MRR@10=%.4f R@1=%.4f R@5=%.4f R@10=%.4f n=%d", m.MRR10, m.Recall1, m.Recall5, m.Recall10, m.N)
}

// Score computes metrics for ranked[i], the doc IDs returned for cases[i],
// best first. Cases without a ranked list count as misses.
func Score(ranked [][]string, cases []Case) Metrics {
	m := Metrics{N: len(cases)}
	if len(cases) == 0 {
		return m
	}
	for i, c := range cases {
		if i >= len(ranked) {
			continue
		}
		want := c.ID()
		for r, id := range ranked[i] {
			if r >= 10 {
				break
			}
			if id != want {
				continue
			}
			m.MRR10 += 1 / float64(r+1)
			if r < 1 {
				m.Recall1++
			}
			if r < 5 {
				m.Recall5++
			}
			m.Recall10++
			break
		}
	}
	n := float64(len(cases))
	m.MRR10 /= n
	m.Recall1 /= n
	m.Recall5 /= n
	m.Recall10 /= n
	return m
}
