package lexical

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// formatVersion is the version of the MarshalBinary encoding.
//
// History:
//
//	1: magic "CMLX", version, params, slots (id, length, dead), terms
//	   (text, count, last slot, postings bytes).
const formatVersion = 1

const magic = "CMLX"

// ErrVersion is returned (wrapped) by UnmarshalBinary for data written by a
// different format version; the caller should rebuild the index.
var ErrVersion = errors.New("lexical index format version mismatch")

// MarshalBinary encodes the index, including its parameters. Tokenizer
// changes bump formatVersion, so stored terms always match Tokens.
func (x *Index) MarshalBinary() ([]byte, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	size := 64 + len(x.slotID)*10 + len(x.dead)*8
	for term, t := range x.terms {
		size += len(term) + len(x.posts[t].buf) + 20
	}
	b := make([]byte, 0, size)
	b = append(b, magic...)
	b = binary.AppendUvarint(b, formatVersion)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x.p.K1))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x.p.B))
	b = binary.AppendUvarint(b, uint64(x.p.SymbolWeight))
	b = binary.AppendUvarint(b, uint64(len(x.slotID)))
	for s, id := range x.slotID {
		b = binary.AppendUvarint(b, uint64(id))
		b = binary.AppendUvarint(b, uint64(x.slotLen[s]))
	}
	for _, w := range x.dead {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	b = binary.AppendUvarint(b, uint64(len(x.terms)))
	for term, t := range x.terms {
		p := &x.posts[t]
		b = binary.AppendUvarint(b, uint64(len(term)))
		b = append(b, term...)
		b = binary.AppendUvarint(b, uint64(p.n))
		b = binary.AppendUvarint(b, uint64(p.last))
		b = binary.AppendUvarint(b, uint64(len(p.buf)))
		b = append(b, p.buf...)
	}
	return b, nil
}

// UnmarshalBinary replaces the index's contents (and parameters) with data
// written by MarshalBinary.
func (x *Index) UnmarshalBinary(data []byte) error {
	data = bytes.Clone(data) // postings alias this copy
	r := reader{b: data}
	if string(r.bytes(len(magic))) != magic {
		return fmt.Errorf("decoding lexical index: bad magic")
	}
	if v := r.uvarint(); r.err == nil && v != formatVersion {
		return fmt.Errorf("decoding lexical index: version %d, want %d: %w", v, formatVersion, ErrVersion)
	}
	p := Params{tok: x.p.tok}
	p.K1 = math.Float64frombits(r.uint64())
	p.B = math.Float64frombits(r.uint64())
	p.SymbolWeight = int(r.uvarint())
	nSlots := r.count(2)
	slotID := make([]uint32, nSlots)
	slotLen := make([]uint32, nSlots)
	slots := make(map[uint32]uint32, nSlots)
	var totalLen uint64
	for s := 0; s < nSlots && r.err == nil; s++ {
		slotID[s] = uint32(r.uvarint())
		slotLen[s] = uint32(r.uvarint())
	}
	dead := make([]uint64, (nSlots+63)/64)
	for i := range dead {
		dead[i] = r.uint64()
	}
	nDead := 0
	for s := range nSlots {
		if dead[s/64]&(1<<(s%64)) != 0 {
			nDead++
			continue
		}
		slots[slotID[s]] = uint32(s)
		totalLen += uint64(slotLen[s])
	}
	nTerms := r.count(4)
	terms := make(map[string]uint32, nTerms)
	posts := make([]postings, 0, nTerms)
	for range nTerms {
		if r.err != nil {
			break
		}
		term := string(r.bytes(r.count(1)))
		n := uint32(r.uvarint())
		last := uint32(r.uvarint())
		buf := r.bytes(r.count(1))
		if r.err == nil {
			r.err = validPostings(buf, n, last, uint32(nSlots))
		}
		terms[term] = uint32(len(posts))
		posts = append(posts, postings{buf: buf, last: last, n: n})
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return fmt.Errorf("decoding lexical index: %w", r.err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	x.p = p
	x.terms, x.posts = terms, posts
	x.words = nil
	x.slotID, x.slotLen, x.dead, x.slots = slotID, slotLen, dead, slots
	x.nDead, x.totalLen = nDead, totalLen
	return nil
}

// validPostings checks that buf holds exactly n entries with strictly
// increasing slots below nSlots, the last being last, so that a corrupt
// file fails here instead of in Search.
func validPostings(buf []byte, n, last, nSlots uint32) error {
	var slot uint32
	for i := uint32(0); i < n; i++ {
		d, k := binary.Uvarint(buf)
		if k <= 0 || (i > 0 && d == 0) {
			return errors.New("corrupt postings")
		}
		buf = buf[k:]
		if _, k = binary.Uvarint(buf); k <= 0 {
			return errors.New("corrupt postings")
		}
		buf = buf[k:]
		next := uint64(slot) + d
		if i == 0 {
			next = d
		}
		if next >= uint64(nSlots) {
			return fmt.Errorf("postings slot %d out of range", next)
		}
		slot = uint32(next)
	}
	if len(buf) != 0 || (n > 0 && slot != last) {
		return errors.New("corrupt postings")
	}
	return nil
}

// reader decodes a byte slice, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errors.New("truncated varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uint64() uint64 {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 8 {
		r.err = errors.New("truncated word")
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

// count reads a length and checks that at least minBytes per element remain.
func (r *reader) count(minBytes int) int {
	v := r.uvarint()
	if r.err == nil && v > uint64(len(r.b)/max(minBytes, 1)) {
		r.err = fmt.Errorf("length %d exceeds remaining data", v)
		return 0
	}
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.err = errors.New("truncated bytes")
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}
