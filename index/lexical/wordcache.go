package lexical

import "math/bits"

// wordCache is a direct-mapped cache from a short ASCII word of text, as
// written, to the indexes of its terms (see Index.countTerms).
type wordCache struct {
	entries []wordEntry // len is a power of two
	shift   uint        // 64 - log2(len(entries))
}

// Bounds of the number of entries of a wordCache, which grows with the
// index's dictionary (an entry per term), so that a small index keeps a
// small cache.
const (
	minWordCacheBits = 8
	maxWordCacheBits = 13
)

// wordCacheBits returns the size, as a power of two, of the word cache for
// a dictionary of n terms.
func wordCacheBits(n int) uint {
	b := uint(minWordCacheBits)
	for b < maxWordCacheBits && 1<<b < n {
		b++
	}
	return b
}

// newWordCache returns an empty cache of 1<<b entries.
func newWordCache(b uint) *wordCache {
	return &wordCache{entries: make([]wordEntry, 1<<b), shift: 64 - b}
}

// entry returns the entry of k.
func (c *wordCache) entry(k wordKey) *wordEntry {
	h := (k.lo ^ bits.RotateLeft64(k.hi*0xc2b2ae3d27d4eb4f, 31)) * 0x9e3779b97f4a7c15
	return &c.entries[h>>c.shift]
}

type wordEntry struct {
	key   wordKey // zero marks an empty entry
	n     uint8   // terms of the word
	terms [6]uint32
}

// wordKey is a word of at most maxWordLen bytes packed little-endian into
// two words. Words contain no zero byte, so distinct words have distinct
// keys and no word has the zero key.
type wordKey struct{ lo, hi uint64 }

// maxWordLen is the longest word that has a wordKey.
const maxWordLen = 16

// keyOf packs w, which must be at most maxWordLen bytes long.
func keyOf(w string) wordKey {
	if len(w) < 8 {
		return wordKey{lo: pack(w)}
	}
	lo := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
	return wordKey{lo: lo, hi: pack(w[8:])}
}

// pack packs up to 8 bytes little-endian.
func pack(w string) uint64 {
	var k uint64
	for i := 0; i < len(w); i++ {
		k |= uint64(w[i]) << (8 * i)
	}
	return k
}
