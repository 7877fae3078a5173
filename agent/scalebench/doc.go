// Package scalebench measures codemux at the scale of a large workspace: one
// benchmark, BenchmarkScale, drives the real daemon as a subprocess over a
// copy of GOROOT/src and prints every number of the "scale and freshness"
// targets in one table.
//
// Run it on demand (it takes several minutes on two cores):
//
//	go test -run XXX -bench Scale -benchtime 1x -timeout 30m ./agent/scalebench/
//
// The steps, each bounded in time: a parse-only pass over the files the
// walk would index, with the same tree-sitter grammars (the floor for a cold
// index); a cold codemux/index through one JSON-RPC connection, with the
// daemon's peak RSS under memory_cap: 256MiB and what its status reports as
// degraded; the parse-only pass again, the cold index's time being compared
// with the mean of the two (a shared machine's speed drifts); index bytes on disk over source bytes; hybrid search latency
// over one connection; save-to-searchable latency through
// textDocument/didSave and through the file watcher alone; warm restart to
// first answer; and retrieval quality (MRR@10, recall@1/5/10 for lexical,
// vector and hybrid) on the index/evalset cases over a copy of the standard
// library with its doc comments stripped.
//
// The package's non-test files hold the helpers the benchmark is built
// from (latency percentiles, the report table, the parse-only pass, the
// workspace copy, mapping search hits to evalset doc IDs), each tested
// quickly by `go test ./agent/scalebench/`.
package scalebench
