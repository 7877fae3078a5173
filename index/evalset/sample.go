package evalset

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
)

// Subset returns a set with at most maxDocs docs: every case answer plus a
// seeded random sample of the other docs as distractors. Docs keep their
// original order; cases are unchanged. maxDocs <= 0 or >= len(s.Docs)
// returns s itself.
func (s *Set) Subset(maxDocs int, seed uint64) *Set {
	if maxDocs <= 0 || maxDocs >= len(s.Docs) {
		return s
	}
	answers := make(map[string]bool, len(s.Cases))
	for _, c := range s.Cases {
		answers[c.ID()] = true
	}
	keep := make([]bool, len(s.Docs))
	var others []int
	n := 0
	for i, d := range s.Docs {
		if answers[d.ID] {
			keep[i] = true
			n++
		} else {
			others = append(others, i)
		}
	}
	r := rand.New(rand.NewPCG(seed, seed^0x51ed2701f3a5c9b1))
	r.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	for _, i := range others {
		if n >= maxDocs {
			break
		}
		keep[i] = true
		n++
	}
	out := &Set{Cases: s.Cases, Docs: make([]Doc, 0, n)}
	for i, d := range s.Docs {
		if keep[i] {
			out.Docs = append(out.Docs, d)
		}
	}
	return out
}

// Lookup returns a map from doc ID to index in s.Docs.
func (s *Set) Lookup() map[string]int {
	m := make(map[string]int, len(s.Docs))
	for i, d := range s.Docs {
		m[d.ID] = i
	}
	return m
}

// Bytes returns the total size of the docs' text.
func (s *Set) Bytes() int {
	n := 0
	for _, d := range s.Docs {
		n += len(d.Text)
	}
	return n
}

// GorootSrc returns $(go env GOROOT)/src by asking the go command found on PATH.
func GorootSrc(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if err != nil {
		return "", fmt.Errorf("running go env GOROOT: %w", err)
	}
	root := strings.TrimSpace(string(bytes.TrimSpace(out)))
	if root == "" {
		return "", fmt.Errorf("go env GOROOT printed nothing")
	}
	return filepath.Join(root, "src"), nil
}
