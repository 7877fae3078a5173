//go:build !unix

package store

import (
	"fmt"
	"os"
)

// moveAside renames path to dst. Where the platform locks open files, a file
// another process holds fails to rename.
func moveAside(path, dst string) error {
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("moving index %s aside: %w", path, err)
	}
	return nil
}

// lockHolder cannot tell on this platform.
func lockHolder(string) int { return 0 }

// unlockFile is a no-op where files are not flocked.
func unlockFile(*os.File) {}
