//go:build !unix

package boltfile

import (
	"fmt"
	"os"
)

// MoveAside renames path to dst. Where the platform locks open files, a file
// another process holds fails to rename.
func (e Errors) MoveAside(path, dst string) error {
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("moving %s %s aside: %w", e.What, path, err)
	}
	return nil
}

// LockHolder cannot tell on this platform.
func LockHolder(string) int { return 0 }

// Unlock is a no-op where files are not flocked.
func Unlock(*os.File) {}
