package lexical

import "github.com/codemux/codemux/index/word"

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
func (c *wordCache) entry(k word.Key) *wordEntry {
	return &c.entries[k.Hash()>>c.shift]
}

type wordEntry struct {
	key   word.Key // zero marks an empty entry
	n     uint8    // terms of the word
	terms [6]uint32
}
