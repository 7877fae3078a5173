package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"github.com/codemux/codemux/index/chunk"
	"github.com/codemux/codemux/index/secrets"
	"github.com/codemux/codemux/index/store"
	"github.com/codemux/codemux/index/walk"
)

// UpdateOptions control Update.
type UpdateOptions struct {
	// Full re-reads and re-chunks every file, ignoring sizes, times and
	// content hashes. Stored vectors are still reused by text hash.
	Full bool
	// Progress, if not nil, is called after each file is handled, from one
	// goroutine at a time.
	Progress func(Progress)
}

// Progress reports how far an Update is.
type Progress struct {
	Done, Total int    // files handled, files to handle
	Rel         string // the file just handled
}

// Summary reports an Update. Files, Chunks and Bytes describe the whole
// index afterwards; the other counts describe this update.
type Summary struct {
	Files  int
	Chunks int
	Bytes  int64 // source bytes of the indexed files

	Indexed  int // files (re)chunked
	Removed  int // files removed from the index
	Embedded int // texts sent to the embedder

	Skipped        int
	SkippedReasons map[string]int
	Ms             int64
}

// Batch limits: a batch is committed when it holds this many files or
// chunks, whichever comes first. Each commit costs an fsync (≈2 ms).
const (
	batchFiles  = 256
	batchChunks = 4096
)

// releaseEvery is how many handled files an Update lets the pages of the
// mapped index file accumulate before releasing them (store.ReleaseMemory).
const releaseEvery = 32

// Reasons for files left out by the index itself (walk has its own).
const (
	reasonUnreadable = "unreadable"
	reasonNoLanguage = "unsupported file type"
)

// Update brings the index in line with the workspace: new and changed files
// are indexed, deleted ones removed. If ctx ends, Update stops promptly;
// batches already committed stay and the index remains consistent.
func (ix *Index) Update(ctx context.Context, opts UpdateOptions) (Summary, error) {
	ctx, done, err := ix.beginWrite(ctx)
	if err != nil {
		return Summary{}, err
	}
	defer done()
	start := ix.opts.Now()
	ix.setState(StateIndexing)
	defer ix.settleState()

	sum := Summary{SkippedReasons: map[string]int{}}
	m, err := walk.NewMatcher(ix.root, ix.opts.Walk)
	if err != nil {
		return sum, fmt.Errorf("indexing %s: %w", ix.root, err)
	}
	ix.mu.Lock()
	ix.matcher = m
	ix.mu.Unlock()

	stored := map[string]store.File{}
	if err := ix.st.Files(ctx, func(f store.File) error { stored[f.Rel] = f; return nil }); err != nil {
		return sum, fmt.Errorf("indexing %s: %w", ix.root, err)
	}
	var files []walk.File
	skip := func(reason string) { sum.Skipped++; sum.SkippedReasons[reason]++ }
	err = m.Walk(ctx, func(f walk.File) error { files = append(files, f); return nil },
		func(s walk.Skipped) { skip(s.Reason) })
	if err != nil {
		return sum, fmt.Errorf("walking %s: %w", ix.root, err)
	}

	seen := make(map[string]bool, len(files))
	var todo []walk.File
	for _, f := range files {
		if chunk.LanguageOf(f.Rel) == "" {
			skip(reasonNoLanguage)
			continue
		}
		seen[f.Rel] = true
		old, ok := stored[f.Rel]
		if !opts.Full && ok && old.Size == f.Size && old.ModTime == f.ModTime.UnixNano() {
			continue
		}
		todo = append(todo, f)
	}
	var gone []string
	for rel := range stored {
		if !seen[rel] {
			gone = append(gone, rel)
		}
	}

	ix.eng.mu.Lock()
	ix.eng.capSkipped = 0
	ix.eng.mu.Unlock()
	ix.eng.deferTraining()
	c := ix.newCommitter(ctx, &sum, len(todo), opts.Progress)
	// An index with no files has no vectors either (each is deleted with
	// its last chunk): every text is embedded without asking the store.
	c.fresh = len(stored) == 0
	err = c.finish(ix.prepareAll(ctx, todo, stored, opts.Full, c))
	if err == nil {
		// Deleting last lets a renamed file find its vectors.
		gone = append(gone, c.drop...)
		err = ix.delete(ctx, gone, &sum)
	}
	if err == nil {
		err = ix.embedMissing(ctx, &sum)
	}
	// The workers are done: learn the vector cells (which keeps searches
	// waiting) while the BM25 snapshot is saved. Compaction comes last, as
	// rewriting the snapshots' bucket frees the pages of the old ones.
	chunks := ix.eng.chunkCount()
	settled := make(chan error, 1)
	go func() { settled <- ix.eng.settleCells(ctx) }()
	lexSaved := err == nil && ix.saveLexicalSnapshot()
	if serr := <-settled; err == nil {
		err = serr
	}
	if err == nil {
		if lexSaved {
			ix.saveCellsSnapshot()
		}
		err = ix.compactIfSparse(ctx, sum.Embedded, chunks)
	}
	ix.totals(ctx, &sum)
	ix.st.ReleaseMemory()
	sum.Ms = ix.opts.Now().Sub(start).Milliseconds()
	if err != nil {
		return sum, fmt.Errorf("indexing %s: %w", ix.root, err)
	}
	return sum, nil
}

// compactIfSparse rewrites the index file when much of it is free pages
// (after many files changed or were deleted), or when this update stored
// many new vectors: their keys are random text hashes, and random-order
// inserts leave the B+tree pages about half full (a third of the file
// after a first index). Counting part-full pages would read every page of
// the file, so the number of new vectors stands in for it. chunks is the
// number of chunks in the index. Searches wait while it runs.
func (ix *Index) compactIfSparse(ctx context.Context, newVectors, chunks int) error {
	free, err := ix.st.Reclaimable()
	if err != nil {
		return err
	}
	fi, err := os.Stat(ix.st.Path())
	if err != nil {
		return fmt.Errorf("checking index size: %w", err)
	}
	sparse := free >= compactMinFree && free >= fi.Size()/5
	scattered := newVectors >= compactMinVectors && newVectors*5 >= chunks
	if !sparse && !scattered {
		return nil
	}
	if err := ix.st.Compact(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// The old file is intact; compaction is only an optimisation.
		ix.log.Warn("compacting index file", "err", err)
	}
	return nil
}

// compactMinFree is the least free space worth a compaction;
// compactMinVectors the fewest new vectors.
const (
	compactMinFree    = 8 << 20
	compactMinVectors = 4096
)

// settleState sets the state after a write from what the store holds.
func (ix *Index) settleState() {
	state := StateReady
	if has, err := ix.st.HasFiles(); err == nil && !has {
		state = StateEmpty
	}
	ix.setState(state)
}

// totals fills the whole-index counts of sum.
func (ix *Index) totals(ctx context.Context, sum *Summary) {
	sum.Files, sum.Chunks, sum.Bytes = 0, 0, 0
	err := ix.st.Files(context.WithoutCancel(ctx), func(f store.File) error {
		sum.Files++
		sum.Chunks += len(f.ChunkIDs)
		sum.Bytes += f.Size
		return nil
	})
	if err != nil {
		ix.log.Warn("counting indexed files", "err", err)
	}
}

// UpdateFiles indexes the given files now (paths relative to the root,
// slash- or OS-separated). Files that no longer exist, or that the walk
// rules now skip, are removed from the index.
func (ix *Index) UpdateFiles(ctx context.Context, rels []string) error {
	ctx, done, err := ix.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer done()
	defer ix.settleState()
	ix.mu.Lock()
	m := ix.matcher
	ix.mu.Unlock()
	if m == nil {
		if m, err = walk.NewMatcher(ix.root, ix.opts.Walk); err != nil {
			return fmt.Errorf("updating files of %s: %w", ix.root, err)
		}
		ix.mu.Lock()
		ix.matcher = m
		ix.mu.Unlock()
	}
	sum := Summary{SkippedReasons: map[string]int{}}
	var todo []walk.File
	var gone []string
	stored := map[string]store.File{}
	for _, r := range rels {
		rel, ok := cleanRel(ix.root, r)
		if !ok {
			return fmt.Errorf("updating files: %q is outside the workspace %s", r, ix.root)
		}
		f, err := ix.statFile(m, rel)
		if err != nil {
			return err
		}
		if f == nil {
			gone = append(gone, rel)
			continue
		}
		if old, ok, err := ix.st.File(rel); err != nil {
			return err
		} else if ok {
			stored[rel] = old
		}
		todo = append(todo, *f)
	}
	c := ix.newCommitter(ctx, &sum, len(todo), nil)
	err = c.finish(ix.prepareAll(ctx, todo, stored, false, c))
	if err == nil {
		err = ix.delete(ctx, append(gone, c.drop...), &sum)
	}
	if err != nil {
		return fmt.Errorf("updating files of %s: %w", ix.root, err)
	}
	return nil
}

// statFile returns the walk.File for rel, or nil when rel is gone or is
// left out by the walk rules.
func (ix *Index) statFile(m *walk.Matcher, rel string) (*walk.File, error) {
	if skip, _ := m.Skip(rel, false); skip || chunk.LanguageOf(rel) == "" {
		return nil, nil
	}
	abs := filepath.Join(ix.root, filepath.FromSlash(rel))
	fi, err := os.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || (err == nil && !fi.Mode().IsRegular()) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checking %s: %w", rel, err)
	}
	maxSize := walk.DefaultMaxFileSize
	if ix.opts.Walk != nil && ix.opts.Walk.MaxFileSize != 0 {
		maxSize = int(ix.opts.Walk.MaxFileSize)
	}
	if maxSize > 0 && fi.Size() > int64(maxSize) {
		return nil, nil
	}
	return &walk.File{Rel: rel, Abs: abs, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// cleanRel turns p into a slash-separated path relative to root, refusing
// paths that leave it.
func cleanRel(root, p string) (string, bool) {
	if filepath.IsAbs(p) {
		r, err := filepath.Rel(root, p)
		if err != nil {
			return "", false
		}
		p = r
	}
	rel := path.Clean(filepath.ToSlash(p))
	if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || strings.HasPrefix(rel, "/") {
		return "", false
	}
	return rel, true
}

// delete removes files from the store and the engines.
func (ix *Index) delete(ctx context.Context, rels []string, sum *Summary) error {
	if len(rels) == 0 {
		return nil
	}
	changes, err := ix.st.DeleteFiles(ctx, rels)
	if err != nil {
		return err
	}
	var removed []uint32
	for _, ch := range changes {
		removed = append(removed, ch.Removed...)
	}
	sum.Removed += len(changes)
	return ix.eng.apply(ctx, removed, nil)
}

// prepared is a file made ready for the store by a worker.
type prepared struct {
	rel    string
	update *store.FileUpdate // chunks to store
	touch  *store.File       // unchanged content: new size and time only
	skip   string            // reason the file is left out (and removed if stored)
	err    error             // embedder failure (the chunks are stored without vectors)
	embeds int
}

// prepareAll runs the workers over todo and hands their results to c.
func (ix *Index) prepareAll(ctx context.Context, todo []walk.File, stored map[string]store.File, full bool, c *committer) error {
	if len(todo) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan walk.File)
	// Room for some files per worker, so workers keep parsing while a
	// batch commits (and waits for its fsync).
	results := make(chan prepared, 16*ix.opts.Workers)
	var wg sync.WaitGroup
	for range min(ix.opts.Workers, len(todo)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ck := chunk.New(ix.opts.Chunk)
			defer ck.Close()
			for f := range jobs {
				old, ok := stored[f.Rel]
				var p prepared
				if !ok && ix.eng.overCap() {
					// Stop adding files: those indexed already stay.
					p = prepared{rel: f.Rel, skip: reasonMemoryCap}
				} else {
					p = ix.prepare(ctx, ck, f, old, ok && !full, !c.fresh)
				}
				select {
				case results <- p:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, f := range todo {
			select {
			case jobs <- f:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	var err error
	for p := range results {
		if err != nil {
			continue // drain after a failure
		}
		if err = ctx.Err(); err != nil {
			cancel()
			continue
		}
		if err = c.add(p); err != nil {
			cancel()
		}
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// prepare reads, classifies, masks, chunks and embeds one file. With
// reuse, a file whose content hash matches old is only touched. With
// lookup, only texts without a stored vector are embedded; without, every
// distinct text of the file is.
func (ix *Index) prepare(ctx context.Context, ck *chunk.Chunker, f walk.File, old store.File, reuse, lookup bool) prepared {
	p := prepared{rel: f.Rel}
	if ctx.Err() != nil {
		return p
	}
	src, reason, err := walk.Read(f)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			ix.log.Warn("reading file", "rel", f.Rel, "err", err)
		}
		p.skip = reasonUnreadable
		return p
	}
	if reason != "" {
		p.skip = reason
		return p
	}
	meta := store.File{Rel: f.Rel, Size: f.Size, ModTime: f.ModTime.UnixNano(), ContentHash: store.HashBytes(src)}
	if reuse && old.ContentHash == meta.ContentHash {
		p.touch = &meta
		return p
	}
	// Mask reads src as a string without copying it (src is not written
	// again) and returns that same string when it finds nothing.
	body := src
	if masked, n := secrets.Mask(unsafe.String(unsafe.SliceData(src), len(src))); n > 0 {
		body = []byte(masked)
	}
	chunks, err := ck.Chunk(ctx, f.Rel, body)
	if err != nil {
		return p // only when ctx is done
	}
	u := &store.FileUpdate{File: meta, Chunks: make([]store.Chunk, len(chunks))}
	hashes := make([]store.Hash, len(chunks))
	for i, c := range chunks {
		hashes[i] = store.HashString(c.Text)
		u.Chunks[i] = store.Chunk{
			StartLine: c.StartLine, EndLine: c.EndLine, StartByte: c.StartByte, EndByte: c.EndByte,
			Symbol: c.Symbol, Kind: c.Kind, Language: c.Language, TextHash: hashes[i], Text: c.Text,
		}
	}
	p.update = u
	defer func() {
		// Compress and quantise here, in parallel, not in the commit.
		if err := ix.st.Encode(u); err != nil {
			p.update, p.skip = nil, reasonUnreadable
			ix.log.Warn("encoding file for the index", "rel", f.Rel, "err", err)
		}
	}()
	missing := hashes
	if lookup {
		var err error
		if missing, err = ix.st.MissingVectors(hashes); err != nil {
			p.err = err
			return p
		}
	}
	if len(missing) == 0 {
		return p
	}
	want := make(map[store.Hash]bool, len(missing))
	for _, h := range missing {
		want[h] = true
	}
	var texts []string
	var order []store.Hash
	for i, c := range chunks {
		if want[hashes[i]] {
			delete(want, hashes[i])
			texts = append(texts, c.Text)
			order = append(order, hashes[i])
		}
	}
	vecs, err := ix.emb.Embed(ctx, texts)
	if err == nil && len(vecs) != len(texts) {
		err = fmt.Errorf("embedder returned %d vectors for %d texts", len(vecs), len(texts))
	}
	if err != nil {
		p.err = fmt.Errorf("embedding %s: %w", f.Rel, err)
		return p
	}
	p.embeds = len(texts)
	u.Vectors = make(map[store.Hash][]float32, len(order))
	for i, h := range order {
		u.Vectors[h] = vecs[i]
	}
	return p
}

// committer collects prepared files into batches and commits them to the
// store; a second goroutine applies committed batches to the engines, so
// the next commit overlaps with the last apply.
type committer struct {
	ix       *Index
	ctx      context.Context
	sum      *Summary
	progress func(Progress)
	total    int
	done     int

	updates []store.FileUpdate
	touches []store.File
	chunks  int
	drop    []string // skipped files to remove from the index
	warned  bool
	// fresh is set when the store held no files as the update began, so
	// workers need not look up stored vectors.
	fresh bool

	applyCh  chan applyJob
	applied  chan struct{}
	applyErr error // of the applier; read after applied is closed
}

type applyJob struct {
	batch   []store.FileUpdate
	changes []store.Change
}

func (ix *Index) newCommitter(ctx context.Context, sum *Summary, total int, progress func(Progress)) *committer {
	c := &committer{ix: ix, ctx: ctx, sum: sum, total: total, progress: progress,
		applyCh: make(chan applyJob, 1), applied: make(chan struct{})}
	go func() {
		defer close(c.applied)
		for j := range c.applyCh {
			if c.applyErr == nil {
				c.applyErr = c.apply(j)
			}
		}
	}()
	return c
}

// finish flushes the pending batch (unless err is set) and waits for the
// applier. It must be called once, whatever happened.
func (c *committer) finish(err error) error {
	if err == nil {
		err = c.flush()
	}
	close(c.applyCh)
	<-c.applied
	if err == nil {
		err = c.applyErr
	}
	return err
}

func (c *committer) add(p prepared) error {
	if p.err != nil && !c.warned {
		c.warned = true
		c.ix.log.Warn("embedding failed; chunks stored without vectors until the next update", "err", p.err)
	}
	c.sum.Embedded += p.embeds
	switch {
	case p.skip == reasonMemoryCap:
		c.sum.Skipped++
		c.sum.SkippedReasons[p.skip]++
		c.ix.eng.mu.Lock()
		if c.ix.eng.capSkipped == 0 {
			c.ix.log.Warn("memory cap reached; new files are not indexed", "cap", c.ix.opts.MemoryCap, "first", p.rel)
		}
		c.ix.eng.capSkipped++
		c.ix.eng.mu.Unlock()
	case p.skip != "":
		c.sum.Skipped++
		c.sum.SkippedReasons[p.skip]++
		c.drop = append(c.drop, p.rel)
	case p.touch != nil:
		c.touches = append(c.touches, *p.touch)
	case p.update != nil:
		c.updates = append(c.updates, *p.update)
		c.chunks += len(p.update.Chunks)
	}
	c.done++
	if c.done%releaseEvery == 0 {
		// The workers' lookups make pages of the mapped file resident.
		c.ix.st.ReleaseMemory()
	}
	if c.progress != nil {
		c.progress(Progress{Done: c.done, Total: c.total, Rel: p.rel})
	}
	if len(c.updates)+len(c.touches) >= c.ix.batch.files || c.chunks >= c.ix.batch.chunks {
		return c.flush()
	}
	return nil
}

// flush commits the pending batch and applies it to the engines.
func (c *committer) flush() error {
	if len(c.touches) > 0 {
		if err := c.ix.st.TouchFiles(c.ctx, c.touches); err != nil {
			return err
		}
		c.touches = c.touches[:0]
	}
	if len(c.updates) == 0 {
		return nil
	}
	batch := c.updates
	c.updates, c.chunks = nil, 0
	changes, err := c.ix.st.ReplaceFiles(c.ctx, batch)
	if err != nil {
		return err
	}
	// The commit read the leaf pages of the vectors its chunks reference,
	// scattered over the file, and the kernel maps 64 KiB around each page
	// read: release them now, not after the applier (which may be training
	// vector cells) is done with the batch.
	c.ix.st.ReleaseMemory()
	c.sum.Indexed += len(batch)
	select {
	case c.applyCh <- applyJob{batch, changes}:
	case <-c.applied: // the applier failed and stopped
	}
	return nil
}

// apply adds a committed batch to the engines.
func (c *committer) apply(j applyJob) error {
	batch, changes := j.batch, j.changes
	// Vectors not computed in this batch are the stored ones.
	var need []store.Hash
	for _, u := range batch {
		for _, ch := range u.Chunks {
			if _, ok := u.Vectors[ch.TextHash]; !ok {
				need = append(need, ch.TextHash)
			}
		}
	}
	stored, err := c.ix.st.Vectors(need)
	if err != nil {
		return err
	}
	var removed []uint32
	var added []entry
	for i, u := range batch {
		ch := changes[i]
		removed = append(removed, ch.Removed...)
		for j, sc := range u.Chunks {
			vec, ok := u.Vectors[sc.TextHash]
			if !ok {
				vec = stored[sc.TextHash]
			}
			added = append(added, entry{
				id:   ch.Added[j],
				info: chunkInfo{rel: u.File.Rel, lang: sc.Language, symbol: sc.Symbol},
				text: sc.Text, hash: sc.TextHash, vec: vec,
			})
		}
	}
	if err := c.ix.eng.apply(c.ctx, removed, added); err != nil {
		return err
	}
	// The batch's reads made parts of the mapped file resident.
	c.ix.st.ReleaseMemory()
	return nil
}

// embedMissing embeds chunks that have no vector (after an embedder change
// or failure) and stores the vectors.
func (ix *Index) embedMissing(ctx context.Context, sum *Summary) error {
	ix.eng.mu.RLock()
	ids := make([]uint32, 0, len(ix.eng.noVec))
	for id := range ix.eng.noVec {
		ids = append(ids, id)
	}
	ix.eng.mu.RUnlock()
	const batch = 256
	for len(ids) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(batch, len(ids))
		chunks, err := ix.st.Chunks(ids[:n])
		if err != nil {
			return err
		}
		ids = ids[n:]
		byHash := map[store.Hash][]uint32{}
		var texts []string
		var order []store.Hash
		for _, c := range chunks {
			if c.ID == 0 {
				continue
			}
			if _, ok := byHash[c.TextHash]; !ok {
				texts = append(texts, c.Text)
				order = append(order, c.TextHash)
			}
			byHash[c.TextHash] = append(byHash[c.TextHash], c.ID)
		}
		if len(texts) == 0 {
			continue
		}
		vecs, err := ix.emb.Embed(ctx, texts)
		if err == nil && len(vecs) != len(texts) {
			err = fmt.Errorf("embedder returned %d vectors for %d texts", len(vecs), len(texts))
		}
		if err != nil {
			ix.log.Warn("embedding chunks without vectors failed; lexical search still works", "err", err)
			return nil
		}
		sum.Embedded += len(texts)
		put := make(map[store.Hash][]float32, len(order))
		for i, h := range order {
			put[h] = vecs[i]
		}
		if _, err := ix.st.PutVectors(ctx, put); err != nil {
			return err
		}
		ix.eng.mu.Lock()
		for h, vec := range put {
			for _, id := range byHash[h] {
				if _, live := ix.eng.chunks[id]; !live {
					continue
				}
				if err := ix.eng.setVector(ctx, id, h, vec); err != nil {
					ix.eng.unlock()
					return err
				}
			}
		}
		ix.eng.unlock()
	}
	return nil
}
