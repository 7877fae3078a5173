package embed

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
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

// Builtin is a pure-Go, deterministic, stateless embedder: it needs no model
// files and no network. A text becomes a bag of identifier pieces (split at
// case changes, underscores and digits, lowercased, stop words dropped,
// common abbreviations expanded: cfg → config); pieces on the first line (a
// chunk's signature or heading) count 8 times. Each distinct piece, weighted
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
	var e encoder
	for i, t := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		v := backing[i*b.dim : (i+1)*b.dim : (i+1)*b.dim]
		b.embedOne(&e, t, v)
		out[i] = v
	}
	return out, nil
}

// encoder holds per-call scratch space so Embed does not allocate per text.
type encoder struct {
	counts map[string]int // word → weighted count
	order  []string       // distinct words, first-seen order
	gram   []byte
}

func (b *Builtin) embedOne(e *encoder, text string, v []float32) {
	b.termsOf(e, text)
	for _, word := range e.order {
		tf := float32(1 + math.Log(float64(e.counts[word])))
		b.addWordStem(e, word, stem(word), tf, v)
	}
	normalize(v)
}

// addWordStem adds the features of one word to v with weight w: its stem
// and the boundary-marked trigrams of the word as written.
func (b *Builtin) addWordStem(e *encoder, word, stemmed string, w float32, v []float32) {
	b.add(v, hash(0x9d, stemmed), w*b.wordWeight)
	e.gram = append(e.gram[:0], '<')
	e.gram = append(e.gram, word...)
	e.gram = append(e.gram, '>')
	g := e.gram
	n := len(g) - 2
	if n <= 0 {
		return
	}
	gw := w * b.gramWeight / float32(math.Sqrt(float64(n)))
	for i := 0; i < n; i++ {
		b.add(v, hash(0x3b, string(g[i:i+3])), gw)
	}
}

func (b *Builtin) add(v []float32, h uint64, w float32) {
	i := int((h >> 1) % uint64(b.dim))
	if h&1 != 0 {
		w = -w
	}
	v[i] += w
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

// termsOf collects the distinct words of text (abbreviations expanded, not
// stemmed) with their counts, in first-seen order, into e. Words on the
// first line (a chunk's signature or heading) count b.headWeight times.
func (b *Builtin) termsOf(e *encoder, text string) {
	if e.counts == nil {
		e.counts = make(map[string]int)
	}
	clear(e.counts)
	e.order = e.order[:0]
	weight := b.headWeight
	visit := func(p []byte) {
		w := p
		if b.abbrev {
			if full := expand(p); full != "" {
				w = []byte(full)
			}
		}
		if c, ok := e.counts[string(w)]; ok {
			e.counts[string(w)] = c + weight
			return
		}
		s := string(w)
		e.counts[s] = weight
		e.order = append(e.order, s)
	}
	head, rest, _ := strings.Cut(text, "\n")
	pieces(head, visit)
	weight = 1
	pieces(rest, visit)
}

// pieces calls emit with each lowercased identifier piece of text that is
// at least two bytes long and not a stop word: text is split at non-letters,
// underscores, case changes ("HTTPServer" → http, server) and letter/digit
// boundaries; digit runs are dropped.
func pieces(text string, emit func([]byte)) {
	var piece []byte
	const (
		kNone = iota
		kLower
		kUpper
		kDigit
	)
	flush := func() {
		if len(piece) >= 2 && !stopWords(string(piece)) {
			emit(piece)
		}
		piece = piece[:0]
	}
	prev, lastSize := kNone, 0
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		kind := kNone
		switch {
		case 'a' <= r && r <= 'z':
			kind = kLower
		case 'A' <= r && r <= 'Z':
			kind = kUpper
		case '0' <= r && r <= '9':
			kind = kDigit
		case r >= utf8.RuneSelf && unicode.IsLetter(r):
			kind = kLower
			if unicode.IsUpper(r) {
				kind = kUpper
			}
		}
		switch {
		case kind == kNone || kind == kDigit:
			flush()
			prev = kind
			continue
		case prev == kLower && kind == kUpper:
			flush()
		case prev == kUpper && kind == kLower && len(piece) > lastSize:
			var last [utf8.UTFMax]byte
			n := copy(last[:], piece[len(piece)-lastSize:])
			piece = piece[:len(piece)-lastSize]
			flush()
			piece = append(piece, last[:n]...)
		}
		before := len(piece)
		if r < utf8.RuneSelf {
			c := byte(r)
			if kind == kUpper {
				c += 'a' - 'A'
			}
			piece = append(piece, c)
		} else {
			piece = utf8.AppendRune(piece, unicode.ToLower(r))
		}
		lastSize = len(piece) - before
		prev = kind
	}
	flush()
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
