// Package chunk splits source files along tree-sitter node boundaries.
//
// A [Chunker] turns one file into a list of [Chunk]s, each a run of whole
// lines carrying the symbol path and kind of the declaration it holds.
//
// Source in one of the fourteen supported languages is parsed with
// tree-sitter:
//   - every function, method, class, type, constant and so on becomes a
//     chunk together with the comments (and attributes, decorators) directly
//     above it;
//   - classes, impl blocks, traits, modules and namespaces are descended, so
//     their members get composed symbols: "Server.handleSearch" (Go
//     receiver), "Outer.Inner.deep" (Python), "geo::Shape::print" (C++ and
//     Rust use "::", Ruby too); the container's own lines (its header,
//     fields, closing brace) join the member they lead into or close when
//     they are only a few lines;
//   - a declaration larger than [Options].MaxChunkLines or MaxChunkBytes is
//     split where a statement starts, every part keeping its symbol and kind;
//   - runs of neighbours shorter than MinChunkLines (one-line constants,
//     small getters) are merged into one chunk, named by the symbol path they
//     share and the kind of the declaration that path names;
//   - top-level code between declarations (package clauses, imports,
//     statements, regions that did not parse) becomes "preamble" or "code"
//     chunks, so every non-blank line of a file is in some chunk, also when
//     the file has syntax errors.
//
// Markdown is split by heading ("section" chunks named "Install > From
// source") and any other text into overlapping line windows.
//
// Traversal is bounded: containers are descended at most 16 deep, and large
// declarations are split by seeking the child at the cut point rather than
// walking their subtree, so the cost on top of parsing is a few percent and
// deeply nested input cannot exhaust the stack.
//
// # Usage
//
//	c := chunk.New(nil) // nil: default options
//	defer c.Close()
//	chunks, err := c.Chunk(ctx, "server/search.go", src)
//
// # Concurrency
//
// A Chunker owns one tree-sitter parser per language, created on first use
// and reused; parsers are not safe for concurrent use, and neither is a
// Chunker. Use one Chunker per goroutine. Every syntax tree and cursor is
// freed before Chunk returns (tree-sitter memory is invisible to the Go
// garbage collector), and after a large file (or Close) the C heap's free
// memory is handed back to the operating system (release.go); Close frees
// the parsers. Chunk stops early, returning
// ctx's error, when ctx is done; parsing itself is cancelled through
// tree-sitter's cancellation flag, which the tree-sitter binding sets from a
// goroutine that lives only as long as the parse.
package chunk
