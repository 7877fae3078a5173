//go:build !linux

package store

import "go.etcd.io/bbolt"

// releaseMapped does nothing where madvise is not wired up.
func releaseMapped(*bbolt.Tx) {}
