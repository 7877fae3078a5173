package scalebench

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/codemux/codemux/index/evalset"
)

// CopyTree copies the regular files and directories under src to dst
// (created if needed), so that a benchmark can modify its workspace.
// Symlinks and special files are left out, as the walk leaves them out.
func CopyTree(ctx context.Context, src, dst string) (files int, bytes int64, err error) {
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch t := d.Type(); {
		case t.IsDir():
			return os.MkdirAll(target, 0o755)
		case !t.IsRegular():
			return nil
		}
		n, err := copyFile(p, target)
		files++
		bytes += n
		return err
	})
	if err != nil {
		return files, bytes, fmt.Errorf("copying %s to %s: %w", src, dst, err)
	}
	return files, bytes, nil
}

func copyFile(src, dst string) (int64, error) {
	in, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// DirBytes returns the total size of the regular files under dir.
func DirBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measuring %s: %w", dir, err)
	}
	return total, nil
}

// DocIndex maps search hits (a file and a line range) to the evalset docs
// they cover: a chunk covers a doc when the doc's "func" line lies in it.
type DocIndex map[string][]evalset.Doc

// NewDocIndex indexes docs by file.
func NewDocIndex(docs []evalset.Doc) DocIndex {
	ix := DocIndex{}
	for _, d := range docs {
		ix[d.Rel] = append(ix[d.Rel], d)
	}
	return ix
}

// Docs returns the IDs of the docs of rel whose start line lies in
// [start, end].
func (ix DocIndex) Docs(rel string, start, end int) []string {
	var ids []string
	for _, d := range ix[rel] {
		if d.StartLine >= start && d.StartLine <= end {
			ids = append(ids, d.ID)
		}
	}
	return ids
}
