// Package lexical is a BM25 index over identifier-split tokens.
//
// Text is split by Tokens (identifier pieces, lowercased, stop words dropped,
// lightly stemmed). The index keeps a term dictionary mapping each term to a
// postings list of (slot, tf) pairs, delta- and varint-encoded in one byte
// slice per term (≈ 2–3 bytes per posting), plus one length per document.
// Documents are addressed by the caller's uint32 IDs; internally each Add
// takes a fresh slot, so postings stay sorted and append-only. Remove marks
// the slot dead; dead slots are skipped by Search and reclaimed by an
// automatic compaction once they make up a quarter of all slots. Until then
// document frequencies still count dead documents, a bounded error in IDF.
//
// Fuse merges this index's ranking with a vector ranking by weighted
// reciprocal rank fusion; HybridK and HybridVectorWeight are the measured
// settings.
//
// Symbol names are weighted: each symbol token counts Params.SymbolWeight
// times in the document's term frequency and length (a BM25F-style field
// boost folded into one field).
//
// # Concurrency
//
// An Index is safe for concurrent use: Search, Len, MemoryBytes and
// MarshalBinary take a read lock and run in parallel with each other; Add,
// Remove and UnmarshalBinary take the write lock.
package lexical

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"sync"
	"unsafe"

	"github.com/codemux/codemux/index/word"
)

// Params tunes BM25. The zero value (or nil) means defaults.
type Params struct {
	K1           float64 // term frequency saturation; default 2.0
	B            float64 // length normalisation; default 1.0 (use 1e-9 for none)
	SymbolWeight int     // times a symbol token counts; default 3

	tok tokenizer // tokenizer variant (tests measure the alternatives)
}

func (p *Params) withDefaults() Params {
	var r Params
	if p != nil {
		r = *p
	}
	if r.K1 == 0 {
		r.K1 = 2.0
	}
	if r.B == 0 {
		r.B = 1.0
	}
	if r.SymbolWeight == 0 {
		r.SymbolWeight = 3
	}
	return r
}

// Hit is one search result.
type Hit struct {
	ID    uint32
	Score float32
}

// postings is one term's list of (slot, tf), each as uvarint(slot delta)
// followed by uvarint(tf), in increasing slot order.
type postings struct {
	buf  []byte
	last uint32 // slot of the last entry
	n    uint32 // number of entries, dead slots included
}

// Index is an in-memory BM25 index. Create it with New.
type Index struct {
	mu sync.RWMutex
	p  Params

	terms map[string]uint32 // term → index into posts
	posts []postings

	slotID  []uint32          // slot → caller's ID
	slotLen []uint32          // slot → weighted token count
	dead    []uint64          // bitset of removed slots
	slots   map[uint32]uint32 // caller's ID → live slot

	nDead    int
	totalLen uint64 // sum of live lengths

	// tf and touched are Add's scratch space: the term frequencies of the
	// document being added, by term index (zero between Adds), and the
	// terms it touched.
	tf      []uint32
	touched []uint32

	// Add's alone: scratchTerms holds the terms of one word; words caches
	// the term indexes of short words and is dropped whenever term indexes
	// change.
	scratchTerms termList
	words        *wordCache

	scratch sync.Pool // *accumulator
}

type accumulator struct {
	score   []float32
	touched []uint32
}

// New returns an empty index.
func New(params *Params) *Index {
	return &Index{
		p:     params.withDefaults(),
		terms: make(map[string]uint32),
		slots: make(map[uint32]uint32),
	}
}

// Len returns the number of documents in the index.
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.slots)
}

// Add indexes text and symbol under id, replacing any document with that id.
// Terms are counted by their index in the dictionary, in scratch space the
// Index keeps, so adding a document allocates nothing for the terms the
// index already has; the term indexes of short words are cached, so a word
// seen before is neither split nor looked up again.
func (x *Index) Add(id uint32, text, symbol string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
	if b := wordCacheBits(len(x.terms)); x.words == nil || len(x.words.entries) < 1<<b {
		x.words = newWordCache(b)
	}
	if len(x.tf) < len(x.posts) {
		x.tf = append(x.tf, make([]uint32, len(x.posts)-len(x.tf))...)
	}
	length := x.countTerms(text, 1) + x.countTerms(symbol, uint32(x.p.SymbolWeight))

	slot := uint32(len(x.slotID))
	x.slotID = append(x.slotID, id)
	x.slotLen = append(x.slotLen, length)
	if int(slot/64) >= len(x.dead) {
		x.dead = append(x.dead, 0)
	}
	x.slots[id] = slot
	x.totalLen += uint64(length)
	for _, t := range x.touched {
		x.posts[t].add(slot, min(x.tf[t], math.MaxUint16))
		x.tf[t] = 0
	}
	x.touched = x.touched[:0]
}

// countTerms adds w to the frequency of each term of text and returns w
// times the number of terms.
//
// Text is taken one word at a time, a word being a run of bytes between
// ASCII separators: Tokens treats every word on its own, so a word always
// yields the same terms. The terms of short ASCII words are remembered in
// x.words by term index; most words of source text repeat.
func (x *Index) countTerms(text string, w uint32) uint32 {
	var n uint32
	for i := 0; i < len(text); {
		start, end, ascii := byteClass.NextRun(text, i)
		i = end
		if start == end {
			break
		}
		run := text[start:end]
		var e *wordEntry
		if ascii && len(run) <= word.MaxKeyLen {
			k := word.KeyOf(run)
			e = x.words.entry(k)
			if e.key == k {
				for _, t := range e.terms[:e.n] {
					if x.tf[t] == 0 {
						x.touched = append(x.touched, t)
					}
					x.tf[t] += w
				}
				n += uint32(e.n)
				continue
			}
			e.key, e.n = k, 0
		}
		tl := &x.scratchTerms
		tl.reset()
		x.p.tok.appendTerms(tl, run)
		if e != nil && tl.len() > len(e.terms) {
			e.key = word.Key{}
			e = nil
		}
		for j := range tl.len() {
			t := x.termOf(tl.term(j))
			if e != nil {
				e.terms[e.n] = t
				e.n++
			}
			if x.tf[t] == 0 {
				x.touched = append(x.touched, t)
			}
			x.tf[t] += w
		}
		n += uint32(tl.len())
	}
	return n * w
}

// termOf returns the index of term b, adding it if it is new.
func (x *Index) termOf(b []byte) uint32 {
	t, ok := x.terms[string(b)]
	if !ok {
		t = uint32(len(x.posts))
		x.terms[string(b)] = t
		x.posts = append(x.posts, postings{})
		if int(t) >= len(x.tf) {
			x.tf = append(x.tf, 0)
		}
	}
	return t
}

func (p *postings) add(slot, tf uint32) {
	delta := slot
	if p.n > 0 {
		delta = slot - p.last
	}
	p.buf = binary.AppendUvarint(p.buf, uint64(delta))
	p.buf = binary.AppendUvarint(p.buf, uint64(tf))
	p.last = slot
	p.n++
}

// Remove deletes the document with id, if present.
func (x *Index) Remove(id uint32) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.removeLocked(id)
}

func (x *Index) removeLocked(id uint32) {
	slot, ok := x.slots[id]
	if !ok {
		return
	}
	delete(x.slots, id)
	x.dead[slot/64] |= 1 << (slot % 64)
	x.nDead++
	x.totalLen -= uint64(x.slotLen[slot])
	if x.nDead >= 1024 && x.nDead*4 >= len(x.slotID) {
		x.compactLocked()
	}
}

func (x *Index) isDead(slot uint32) bool {
	return x.dead[slot/64]&(1<<(slot%64)) != 0
}

// compactLocked renumbers live slots densely and rewrites every postings
// list without dead entries, dropping terms left with none.
func (x *Index) compactLocked() {
	remap := make([]uint32, len(x.slotID))
	var slotID, slotLen []uint32
	for s := range x.slotID {
		if x.isDead(uint32(s)) {
			remap[s] = math.MaxUint32
			continue
		}
		remap[s] = uint32(len(slotID))
		slotID = append(slotID, x.slotID[s])
		slotLen = append(slotLen, x.slotLen[s])
	}
	terms := make(map[string]uint32, len(x.terms))
	posts := make([]postings, 0, len(x.posts))
	for term, t := range x.terms {
		var np postings
		x.posts[t].each(func(slot, tf uint32) {
			if ns := remap[slot]; ns != math.MaxUint32 {
				np.add(ns, tf)
			}
		})
		if np.n == 0 {
			continue
		}
		np.buf = slices.Clip(np.buf)
		terms[term] = uint32(len(posts))
		posts = append(posts, np)
	}
	x.terms, x.posts = terms, posts
	x.words = nil
	x.slotID, x.slotLen = slotID, slotLen
	x.dead = make([]uint64, (len(slotID)+63)/64)
	x.nDead = 0
	for s, id := range slotID {
		x.slots[id] = uint32(s)
	}
}

func (p *postings) each(fn func(slot, tf uint32)) {
	var slot uint32
	buf := p.buf
	for i := uint32(0); i < p.n; i++ {
		d, k := binary.Uvarint(buf)
		buf = buf[k:]
		tf, k := binary.Uvarint(buf)
		buf = buf[k:]
		if i == 0 {
			slot = uint32(d)
		} else {
			slot += uint32(d)
		}
		fn(slot, uint32(tf))
	}
}

// Search returns up to k documents matching query, best first (ties by
// ascending ID). filter, if not nil, keeps only the IDs it returns true for.
func (x *Index) Search(query string, k int, filter func(id uint32) bool) []Hit {
	if k <= 0 {
		return nil
	}
	var tl termList
	x.p.tok.appendTerms(&tl, query)
	// Terms are scored in query order, not map order, so that float32
	// sums, and with them ties, come out the same on every run.
	qtf := make(map[string]float64)
	var order []string
	for i := range tl.len() {
		term := string(tl.term(i))
		if qtf[term] == 0 {
			order = append(order, term)
		}
		qtf[term]++
	}

	x.mu.RLock()
	defer x.mu.RUnlock()
	n := len(x.slots)
	if n == 0 || len(qtf) == 0 {
		return nil
	}
	acc, _ := x.scratch.Get().(*accumulator)
	if acc == nil || len(acc.score) < len(x.slotID) {
		acc = &accumulator{score: make([]float32, len(x.slotID)+len(x.slotID)/4)}
	}
	defer func() {
		for _, s := range acc.touched {
			acc.score[s] = 0
		}
		acc.touched = acc.touched[:0]
		x.scratch.Put(acc)
	}()

	k1, b := x.p.K1, x.p.B
	avgdl := float64(x.totalLen) / float64(n)
	if avgdl == 0 {
		avgdl = 1
	}
	// Length normalisation per slot is computed on the fly: norm = k1*(1-b+b*len/avgdl).
	c0 := float32(k1 * (1 - b))
	c1 := float32(k1 * b / avgdl)
	for _, term := range order {
		q := qtf[term]
		t, ok := x.terms[term]
		if !ok {
			continue
		}
		p := &x.posts[t]
		df := float64(min(int(p.n), n))
		idf := math.Log(1 + (float64(n)-df+0.5)/(df+0.5))
		w := float32(idf * q * (k1 + 1))
		var slot uint32
		buf := p.buf
		for i := uint32(0); i < p.n; i++ {
			d, m := binary.Uvarint(buf)
			buf = buf[m:]
			tfv, m := binary.Uvarint(buf)
			buf = buf[m:]
			if i == 0 {
				slot = uint32(d)
			} else {
				slot += uint32(d)
			}
			if x.dead[slot/64]&(1<<(slot%64)) != 0 {
				continue
			}
			tf := float32(tfv)
			s := w * tf / (tf + c0 + c1*float32(x.slotLen[slot]))
			if acc.score[slot] == 0 {
				acc.touched = append(acc.touched, slot)
			}
			acc.score[slot] += s
		}
	}

	// Keep the k best in a min-heap ordered by (score asc, id desc).
	heap := make([]Hit, 0, k)
	worse := func(a, b Hit) bool { // a ranks below b
		if a.Score != b.Score {
			return a.Score < b.Score
		}
		return a.ID > b.ID
	}
	for _, s := range acc.touched {
		h := Hit{ID: x.slotID[s], Score: acc.score[s]}
		if len(heap) == k && !worse(heap[0], h) {
			continue
		}
		if filter != nil && !filter(h.ID) {
			continue
		}
		if len(heap) < k {
			heap = append(heap, h)
			for i := len(heap) - 1; i > 0; {
				parent := (i - 1) / 2
				if !worse(heap[i], heap[parent]) {
					break
				}
				heap[i], heap[parent] = heap[parent], heap[i]
				i = parent
			}
			continue
		}
		heap[0] = h
		for i := 0; ; {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(heap) && worse(heap[l], heap[m]) {
				m = l
			}
			if r < len(heap) && worse(heap[r], heap[m]) {
				m = r
			}
			if m == i {
				break
			}
			heap[i], heap[m] = heap[m], heap[i]
			i = m
		}
	}
	slices.SortFunc(heap, func(a, b Hit) int {
		if a.Score != b.Score {
			return cmp.Compare(b.Score, a.Score)
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return heap
}

// MemoryBytes estimates the heap held by the index.
func (x *Index) MemoryBytes() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	const (
		mapEntry = 48 // map bucket share per entry, approximate
		strHdr   = 16
	)
	var n int64
	for term := range x.terms {
		n += int64(len(term)) + strHdr + mapEntry
	}
	for i := range x.posts {
		n += int64(cap(x.posts[i].buf)) + 32
	}
	n += int64(cap(x.slotID))*4 + int64(cap(x.slotLen))*4 + int64(cap(x.dead))*8
	n += int64(len(x.slots)) * mapEntry / 2
	n += int64(len(x.slotID)) * 4 // search accumulator
	n += int64(cap(x.tf))*4 + int64(cap(x.touched))*4
	n += int64(cap(x.scratchTerms.buf)) + int64(cap(x.scratchTerms.ends))*8
	if x.words != nil {
		n += int64(len(x.words.entries)) * int64(unsafe.Sizeof(wordEntry{}))
	}
	return n
}
