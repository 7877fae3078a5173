package chunk

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	sitter "github.com/smacker/go-tree-sitter"
)

// goSample reads up to limit bytes of .go files from GOROOT/src, taking
// every step-th file so the sample spans the tree.
func goSample(tb testing.TB, step, limit int) map[string][]byte {
	tb.Helper()
	root := filepath.Join(runtime.GOROOT(), "src")
	files := make(map[string][]byte)
	total, i := 0, 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || total >= limit {
			return err
		}
		i++
		if i%step != 0 {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files[path] = src
		total += len(src)
		return nil
	})
	if err != nil {
		tb.Fatalf("reading %s: %v", root, err)
	}
	if len(files) == 0 {
		tb.Skipf("no Go sources under %s", root)
	}
	return files
}

func sampleBytes(files map[string][]byte) int64 {
	var n int64
	for _, src := range files {
		n += int64(len(src))
	}
	return n
}

// BenchmarkChunkGoStdlib chunks a sample of the Go standard library.
func BenchmarkChunkGoStdlib(b *testing.B) {
	files := goSample(b, 20, 4<<20)
	c := New(nil)
	defer c.Close()
	ctx := context.Background()
	b.SetBytes(sampleBytes(files))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for path, src := range files {
			if _, err := c.Chunk(ctx, path, src); err != nil {
				b.Fatalf("Chunk(%q) error: %v", path, err)
			}
		}
	}
}

// BenchmarkParseOnly parses the files of BenchmarkChunkGoStdlib and does
// nothing else, as the baseline for the chunking overhead.
func BenchmarkParseOnly(b *testing.B) {
	files := goSample(b, 20, 4<<20)
	p := sitter.NewParser()
	defer p.Close()
	p.SetLanguage(grammar("go"))
	ctx := context.Background()
	b.SetBytes(sampleBytes(files))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for path, src := range files {
			tree, err := p.ParseCtx(ctx, nil, src)
			if err != nil {
				b.Fatalf("parsing %s: %v", path, err)
			}
			tree.Close()
		}
	}
}
