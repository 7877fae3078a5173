package lexical

import (
	"unicode"
	"unicode/utf8"

	"github.com/codemux/codemux/index/word"
)

// tokenizer splits text into search terms. The zero value is the default
// configuration; the fields turn off steps so their effect can be measured.
type tokenizer struct {
	noStem  bool // keep words as written (no plural/-ing/-ed stripping)
	noWhole bool // do not also emit a split identifier as one term
}

// Tokens returns the search terms of text, in order: every identifier is
// split at underscores, hyphens, case changes (parseConfig, HTTPServer →
// http, server) and letter/digit boundaries; pieces are lowercased, pieces
// shorter than two characters and stop words (common keywords and English
// function words) are dropped, and the rest are lightly stemmed (plural,
// -ing, -ed). An identifier that was split is also emitted whole, lowercased
// and without underscores, so an exact identifier query matches exactly.
func Tokens(text string) []string {
	var tl termList
	tokenizer{}.appendTerms(&tl, text)
	if tl.len() == 0 {
		return nil
	}
	out := make([]string, tl.len())
	for i := range out {
		out[i] = string(tl.term(i))
	}
	return out
}

// termList is a reusable list of terms stored back to back in one buffer.
type termList struct {
	buf  []byte
	ends []int // ends[i] is the end of term i in buf
}

func (tl *termList) reset() {
	tl.buf = tl.buf[:0]
	tl.ends = tl.ends[:0]
}

func (tl *termList) len() int { return len(tl.ends) }

// term returns term i; it aliases tl's buffer until the next append.
func (tl *termList) term(i int) []byte {
	start := 0
	if i > 0 {
		start = tl.ends[i-1]
	}
	return tl.buf[start:tl.ends[i]:tl.ends[i]]
}

// end returns the end of the last term in buf.
func (tl *termList) end() int {
	if len(tl.ends) == 0 {
		return 0
	}
	return tl.ends[len(tl.ends)-1]
}

// byteClass classifies each byte for the tokenizer: a separator (None)
// ends the piece and the identifier, '_' (Under) only the piece. It is
// read-only after package initialisation.
var byteClass = word.NewClasses(true, true)

// appendTerms appends the terms of text (see Tokens) to tl: those of each
// piece, and after the pieces of an identifier the identifier's own.
func (tz tokenizer) appendTerms(tl *termList, text string) {
	pieces := 0 // pieces of the current identifier so far
	byteClass.Split(text, func(piece string) {
		tz.flushPiece(tl, piece)
		pieces++
	}, func(ident string) {
		tz.flushWord(tl, ident, pieces)
		pieces = 0
	})
}

// flushPiece appends the term of one piece of text, if it has one: the
// piece lowercased, if at least two bytes long and not a stop word, then
// stemmed, if still at least two bytes long.
func (tz tokenizer) flushPiece(tl *termList, piece string) {
	start := tl.end()
	tl.buf = appendLower(tl.buf[:start], piece)
	w := tl.buf[start:]
	if len(w) < 2 || word.IsStop(w) {
		return
	}
	if !tz.noStem {
		w = stem(w) // a prefix of w
	}
	if len(w) >= 2 {
		tl.ends = append(tl.ends, start+len(w))
	}
}

// flushWord appends an identifier of several pieces, lowercased and without
// underscores, as one term if it is longer than two bytes and not a stop
// word.
func (tz tokenizer) flushWord(tl *termList, ident string, pieces int) {
	if pieces < 2 || tz.noWhole {
		return
	}
	start := tl.end()
	tl.buf = appendLower(tl.buf[:start], ident)
	if w := tl.buf[start:]; len(w) > 2 && !word.IsStop(w) {
		tl.ends = append(tl.ends, len(tl.buf))
	}
}

// appendLower appends s lowercased, without underscores, to dst.
func appendLower(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != '_' {
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
		i += size
	}
	return dst
}

// stem strips common English inflections in place: a Porter-like step 1
// (plurals, -ed, -ing) followed by dropping a final "e", keeping stems of at
// least three letters, so parse, parses, parsed and parsing all become
// "pars". Query and document terms pass through the same function, so
// consistency matters more than linguistic accuracy.
func stem(w []byte) []byte {
	w = stemSuffix(w)
	if n := len(w); n >= 4 && w[n-1] == 'e' {
		w = w[:n-1]
	}
	return w
}

func stemSuffix(w []byte) []byte {
	n := len(w)
	if n <= 3 {
		return w
	}
	switch {
	case hasSuffix(w, "sses"):
		return w[:n-2]
	case hasSuffix(w, "ies") && n > 4:
		w = w[:n-2]
		w[n-3] = 'y'
		return w
	case hasSuffix(w, "ss") || hasSuffix(w, "us") || hasSuffix(w, "is"):
		return w
	case hasSuffix(w, "ches") || hasSuffix(w, "shes") || hasSuffix(w, "xes") || hasSuffix(w, "zes"):
		return w[:n-2]
	case hasSuffix(w, "s"):
		return w[:n-1]
	case hasSuffix(w, "ing") && n >= 6 && hasVowel(w[:n-3]):
		return undouble(w[:n-3])
	case hasSuffix(w, "ed") && n >= 5 && hasVowel(w[:n-2]):
		return undouble(w[:n-2])
	}
	return w
}

func hasSuffix(w []byte, s string) bool {
	return len(w) >= len(s) && string(w[len(w)-len(s):]) == s
}

func hasVowel(w []byte) bool {
	for _, c := range w {
		switch c {
		case 'a', 'e', 'i', 'o', 'u', 'y':
			return true
		}
	}
	return false
}

// undouble turns "runn" into "run" and "stopp" into "stop" but keeps "ll",
// "ss" and "zz" ("fill", "pass").
func undouble(w []byte) []byte {
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
