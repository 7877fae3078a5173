package store

import (
	"syscall"
	"unsafe"

	"go.etcd.io/bbolt"
)

// releaseMapped drops the pages of the file's memory mapping from the
// process's resident set (madvise MADV_DONTNEED). The mapping is shared and
// read-only, so nothing is lost: the pages stay in the page cache and a
// later read faults them back in. Called inside a read transaction, which
// keeps bbolt from remapping meanwhile.
func releaseMapped(tx *bbolt.Tx) {
	// A key read in a read-only transaction points into the mapping (unless
	// its bucket is inlined and was copied); from it and the mapping's
	// address, derive the mapping's start.
	base, size := tx.DB().Info().Data, uintptr(tx.Size())
	for _, name := range dataBuckets {
		k, _ := tx.Bucket(name).Cursor().First()
		if len(k) == 0 {
			continue
		}
		p := unsafe.Pointer(unsafe.SliceData(k))
		if uintptr(p) < base || uintptr(p)-base >= size {
			continue
		}
		start := unsafe.Add(p, -int(uintptr(p)-base))
		_ = syscall.Madvise(unsafe.Slice((*byte)(start), size), syscall.MADV_DONTNEED)
		return
	}
}
