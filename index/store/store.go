// Package store persists a workspace index in one bbolt file: files, chunks and vectors, crash-safe and versioned.
//
// The file holds these buckets:
//
//	meta      magic, schema version, embedder ID, workspace root, created time
//	files     rel path → size, mtime, content hash, chunk IDs
//	chunks    chunk ID (uint32, big-endian) → position, symbol, text hash,
//	          where its text is in the file's text
//	texts     rel path → the file's chunk texts, one flate stream
//	vectors   text hash → reference count and 4-bit quantised embedding
//	snapshots name → derived data valid for one write generation
//
// Chunk text is stored exactly once, compressed per file (which takes about
// half the bytes of compressing each chunk), so result snippets survive
// later edits of the file and the in-memory engines need not keep text. Vectors are keyed by the hash of the chunk text, so an
// unchanged chunk keeps its embedding across edits and a renamed file
// re-embeds nothing; each vector counts the chunks that use it and is deleted
// in the same transaction that drops its last chunk.
//
// Every write is one bbolt transaction: after a crash each file is wholly its
// old or its new version. Chunk IDs come from the chunks bucket's sequence and
// are never reused within a file's lifetime, so in-memory indexes can key by
// uint32. bbolt panics on some damaged pages; the store turns those panics
// (and memory faults on a truncated mapping) into errors wrapping ErrCorrupt.
//
// A Store is safe for concurrent use. Writes are serialised by bbolt; reads
// run in parallel with writes and see each batch wholly or not at all.
package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.etcd.io/bbolt"

	"github.com/codemux/codemux/index/boltfile"
	berrors "go.etcd.io/bbolt/errors"
)

// DefaultTimeout is how long Open waits for another process to release the
// file when Options.Timeout is zero.
const DefaultTimeout = time.Second

// initialMmapSize is the address space mapped for the file at first;
// allocSize is the step the file grows by (bbolt's default, 16 MiB, would
// be the least size of every index once the mapping is this large).
const (
	initialMmapSize = 1 << 30
	allocSize       = 1 << 20
)

// Options configure Open. The zero value (or nil) is usable.
type Options struct {
	// Timeout bounds the wait for a file locked by another process;
	// zero means DefaultTimeout.
	Timeout time.Duration
	// EmbedderID names the embedder whose vectors the file holds. When it is
	// set and differs from the stored one, every stored vector is dropped
	// (chunks stay) and Info().VectorsDropped is true. Empty keeps whatever is
	// stored.
	EmbedderID string
	// Root is the workspace root recorded in a new file.
	Root string
	// Now is the clock for the created time and Recreate's file names;
	// nil means time.Now.
	Now func() time.Time
	// MaxBytes caps the size of the file; a write that would grow it further
	// fails (wrapping ErrFull) and changes nothing. Zero means no cap.
	MaxBytes int64
	// NoSync skips fsync on commit. A process crash still leaves a consistent
	// file; a power loss may not. For tests and benchmarks.
	NoSync bool
}

// Info describes an open index file.
type Info struct {
	Schema     int
	EmbedderID string
	Root       string
	Created    time.Time
	// VectorsDropped is set when Open dropped the vectors of a different
	// embedder; every chunk then needs a new embedding (see MissingVectors).
	VectorsDropped bool
}

// Stats are counts and sizes of an open index file.
type Stats struct {
	Files     int
	Chunks    int
	Vectors   int   // distinct text hashes referenced by chunks
	DiskBytes int64 // size of the file
	FreeBytes int64 // bytes in free pages
	UsedBytes int64 // bytes holding data; Compact shrinks the file towards this
	// BucketBytes splits UsedBytes by bucket (meta, files, chunks, vectors,
	// snapshots).
	BucketBytes map[string]int64
}

// Store is an open index file.
type Store struct {
	path string
	opts Options
	cd   codec

	// mu is held shared by every operation and exclusively by Compact and
	// Close, which replace or close db.
	mu   sync.RWMutex
	db   *bbolt.DB
	info Info
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.Timeout <= 0 {
		out.Timeout = DefaultTimeout
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	return out
}

// Open opens or creates the index file at path (mode 0600, parent directory
// 0700). A damaged or foreign file yields an error wrapping ErrCorrupt, an
// unknown schema ErrSchema, a file held by another process ErrLocked; for the
// first two the caller may call Recreate.
func Open(path string, opts *Options) (*Store, error) {
	o := opts.withDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating index directory: %w", err)
	}
	db, err := openBolt(path, o)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, opts: o, db: db}
	if err := s.init(); err != nil {
		_ = closeBolt(db)
		return nil, fmt.Errorf("opening index %s: %w", path, err)
	}
	return s, nil
}

func openBolt(path string, o Options) (db *bbolt.DB, err error) {
	// bbolt panics on some damaged files after it has taken the lock; keep
	// the file to close it then, or the lock would outlive the failed Open.
	var file *os.File
	defer func() {
		if err != nil && db == nil && file != nil {
			// The mapping bbolt made keeps the file open; unlock explicitly.
			boltfile.Unlock(file)
			_ = file.Close()
		}
	}()
	defer guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout:      o.Timeout,
		NoSync:       o.NoSync,
		FreelistType: bbolt.FreelistMapType,
		// Address space only: a large first mapping saves the remaps (each
		// copies every node the write transaction touched, and waits for
		// readers) while the file grows.
		InitialMmapSize: initialMmapSize,
		MaxSize:         int(o.MaxBytes),
		OpenFile: func(name string, flag int, mode os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, mode)
			file = f
			return f, err
		},
	})
	if err != nil {
		return nil, boltErrors.OpenError(path, err)
	}
	db.AllocSize = allocSize
	return db, nil
}

func closeBolt(db *bbolt.DB) (err error) {
	defer guard(&err)
	return db.Close()
}

// init checks the meta bucket, creating it in an empty file.
func (s *Store) init() error {
	fresh := false
	err := s.view(func(tx *bbolt.Tx) error {
		fi, err := os.Stat(s.path)
		if err != nil {
			return fmt.Errorf("checking index size: %w", err)
		}
		if tx.Size() > fi.Size() {
			return fmt.Errorf("%w: file is %d bytes, its pages need %d (truncated)", ErrCorrupt, fi.Size(), tx.Size())
		}
		if fresh, err = boltErrors.CheckHeader(tx, magic, SchemaVersion); err != nil || fresh {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		for _, name := range dataBuckets {
			if tx.Bucket(name) == nil {
				return fmt.Errorf("%w: bucket %s missing", ErrCorrupt, name)
			}
		}
		s.info = Info{
			Schema:     SchemaVersion,
			EmbedderID: string(meta.Get(keyEmbedder)),
			Root:       string(meta.Get(keyRoot)),
		}
		if c := meta.Get(keyCreated); len(c) == 8 {
			s.info.Created = time.Unix(0, int64(binary.BigEndian.Uint64(c)))
		}
		return nil
	})
	if err != nil {
		return err
	}
	if fresh {
		return s.create()
	}
	if s.opts.EmbedderID != "" && s.opts.EmbedderID != s.info.EmbedderID {
		return s.dropVectors()
	}
	return nil
}

func (s *Store) create() error {
	now := s.opts.Now()
	err := s.update(func(tx *bbolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		schema := binary.BigEndian.AppendUint32(nil, SchemaVersion)
		created := binary.BigEndian.AppendUint64(nil, uint64(now.UnixNano()))
		for _, kv := range [][2][]byte{
			{keyMagic, []byte(magic)},
			{keySchema, schema},
			{keyEmbedder, []byte(s.opts.EmbedderID)},
			{keyRoot, []byte(s.opts.Root)},
			{keyCreated, created},
		} {
			if err := meta.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		for _, name := range dataBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("initialising index: %w", err)
	}
	s.info = Info{Schema: SchemaVersion, EmbedderID: s.opts.EmbedderID, Root: s.opts.Root, Created: time.Unix(0, now.UnixNano())}
	return nil
}

// dropVectors forgets every stored vector (keeping reference counts) and
// records the new embedder.
func (s *Store) dropVectors() error {
	err := s.update(func(tx *bbolt.Tx) error {
		vb := tx.Bucket(bucketVectors)
		var keys [][]byte
		var vals [][]byte
		err := vb.ForEach(func(k, v []byte) error {
			e, err := decodeVectorEntry(Hash(k), v)
			if err != nil {
				return err
			}
			keys = append(keys, append([]byte(nil), k...))
			vals = append(vals, vectorEntry{refs: e.refs}.encode())
			return nil
		})
		if err != nil {
			return err
		}
		for i := range keys {
			if err := vb.Put(keys[i], vals[i]); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keyEmbedder, []byte(s.opts.EmbedderID))
	})
	if err != nil {
		return fmt.Errorf("dropping vectors of embedder %q: %w", s.info.EmbedderID, err)
	}
	s.info.EmbedderID = s.opts.EmbedderID
	s.info.VectorsDropped = true
	return nil
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Info returns what the meta bucket says about the file.
func (s *Store) Info() Info { return s.info }

// Close closes the file. Further calls fail.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	err := closeBolt(s.db)
	s.db = nil
	if err != nil {
		return fmt.Errorf("closing index %s: %w", s.path, err)
	}
	return nil
}

var errClosed = errors.New("index store is closed")

// userPanic carries a panic raised by a caller's callback through guard
// unchanged, so it is not mistaken for a damaged file.
type userPanic struct{ v any }

// guard turns a bbolt panic (or a memory fault on the mapping) into an error
// wrapping ErrCorrupt. Panics of callbacks are re-raised.
func guard(err *error) {
	r := recover()
	if r == nil {
		return
	}
	if up, ok := r.(userPanic); ok {
		panic(up.v)
	}
	*err = fmt.Errorf("%w: bbolt: %v", ErrCorrupt, r)
}

// call runs a caller's callback, marking its panics.
func call[T any](fn func(T) error, v T) error {
	defer func() {
		if r := recover(); r != nil {
			panic(userPanic{r})
		}
	}()
	return fn(v)
}

// withDB runs fn on the open database, turning bbolt panics and faults on
// a damaged mapping into ErrCorrupt.
func (s *Store) withDB(fn func(db *bbolt.DB) error) (err error) {
	defer guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return errClosed
	}
	return fn(s.db)
}

func (s *Store) view(fn func(*bbolt.Tx) error) error {
	return s.withDB(func(db *bbolt.DB) error { return db.View(fn) })
}

func (s *Store) update(fn func(*bbolt.Tx) error) (err error) {
	defer func() {
		// bbolt formats some I/O errors with %s, so ENOSPC may survive
		// only as text.
		if err != nil && (errors.Is(err, berrors.ErrMaxSizeReached) || errors.Is(err, syscall.ENOSPC) ||
			strings.Contains(err.Error(), syscall.ENOSPC.Error())) {
			err = fmt.Errorf("%w: %w", ErrFull, err)
		}
	}()
	return s.withDB(func(db *bbolt.DB) error { return db.Update(fn) })
}

// readInWriteTx runs fn in a writable transaction that is rolled back.
func (s *Store) readInWriteTx(fn func(*bbolt.Tx) error) error {
	return s.withDB(func(db *bbolt.DB) error {
		tx, err := db.Begin(true)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback() }()
		return fn(tx)
	})
}

// Stats counts files, chunks and vectors and reports the file's size.
func (s *Store) Stats() (Stats, error) {
	var st Stats
	err := s.view(func(tx *bbolt.Tx) error {
		for _, name := range append([][]byte{bucketMeta}, dataBuckets...) {
			bs := tx.Bucket(name).Stats()
			used := int64(bs.BranchInuse + bs.LeafInuse + bs.InlineBucketInuse)
			st.UsedBytes += used
			if st.BucketBytes == nil {
				st.BucketBytes = map[string]int64{}
			}
			st.BucketBytes[string(name)] = used
			switch string(name) {
			case string(bucketFiles):
				st.Files = bs.KeyN
			case string(bucketChunks):
				st.Chunks = bs.KeyN
			case string(bucketVectors):
				st.Vectors = bs.KeyN
			}
		}
		st.DiskBytes = tx.Size()
		dbs := tx.DB().Stats()
		st.FreeBytes = int64(dbs.FreePageN+dbs.PendingPageN) * int64(tx.DB().Info().PageSize)
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("reading index stats: %w", err)
	}
	if fi, err := os.Stat(s.path); err == nil {
		st.DiskBytes = fi.Size()
	}
	return st, nil
}

// Reclaimable returns the bytes of free pages, which Compact gives back.
// It reads bbolt's in-memory freelist only, not the file. (Part-full pages
// are not counted: they need a walk of every page, and in an index file
// they are mostly the unavoidable tails of values larger than a page.)
func (s *Store) Reclaimable() (int64, error) {
	var n int64
	err := s.view(func(tx *bbolt.Tx) error {
		dbs := tx.DB().Stats()
		n = int64(dbs.FreePageN+dbs.PendingPageN) * int64(tx.DB().Info().PageSize)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reading index free space: %w", err)
	}
	return n, nil
}

// ReleaseMemory drops the pages of the memory-mapped file that reads have
// made resident, so the file's size does not count against the process's
// memory. The pages stay in the operating system's page cache; the next
// read of them costs a minor fault. Call it after long scans (Open's load,
// an Update) and large writes. Scattered reads add up fast: the kernel
// maps up to 64 KiB around each page faulted in (fault-around, which
// MADV_RANDOM does not turn off), so 200 random page reads of a file in
// the page cache made 12 MiB resident.
func (s *Store) ReleaseMemory() {
	_ = s.view(func(tx *bbolt.Tx) error {
		releaseMapped(tx)
		return nil
	})
}

// compactTxBytes bounds one transaction of Compact: bbolt holds a
// transaction's pages in memory until it commits.
const compactTxBytes = 4 << 20

// Compact rewrites the file without free pages and swaps it in atomically.
// Other operations wait while it runs. If ctx ends first the old file stays.
func (s *Store) Compact(ctx context.Context) (err error) {
	defer guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return errClosed
	}
	tmp := s.path + ".compact"
	_ = os.Remove(tmp)
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: s.opts.Timeout, NoSync: true, FreelistType: bbolt.FreelistMapType, InitialMmapSize: initialMmapSize})
	if err != nil {
		return fmt.Errorf("compacting index: creating %s: %w", tmp, err)
	}
	dst.AllocSize = allocSize
	ok := false
	defer func() {
		if !ok {
			_ = dst.Close()
			_ = os.Remove(tmp)
		}
	}()
	if err := copyBuckets(ctx, dst, s.db); err != nil {
		return fmt.Errorf("compacting index %s: %w", s.path, err)
	}
	if err := dst.Sync(); err != nil {
		return fmt.Errorf("compacting index: syncing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		return fmt.Errorf("compacting index: replacing %s: %w", s.path, err)
	}
	ok = true
	syncDir(filepath.Dir(s.path))
	dst.NoSync = s.opts.NoSync
	old := s.db
	s.db = dst
	if err := old.Close(); err != nil {
		return fmt.Errorf("compacting index: closing old file: %w", err)
	}
	return nil
}

func copyBuckets(ctx context.Context, dst, src *bbolt.DB) error {
	return src.View(func(stx *bbolt.Tx) error {
		dtx, err := dst.Begin(true)
		if err != nil {
			return err
		}
		defer func() { _ = dtx.Rollback() }()
		size := 0
		for _, name := range append([][]byte{bucketMeta}, dataBuckets...) {
			sb := stx.Bucket(name)
			db, err := dtx.CreateBucket(name)
			if err != nil {
				return err
			}
			db.FillPercent = 1
			c := sb.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if size > compactTxBytes {
					if err := ctx.Err(); err != nil {
						return err
					}
					releaseMapped(stx) // the pages copied so far
					if err := db.SetSequence(sb.Sequence()); err != nil {
						return err
					}
					if err := dtx.Commit(); err != nil {
						return err
					}
					if dtx, err = dst.Begin(true); err != nil {
						return err
					}
					db = dtx.Bucket(name)
					db.FillPercent = 1
					size = 0
				}
				if err := db.Put(k, v); err != nil {
					return err
				}
				size += len(k) + len(v)
			}
			if err := db.SetSequence(sb.Sequence()); err != nil {
				return err
			}
		}
		return dtx.Commit()
	})
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
}

// Recreate moves the file at path aside as path.corrupt-<time> (if it exists)
// and opens a new empty index there. It refuses (ErrLocked) while another
// process holds the file. It returns the name the old file was moved to, or
// "" when there was none.
func Recreate(path string, opts *Options) (*Store, string, error) {
	o := opts.withDefaults()
	moved, err := boltErrors.MoveAsideDamaged(path, o.Now())
	if err != nil {
		return nil, "", err
	}
	s, err := Open(path, &o)
	if err != nil {
		return nil, moved, err
	}
	return s, moved, nil
}
