// Package index keeps a searchable local index of one workspace folder.
//
// An Index ties the leaf packages together: walk lists the files, secrets
// masks credentials, chunk splits files along syntax, embed turns chunk text
// into vectors, and store persists files, chunks and vectors in one bbolt
// file. In memory an Index keeps only what searching needs: a BM25 index
// (package lexical) and a chromem-go collection of vectors, both keyed by
// the store's uint32 chunk IDs. Chunk text stays on disk and is read for the
// results of a search only.
//
// Updates are incremental: a file whose size and modification time match
// the store is not read; a file whose content hash matches is not chunked
// again; a chunk whose text hash has a stored vector is not embedded again
// (so a renamed file costs no embedding at all). Files are written to the
// store in batches, one transaction each; a crash or a cancelled Update
// keeps every completed batch and leaves each file wholly old or new.
//
// Open is fast because it does not re-tokenize: Update and Close save the
// BM25 index into the store as a snapshot tagged with the store's write
// generation, and Open uses it when the tag matches (after a crash it does
// not, and the BM25 index is rebuilt from the stored chunk text). Vectors
// are read from the store; nothing is embedded at Open.
//
// Search fuses BM25 and vector rankings by weighted reciprocal rank fusion
// (k=10, BM25 1, vectors 0.5, symbol-name matches 0.25, chosen with
// BenchmarkRetrieval), and returns each hit with a snippet of the lines that
// best match the query. After a large Update the index file is compacted
// when a fifth or more of it holds no data.
//
// # Usage
//
//	ix, err := index.Open(ctx, root, &index.Options{DataDir: dir, Logger: log})
//	if err != nil { ... }
//	defer ix.Close()
//	sum, err := ix.Update(ctx, index.UpdateOptions{})   // walk and index changes
//	res, err := ix.Search(ctx, index.Query{Text: "parse config file", K: 10})
//	err = ix.UpdateFiles(ctx, []string{"cmd/main.go"})  // after an editor save
//
// The index file lives in Options.DataDir under a name derived from the
// root, so one directory can hold the indexes of many workspaces. A file
// that is damaged or was written by an incompatible version is moved aside
// (".corrupt-<time>") and the index starts empty; the next Update rebuilds
// it. A file held by another process is an error (store.ErrLocked).
//
// # Concurrency
//
// An Index is safe for concurrent use. Update and UpdateFiles are serialised
// with each other; Update runs Options.Workers goroutines (one chunk parser
// each) that read, mask, chunk and embed files while one goroutine commits
// batches to the store and applies them to the in-memory engines. Searches
// run concurrently with updates and see each committed batch wholly or not
// at all. All goroutines an Update starts have ended when it returns. Close
// cancels a running Update, waits for it and closes the store.
package index
