//go:build unix

package boltfile

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// MoveAside renames path to dst while holding the file's lock, so a file
// another process has open is never moved.
func (e Errors) MoveAside(path, dst string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("moving %s %s aside: %w", e.What, path, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("moving %s %s aside: %w", e.What, path, e.Locked)
		}
		return fmt.Errorf("moving %s %s aside: locking: %w", e.What, path, err)
	}
	if err := os.Rename(path, dst); err != nil {
		return fmt.Errorf("moving %s %s aside: %w", e.What, path, err)
	}
	return nil
}

// LockHolder returns the pid holding a flock on path according to
// /proc/locks, or 0 when it cannot tell.
func LockHolder(path string) int {
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

// Unlock releases a flock held through f.
func Unlock(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
