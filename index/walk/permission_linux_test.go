package walk

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"unsafe"
)

// dropDACCapabilities removes CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from
// the calling OS thread, so that file mode bits apply to it even when it
// runs as root. The caller must have locked the goroutine to its thread and
// must never unlock it: the thread then exits with the goroutine.
func dropDACCapabilities() error {
	type capHeader struct {
		version uint32
		pid     int32
	}
	type capData struct{ effective, permitted, inheritable uint32 }
	hdr := capHeader{version: 0x20080522} // _LINUX_CAPABILITY_VERSION_3; pid 0 is this thread
	var data [2]capData
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return e
	}
	const dac = 1<<1 | 1<<2 // CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
	data[0].effective &^= dac
	data[0].permitted &^= dac
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e != 0 {
		return e
	}
	return nil
}

func TestWalkUnreadable(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"a.go": "", "locked/x.go": "", "locked-file.go": "", "z.go": "",
		"group-only.go": "",
	})
	for rel, mode := range map[string]os.FileMode{"locked": 0, "locked-file.go": 0, "group-only.go": 0o640} {
		p := filepath.Join(root, rel)
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(p, 0o755) })
	}

	type result struct {
		files   []string
		skipped map[string]string
		err     error
	}
	walk := func() result {
		r := result{skipped: map[string]string{}}
		r.err = Walk(context.Background(), root, nil, func(f File) error {
			r.files = append(r.files, f.Rel)
			return nil
		}, func(s Skipped) { r.skipped[s.Rel] = s.Reason })
		return r
	}
	var r result
	if os.Geteuid() == 0 {
		// Root reads everything whatever the mode bits say. Walk on a thread
		// without the capabilities that allow it.
		done := make(chan result)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread exits with this goroutine
			if err := dropDACCapabilities(); err != nil {
				done <- result{err: err}
				return
			}
			done <- walk()
		}()
		r = <-done
		if r.err != nil && r.files == nil {
			t.Skipf("running as root and cannot drop CAP_DAC_OVERRIDE: %v", r.err)
		}
	} else {
		r = walk()
	}
	if r.err != nil {
		t.Fatalf("Walk with unreadable entries: %v", r.err)
	}
	// group-only.go belongs to the test's own user, who may read it.
	if want := []string{"a.go", "group-only.go", "z.go"}; !slices.Equal(r.files, want) {
		t.Errorf("Walk files = %q, want %q", r.files, want)
	}
	for _, rel := range []string{"locked", "locked-file.go"} {
		if got := r.skipped[rel]; got != ReasonPermission {
			t.Errorf("Walk skipped %q with reason %q, want %q", rel, got, ReasonPermission)
		}
	}
}

func TestWalkNotRegular(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"a.go": ""})
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Skipf("cannot create a fifo here: %v", err)
	}
	files, skipped := walkAll(t, root, nil)
	if want := []string{"a.go"}; !slices.Equal(files, want) {
		t.Errorf("Walk files = %q, want %q", files, want)
	}
	if got := skipped["pipe"]; got != ReasonNotRegular {
		t.Errorf("Walk skipped pipe with reason %q, want %q", got, ReasonNotRegular)
	}
}
