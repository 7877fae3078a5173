package embed

import (
	"math"
	"strings"
	"testing"
)

// TestEncoderState checks that what an encoder keeps between texts (its
// vocabulary, word features and run cache, and their reset at maxVocab
// words) never shows in a vector: every text embeds to the same bits with a
// long-used encoder as with a new one.
func TestEncoderState(t *testing.T) {
	// 40 texts of 500 distinct words each overflow maxVocab once.
	var texts []string
	word := func(i int) string {
		var sb strings.Builder
		sb.WriteString("Qz")
		for ; i > 0; i /= 26 {
			sb.WriteByte(byte('a' + i%26))
		}
		return sb.String()
	}
	for n := range 40 {
		var sb strings.Builder
		for i := range 500 {
			sb.WriteString(word(n*500 + i))
			sb.WriteString(" parseConfig(ctx) ")
		}
		texts = append(texts, sb.String())
	}
	checks := []string{"func parseConfig(path string) (*Config, error)\nreturn readCfg(path)", "HTTPServer serves HTTP", texts[3]}

	b := NewBuiltin(nil)
	var used encoder
	resets := 0
	for i, text := range texts {
		before := len(used.vocab)
		for _, s := range append([]string{text}, checks...) {
			got := make([]float32, b.dim)
			b.embedOne(&used, s, got)
			want := make([]float32, b.dim)
			b.embedOne(&encoder{}, s, want)
			for j := range want {
				if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
					t.Fatalf("after %d texts: embedOne(%.40q)[%d] = %v with a used encoder, %v with a new one", i, s, j, got[j], want[j])
				}
			}
		}
		if len(used.vocab) < before {
			resets++
		}
	}
	if resets == 0 {
		t.Errorf("vocabulary never reset over %d texts of 500 new words (maxVocab %d)", len(texts), maxVocab)
	}
}
