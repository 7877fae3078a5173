package embed

// NewBuiltinVariant exposes the unexported feature weights to the retrieval
// measurement in package embed_test.
func NewBuiltinVariant(dim int, wordWeight, gramWeight float64, noAbbrev bool, head int) *Builtin {
	return NewBuiltin(&BuiltinOptions{Dim: dim, wordWeight: wordWeight, gramWeight: gramWeight, noAbbrev: noAbbrev, headWeight: head})
}
