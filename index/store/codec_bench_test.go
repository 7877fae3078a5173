//go:build linux

package store

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codemux/codemux/index/chunk"
	"github.com/codemux/codemux/index/evalset"
	kflate "github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// goSample returns about want bytes of Go source from $(go env GOROOT)/src:
// every 7th .go file in lexical path order, so the sample is the same on
// every run with the same Go release.
func goSample(tb testing.TB, want int) [][]byte {
	tb.Helper()
	root, err := evalset.GorootSrc(context.Background())
	if err != nil {
		tb.Skipf("no Go source tree: %v", err)
	}
	var files [][]byte
	total, seen := 0, 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		if seen++; seen%7 != 0 {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files = append(files, b)
		if total += len(b); total >= want {
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("reading Go sample: %v", err)
	}
	return files
}

// postingsSample builds data shaped like the lexical snapshot from files:
// per identifier, its length-prefixed name and (document delta, term
// frequency) varint pairs.
func postingsSample(files [][]byte) []byte {
	type posting struct {
		last, n int
		buf     []byte
	}
	terms := map[string]*posting{}
	for doc, f := range files {
		tf := map[string]int{}
		for _, w := range strings.FieldsFunc(string(f), func(r rune) bool {
			return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		}) {
			tf[strings.ToLower(w)]++
		}
		for _, w := range slices.Sorted(func(yield func(string) bool) {
			for w := range tf {
				if !yield(w) {
					return
				}
			}
		}) {
			p := terms[w]
			if p == nil {
				p = &posting{last: -1}
				terms[w] = p
			}
			p.buf = binary.AppendUvarint(p.buf, uint64(doc-p.last))
			p.buf = binary.AppendUvarint(p.buf, uint64(tf[w]))
			p.last, p.n = doc, p.n+1
		}
	}
	var b []byte
	for _, w := range slices.Sorted(func(yield func(string) bool) {
		for w := range terms {
			if !yield(w) {
				return
			}
		}
	}) {
		p := terms[w]
		b = putString(b, w)
		b = binary.AppendUvarint(b, uint64(p.n))
		b = binary.AppendUvarint(b, uint64(len(p.buf)))
		b = append(b, p.buf...)
	}
	return b
}

// candidate is one compression scheme under comparison.
type candidate struct {
	name       string
	compress   func(dst, src []byte) []byte
	decompress func(dst, z []byte, n int) ([]byte, error)
}

func flateCandidate(name string, level int) candidate {
	var writers, readers sync.Pool
	return candidate{
		name: name,
		compress: func(dst, src []byte) []byte {
			buf := bytes.NewBuffer(dst)
			w, _ := writers.Get().(*flate.Writer)
			if w == nil {
				w, _ = flate.NewWriter(buf, level)
			} else {
				w.Reset(buf)
			}
			w.Write(src)
			w.Close()
			writers.Put(w)
			return buf.Bytes()
		},
		decompress: func(dst, z []byte, n int) ([]byte, error) {
			r, _ := readers.Get().(io.ReadCloser)
			if r == nil {
				r = flate.NewReader(bytes.NewReader(z))
			} else if err := r.(flate.Resetter).Reset(bytes.NewReader(z), nil); err != nil {
				return nil, err
			}
			defer readers.Put(r)
			dst = slices.Grow(dst[:0], n)[:n]
			_, err := io.ReadFull(r, dst)
			return dst, err
		},
	}
}

// zstdCandidate shares one encoder and one decoder between calls, or with
// pooled, takes them from a sync.Pool.
func zstdCandidate(tb testing.TB, name string, level zstd.EncoderLevel, pooled bool) candidate {
	var encoders, decoders sync.Pool
	encoders.New = func() any {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1))
		if err != nil {
			tb.Fatal(err)
		}
		return e
	}
	decoders.New = func() any {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			tb.Fatal(err)
		}
		return d
	}
	enc, dec := encoders.Get().(*zstd.Encoder), decoders.Get().(*zstd.Decoder)
	return candidate{
		name: name,
		compress: func(dst, src []byte) []byte {
			if !pooled {
				return enc.EncodeAll(src, dst)
			}
			e := encoders.Get().(*zstd.Encoder)
			defer encoders.Put(e)
			return e.EncodeAll(src, dst)
		},
		decompress: func(dst, z []byte, n int) ([]byte, error) {
			if !pooled {
				return dec.DecodeAll(z, dst[:0])
			}
			d := decoders.Get().(*zstd.Decoder)
			defer decoders.Put(d)
			return d.DecodeAll(z, dst[:0])
		},
	}
}

// kflateCandidate is klauspost's deflate, with one writer and one reader
// reused for every stream.
func kflateCandidate(name string, level int) candidate {
	w, _ := kflate.NewWriter(nil, level)
	r := kflate.NewReader(bytes.NewReader(nil))
	return candidate{
		name: name,
		compress: func(dst, src []byte) []byte {
			buf := bytes.NewBuffer(dst)
			w.Reset(buf)
			w.Write(src)
			w.Close()
			return buf.Bytes()
		},
		decompress: func(dst, z []byte, n int) ([]byte, error) {
			if err := r.(kflate.Resetter).Reset(bytes.NewReader(z), nil); err != nil {
				return nil, err
			}
			dst = slices.Grow(dst[:0], n)[:n]
			_, err := io.ReadFull(r, dst)
			return dst, err
		},
	}
}

// codecCandidate is the store's own codec, compressing as encodeText (or
// with snapshots, encodeSnapshot) does.
func codecCandidate(tb testing.TB, snapshots bool) candidate {
	cd := new(codec)
	compress, decompress := cd.deflate, cd.inflate
	if snapshots {
		compress, decompress = cd.compressSnapshot, cd.decompress
	}
	return candidate{
		name: "codec",
		compress: func(dst, src []byte) []byte {
			z, err := compress(dst, src)
			if err != nil {
				tb.Fatal(err)
			}
			return z
		},
		decompress: func(_, z []byte, n int) ([]byte, error) { return decompress(z, n) },
	}
}

// candidates are the schemes BenchmarkTextCodec compares.
func candidates(tb testing.TB, snapshots bool) []candidate {
	return []candidate{
		flateCandidate("flate-4", 4),
		flateCandidate("flate-3", 3),
		flateCandidate("flate-2", 2),
		flateCandidate("flate-1", 1),
		flateCandidate("flate-huffman", flate.HuffmanOnly),
		kflateCandidate("kflate-6", 6),
		kflateCandidate("kflate-5", 5),
		kflateCandidate("kflate-4", 4),
		kflateCandidate("kflate-3", 3),
		kflateCandidate("kflate-1", 1),
		zstdCandidate(tb, "zstd-fastest", zstd.SpeedFastest, false),
		zstdCandidate(tb, "zstd-default", zstd.SpeedDefault, false),
		zstdCandidate(tb, "zstd-default-pooled", zstd.SpeedDefault, true),
		codecCandidate(tb, snapshots),
		{
			name:       "s2",
			compress:   func(dst, src []byte) []byte { return s2.Encode(dst[:cap(dst)], src) },
			decompress: func(dst, z []byte, n int) ([]byte, error) { return s2.Decode(dst[:cap(dst)], z) },
		},
	}
}

// BenchmarkTextCodec compresses each file of a 4 MB sample of Go source as
// one stream, as texts are stored, and a postings-shaped blob built from
// the same files, as snapshots are, then decompresses them. flate is the
// standard library's deflate, kflate klauspost's. cpu-MB/s is
// uncompressed bytes per second of the benchmark thread's CPU time in the
// codec calls alone, steadier than the wall clock on a shared machine;
// ratio is uncompressed over compressed size.
//
// In "hot" runs the streams follow each other, so the codec's tables stay
// in the CPU caches. "cold" runs model an index update, where a text is
// compressed between parses: before each stream 8 MB of other memory is
// touched, and every 20 streams the heap is collected and its free pages
// returned to the system, as under a memory limit (this empties every
// sync.Pool). BenchmarkTextCodecParsed models an update more closely.
func BenchmarkTextCodec(b *testing.B) {
	files := goSample(b, 4<<20)
	post := [][]byte{postingsSample(files)}
	other := make([]byte, 8<<20)
	for _, in := range []struct {
		name  string
		parts [][]byte
		modes []string
	}{{"texts", files, []string{"hot", "cold"}}, {"postings", post, []string{"hot"}}} {
		raw := 0
		for _, f := range in.parts {
			raw += len(f)
		}
		for _, c := range candidates(b, in.name == "postings") {
			z := make([][]byte, len(in.parts))
			zn := 0
			for i, f := range in.parts {
				z[i] = c.compress(nil, f)
				zn += len(z[i])
				got, err := c.decompress(nil, z[i], len(f))
				if err != nil || !bytes.Equal(got, f) {
					b.Fatalf("%s: decompress(compress(part %d)) = %d bytes, %v; want %d bytes", c.name, i, len(got), err, len(f))
				}
			}
			ratio := float64(raw) / float64(zn)
			for _, mode := range in.modes {
				// between runs before stream i, outside the measured time.
				between := func(i int) {
					if mode != "cold" {
						return
					}
					for j := 0; j < len(other); j += 64 {
						other[j]++
					}
					if i%20 == 0 {
						debug.FreeOSMemory()
					}
				}
				// timed runs op on each part in turn, timing only op.
				timed := func(b *testing.B, op func(i int) error) {
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					b.SetBytes(int64(raw))
					var cpu time.Duration
					for b.Loop() {
						for i := range in.parts {
							between(i)
							t0 := threadCPU(b)
							err := op(i)
							cpu += threadCPU(b) - t0
							if err != nil {
								b.Fatal(err)
							}
						}
					}
					reportCPU(b, cpu, raw, ratio)
				}
				var dst []byte
				b.Run(fmt.Sprintf("%s/%s/%s/compress", in.name, mode, c.name), func(b *testing.B) {
					timed(b, func(i int) error {
						dst = c.compress(dst[:0], in.parts[i])
						return nil
					})
				})
				b.Run(fmt.Sprintf("%s/%s/%s/decompress", in.name, mode, c.name), func(b *testing.B) {
					timed(b, func(i int) (err error) {
						dst, err = c.decompress(dst, z[i], len(in.parts[i]))
						return err
					})
				})
			}
		}
	}
}

// BenchmarkTextCodecParsed measures text compression as an index update
// does it: it chunks every 4th file under $(go env GOROOT)/src (any
// language, up to 1 MB, without NUL bytes) with tree-sitter and, after
// each parse, compresses the file's concatenated chunk texts with one
// candidate, taking turns, so each compression finds the caches as a parse
// leaves them. Every 20 files the heap is collected and returned to the
// system. cpu-MB/s counts only those compression calls; ratio and bytes
// are over all texts (compressed once more by every candidate, untimed),
// bytes being the bulk of the texts bucket. Run with -benchtime 1x.
func BenchmarkTextCodecParsed(b *testing.B) {
	root, err := evalset.GorootSrc(context.Background())
	if err != nil {
		b.Skipf("no Go source tree: %v", err)
	}
	var paths []string
	seen := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if seen++; seen%4 == 0 {
			paths = append(paths, path)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	cs := []candidate{
		flateCandidate("flate-4", 4),
		kflateCandidate("kflate-5", 5),
		kflateCandidate("kflate-4", 4),
		kflateCandidate("kflate-3", 3),
		kflateCandidate("kflate-2", 2),
		kflateCandidate("kflate-1", 1),
		zstdCandidate(b, "zstd-default", zstd.SpeedDefault, false),
		zstdCandidate(b, "zstd-fastest", zstd.SpeedFastest, false),
		codecCandidate(b, false),
	}
	ctx := context.Background()
	c := chunk.New(nil)
	defer c.Close()
	for b.Loop() {
		runtime.LockOSThread()
		cpu := make([]time.Duration, len(cs))
		timed, zn := make([]int, len(cs)), make([]int, len(cs))
		n, raw := 0, 0
		for _, path := range paths {
			src, err := os.ReadFile(path)
			if err != nil || len(src) == 0 || len(src) > 1<<20 || bytes.IndexByte(src, 0) >= 0 {
				continue
			}
			chunks, err := c.Chunk(ctx, path, src)
			if err != nil || len(chunks) == 0 {
				continue
			}
			var text []byte
			for _, ch := range chunks {
				text = append(text, ch.Text...)
			}
			if n%20 == 0 {
				debug.FreeOSMemory()
			}
			k := n % len(cs)
			n++
			t0 := threadCPU(b)
			cs[k].compress(nil, text)
			cpu[k] += threadCPU(b) - t0
			timed[k] += len(text)
			for k, c := range cs {
				zn[k] += min(len(c.compress(nil, text)), len(text))
			}
			raw += len(text)
		}
		runtime.UnlockOSThread()
		for k, c := range cs {
			b.Logf("%-13s %6.0f cpu-MB/s  ratio %.3f  bytes %d (%+.1f%%)", c.name, float64(timed[k])/1e6/cpu[k].Seconds(), float64(raw)/float64(zn[k]), zn[k], 100*float64(zn[k]-zn[0])/float64(zn[0]))
		}
		b.Logf("%d texts, %d bytes", n, raw)
	}
}

// threadCPU returns the CPU time of the calling thread.
func threadCPU(b testing.TB) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		b.Fatalf("reading thread CPU time: %v", err)
	}
	return time.Duration(ts.Nano())
}

// reportCPU reports MB/s of CPU time (cpu-MB/s) and the compression ratio.
func reportCPU(b *testing.B, cpu time.Duration, raw int, ratio float64) {
	if cpu > 0 {
		b.ReportMetric(float64(raw)*float64(b.N)/1e6/cpu.Seconds(), "cpu-MB/s")
	}
	b.ReportMetric(ratio, "ratio")
}
