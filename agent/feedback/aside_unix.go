//go:build unix

package feedback

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// moveAside renames path to dst while holding the file's lock, so a file
// another process has open is never moved.
func moveAside(path, dst string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("moving feedback file %s aside: %w", path, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("moving feedback file %s aside: %w", path, ErrLocked)
		}
		return fmt.Errorf("moving feedback file %s aside: locking: %w", path, err)
	}
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("moving feedback file %s aside: %w", path, err)
	}
	return nil
}
