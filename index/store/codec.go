package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"
	"go.etcd.io/bbolt"
)

// Record layouts (schema 4). All integers are varints unless noted.
//
//	file     : size, modTime(zigzag), contentHash[16], n, firstID, delta...
//	chunk    : flags(byte, 0), startLine, endLine, startByte, endByte,
//	           rel, symbol, kind, language (length-prefixed), textHash[16],
//	           textOff, textLen
//	text     : encoding(byte), rawLen, crc(uint32 LE, CRC-32C of the raw
//	           text), data (the raw text, or its raw deflate when encoding
//	           is textDeflate): the file's chunk texts, concatenated in
//	           chunk order; a chunk's text is raw[textOff:textOff+textLen]
//	vector   : refcount(uint32 big-endian) [, dims, scale(float32 LE),
//	           (dims+1)/2 bytes of 4-bit components, see vector.go]
//	snapshot : generation(uint64 big-endian), rawLen, one zstd frame
//
// Chunk keys are the chunk ID as 4 big-endian bytes, so a cursor walks chunks
// in ID order and new chunks are appended at the end of the B+tree. Text
// keys are the file's path. Compressing a file's text as one stream takes
// about half the bytes of compressing each chunk alone, and keeps the chunk
// records small, so loading the index reads little.
//
// A text's checksum and a zstd frame's own checksum turn a garbled record
// into an error rather than wrong text. A zstd frame is written as a
// single segment, so its header states the decompressed size, which the
// reader checks against rawLen before it allocates.

// Text encodings. Schemas 2 and 3 wrote 0 (raw) and 1 (raw deflate) without
// a checksum; a record with any encoding but these two is corrupt.
const (
	textRaw     = 2
	textDeflate = 3
)

// Compression levels. A file's text, a few kilobytes, is compressed
// between parses, with the caches full of the parser's data; per-text setup
// and cache misses then cost more than throughput suggests. Measured that
// way on the chunk texts of the Go tree (BenchmarkTextCodecParsed),
// klauspost's deflate at level 4 compresses 1.8 times as fast as the
// standard library's at level 4 (the codec of schema 3) for 4% more bytes;
// zstd SpeedDefault is 1.3 times as fast for 2% more, SpeedFastest twice as
// fast for 8% more, klauspost's level 2 2.2 times for 11% more. A snapshot
// is one large input, which warms the tables: zstd SpeedDefault compresses
// posting lists twice as fast as deflate level 4, 2% smaller, and
// decompresses them 4.5 times as fast (BenchmarkTextCodec).
const (
	deflateLevel  = 4
	snapshotLevel = zstd.SpeedDefault
)

// maxDeflateRatio bounds how many bytes one byte of deflate can expand to
// (a 258-byte match costs at least two bits), so a rawLen beyond it is
// corrupt and not allocated.
const maxDeflateRatio = 1032

// maxZstdRatio bounds how many bytes one byte of zstd can expand to: a
// block of at most 128 KB costs at least four bytes (a run-length block).
const maxZstdRatio = 128 << 10 / 4

// zstdWindow is how far back a zstd match may reach. It bounds an encoder's
// history (twice the window); larger windows did not shrink posting lists.
const zstdWindow = 1 << 20

// maxDecoded caps the decompressed size of one snapshot, as rawLen is read.
const maxDecoded = math.MaxInt32

// minCompress is the shortest text worth trying to compress.
const minCompress = 96

var (
	errShort = errors.New("record too short")
	crcTable = crc32.MakeTable(crc32.Castagnoli)
)

// codec holds reusable compressors. Safe for concurrent use; the zero value
// is ready.
type codec struct {
	writers   sync.Pool // *flate.Writer
	readers   sync.Pool // io.ReadCloser implementing flate.Resetter
	snapshots sync.Pool // *zstd.Encoder
	decoders  sync.Pool // *zstd.Decoder
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
	b := make([]byte, 1, 16+len(text)/3)
	b[0] = textRaw
	b = binary.AppendUvarint(b, uint64(len(text)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(text, crcTable))
	if len(text) >= minCompress {
		n := len(b)
		z, err := cd.deflate(b, text)
		if err != nil {
			return nil, fmt.Errorf("compressing text of %s: %w", rel, err)
		}
		if len(z)-n < len(text) {
			z[0] = textDeflate
			return z, nil
		}
		b = z[:n]
	}
	return append(b, text...), nil
}

// decodeText decodes a text record.
func (cd *codec) decodeText(rel string, v []byte) (string, error) {
	text, err := cd.decodeTextBytes(v)
	if err != nil {
		return "", fmt.Errorf("decoding text of %s: %w: %w", rel, ErrCorrupt, err)
	}
	return string(text), nil
}

func (cd *codec) decodeTextBytes(v []byte) ([]byte, error) {
	if len(v) == 0 {
		return nil, errShort
	}
	enc := v[0]
	r := reader{b: v[1:]}
	n := r.int()
	sum := r.bytes(4)
	if r.err != nil {
		return nil, r.err
	}
	var text []byte
	switch enc {
	case textRaw:
		if len(r.b) != n {
			return nil, errShort
		}
		text = r.b
	case textDeflate:
		var err error
		if text, err = cd.inflate(r.b, n); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown text encoding %d", enc)
	}
	if crc32.Checksum(text, crcTable) != binary.LittleEndian.Uint32(sum) {
		return nil, errors.New("text checksum mismatch")
	}
	return text, nil
}

// encodeSnapshot returns the snapshot record of data valid for generation
// gen.
func (cd *codec) encodeSnapshot(gen uint64, data []byte) ([]byte, error) {
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16+len(data)/2), gen)
	v = binary.AppendUvarint(v, uint64(len(data)))
	return cd.compressSnapshot(v, data)
}

// decodeSnapshot returns the data of a snapshot record; the caller checks
// its generation.
func (cd *codec) decodeSnapshot(v []byte) ([]byte, error) {
	if len(v) < 8 {
		return nil, errShort
	}
	r := reader{b: v[8:]}
	n := r.int()
	if r.err != nil {
		return nil, r.err
	}
	return cd.decompress(r.b, n)
}

// deflate appends the raw deflate of text to dst.
func (cd *codec) deflate(dst, text []byte) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	w, _ := cd.writers.Get().(*flate.Writer)
	if w == nil {
		var err error
		if w, err = flate.NewWriter(buf, deflateLevel); err != nil {
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

// inflate returns the n bytes that the raw deflate stream z holds.
func (cd *codec) inflate(z []byte, n int) ([]byte, error) {
	if n > maxDeflateRatio*len(z)+64 {
		return nil, fmt.Errorf("%d bytes of deflate cannot hold %d", len(z), n)
	}
	src := bytes.NewReader(z)
	r, _ := cd.readers.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReader(src)
	} else if err := r.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	defer cd.readers.Put(r)
	out := make([]byte, n)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, err
	}
	// The stream must end here: a truncated one lacks its final block.
	var one [1]byte
	if m, err := r.Read(one[:]); m != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = errors.New("text longer than recorded")
		}
		return nil, err
	}
	if src.Len() != 0 {
		return nil, fmt.Errorf("%d bytes after the deflate stream", src.Len())
	}
	return out, nil
}

// compressSnapshot appends one zstd frame holding data to dst.
func (cd *codec) compressSnapshot(dst, data []byte) ([]byte, error) {
	e, _ := cd.snapshots.Get().(*zstd.Encoder)
	if e == nil {
		var err error
		e, err = zstd.NewWriter(nil,
			zstd.WithEncoderLevel(snapshotLevel),
			zstd.WithWindowSize(zstdWindow),
			zstd.WithSingleSegment(true),
			zstd.WithEncoderCRC(true),
			zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("creating zstd encoder: %w", err)
		}
	}
	dst = e.EncodeAll(data, dst)
	cd.snapshots.Put(e)
	return dst, nil
}

// decompress returns the content of z, which must be exactly one zstd
// frame, as compressSnapshot writes, of n bytes.
func (cd *codec) decompress(z []byte, n int) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(z); err != nil {
		return nil, fmt.Errorf("reading zstd frame header: %w", err)
	}
	switch {
	case h.Skippable || !h.HasFCS || h.DictionaryID != 0:
		return nil, fmt.Errorf("zstd frame is not one this index writes (skippable %v, has size %v, dictionary %d)", h.Skippable, h.HasFCS, h.DictionaryID)
	case h.FrameContentSize != uint64(n):
		return nil, fmt.Errorf("zstd frame holds %d bytes, record says %d", h.FrameContentSize, n)
	case n > maxZstdRatio*len(z):
		return nil, fmt.Errorf("%d bytes of zstd cannot hold %d", len(z), n)
	}
	d, _ := cd.decoders.Get().(*zstd.Decoder)
	if d == nil {
		var err error
		d, err = zstd.NewReader(nil,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecodeAllCapLimit(true),
			zstd.WithDecoderMaxMemory(maxDecoded),
			zstd.WithDecoderMaxWindow(maxDecoded))
		if err != nil {
			return nil, fmt.Errorf("creating zstd decoder: %w", err)
		}
	}
	// With the cap limit, a frame that decodes to more than n bytes fails
	// instead of growing out.
	out, err := d.DecodeAll(z, make([]byte, 0, n))
	cd.decoders.Put(d)
	if err != nil {
		return nil, fmt.Errorf("decompressing zstd frame: %w", err)
	}
	if len(out) != n {
		return nil, fmt.Errorf("zstd frame decoded to %d bytes, record says %d", len(out), n)
	}
	return out, nil
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
