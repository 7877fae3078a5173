package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"go.etcd.io/bbolt"
)

// Record layouts (schema 3). All integers are varints unless noted.
//
//	file   : size, modTime(zigzag), contentHash[16], n, firstID, delta...
//	chunk  : flags(byte, 0), startLine, endLine, startByte, endByte,
//	         rel, symbol, kind, language (length-prefixed), textHash[16],
//	         textOff, textLen
//	text   : flags(byte), rawLen, data (raw, or raw-deflate when
//	         flags&flagFlate): the file's chunk texts, concatenated in
//	         chunk order; a chunk's text is data[textOff:textOff+textLen]
//	vector : refcount(uint32 big-endian) [, dims, scale(float32 LE),
//	         (dims+1)/2 bytes of 4-bit components, see vector.go]
//
// Chunk keys are the chunk ID as 4 big-endian bytes, so a cursor walks chunks
// in ID order and new chunks are appended at the end of the B+tree. Text
// keys are the file's path. Compressing a file's text as one stream takes
// about half the bytes of compressing each chunk alone, and keeps the chunk
// records small, so loading the index reads little.

const flagFlate = 1

// flateLevel is the compression level of texts and snapshots. On the Go
// tree, level 4 compresses five times faster than level 9 (best) for 5%
// more bytes; at level 9 compression was an eighth of a cold index's CPU.
const flateLevel = 4

// minCompress is the shortest text worth trying to compress.
const minCompress = 96

var errShort = errors.New("record too short")

// codec holds reusable compressors. Safe for concurrent use.
type codec struct {
	writers sync.Pool // *flate.Writer
	readers sync.Pool // io.ReadCloser implementing flate.Resetter
}

func idKey(id uint32) []byte {
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], id)
	return k[:]
}

func putString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// encodeChunk returns the value stored for c (the ID lives in the key),
// whose text is at off in its file's text.
func encodeChunk(c *Chunk, off int) ([]byte, error) {
	b := make([]byte, 0, 64+len(c.Rel)+len(c.Symbol))
	b = append(b, 0) // flags
	for _, v := range []int{c.StartLine, c.EndLine, c.StartByte, c.EndByte} {
		if v < 0 {
			return nil, fmt.Errorf("encoding chunk of %s: negative position %d", c.Rel, v)
		}
		b = binary.AppendUvarint(b, uint64(v))
	}
	b = putString(b, c.Rel)
	b = putString(b, c.Symbol)
	b = putString(b, c.Kind)
	b = putString(b, c.Language)
	b = append(b, c.TextHash[:]...)
	b = binary.AppendUvarint(b, uint64(off))
	b = binary.AppendUvarint(b, uint64(len(c.Text)))
	return b, nil
}

// encodeText returns the text record of a file's concatenated chunk texts.
func (cd *codec) encodeText(rel string, text []byte) ([]byte, error) {
	b := []byte{0}
	b = binary.AppendUvarint(b, uint64(len(text)))
	if len(text) >= minCompress {
		n := len(b)
		z, err := cd.deflate(b, text)
		if err != nil {
			return nil, fmt.Errorf("compressing text of %s: %w", rel, err)
		}
		if len(z)-n < len(text) {
			z[0] |= flagFlate
			return z, nil
		}
		b = z[:n]
	}
	return append(b, text...), nil
}

// decodeText decodes a text record.
func (cd *codec) decodeText(rel string, v []byte) (string, error) {
	if len(v) == 0 {
		return "", fmt.Errorf("decoding text of %s: %w: %w", rel, ErrCorrupt, errShort)
	}
	flags := v[0]
	r := reader{b: v[1:]}
	n := r.int()
	var text string
	if r.err == nil {
		if flags&flagFlate != 0 {
			text, r.err = cd.inflate(r.b, n)
		} else if len(r.b) != n {
			r.err = errShort
		} else {
			text = string(r.b)
		}
	}
	if r.err != nil {
		return "", fmt.Errorf("decoding text of %s: %w: %w", rel, ErrCorrupt, r.err)
	}
	return text, nil
}

// deflate appends the raw-deflate compression of text to dst.
func (cd *codec) deflate(dst, text []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	buf.Grow(len(text)/3 + 64) // source code compresses about threefold
	w, _ := cd.writers.Get().(*flate.Writer)
	if w == nil {
		var err error
		if w, err = flate.NewWriter(buf, flateLevel); err != nil {
			return nil, err
		}
	} else {
		w.Reset(buf)
	}
	defer cd.writers.Put(w)
	if _, err := w.Write(text); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (cd *codec) inflate(z []byte, n int) (string, error) {
	src := bytes.NewReader(z)
	r, _ := cd.readers.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReader(src)
	} else if err := r.(flate.Resetter).Reset(src, nil); err != nil {
		return "", err
	}
	defer cd.readers.Put(r)
	out := make([]byte, n)
	if _, err := io.ReadFull(r, out); err != nil {
		return "", err
	}
	// The stream must end here: a truncated one lacks its final block.
	var one [1]byte
	if m, err := r.Read(one[:]); m != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = errors.New("text longer than recorded")
		}
		return "", err
	}
	return string(out), nil
}

// reader decodes varint records.
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
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) int() int {
	v := r.uvarint()
	if v > math.MaxInt32 {
		r.err = fmt.Errorf("value %d out of range", v)
		return 0
	}
	return int(v)
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errShort
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) string() string { return string(r.bytes(r.int())) }

func (r *reader) hash() (h Hash) {
	copy(h[:], r.bytes(HashSize))
	return h
}

// textRef locates a chunk's text in its file's text.
type textRef struct{ off, n int }

// decodeChunk decodes a chunk value, without its text, and where its text
// is.
func decodeChunk(id uint32, v []byte) (Chunk, textRef, error) {
	if len(v) == 0 {
		return Chunk{}, textRef{}, fmt.Errorf("decoding chunk %d: %w: %w", id, ErrCorrupt, errShort)
	}
	r := reader{b: v[1:]}
	c := Chunk{ID: id}
	c.StartLine = r.int()
	c.EndLine = r.int()
	c.StartByte = r.int()
	c.EndByte = r.int()
	c.Rel = r.string()
	c.Symbol = r.string()
	c.Kind = r.string()
	c.Language = r.string()
	c.TextHash = r.hash()
	ref := textRef{off: r.int(), n: r.int()}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return Chunk{}, textRef{}, fmt.Errorf("decoding chunk %d: %w: %w", id, ErrCorrupt, r.err)
	}
	return c, ref, nil
}

// sliceText returns the chunk's text out of its file's text.
func sliceText(c *Chunk, ref textRef, text string) error {
	if ref.off < 0 || ref.n < 0 || ref.off+ref.n > len(text) {
		return fmt.Errorf("chunk %d: %w: text at %d+%d of %d bytes", c.ID, ErrCorrupt, ref.off, ref.n, len(text))
	}
	c.Text = text[ref.off : ref.off+ref.n]
	return nil
}

// textCache holds the last decoded file text of a scan.
type textCache struct {
	cd   *codec
	rel  string
	text string
	ok   bool
}

// fill sets c.Text, reading its file's text from b unless it is cached.
func (tc *textCache) fill(b *bbolt.Bucket, c *Chunk, ref textRef) error {
	if !tc.ok || tc.rel != c.Rel {
		v := b.Get([]byte(c.Rel))
		if v == nil {
			return fmt.Errorf("chunk %d: %w: no text for %s", c.ID, ErrCorrupt, c.Rel)
		}
		text, err := tc.cd.decodeText(c.Rel, v)
		if err != nil {
			return err
		}
		tc.rel, tc.text, tc.ok = c.Rel, text, true
	}
	return sliceText(c, ref, tc.text)
}

// chunkHash returns the text hash of an encoded chunk without decoding the rest.
func chunkHash(id uint32, v []byte) (Hash, error) {
	if len(v) == 0 {
		return Hash{}, fmt.Errorf("decoding chunk %d: %w: %w", id, ErrCorrupt, errShort)
	}
	r := reader{b: v[1:]}
	for range 4 {
		r.uvarint()
	}
	for range 4 {
		r.bytes(r.int())
	}
	h := r.hash()
	if r.err != nil {
		return Hash{}, fmt.Errorf("decoding chunk %d: %w: %w", id, ErrCorrupt, r.err)
	}
	return h, nil
}

func encodeFile(f *File) []byte {
	b := make([]byte, 0, 32+5*len(f.ChunkIDs))
	b = binary.AppendUvarint(b, uint64(f.Size))
	b = binary.AppendVarint(b, f.ModTime)
	b = append(b, f.ContentHash[:]...)
	b = binary.AppendUvarint(b, uint64(len(f.ChunkIDs)))
	var prev int64
	for _, id := range f.ChunkIDs {
		b = binary.AppendVarint(b, int64(id)-prev)
		prev = int64(id)
	}
	return b
}

func decodeFile(rel string, v []byte) (File, error) {
	r := reader{b: v}
	f := File{Rel: rel}
	f.Size = int64(r.uvarint())
	if r.err == nil {
		mt, n := binary.Varint(r.b)
		if n <= 0 {
			r.err = errShort
		} else {
			f.ModTime = mt
			r.b = r.b[n:]
		}
	}
	f.ContentHash = r.hash()
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b)) {
		r.err = errShort
	}
	if r.err == nil && n > 0 {
		f.ChunkIDs = make([]uint32, 0, n)
		var prev int64
		for range n {
			d, m := binary.Varint(r.b)
			if m <= 0 {
				r.err = errShort
				break
			}
			r.b = r.b[m:]
			prev += d
			if prev <= 0 || prev > math.MaxUint32 {
				r.err = fmt.Errorf("chunk id %d out of range", prev)
				break
			}
			f.ChunkIDs = append(f.ChunkIDs, uint32(prev))
		}
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d trailing bytes", len(r.b))
	}
	if r.err != nil {
		return File{}, fmt.Errorf("decoding file %s: %w: %w", rel, ErrCorrupt, r.err)
	}
	return f, nil
}

// inflateAll decompresses a whole raw-deflate stream.
func (cd *codec) inflateAll(z []byte) ([]byte, error) {
	r := flate.NewReader(bytes.NewReader(z))
	defer r.Close()
	return io.ReadAll(r)
}
