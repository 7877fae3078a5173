// Package embed turns chunk text into vectors: a built-in pure-Go embedder and clients for embedding servers.
//
// Every Embedder has a stable ID naming its algorithm or endpoint kind and
// model; vectors produced under different IDs (or of different Dim) must
// never be compared or stored together. All vectors are
// L2-normalised, so cosine similarity is a dot product.
//
// Builtin needs no model and no network and is deterministic. Ollama and
// OpenAICompatible call an embedding server over HTTP, batching inputs.
// All embedders here are safe for concurrent use and start no goroutines.
package embed

import (
	"context"
	"math"
)

// Embedder turns texts into vectors.
type Embedder interface {
	// ID identifies the algorithm and its version and dimension, or the
	// endpoint kind and model, e.g. "builtin/v1/384" or
	// "ollama/nomic-embed-text". It never changes for one Embedder.
	ID() string
	// Dim returns the vector dimension, or 0 while it is not yet known.
	Dim() int
	// Embed returns one L2-normalised vector per text, in order.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// Dot returns the dot product of a and b (their cosine similarity when both
// are L2-normalised). It panics if the lengths differ.
func Dot(a, b []float32) float32 {
	if len(a) != len(b) {
		panic("embed: Dot of vectors with different lengths")
	}
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// normalize scales v to unit length in place; the zero vector stays zero.
func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}
