// Package boltfile holds what codemux's versioned bbolt files share: a
// header check (magic and schema version in a "meta" bucket), the
// classification of open failures (held by another process, damaged, or an
// operating-system error), recovery from bbolt panics on damaged files, and
// moving a bad file aside without touching one another process holds.
//
// Errors are the caller's own sentinel values (Errors), so each package
// keeps errors that name its file ("index file is corrupt …").
package boltfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Meta bucket and keys of the header.
var (
	BucketMeta = []byte("meta")
	KeyMagic   = []byte("magic")
	KeySchema  = []byte("schema")
)

// Errors are the sentinel errors of one kind of file; the functions below
// wrap them. What names the file in messages ("index", "feedback file").
type Errors struct {
	What    string
	Corrupt error // damaged, truncated or not this kind of file
	Schema  error // a schema version this build does not read
	Locked  error // held by another process
}

// Guard, deferred, turns a bbolt panic (or a memory fault on its mapping,
// with debug.SetPanicOnFault) into an error wrapping e.Corrupt.
func (e Errors) Guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: bbolt: %v", e.Corrupt, r)
	}
}

// OpenError classifies an error of bbolt.Open on path.
func (e Errors) OpenError(path string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, berrors.ErrTimeout):
		who := "another process"
		if pid := LockHolder(path); pid > 0 {
			who = fmt.Sprintf("pid %d", pid)
		}
		return fmt.Errorf("opening %s %s: %w (held by %s; stop it or use another data directory)", e.What, path, e.Locked, who)
	case IsIOError(err):
		return fmt.Errorf("opening %s %s: %w", e.What, path, err)
	default:
		return fmt.Errorf("opening %s %s: %w: %w", e.What, path, e.Corrupt, err)
	}
}

// CheckHeader checks the meta bucket's magic and schema version. An empty
// file is fresh (the caller creates its buckets); a file with other buckets
// but no meta is not ours.
func (e Errors) CheckHeader(tx *bbolt.Tx, magic string, schema uint32) (fresh bool, err error) {
	meta := tx.Bucket(BucketMeta)
	if meta == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bbolt.Bucket) error { empty = false; return nil })
		if !empty {
			return false, fmt.Errorf("%w: a bbolt file without codemux metadata", e.Corrupt)
		}
		return true, nil
	}
	if string(meta.Get(KeyMagic)) != magic {
		return false, fmt.Errorf("%w: bad magic %q", e.Corrupt, meta.Get(KeyMagic))
	}
	v := meta.Get(KeySchema)
	if len(v) != 4 {
		return false, fmt.Errorf("%w: bad schema record", e.Corrupt)
	}
	if got := binary.BigEndian.Uint32(v); got != schema {
		return false, fmt.Errorf("%w: file has schema %d, this build reads %d", e.Schema, got, schema)
	}
	return false, nil
}

// WriteHeader puts magic and schema into the meta bucket, creating it.
func WriteHeader(tx *bbolt.Tx, magic string, schema uint32) (*bbolt.Bucket, error) {
	meta, err := tx.CreateBucketIfNotExists(BucketMeta)
	if err != nil {
		return nil, err
	}
	var v [4]byte
	binary.BigEndian.PutUint32(v[:], schema)
	if err := meta.Put(KeyMagic, []byte(magic)); err != nil {
		return nil, err
	}
	return meta, meta.Put(KeySchema, v[:])
}

// IsIOError tells errors of the operating system (permissions, disk,
// memory) from errors about a file's content.
func IsIOError(err error) bool {
	var pe *fs.PathError
	var errno syscall.Errno
	return errors.As(err, &pe) || errors.As(err, &errno)
}

// MoveAsideDamaged moves the file at path, if there is one, to
// path.corrupt-<now>, refusing a file another process holds. It returns
// the new name, or "" when there was no file.
func (e Errors) MoveAsideDamaged(path string, now time.Time) (string, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("moving %s %s aside: %w", e.What, path, err)
	}
	moved := path + ".corrupt-" + now.UTC().Format("20060102T150405.000000000Z")
	if err := e.MoveAside(path, moved); err != nil {
		return "", err
	}
	return moved, nil
}
