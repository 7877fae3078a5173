package embed

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/codemux/codemux/index/word"
)

// builtinVersion is the version of the built-in embedding algorithm; it is
// part of ID(), so vectors from different versions are never mixed.
//
// History:
//
//	1: identifier pieces + abbreviation expansion, first line weighted 8×,
//	   stemmed word features + boundary-marked character trigrams, signed
//	   feature hashing, sublinear tf, L2 normalisation.
const builtinVersion = 1

// BuiltinOptions configures the built-in embedder. The zero value (or nil)
// means defaults.
type BuiltinOptions struct {
	// Dim is the vector dimension. Default 384.
	Dim int

	// Weights of the feature families (tests measure the alternatives);
	// zero means default.
	wordWeight, gramWeight float64
	noAbbrev               bool
	headWeight             int // count of a first-line word; default 8
}

// Builtin is a pure-Go, deterministic embedder: it needs no model files and
// no network, and a text's vector depends on nothing but the text (the
// caches it keeps between calls only save work). A text becomes a bag of
// identifier pieces (split at case changes, underscores and digits,
// lowercased, stop words dropped, common abbreviations expanded: cfg →
// config); pieces on the first line (a chunk's signature or heading) count 8
// times. Each distinct piece, weighted
// by 1+ln(count), contributes two kinds of features: its stem and its
// boundary-marked character trigrams ("<pa", "par", ..., "ig>"). Trigrams
// make naming variants land near each other (parseCfg ~ "parse config",
// Marshal ~ marshaling, priv ~ private), which BM25 over exact terms cannot
// do. Features are hashed with a sign bit into Dim dimensions and the result
// L2-normalised.
//
// On its own it retrieves worse than BM25; fused with BM25 (see
// lexical.Fuse) it improves on BM25 alone. Measured alternatives that did
// not help and were dropped: workspace IDF weighting, a random-indexing
// co-occurrence model trained on the workspace, adjacent-word pair features.
type Builtin struct {
	dim        int
	wordWeight float32
	gramWeight float32
	abbrev     bool
	headWeight int

	encoders sync.Pool // *encoder
}

var _ Embedder = (*Builtin)(nil)

// NewBuiltin returns the built-in embedder.
func NewBuiltin(opts *BuiltinOptions) *Builtin {
	var o BuiltinOptions
	if opts != nil {
		o = *opts
	}
	if o.Dim <= 0 {
		o.Dim = 384
	}
	if o.wordWeight == 0 {
		o.wordWeight = 1
	}
	if o.gramWeight == 0 {
		o.gramWeight = 1
	}
	if o.headWeight <= 0 {
		o.headWeight = 8
	}
	return &Builtin{dim: o.Dim, wordWeight: float32(o.wordWeight), gramWeight: float32(o.gramWeight), abbrev: !o.noAbbrev, headWeight: o.headWeight}
}

// ID returns "builtin/v<version>/<dim>".
func (b *Builtin) ID() string { return fmt.Sprintf("builtin/v%d/%d", builtinVersion, b.dim) }

// Dim returns the vector dimension.
func (b *Builtin) Dim() int { return b.dim }

// Embed returns one L2-normalised vector per text. A text with no features
// (empty, or only stop words) yields the zero vector.
func (b *Builtin) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	backing := make([]float32, len(texts)*b.dim)
	e, _ := b.encoders.Get().(*encoder)
	if e == nil {
		e = &encoder{}
	}
	// e goes back to the pool only between texts, when its per-text state
	// is clear.
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			b.encoders.Put(e)
			return nil, err
		}
		v := backing[i*b.dim : (i+1)*b.dim : (i+1)*b.dim]
		b.embedOne(e, t, v)
		out[i] = v
	}
	b.encoders.Put(e)
	return out, nil
}

// encoder is the scratch space of one Embed call; encoders are pooled per
// Builtin, so what an encoder learns outlives the call. It numbers the
// distinct words it meets (a vocabulary of at most maxVocab words between
// resets) and keeps each word's features, computed once; it counts a
// text's words by number; and it remembers which words each short run of
// letters yields, since identifiers repeat heavily across the chunks of one
// workspace.
type encoder struct {
	vocab  map[string]uint32 // word → number
	feats  []uint32          // features of all words, back to back
	featAt []int32           // features of word i: feats[featAt[i]:featAt[i+1]]
	counts []int             // weighted count of word i in the text; 0 between texts
	order  []uint32          // words of the text, first-seen order
	runs   *runCache
	piece  []byte // the current piece, lowercased
}

// maxVocab bounds an encoder's vocabulary: reaching it starts a new one.
const maxVocab = 1 << 14

// reset empties the vocabulary and everything derived from it.
func (e *encoder) reset() {
	if e.vocab == nil {
		e.vocab = make(map[string]uint32)
		e.runs = new(runCache)
	} else {
		clear(e.vocab)
		clear(e.runs[:])
	}
	e.feats = e.feats[:0]
	e.featAt = append(e.featAt[:0], 0)
	e.counts = e.counts[:0]
}

func (b *Builtin) embedOne(e *encoder, text string, v []float32) {
	if len(e.vocab) >= maxVocab || e.vocab == nil {
		e.reset()
	}
	b.termsOf(e, text)
	for _, id := range e.order {
		count := e.counts[id]
		e.counts[id] = 0
		var tf float32
		if count < len(tfTable) {
			tf = tfTable[count]
		} else {
			tf = float32(1 + math.Log(float64(count)))
		}
		// The stem feature, then the trigrams: the order of additions
		// is part of the result. A feature's sign bit flips the sign of
		// its weight (exactly, as negation does) without a branch.
		feats := e.feats[e.featAt[id]:e.featAt[id+1]]
		f := feats[0]
		v[f>>1] += math.Float32frombits(math.Float32bits(tf*b.wordWeight) ^ f<<31)
		grams := feats[1:]
		if len(grams) == 0 {
			continue
		}
		gw := math.Float32bits(tf * b.gramWeight / float32(math.Sqrt(float64(len(grams)))))
		for _, f := range grams {
			v[f>>1] += math.Float32frombits(gw ^ f<<31)
		}
	}
	e.order = e.order[:0]
	normalize(v)
}

// tfTable holds 1+ln(count) for small counts, exactly as computed for
// larger ones; it is read-only after package initialisation.
var tfTable = func() (t [256]float32) {
	for c := 1; c < len(t); c++ {
		t[c] = float32(1 + math.Log(float64(c)))
	}
	return t
}()

// wordID returns the number of word, adding it and its features to the
// vocabulary if it is new: the hash of its stem, then those of the
// boundary-marked trigrams of the word as written ("<ab", ..., "yz>").
func (b *Builtin) wordID(e *encoder, word []byte) uint32 {
	if id, ok := e.vocab[string(word)]; ok {
		return id
	}
	id := uint32(len(e.featAt) - 1)
	s := string(word)
	e.vocab[s] = id
	e.feats = append(e.feats, b.feature(hash(0x9d, stem(s))))
	g := make([]byte, 0, len(word)+2)
	g = append(g, '<')
	g = append(g, word...)
	g = append(g, '>')
	for i := 0; i+3 <= len(g); i++ {
		e.feats = append(e.feats, b.feature(hash(0x3b, string(g[i:i+3]))))
	}
	e.featAt = append(e.featAt, int32(len(e.feats)))
	e.counts = append(e.counts, 0)
	return id
}

// count adds weight to the count of word id in the text.
func (e *encoder) count(id uint32, weight int) {
	if e.counts[id] == 0 {
		e.order = append(e.order, id)
	}
	e.counts[id] += weight
}

// feature maps a feature hash to its dimension, shifted left by one, with
// its sign in the low bit.
func (b *Builtin) feature(h uint64) uint32 {
	return uint32((h>>1)%uint64(b.dim))<<1 | uint32(h&1)
}

// hash is 64-bit FNV-1a over a family byte and s.
func hash(family byte, s string) uint64 {
	h := uint64(14695981039346656037)
	h ^= uint64(family)
	h *= 1099511628211
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	// Final avalanche so low bits depend on every byte.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// termsOf counts the distinct words of text (abbreviations expanded, not
// stemmed) in e, in first-seen order. Words on the first line (a chunk's
// signature or heading) count b.headWeight times.
func (b *Builtin) termsOf(e *encoder, text string) {
	head, rest, _ := strings.Cut(text, "\n")
	b.scan(e, head, b.headWeight)
	b.scan(e, rest, 1)
}

// scan counts the words of text with weight. Text is taken one run at a
// time, a run being the bytes between ASCII non-letters: pieces never span
// runs, so a run always yields the same words, and those of short ASCII
// runs are remembered in e.runs.
func (b *Builtin) scan(e *encoder, text string, weight int) {
	for i := 0; i < len(text); {
		start, end, ascii := byteClass.NextRun(text, i)
		i = end
		if start == end {
			break
		}
		run := text[start:end]
		var r *runEntry
		if ascii && len(run) <= word.MaxKeyLen {
			k := word.KeyOf(run)
			r = &e.runs[k.Hash()>>(64-runCacheBits)]
			if r.key == k {
				for _, id := range r.ids[:r.n] {
					e.count(id, weight)
				}
				continue
			}
			r.key, r.n = k, 0
		}
		byteClass.Split(run, func(piece string) {
			e.piece = appendLower(e.piece[:0], piece)
			w := e.piece
			if len(w) < 2 || word.IsStop(w) {
				return
			}
			if b.abbrev {
				if full := expand(w); full != "" {
					e.piece = append(e.piece[:0], full...)
					w = e.piece
				}
			}
			id := b.wordID(e, w)
			e.count(id, weight)
			if r != nil {
				if int(r.n) == len(r.ids) {
					r.key, r = word.Key{}, nil
					return
				}
				r.ids[r.n] = id
				r.n++
			}
		}, nil)
	}
}

// runCache is a direct-mapped cache from a short ASCII run of letters, as
// written, to the numbers of its words.
type runCache [1 << runCacheBits]runEntry

const runCacheBits = 12

type runEntry struct {
	key word.Key // zero marks an empty entry
	n   uint8    // words of the run
	ids [5]uint32
}

// byteClass classifies each byte for splitting pieces: everything but
// letters (digits and '_' included) is a separator. It is read-only after
// package initialisation.
var byteClass = word.NewClasses(false, false)

// appendLower appends s lowercased to dst.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += size
	}
	return dst
}

// stem strips plural, -ed and -ing endings and a final "e", keeping at least
// three letters, so parse, parses, parsed and parsing share one feature.
func stem(w string) string {
	n := len(w)
	if n > 3 {
		switch {
		case hasSuffix(w, "sses"):
			w = w[:n-2]
		case hasSuffix(w, "ies") && n > 4:
			w = w[:n-3] + "y"
		case hasSuffix(w, "ss") || hasSuffix(w, "us") || hasSuffix(w, "is"):
		case hasSuffix(w, "ches") || hasSuffix(w, "shes") || hasSuffix(w, "xes"):
			w = w[:n-2]
		case hasSuffix(w, "s"):
			w = w[:n-1]
		case hasSuffix(w, "ing") && n >= 6:
			w = undouble(w[:n-3])
		case hasSuffix(w, "ed") && n >= 5:
			w = undouble(w[:n-2])
		}
	}
	if n := len(w); n >= 4 && w[n-1] == 'e' {
		w = w[:n-1]
	}
	return w
}

func hasSuffix(w, s string) bool { return len(w) >= len(s) && w[len(w)-len(s):] == s }

func undouble(w string) string {
	n := len(w)
	if n >= 3 && w[n-1] == w[n-2] {
		switch w[n-1] {
		case 'l', 's', 'z', 'a', 'e', 'i', 'o', 'u':
			return w
		}
		return w[:n-1]
	}
	return w
}
