//go:build unix

package store

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// moveAside renames path to dst while holding the file's lock, so a file
// another process has open is never moved.
func moveAside(path, dst string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("moving index %s aside: %w", path, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("moving index %s aside: %w", path, ErrLocked)
		}
		return fmt.Errorf("moving index %s aside: locking: %w", path, err)
	}
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("moving index %s aside: %w", path, err)
	}
	return nil
}

// lockHolder returns the pid holding a flock on path according to
// /proc/locks, or 0 when it cannot tell.
func lockHolder(path string) int {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0
	}
	f, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer f.Close()
	major, minor := (uint64(st.Dev)>>8)&0xfff, (uint64(st.Dev)&0xff)|((uint64(st.Dev)>>12)&0xfff00)
	want := fmt.Sprintf("%02x:%02x:%d", major, minor, st.Ino)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[1] != "FLOCK" || fields[5] != want {
			continue
		}
		if pid, err := strconv.Atoi(fields[4]); err == nil {
			return pid
		}
	}
	return 0
}

// unlockFile releases a flock held through f.
func unlockFile(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
