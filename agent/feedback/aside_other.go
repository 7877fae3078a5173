//go:build !unix

package feedback

import (
	"fmt"
	"os"
)

// moveAside renames path to dst. Where the platform locks open files, a
// file another process has open cannot be renamed.
func moveAside(path, dst string) error {
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("moving feedback file %s aside: %w", path, err)
	}
	return nil
}
