package embed

import "github.com/codemux/codemux/index/word"

// NewBuiltinVariant exposes the unexported feature weights to the retrieval
// measurement in package embed_test.
func NewBuiltinVariant(dim int, wordWeight, gramWeight float64, noAbbrev bool, head int) *Builtin {
	return NewBuiltin(&BuiltinOptions{Dim: dim, wordWeight: wordWeight, gramWeight: gramWeight, noAbbrev: noAbbrev, headWeight: head})
}

// pieces calls emit with each lowercased identifier piece of text that is
// at least two bytes long and not a stop word: text is split at non-letters,
// underscores, case changes ("HTTPServer" → http, server) and letter/digit
// boundaries; digit runs are dropped.
func pieces(text string, emit func([]byte)) {
	var p []byte
	byteClass.Split(text, func(piece string) {
		p = appendLower(p[:0], piece)
		if len(p) >= 2 && !word.IsStop(p) {
			emit(p)
		}
	}, nil)
}
