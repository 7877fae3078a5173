package boltfile

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

var (
	errCorrupt = errors.New("corrupt")
	errSchema  = errors.New("schema")
	errLocked  = errors.New("locked")
	testErrs   = Errors{What: "test file", Corrupt: errCorrupt, Schema: errSchema, Locked: errLocked}
)

func TestCheckHeader(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(tx *bbolt.Tx) error
		wantFresh bool
		wantErr   error
	}{
		{"empty file is fresh", func(*bbolt.Tx) error { return nil }, true, nil},
		{"ours", func(tx *bbolt.Tx) error { _, err := WriteHeader(tx, "m", 3); return err }, false, nil},
		{"foreign buckets", func(tx *bbolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err }, false, errCorrupt},
		{"wrong magic", func(tx *bbolt.Tx) error { _, err := WriteHeader(tx, "x", 3); return err }, false, errCorrupt},
		{"newer schema", func(tx *bbolt.Tx) error { _, err := WriteHeader(tx, "m", 4); return err }, false, errSchema},
		{"bad schema record", func(tx *bbolt.Tx) error {
			b, err := WriteHeader(tx, "m", 3)
			if err != nil {
				return err
			}
			return b.Put(KeySchema, []byte{1})
		}, false, errCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := bbolt.Open(filepath.Join(t.TempDir(), "f.db"), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Update(tt.setup); err != nil {
				t.Fatal(err)
			}
			var fresh bool
			err = db.View(func(tx *bbolt.Tx) error {
				var err error
				fresh, err = testErrs.CheckHeader(tx, "m", 3)
				return err
			})
			if fresh != tt.wantFresh || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("CheckHeader() = %v, %v; want %v, %v", fresh, err, tt.wantFresh, tt.wantErr)
			}
		})
	}
}

func TestOpenErrorNamesTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// bbolt's flock is per open file description, so a second open in this
	// process waits like another process would.
	_, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 50 * time.Millisecond})
	got := testErrs.OpenError(path, err)
	if !errors.Is(got, errLocked) || !strings.Contains(got.Error(), "test file") {
		t.Fatalf("OpenError(timeout) = %v, want errLocked naming the test file", got)
	}
}

func TestMoveAsideRefusesAHeldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.db")
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := testErrs.MoveAside(path, path+".old"); !errors.Is(err, errLocked) {
		t.Fatalf("MoveAside(held file) = %v, want errLocked", err)
	}
	db.Close()
	if err := testErrs.MoveAside(path, path+".old"); err != nil {
		t.Fatalf("MoveAside(free file) = %v", err)
	}
}
