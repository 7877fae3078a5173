package embed

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/codemux/codemux/index/evalset"
)

// The digests below pin the built-in embedder's vectors, bit for bit, over
// fixed samples of text, so that a change made for speed cannot move a
// stored vector. A deliberate change of the algorithm must bump
// builtinVersion and record new digests (the failure message prints them).
const (
	// syntheticDigest covers generated text: identifiers glued from
	// keywords, stop words, abbreviations, inflected words, digits,
	// separators, non-ASCII letters whose lowercase differs in length, and
	// invalid UTF-8.
	syntheticDigest = "635f00ef5ecfb06094ea8d07d03ca9467290b1e857aac17c24616080c25449c5"
	// gorootDigest covers chunks of a fixed sample of GOROOT/src files
	// (gorootSampleVersion's source tree).
	gorootDigest        = "10defd353de8d9887db2aec8ac7dbf2c50216c753129334248bab1cebd61a6c6"
	gorootSampleVersion = "go1.26.8"
)

func TestBuiltinGoldenSynthetic(t *testing.T) {
	checkDigest(t, "synthetic", syntheticTexts(), syntheticDigest)
}

func TestBuiltinGoldenGoroot(t *testing.T) {
	texts, err := evalset.GorootChunks(context.Background(), gorootSampleVersion)
	if err != nil {
		t.Skipf("no GOROOT sample: %v", err)
	}
	checkDigest(t, "GOROOT", texts, gorootDigest)
}

// checkDigest hashes the float32 bits of the vectors that the default
// embedder and a variant with other options give for texts, embedded in
// batches of 16, and compares the digest with want.
func checkDigest(t *testing.T, name string, texts []string, want string) {
	t.Helper()
	h := sha256.New()
	var b [4]byte
	for _, e := range []*Builtin{NewBuiltin(nil), NewBuiltinVariant(100, 0.5, 2, true, 3)} {
		for i := 0; i < len(texts); i += 16 {
			vs, err := e.Embed(context.Background(), texts[i:min(i+16, len(texts))])
			if err != nil {
				t.Fatalf("Embed(texts[%d:]) error: %v", i, err)
			}
			for _, v := range vs {
				for _, x := range v {
					binary.LittleEndian.PutUint32(b[:], math.Float32bits(x))
					h.Write(b[:])
				}
			}
		}
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("%s sample of %d texts: digest %s, want %s", name, len(texts), got, want)
	}
}

// syntheticTexts returns 3000 deterministic texts of up to 60 parts each.
func syntheticTexts() []string {
	return evalset.SyntheticTexts(3000, []string{
		"parse", "Config", "cfg", "Conf", "msgs", "Params", "fmt", "Func", "func", "Fn", "gc", "HTTP", "Server", "XMLHttpRequest2", "utf8Decode", "int64",
		"running", "classes", "entries", "passes", "buses", "analysis", "boxes", "fizzes",
		"churches", "wishes", "called", "stopped", "filled", "needed", "being", "doing",
		"the", "a", "of", "func", "Func", "FUNC", "return", "if", "nil", "cfg", "Ctx", "ERR",
		"errs", "conn", "init", "impl", "fn", "db", "mu", "ch", "sz", "ies", "sses", "ing",
		"ed", "e", "s", "x", "X", "ID", "iD", "Id", "v2", "3d", "42", "007",
		"É", "é", "Écrire", "données", "İ", "ı", "ẞ", "ß", "Ω", "K", "ǅ", "Σ", "ς",
		"日本語", "٣", "Ⅻ", "ﬁ", "\xff", "\xc3", "\xe2\x82",
	})
}
