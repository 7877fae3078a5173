// Package word holds what the lexical index and the built-in embedder
// share about words: byte classes and the runs of text between separators
// that both split into pieces, short words packed into integer keys, which
// their caches and the stop list look words up by without allocating, and
// the stop list itself.
package word

import (
	"math/bits"
	"unicode"
	"unicode/utf8"
)

// MaxKeyLen is the longest word a Key holds.
const MaxKeyLen = 16

// Key is a word of at most MaxKeyLen bytes packed little-endian into two
// words. Words contain no zero byte, so distinct words have distinct keys
// and no word has the zero Key, which can mark an empty slot.
type Key struct{ Lo, Hi uint64 }

// KeyOf packs w, which must be at most MaxKeyLen bytes long.
func KeyOf[T ~string | ~[]byte](w T) Key {
	if len(w) < 8 {
		return Key{Lo: pack(w)}
	}
	lo := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
		uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
	return Key{Lo: lo, Hi: pack(w[8:])}
}

// pack packs up to 8 bytes little-endian.
func pack[T ~string | ~[]byte](w T) uint64 {
	var k uint64
	for i := 0; i < len(w); i++ {
		k |= uint64(w[i]) << (8 * i)
	}
	return k
}

// Hash mixes k into 64 bits whose high bits are fit to index a table.
func (k Key) Hash() uint64 {
	return (k.Lo ^ bits.RotateLeft64(k.Hi*0xc2b2ae3d27d4eb4f, 31)) * 0x9e3779b97f4a7c15
}

// IsStop reports whether w (lowercase) is a stop word: a keyword shared by
// the languages indexed or an English function word. Such words carry no
// meaning for retrieval.
func IsStop(w []byte) bool {
	if len(w) == 0 || len(w) > MaxKeyLen {
		return false
	}
	k := KeyOf(w)
	for i := k.Hash() >> (64 - stopBits); ; i = (i + 1) % (1 << stopBits) {
		switch stops[i] {
		case k:
			return true
		case Key{}:
			return false
		}
	}
}

// stopBits sizes the stop set: 512 slots for about 160 words.
const stopBits = 9

// stops is the stop list as an open-addressing set of Keys. It is
// read-only after package initialisation.
var stops = func() (set [1 << stopBits]Key) {
	for _, w := range []string{
		// keywords
		"func", "function", "fn", "def", "var", "let", "const", "return", "if", "else",
		"elif", "for", "while", "do", "switch", "case", "default", "break", "continue",
		"goto", "package", "import", "from", "struct", "class", "interface", "type",
		"public", "private", "protected", "static", "final", "void", "nil", "null",
		"none", "true", "false", "self", "this", "new", "go", "defer", "range", "chan",
		"select", "try", "catch", "finally", "throw", "throws", "pub", "impl", "use",
		"mut", "end", "then", "fi", "esac", "done", "extends", "implements",
		// English
		"a", "an", "the", "and", "or", "of", "to", "in", "is", "it", "its", "on",
		"at", "by", "be", "as", "are", "was", "were", "been", "with", "that", "which",
		"who", "whom", "these", "those", "there", "their", "them", "they", "we",
		"you", "your", "our", "he", "she", "his", "her", "has", "have", "had",
		"not", "no", "but", "so", "such", "than", "too", "very", "can", "will",
		"would", "should", "could", "may", "might", "must", "shall", "into", "onto",
		"about", "any", "all", "each", "other", "some", "only", "own", "same",
		"also", "when", "where", "how", "what", "why", "does", "did", "doing",
		"being", "after", "before", "over", "under", "again", "further", "once",
		"here", "both", "few", "more", "most", "just", "now", "up", "out",
		"off", "down",
	} {
		k := KeyOf(w)
		i := k.Hash() >> (64 - stopBits)
		for set[i] != (Key{}) && set[i] != k {
			i = (i + 1) % (1 << stopBits)
		}
		set[i] = k
	}
	return set
}()

// Class is what a byte of text is to a tokenizer.
type Class uint8

// Byte classes.
const (
	None  Class = iota // separator: ends a piece and a run
	Lower              // lowercase ASCII letter (or, from RuneClass, a letter without case)
	Upper              // uppercase ASCII letter
	Digit              // ASCII decimal digit
	Under              // '_'
	Multi              // byte of a multi-byte UTF-8 sequence: see RuneClass
)

// Classes classifies the 256 byte values.
type Classes [256]Class

// NewClasses returns the classes of ASCII letters (Lower, Upper) and of the
// bytes of multi-byte sequences (Multi); digits are Digit and '_' Under
// when asked for, and every other byte is None.
func NewClasses(digits, underscore bool) Classes {
	var c Classes
	for b := 'a'; b <= 'z'; b++ {
		c[b] = Lower
	}
	for b := 'A'; b <= 'Z'; b++ {
		c[b] = Upper
	}
	if digits {
		for b := '0'; b <= '9'; b++ {
			c[b] = Digit
		}
	}
	if underscore {
		c['_'] = Under
	}
	for b := utf8.RuneSelf; b < 256; b++ {
		c[b] = Multi
	}
	return c
}

// RuneClass classifies the rune that starts at text[i], a Multi byte:
// Upper for an uppercase letter, Lower for any other letter, None for the
// rest (invalid UTF-8 included). size is the rune's length in bytes.
func RuneClass(text string, i int) (c Class, size int) {
	r, size := utf8.DecodeRuneInString(text[i:])
	switch {
	case !unicode.IsLetter(r):
		return None, size
	case unicode.IsUpper(r):
		return Upper, size
	}
	return Lower, size
}

// NextRun returns the first run of text at or after i: the bytes from
// start to end that are not None. ascii reports that none of them is
// Multi. start is len(text) when there is no run left.
func (c *Classes) NextRun(text string, i int) (start, end int, ascii bool) {
	for i < len(text) && c[text[i]] == None {
		i++
	}
	start, ascii = i, true
	for ; i < len(text); i++ {
		switch c[text[i]] {
		case None:
			return start, i, ascii
		case Multi:
			ascii = false
		}
	}
	return start, i, ascii
}

// Split splits text into pieces and words and calls piece with each piece
// and then, if word is not nil, word with each word, in order, as written.
// A word is a stretch of text between separators (None bytes, and
// non-ASCII runes that are not letters); a piece is a part of a word
// between '_' (Under), case changes ("parseConfig" → parse, Config;
// "HTTPServer" → HTTP, Server) and letter/digit boundaries. With classes
// whose only non-separators are letters, a word is one piece run of
// letters split at case changes.
//
// It tracks pieces and words as ranges of text; runs of ASCII bytes of one
// class cannot hold a boundary and are skipped in one step.
func (c *Classes) Split(text string, piece, word func(string)) {
	ps, ws := -1, -1 // start of the current piece and word, or -1
	prev := None
	lastSize := 0 // bytes of the last rune of the piece
	for i := 0; i < len(text); {
		kind, size := c[text[i]], 1
		if kind == Multi {
			kind, size = RuneClass(text, i)
		}
		if kind == None || kind == Under {
			if ps >= 0 {
				piece(text[ps:i])
				ps = -1
			}
			if kind == None && ws >= 0 {
				if word != nil {
					word(text[ws:i])
				}
				ws = -1
			}
			prev = None
			i += size
			if kind == None {
				// The rest of a run of ASCII separators changes nothing.
				for i < len(text) && c[text[i]] == None {
					i++
				}
			}
			continue
		}
		switch {
		case ps < 0:
			ps = i
			if ws < 0 {
				ws = i
			}
		case prev == Lower && kind == Upper,
			prev == Digit && kind != Digit,
			prev != Digit && kind == Digit:
			piece(text[ps:i])
			ps = i
		case prev == Upper && kind == Lower && i-lastSize > ps:
			// "HTTPServer": the last upper-case letter starts the next piece.
			piece(text[ps : i-lastSize])
			ps = i - lastSize
		}
		prev = kind
		lastSize = size
		i += size
		if size == 1 {
			// The rest of an ASCII run of the same class adds no boundary.
			for i < len(text) && c[text[i]] == kind {
				i++
			}
		}
	}
	if ps >= 0 {
		piece(text[ps:])
	}
	if ws >= 0 && word != nil {
		word(text[ws:])
	}
}
