package index

import (
	"fmt"
	"path"
	"strings"
)

// The memory cap (Options.MemoryCap) bounds the heap the in-memory engines
// hold, as engine.memoryBytes estimates it. When the next vector or file
// would not fit, the index degrades in this order, each step reported by
// Stats().Degraded:
//
//  1. Vectors are compact from the start: the built-in embedder's
//     dimension is chosen for memory (DefaultDim), and the store keeps
//     4-bit vectors; nothing else is held per chunk but its path, language
//     and symbol.
//  2. Low-priority files (tests, testdata, examples, benchmarks, docs,
//     generated code; see lowPriority) become lexical-only: the vectors of
//     their chunks already in memory are dropped, and new ones are not
//     added. They stay on disk and in BM25 search.
//  3. Other chunks become lexical-only as their vectors arrive (this
//     happens at Open, when the stored index is larger than the cap).
//  4. New files are no longer indexed (files already in the index are
//     still updated); each Update reports them as skipped for "memory cap
//     reached" and logs a warning once.
//
// The check runs before each vector is added and before each file is
// prepared (there against the estimate as of the last applied batch, so
// workers never wait for an apply), so the estimate exceeds the cap by at
// most the batches in flight (one committing, one applying: 2×batchChunks
// chunks). Raising the cap and reopening the index undoes every step.

// Reasons a chunk is lexical-only.
const (
	lexOnlyLowPriority = 1 + iota
	lexOnlyCap
)

// reasonMemoryCap is the skip reason of files not indexed for the cap.
const reasonMemoryCap = "memory cap reached"

// lowPriority reports whether the file at rel (slash-separated) is one whose
// vectors go first when memory runs short: tests and test data, examples and
// benchmarks, documentation, and generated code that the walk does not
// already leave out.
func lowPriority(rel string) bool {
	base := path.Base(rel)
	lower := strings.ToLower(base)
	for _, dir := range strings.Split(path.Dir(rel), "/") {
		switch strings.ToLower(dir) {
		case "testdata", "test", "tests", "__tests__", "spec", "specs", "example", "examples",
			"benchmark", "benchmarks", "doc", "docs", "fixtures", "__snapshots__":
			return true
		}
	}
	switch path.Ext(lower) {
	case ".md", ".markdown", ".rst", ".txt", ".adoc":
		return true
	}
	stem := strings.TrimSuffix(lower, path.Ext(lower))
	switch {
	case strings.HasSuffix(stem, "_test"), strings.HasSuffix(stem, ".test"), strings.HasSuffix(stem, ".spec"),
		strings.HasPrefix(stem, "test_"), strings.HasSuffix(stem, "tests") && path.Ext(lower) == ".cs",
		strings.HasSuffix(stem, "test") && (path.Ext(lower) == ".java" || path.Ext(lower) == ".kt"):
		return true
	case strings.HasSuffix(stem, ".pb"), strings.HasSuffix(stem, "_gen"), strings.HasSuffix(stem, ".gen"),
		strings.HasSuffix(stem, "_generated"), strings.HasPrefix(stem, "zz_generated"), strings.HasSuffix(stem, ".g"):
		return true
	}
	return false
}

// degraded describes, for Stats, what the memory cap has cost. Callers hold
// e.mu (read).
func (e *engine) degradedLocked() []string {
	var out []string
	if n := e.lexOnlyCount[lexOnlyLowPriority]; n > 0 {
		out = append(out, fmt.Sprintf("low-priority files lexical-only: %d chunks of tests, examples, docs and generated files have no vectors in memory", n))
	}
	if n := e.lexOnlyCount[lexOnlyCap]; n > 0 {
		out = append(out, fmt.Sprintf("vectors not kept: %d more chunks are lexical-only", n))
	}
	if e.capSkipped > 0 {
		out = append(out, fmt.Sprintf("stopped adding files: %d new files not indexed (memory cap reached); raise memory_cap to index them", e.capSkipped))
	}
	return out
}
