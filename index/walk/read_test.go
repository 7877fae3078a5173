package walk

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRead checks that a file is read whole whatever its size, also when
// it grew or shrank since the walk saw it, and that a file Classify leaves
// out is not read past its head.
func TestRead(t *testing.T) {
	dir := t.TempDir()
	text := func(n int) []byte {
		b := bytes.Repeat([]byte("func f() {}\n"), n/12+1)
		return b[:n]
	}
	binary := append(text(SniffLen/2), 0)
	binary = append(binary, text(4*SniffLen)...)
	tests := []struct {
		name       string
		content    []byte
		walkSize   int64 // the size the walk saw
		wantReason string
	}{
		{"small", text(100), 100, ""},
		{"sniff length", text(SniffLen), SniffLen, ""},
		{"large", text(5*SniffLen + 7), 5*SniffLen + 7, ""},
		{"grew", text(3 * SniffLen), SniffLen + 10, ""},
		{"grew a lot", text(40 * SniffLen), 0, ""},
		{"shrank", text(SniffLen + 3), 4 * SniffLen, ""},
		{"shrank below the head", text(100), 4 * SniffLen, ""},
		{"empty", nil, 0, ReasonEmpty},
		{"binary", binary, int64(len(binary)), ReasonBinary},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			abs := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_")+".go")
			if err := os.WriteFile(abs, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			got, reason, err := Read(File{Rel: filepath.Base(abs), Abs: abs, Size: tt.walkSize})
			if tt.wantReason != "" {
				if err != nil || reason != tt.wantReason || got != nil {
					t.Errorf("Read(%s) = %d bytes, %q, %v; want nil, %q, nil", tt.name, len(got), reason, err, tt.wantReason)
				}
				return
			}
			if err != nil || reason != "" || !bytes.Equal(got, tt.content) {
				t.Errorf("Read(%s) = %d bytes, %q, %v; want the %d bytes of the file", tt.name, len(got), reason, err, len(tt.content))
			}
		})
	}
	if _, _, err := Read(File{Rel: "gone.go", Abs: filepath.Join(dir, "gone.go")}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read(gone.go) error = %v, want one wrapping fs.ErrNotExist", err)
	}
}
