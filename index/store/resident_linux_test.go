package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// rssFile returns the process's resident file-backed memory in bytes.
func rssFile(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(l, "RssFile:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("parsing %q: %v", l, err)
			}
			return kb << 10
		}
	}
	t.Skip("no RssFile in /proc/self/status")
	return 0
}

func TestReleaseMemory(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t, &Options{NoSync: true})
	// Text that does not compress, so the file is as large as the text.
	r := rand.New(rand.NewPCG(3, 4))
	const files, perFile, textLen = 40, 50, 4096
	for i := range files {
		texts := make([]string, perFile)
		for j := range texts {
			b := make([]byte, textLen)
			for k := range b {
				b[k] = byte('!' + r.IntN(90))
			}
			texts[j] = string(b)
		}
		mustReplace(t, s, update(fmt.Sprintf("f%d.go", i), texts...))
	}
	scan := func() {
		n := 0
		err := s.ForEachChunk(ctx, true, func(c Chunk) error { n += len(c.Text); return nil })
		if err != nil || n != files*perFile*textLen {
			t.Fatalf("ForEachChunk read %d bytes, %v; want %d", n, err, files*perFile*textLen)
		}
	}
	scan()
	before := rssFile(t)
	s.ReleaseMemory()
	after := rssFile(t)
	const text = files * perFile * textLen
	if before-after < text/2 {
		t.Errorf("ReleaseMemory() took resident file pages from %d to %d bytes, want at least %d fewer", before, after, text/2)
	}
	scan() // the data is still there
}
