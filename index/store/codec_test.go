package store

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"go.etcd.io/bbolt"
)

// goLike returns n bytes of varied, Go-shaped text.
func goLike(n int) []byte {
	var b []byte
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, "func f%d(ctx context.Context, x%d int) error {\n\tif err := g(x%d * %d); err != nil {\n\t\treturn fmt.Errorf(\"calling g %d: %%w\", err)\n\t}\n\treturn nil\n}\n\n", i, i%7, i%7, i*31%1000, i)
	}
	return b[:n]
}

// randomBytes returns n incompressible bytes, the same for the same seed.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestTextSizes(t *testing.T) {
	var cd codec
	sizes := []int{0, 1, minCompress - 1, minCompress, 255, 256, 1023, 1024, 1025, 64<<10 + 256, 128<<10 + 1, zstdWindow + 5, 3 << 20}
	for _, n := range sizes {
		for _, kind := range []string{"go", "random"} {
			t.Run(fmt.Sprintf("%s/%d", kind, n), func(t *testing.T) {
				text := goLike(n)
				if kind == "random" {
					text = randomBytes(uint64(n), n)
				}
				v, err := cd.encodeText("a.go", text)
				if err != nil {
					t.Fatalf("encodeText(%d bytes) = %v", n, err)
				}
				got, err := cd.decodeText("a.go", v)
				if err != nil || got != string(text) {
					t.Fatalf("decodeText(encodeText(%d %s bytes)) = %d bytes, %v; want the text back", n, kind, len(got), err)
				}
				// Short texts are stored raw, as is random data; Go
				// source compresses from a few hundred bytes on.
				want := byte(textRaw)
				if kind == "go" && n >= 256 || kind == "go" && n >= minCompress && v[0] == textDeflate {
					want = textDeflate
				}
				if v[0] != want {
					t.Errorf("encodeText(%d %s bytes) encoding = %d, want %d", n, kind, v[0], want)
				}
				if over := len(v) - n; over > 1+binary.MaxVarintLen32+4 {
					t.Errorf("encodeText(%d %s bytes) = %d bytes, %d more than the text", n, kind, len(v), over)
				}
			})
		}
	}
}

func TestDecodeTextDamaged(t *testing.T) {
	var cd codec
	text := goLike(5000)
	good, err := cd.encodeText("a.go", text)
	if err != nil || good[0] != textDeflate {
		t.Fatalf("encodeText() = %x…, %v; want a deflate record", good[:1], err)
	}
	_, hdr := binary.Uvarint(good[1:])
	sum := good[1+hdr : 1+hdr+4]
	stream := good[1+hdr+4:]
	record := func(enc byte, n int, sum, data []byte) []byte {
		b := binary.AppendUvarint([]byte{enc}, uint64(n))
		b = append(b, sum...)
		return append(b, data...)
	}
	flip := func(b []byte, i int) []byte {
		b = bytes.Clone(b)
		b[i] ^= 0x10
		return b
	}
	var stdDeflate bytes.Buffer
	w, _ := flate.NewWriter(&stdDeflate, 4)
	w.Write(text)
	w.Close()
	zstdFrame, err := cd.compressSnapshot(nil, text)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		v    []byte
	}{
		{"empty record", nil},
		{"encoding only", good[:1]},
		{"no checksum", good[:1+hdr+2]},
		{"schema 3 deflate", append(binary.AppendUvarint([]byte{1}, uint64(len(text))), stdDeflate.Bytes()...)},
		{"schema 3 raw", append(binary.AppendUvarint([]byte{0}, uint64(len(text))), text...)},
		{"unknown encoding", record(textDeflate+1, len(text), sum, stream)},
		{"raw encoding of a stream", record(textRaw, len(text), sum, stream)},
		{"zstd frame as deflate", record(textDeflate, len(text), sum, zstdFrame)},
		{"length one short", record(textDeflate, len(text)-1, sum, stream)},
		{"length one long", record(textDeflate, len(text)+1, sum, stream)},
		{"huge length", record(textDeflate, math.MaxInt32, sum, stream)},
		{"length beyond int32", record(textDeflate, math.MaxInt32+1, sum, stream)},
		{"flipped checksum", record(textDeflate, len(text), flip(sum, 1), stream)},
		{"flipped stream bit", record(textDeflate, len(text), sum, flip(stream, len(stream)/2))},
		{"flipped raw text bit", record(textRaw, len(text), sum, flip(text, 100))},
		{"truncated stream", record(textDeflate, len(text), sum, stream[:len(stream)-1])},
		{"trailing garbage", record(textDeflate, len(text), sum, append(bytes.Clone(stream), 1, 2, 3))},
		{"two streams", record(textDeflate, len(text), sum, append(bytes.Clone(stream), stream...))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := cd.decodeText("a.go", tt.v)
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("decodeText(%s) = %d bytes, %v; want ErrCorrupt", tt.name, len(got), err)
			}
		})
	}
}

// TestDecodeTextBitFlips flips every bit of a record in turn: each result
// either decodes to the original text or fails with ErrCorrupt.
func TestDecodeTextBitFlips(t *testing.T) {
	var cd codec
	text := string(goLike(700))
	good, err := cd.encodeText("a.go", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for i := range good {
		for bit := range 8 {
			v := bytes.Clone(good)
			v[i] ^= 1 << bit
			got, err := cd.decodeText("a.go", v)
			if err == nil && got != text {
				wrong++
				if wrong <= 3 {
					t.Errorf("decodeText(record with byte %d bit %d flipped) = other text, nil; want ErrCorrupt", i, bit)
				}
			} else if err != nil && !errors.Is(err, ErrCorrupt) {
				t.Errorf("decodeText(record with byte %d bit %d flipped) = %v, want ErrCorrupt", i, bit, err)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d bit flips decoded to wrong text", wrong, 8*len(good))
	}
}

func TestSnapshotRecords(t *testing.T) {
	var cd codec
	tests := []struct {
		name string
		data []byte
	}{
		{"nil", nil},
		{"short", []byte("state 0")},
		{"postings", goLike(300 << 10)},
		{"beyond the window", goLike(3 << 20)},
		{"random", randomBytes(9, 10000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := cd.encodeSnapshot(77, tt.data)
			if err != nil {
				t.Fatalf("encodeSnapshot(%d bytes) = %v", len(tt.data), err)
			}
			if g := binary.BigEndian.Uint64(v); g != 77 {
				t.Errorf("encodeSnapshot(gen 77) starts with generation %d", g)
			}
			got, err := cd.decodeSnapshot(v)
			if err != nil || !bytes.Equal(got, tt.data) {
				t.Fatalf("decodeSnapshot(encodeSnapshot(%d bytes)) = %d bytes, %v", len(tt.data), len(got), err)
			}
			for _, n := range []int{0, 7, 8, 9, len(v) - 1} {
				if got, err := cd.decodeSnapshot(v[:n]); err == nil {
					t.Errorf("decodeSnapshot(truncated to %d of %d bytes) = %d bytes, nil error", n, len(v), len(got))
				}
			}
			_, m := binary.Uvarint(v[8:])
			frame := v[8+m:]
			damaged := map[string][]byte{
				"length one long": append(binary.AppendUvarint(bytes.Clone(v[:8]), uint64(len(tt.data)+1)), frame...),
				"huge length":     append(binary.AppendUvarint(bytes.Clone(v[:8]), math.MaxInt32), frame...),
				"trailing bytes":  append(bytes.Clone(v), 0, 0, 0, 0),
			}
			if len(frame) > 12 {
				flipped := bytes.Clone(v)
				flipped[8+m+len(frame)/2] ^= 0x40
				damaged["flipped bit"] = flipped
			}
			for name, d := range damaged {
				if got, err := cd.decodeSnapshot(d); err == nil {
					t.Errorf("decodeSnapshot(%s) = %d bytes, nil error", name, len(got))
				}
			}
		})
	}
}

// TestSnapshotOldFormat stores a schema 3 snapshot record (generation and
// raw deflate) in the current generation: reading it must fail with
// ErrCorrupt, not return inflated garbage or nothing.
func TestSnapshotOldFormat(t *testing.T) {
	s, path := openTemp(t, &Options{NoSync: true})
	mustReplace(t, s, update("x.go", "a"))
	gen, err := s.Generation()
	if err != nil {
		t.Fatal(err)
	}
	data := goLike(4000)
	if err := s.PutSnapshot("lex", gen, data); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var old bytes.Buffer
	old.Write(binary.BigEndian.AppendUint64(nil, gen))
	w, _ := flate.NewWriter(&old, 4)
	w.Write(data)
	w.Close()
	rawBolt(t, path, func(tx *bbolt.Tx) error { return tx.Bucket(bucketSnapshots).Put([]byte("lex"), old.Bytes()) })
	s2, err := Open(path, &Options{NoSync: true, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, ok, err := s2.Snapshot("lex"); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Snapshot() of a deflate record = %d bytes, %v, %v; want ErrCorrupt", len(got), ok, err)
	}
}

// TestCodecConcurrent shares one codec between goroutines, as Store.Encode
// callers and readers do.
func TestCodecConcurrent(t *testing.T) {
	var cd codec
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				text := goLike(1000 + 997*g + 13*i)
				v, err := cd.encodeText("a.go", text)
				if err == nil {
					var got string
					got, err = cd.decodeText("a.go", v)
					if err == nil && got != string(text) {
						err = fmt.Errorf("text %d/%d came back different", g, i)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// FuzzDecodeText checks that no record, however damaged, panics or fails
// with anything but ErrCorrupt, and that a record that decodes holds as
// many bytes as it says.
func FuzzDecodeText(f *testing.F) {
	var cd codec
	for _, text := range [][]byte{nil, []byte("x := 1"), goLike(200), goLike(3000), randomBytes(1, 300)} {
		v, err := cd.encodeText("a.go", text)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		text, err := cd.decodeText("a.go", v)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decodeText(%x) = %v, want ErrCorrupt", v, err)
			}
			return
		}
		if n, m := binary.Uvarint(v[1:]); m <= 0 || uint64(len(text)) != n {
			t.Fatalf("decodeText(%x) = %d bytes, record says %d", v, len(text), n)
		}
	})
}
