//go:build unix

package walk

import (
	"io/fs"
	"syscall"
)

// readable returns nil if the file at abs, whose Lstat result is info, can
// be opened for reading. World-readable files need no system call; for the
// rest the kernel is asked, which accounts for owner, groups and
// capabilities.
func readable(abs string, info fs.FileInfo) error {
	if info.Mode().Perm()&0o004 != 0 {
		return nil
	}
	if err := syscall.Access(abs, 4 /* R_OK */); err != nil {
		return &fs.PathError{Op: "access", Path: abs, Err: err}
	}
	return nil
}
