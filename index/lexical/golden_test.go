package lexical

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/codemux/codemux/index/evalset"
)

// The digests below pin the tokenizer's output and the index's contents
// (terms, postings, lengths) over fixed samples of text, so that a change
// made for speed cannot change a single term or score. A deliberate change
// of the tokenizer must bump formatVersion and record new digests (the
// failure message prints them).
const (
	// syntheticDigest covers generated text: identifiers glued from
	// keywords, stop words, inflected words, digits, separators, non-ASCII
	// letters whose lowercase differs in length, and invalid UTF-8.
	syntheticDigest = "5121042dbd45b9d20a5b990d48030d6824b8bb09323e1f1fbd3d81f8240ac36d"
	// gorootDigest covers chunks of a fixed sample of GOROOT/src files
	// (gorootSampleVersion's source tree).
	gorootDigest        = "ff977cbf33374d822530c3a771f5356ca5115d936bd17d7842b34e3d9131984f"
	gorootSampleVersion = "go1.26.8"
)

func TestTokensGoldenSynthetic(t *testing.T) {
	checkDigest(t, "synthetic", syntheticTexts(), syntheticDigest)
}

func TestTokensGoldenGoroot(t *testing.T) {
	texts, err := evalset.GorootChunks(context.Background(), gorootSampleVersion)
	if err != nil {
		t.Skipf("no GOROOT sample: %v", err)
	}
	checkDigest(t, "GOROOT", texts, gorootDigest)
}

// checkDigest hashes the terms every tokenizer variant yields for texts,
// the contents of an index built from them, and the hits of one-term
// searches, and compares the digest with want.
func checkDigest(t *testing.T, name string, texts []string, want string) {
	t.Helper()
	h := sha256.New()
	for _, tz := range []tokenizer{{}, {noStem: true}, {noWhole: true}} {
		for _, text := range texts {
			tz.each(text, func(b []byte) {
				h.Write(b)
				h.Write([]byte{0})
			})
			h.Write([]byte{1})
		}
	}
	for _, text := range texts {
		for _, tok := range Tokens(text) {
			h.Write([]byte(tok))
			h.Write([]byte{0})
		}
		h.Write([]byte{1})
	}

	x := New(nil)
	for i, text := range texts {
		// Every other text is also the symbol of the next one, and every
		// seventh replaces an earlier document, so symbol weighting and
		// removal are covered.
		id := uint32(i)
		if i%7 == 6 {
			id = uint32(i / 2)
		}
		sym := ""
		if i > 0 && i%2 == 1 {
			sym = firstLine(texts[i-1])
		}
		x.Add(id, text, sym)
	}
	hashIndex(h, x)

	// One-term queries: with several terms the order of per-term score
	// additions follows map iteration, so only single terms are exact.
	seen := make(map[string]bool)
	var queries []string
	for _, text := range texts {
		for _, tok := range Tokens(firstLine(text)) {
			if !seen[tok] && len(Tokens(tok)) == 1 {
				seen[tok] = true
				queries = append(queries, tok)
			}
		}
	}
	slices.Sort(queries)
	for _, q := range queries {
		for _, hit := range x.Search(q, 10, nil) {
			writeUint(h, uint64(hit.ID))
			writeUint(h, uint64(math.Float32bits(hit.Score)))
		}
		h.Write([]byte{2})
	}

	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("%s sample of %d texts (%d queries): digest %s, want %s", name, len(texts), len(queries), got, want)
	}
}

// hashIndex writes the index's contents in a canonical order.
func hashIndex(h hash.Hash, x *Index) {
	terms := make([]string, 0, len(x.terms))
	for term := range x.terms {
		terms = append(terms, term)
	}
	slices.Sort(terms)
	for _, term := range terms {
		p := &x.posts[x.terms[term]]
		h.Write([]byte(term))
		writeUint(h, uint64(p.n))
		writeUint(h, uint64(p.last))
		writeUint(h, uint64(len(p.buf)))
		h.Write(p.buf)
	}
	for s, id := range x.slotID {
		writeUint(h, uint64(id))
		writeUint(h, uint64(x.slotLen[s]))
	}
	for _, w := range x.dead {
		writeUint(h, w)
	}
	writeUint(h, x.totalLen)
}

func writeUint(h hash.Hash, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	h.Write(b[:])
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// syntheticTexts returns 3000 deterministic texts of up to 60 parts each.
func syntheticTexts() []string {
	return evalset.SyntheticTexts(3000, []string{
		"parse", "Config", "HTTP", "Server", "XMLHttpRequest2", "utf8Decode", "int64",
		"running", "classes", "entries", "passes", "buses", "analysis", "boxes", "fizzes",
		"churches", "wishes", "called", "stopped", "filled", "needed", "being", "doing",
		"the", "a", "of", "func", "Func", "FUNC", "return", "if", "nil", "cfg", "Ctx", "ERR",
		"errs", "conn", "init", "impl", "fn", "db", "mu", "ch", "sz", "ies", "sses", "ing",
		"ed", "e", "s", "x", "X", "ID", "iD", "Id", "v2", "3d", "42", "007",
		"É", "é", "Écrire", "données", "İ", "ı", "ẞ", "ß", "Ω", "K", "ǅ", "Σ", "ς",
		"日本語", "٣", "Ⅻ", "ﬁ", "\xff", "\xc3", "\xe2\x82",
	})
}
