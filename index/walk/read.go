package walk

import (
	"errors"
	"io"
	"os"
	"slices"
)

// Read reads the file f the walk found, unless Classify leaves it out by
// its head: it reads SniffLen bytes, classifies them, and only then makes
// room for the whole file (binary and generated files are mostly left out
// after their head). The file may have changed since the walk; Read takes
// what is there now. reason is the Classify reason (or ReasonEmpty) when
// the file is left out, and then src is nil. err is the read error, which
// wraps fs.ErrNotExist for a file gone since the walk.
func Read(f File) (src []byte, reason string, err error) {
	fh, err := os.Open(f.Abs)
	if err != nil {
		return nil, "", err
	}
	defer fh.Close()
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(fh, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, "", err
	}
	head = head[:n]
	if skip, why := Classify(f.Rel, head, max(f.Size, int64(n))); skip {
		return nil, why, nil
	}
	if n == 0 {
		return nil, ReasonEmpty, nil
	}
	if n < SniffLen {
		return head, "", nil
	}
	// Read to the end into room for the size the walk saw, growing only if
	// the file grew since.
	buf := append(make([]byte, 0, max(int64(n), f.Size+1)), head...)
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, max(512, len(buf)/2))
		}
		m, err := fh.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if errors.Is(err, io.EOF) {
			return buf, "", nil
		}
		if err != nil {
			return nil, "", err
		}
	}
}
