package lexical

import (
	"unicode"
	"unicode/utf8"
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
	var out []string
	tokenizer{}.each(text, func(b []byte) { out = append(out, string(b)) })
	return out
}

// each calls emit for every term of text. The slice passed to emit is only
// valid during the call.
func (tz tokenizer) each(text string, emit func([]byte)) {
	var (
		piece  []byte // current lowercased piece
		whole  []byte // current lowercased identifier without separators
		pieces int
	)
	flushWord := func() {
		if pieces > 1 && !tz.noWhole && len(whole) > 2 && !isStop(whole) {
			emit(whole)
		}
		whole = whole[:0]
		pieces = 0
	}
	flushPiece := func() {
		if len(piece) >= 2 && !isStop(piece) {
			w := piece
			if !tz.noStem {
				w = stem(w)
			}
			if len(w) >= 2 {
				emit(w)
			}
		}
		if len(piece) > 0 {
			pieces++
		}
		piece = piece[:0]
	}

	const (
		kNone = iota
		kLower
		kUpper
		kDigit
	)
	prev := kNone
	lastSize := 0 // bytes of the last rune appended to piece
	for i := 0; i < len(text); {
		r := rune(text[i])
		size := 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		kind := kNone
		switch {
		case 'a' <= r && r <= 'z':
			kind = kLower
		case 'A' <= r && r <= 'Z':
			kind = kUpper
		case '0' <= r && r <= '9':
			kind = kDigit
		case r >= utf8.RuneSelf && unicode.IsLetter(r):
			if unicode.IsUpper(r) {
				kind = kUpper
			} else {
				kind = kLower
			}
		}
		if kind == kNone {
			if r != '_' {
				flushPiece()
				flushWord()
			} else {
				flushPiece()
			}
			prev = kNone
			i += size
			continue
		}
		switch {
		case prev == kLower && kind == kUpper,
			prev == kDigit && kind != kDigit,
			prev != kDigit && prev != kNone && kind == kDigit:
			flushPiece()
		case prev == kUpper && kind == kLower && len(piece) > lastSize:
			// "HTTPServer": the last upper-case letter starts the next piece.
			var last [utf8.UTFMax]byte
			n := copy(last[:], piece[len(piece)-lastSize:])
			piece = piece[:len(piece)-lastSize]
			flushPiece()
			piece = append(piece, last[:n]...)
		}
		before := len(piece)
		if r < utf8.RuneSelf {
			c := byte(r)
			if kind == kUpper {
				c += 'a' - 'A'
			}
			piece = append(piece, c)
			whole = append(whole, c)
		} else {
			piece = utf8.AppendRune(piece, unicode.ToLower(r))
			whole = utf8.AppendRune(whole, unicode.ToLower(r))
		}
		prev = kind
		lastSize = len(piece) - before
		i += size
	}
	flushPiece()
	flushWord()
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

// isStop reports whether w (lowercase) carries no meaning for search:
// keywords shared by the languages we index and English function words.
func isStop(w []byte) bool {
	if len(w) > 10 {
		return false
	}
	_, ok := stopWords[string(w)]
	return ok
}

// stopWords is read-only after package initialisation.
var stopWords = func() map[string]struct{} {
	words := []string{
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
		"here", "both", "few", "more", "most", "just", "now", "if", "up", "out",
		"off", "down",
	}
	m := make(map[string]struct{}, len(words))
	for _, w := range words {
		m[w] = struct{}{}
	}
	return m
}()
