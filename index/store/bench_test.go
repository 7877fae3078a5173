package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchFile is a file of n chunks of about 1 KB of Go-like text with 384-d
// vectors, all distinct across files.
func benchFile(i, n int) FileUpdate {
	u := FileUpdate{File: File{Rel: fmt.Sprintf("pkg%d/file%d.go", i%97, i), Size: int64(n * 1000), ModTime: int64(i)}}
	u.Vectors = map[Hash][]float32{}
	for j := range n {
		text := fmt.Sprintf("// f%d_%d does things.\nfunc f%d_%d(ctx context.Context, x int) (int, error) {\n", i, j, i, j) +
			strings.Repeat(fmt.Sprintf("\tif x > %d {\n\t\treturn x * %d, nil\n\t}\n", j, i), 25) + "\treturn 0, nil\n}\n"
		h := HashString(text)
		u.Chunks = append(u.Chunks, Chunk{StartLine: j * 30, EndLine: j*30 + 29, EndByte: len(text), Symbol: fmt.Sprintf("f%d_%d", i, j), Kind: "function", Language: "go", TextHash: h, Text: text})
		u.Vectors[h] = vec(text, 384)
	}
	return u
}

// BenchmarkReplaceFiles stores batches of 100 files × 10 chunks with fsync.
func BenchmarkReplaceFiles(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "index.bolt"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const files, chunks = 100, 10
	batches := make([][]FileUpdate, 8)
	for k := range batches {
		for i := range files {
			batches[k] = append(batches[k], benchFile(k*files+i, chunks))
		}
	}
	b.ResetTimer()
	n := 0
	for b.Loop() {
		if _, err := s.ReplaceFiles(context.Background(), batches[n%len(batches)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n*files*chunks)/b.Elapsed().Seconds(), "chunks/s")
}

// BenchmarkLoad reads every chunk (without text) and every vector of a
// 100k-chunk index, as an index does at start.
func BenchmarkLoad(b *testing.B) {
	path := filepath.Join(b.TempDir(), "index.bolt")
	s, err := Open(path, &Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const files, chunks = 10000, 10
	for k := 0; k < files; k += 500 {
		var batch []FileUpdate
		for i := k; i < k+500; i++ {
			batch = append(batch, benchFile(i, chunks))
		}
		if _, err := s.ReplaceFiles(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	fi, _ := os.Stat(path)
	b.Logf("%d chunks: %d bytes on disk (%.0f B/chunk)", files*chunks, fi.Size(), float64(fi.Size())/(files*chunks))
	if err := s.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	fi, _ = os.Stat(path)
	b.Logf("after Compact: %d bytes on disk (%.0f B/chunk)", fi.Size(), float64(fi.Size())/(files*chunks))
	for _, withText := range []bool{false, true} {
		b.Run(fmt.Sprintf("text=%v", withText), func(b *testing.B) {
			for b.Loop() {
				nc, nv := 0, 0
				if err := s.ForEachChunk(context.Background(), withText, func(Chunk) error { nc++; return nil }); err != nil {
					b.Fatal(err)
				}
				if err := s.ForEachVector(context.Background(), func(Hash, []float32) error { nv++; return nil }); err != nil {
					b.Fatal(err)
				}
				if nc != files*chunks || nv != files*chunks {
					b.Fatalf("loaded %d chunks, %d vectors; want %d", nc, nv, files*chunks)
				}
			}
		})
	}
}
