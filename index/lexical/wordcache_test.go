package lexical

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// TestWordCacheInvalidation checks that Add's cache of term indexes never
// outlives the numbering it was built for: after a compaction and after
// UnmarshalBinary renumber the terms, adding the same words must give the
// index a fresh build gives.
func TestWordCacheInvalidation(t *testing.T) {
	texts := syntheticTexts()[:400]
	digest := func(x *Index) string {
		h := sha256.New()
		hashIndex(h, x)
		return hex.EncodeToString(h.Sum(nil))
	}
	fresh := New(nil)
	for i, text := range texts {
		fresh.Add(uint32(i), text, firstLine(text))
	}
	want := digest(fresh)

	tests := []struct {
		name  string
		build func(t *testing.T) *Index
	}{
		{"compacted", func(t *testing.T) *Index {
			x := New(nil)
			// The same words before and after, so that stale cache
			// entries would be hit. Removing all 2048 documents compacts
			// twice and leaves no slot behind.
			for i := range 2048 {
				x.Add(uint32(10000+i), texts[len(texts)-1-i%len(texts)], "")
			}
			for i := range 2048 {
				x.Remove(uint32(10000 + i))
			}
			for i, text := range texts {
				x.Add(uint32(i), text, firstLine(text))
			}
			return x
		}},
		{"decoded", func(t *testing.T) *Index {
			src := New(nil)
			for i, text := range texts[:200] {
				src.Add(uint32(i), text, firstLine(text))
			}
			data, err := src.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			x := New(nil)
			for i, text := range texts[200:] {
				x.Add(uint32(5000+i), text, "")
			}
			if err := x.UnmarshalBinary(data); err != nil {
				t.Fatal(err)
			}
			for i, text := range texts[200:] {
				x.Add(uint32(200+i), text, firstLine(text))
			}
			return x
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := digest(tt.build(t)); got != want {
				t.Errorf("index contents digest = %s, want %s (a fresh build)", got, want)
			}
		})
	}
}

// TestAddKnownTermsAfterUnmarshal adds, to a decoded index, a document made
// only of terms the index already has: Add's per-term scratch space must
// cover the decoded dictionary.
func TestAddKnownTermsAfterUnmarshal(t *testing.T) {
	x := newTestIndex()
	data, err := x.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	y := New(nil)
	y.Add(7, "unrelated", "")
	if err := y.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	y.Add(99, "config server string", "writeConfig")
	if got := ids(y.Search("write config", 1, nil)); len(got) != 1 || got[0] != 99 {
		t.Errorf("Search(write config) = %v, want [99]", got)
	}
}
