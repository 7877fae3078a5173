package evalset

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
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

// SyntheticTexts returns n deterministic texts, each up to 60 of parts
// glued with separators (none, spaces, '_', '-', '.', newlines, tabs,
// brackets, "//", a no-break space, '·'). Tests pin the output of
// tokenizers and embedders over it; the same n and parts always give the
// same texts.
func SyntheticTexts(n int, parts []string) []string {
	seps := []string{"", "", "", " ", " ", "_", "-", ".", "\n", "\t", "(", ")", "*", "//", "\u00a0", "·"}
	r := uint64(0x9e3779b97f4a7c15)
	next := func(n int) int { // xorshift64
		r ^= r << 13
		r ^= r >> 7
		r ^= r << 17
		return int(r % uint64(n))
	}
	texts := make([]string, n)
	var sb strings.Builder
	for i := range texts {
		sb.Reset()
		for range next(60) {
			sb.WriteString(parts[next(len(parts))])
			sb.WriteString(seps[next(len(seps))])
		}
		texts[i] = sb.String()
	}
	return texts
}

// GorootPackage loads the set of one package directory of the Go tree
// (for example "net/http"), tests included, for benchmarks over real code.
func GorootPackage(ctx context.Context, dir string) (*Set, error) {
	root, err := GorootSrc(ctx)
	if err != nil {
		return nil, err
	}
	return Load(ctx, filepath.Join(root, filepath.FromSlash(dir)), &Options{Tests: true})
}

// GorootChunks returns the texts of a fixed sample of the Go tree
// (GorootSrc): every 29th .go file by sorted path (testdata included) and
// a few files rich in non-ASCII text, cut into chunks of 40 lines. The
// sample is the same only for one Go release: release, when not empty, is
// the one the caller's expectations were recorded for, and the tree of
// any other (runtime.Version) is refused.
func GorootChunks(ctx context.Context, release string) ([]string, error) {
	if v := runtime.Version(); release != "" && v != release {
		return nil, fmt.Errorf("the sample was recorded for %s, running %s", release, v)
	}
	root, err := GorootSrc(ctx)
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", root, err)
	}
	slices.Sort(files)
	var sample []string
	for i := 0; i < len(files); i += 29 {
		sample = append(sample, files[i])
	}
	for _, rel := range []string{"strings/strings_test.go", "unicode/letter_test.go", "bytes/bytes_test.go", "strconv/quote_test.go"} {
		sample = append(sample, filepath.Join(root, rel))
	}
	var texts []string
	for _, path := range sample {
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		lines := strings.SplitAfter(string(src), "\n")
		for len(lines) > 0 {
			n := min(40, len(lines))
			texts = append(texts, strings.Join(lines[:n], ""))
			lines = lines[n:]
		}
	}
	return texts, nil
}
