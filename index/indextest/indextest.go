// Package indextest provides helpers for tests of the index: workspaces
// written from txtar archives and an embedder that counts and can fail.
package indextest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/codemux/codemux/index/embed"
)

// File is one file of a txtar archive.
type File struct {
	Name string
	Data string
}

// ParseTxtar splits a txtar archive ("-- name --" header lines) into its
// files; the comment before the first header is dropped.
func ParseTxtar(data string) []File {
	var files []File
	for _, line := range strings.SplitAfter(data, "\n") {
		trimmed := strings.TrimRight(line, "\r\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			files = append(files, File{Name: strings.TrimSpace(trimmed[3 : len(trimmed)-3])})
			continue
		}
		if len(files) > 0 {
			files[len(files)-1].Data += line
		}
	}
	return files
}

// Workspace writes the txtar archive at path into a new temporary directory
// and returns the directory.
func Workspace(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading workspace archive: %v", err)
	}
	root := t.TempDir()
	for _, f := range ParseTxtar(string(data)) {
		WriteFile(t, root, f.Name, f.Data)
	}
	return root
}

// WriteFile writes data to the slash-separated rel under root, creating
// directories.
func WriteFile(t testing.TB, root, rel, data string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ErrEmbedFailed is what a failing CountingEmbedder returns.
var ErrEmbedFailed = errors.New("embedding server unavailable")

// CountingEmbedder wraps an Embedder, counting the texts it embeds; while
// failing is set it returns ErrEmbedFailed instead.
type CountingEmbedder struct {
	embed.Embedder

	mu      sync.Mutex
	texts   int
	calls   int
	failing bool
}

var _ embed.Embedder = (*CountingEmbedder)(nil)

// NewCountingEmbedder wraps the built-in embedder.
func NewCountingEmbedder() *CountingEmbedder {
	return &CountingEmbedder{Embedder: embed.NewBuiltin(nil)}
}

// Embed counts texts and delegates, or fails while failing is set.
func (c *CountingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.mu.Lock()
	failing := c.failing
	if !failing {
		c.texts += len(texts)
		c.calls++
	}
	c.mu.Unlock()
	if failing {
		return nil, ErrEmbedFailed
	}
	return c.Embedder.Embed(ctx, texts)
}

// SetFailing makes Embed fail (true) or work (false).
func (c *CountingEmbedder) SetFailing(f bool) {
	c.mu.Lock()
	c.failing = f
	c.mu.Unlock()
}

// Texts returns the number of texts embedded so far and resets the count.
func (c *CountingEmbedder) Texts() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.texts
	c.texts, c.calls = 0, 0
	return n
}
