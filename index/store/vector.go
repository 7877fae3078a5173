package store

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Vectors are stored quantised to int8 with one float32 scale per vector:
// component i is q[i]*scale. Search uses cosine similarity, so the error of
// at most scale/2 per component (under 0.4% of the largest component) does
// not change rankings in practice, and a 384-d vector takes 390 bytes
// instead of 1536.

// vectorEntry is the decoded value of the vectors bucket.
type vectorEntry struct {
	refs uint32
	vec  []byte // encoded vector (dims, scale, int8s); nil when none is stored
}

func decodeVectorEntry(h Hash, v []byte) (vectorEntry, error) {
	if len(v) < 4 {
		return vectorEntry{}, fmt.Errorf("decoding vector %s: %w: %w", h, ErrCorrupt, errShort)
	}
	e := vectorEntry{refs: binary.BigEndian.Uint32(v)}
	if len(v) > 4 {
		e.vec = v[4:]
	}
	return e, nil
}

func (e vectorEntry) encode() []byte {
	b := make([]byte, 4, 4+len(e.vec))
	binary.BigEndian.PutUint32(b, e.refs)
	return append(b, e.vec...)
}

// quantize encodes vec as dims, scale and int8 components.
func quantize(vec []float32) []byte {
	var maxAbs float64
	for _, x := range vec {
		maxAbs = math.Max(maxAbs, math.Abs(float64(x)))
	}
	scale := float32(maxAbs / 127)
	b := binary.AppendUvarint(make([]byte, 0, 9+len(vec)), uint64(len(vec)))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(scale))
	for _, x := range vec {
		var q int8
		if scale > 0 {
			q = int8(math.Round(float64(x / scale)))
		}
		b = append(b, byte(q))
	}
	return b
}

// dequantize decodes an encoded vector.
func dequantize(b []byte) ([]float32, error) {
	dims, n := binary.Uvarint(b)
	if n <= 0 || len(b) != n+4+int(dims) {
		return nil, fmt.Errorf("decoding vector: %w: bad length %d", ErrCorrupt, len(b))
	}
	scale := math.Float32frombits(binary.LittleEndian.Uint32(b[n:]))
	q := b[n+4:]
	out := make([]float32, dims)
	for i, c := range q {
		out[i] = float32(int8(c)) * scale
	}
	return out, nil
}

func validVector(vec []float32) error {
	if len(vec) == 0 {
		return fmt.Errorf("empty vector")
	}
	for _, x := range vec {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("vector has a non-finite component")
		}
	}
	return nil
}
