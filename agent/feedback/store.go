// Package feedback keeps answers and their ratings in a bbolt file.
//
// The ask pipeline saves a Record after every answer (Store.Save); a rating
// from codemux/feedback or `codemux feedback ID up|down` is attached to it
// later (Store.Rate), and `codemux feedback export` writes the records as
// JSON lines (Store.Export) for review or for building eval cases. Only the
// most recent Options.MaxRecords records are kept.
//
// Records hold only redacted text: Save and Rate run every text through
// secrets.Redact, which leaves already redacted text unchanged, so a
// credential that slipped into a question, an answer or a comment is never
// written to disk.
//
// A Store is safe for concurrent use and starts no goroutines.
package feedback

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/codemux/codemux/index/secrets"
	"go.etcd.io/bbolt"

	"github.com/codemux/codemux/index/boltfile"
)

// SchemaVersion is the layout of the buckets and records in the feedback
// file. A file with any other version is refused with ErrSchema.
//
// History:
//
//	1: initial layout. Bucket meta (magic, schema, count); bucket records
//	   maps an 8-byte big-endian sequence number (save order) to the JSON
//	   of a Record; bucket ids maps a record ID to its sequence number.
const SchemaVersion = 1

// magic identifies a bbolt file as a codemux feedback file.
const magic = "codemux-feedback"

var (
	bucketMeta    = boltfile.BucketMeta
	bucketRecords = []byte("records")
	bucketIDs     = []byte("ids")

	keyCount = []byte("count")
)

// DefaultMaxRecords is how many records a Store keeps when
// Options.MaxRecords is zero.
const DefaultMaxRecords = 10000

// DefaultTimeout is how long Open waits for another process to release the
// file when Options.Timeout is zero.
const DefaultTimeout = time.Second

// Options tunes a Store. Nil or the zero value means defaults.
type Options struct {
	// Timeout bounds the wait for a file locked by another process; zero
	// means DefaultTimeout.
	Timeout time.Duration
	// MaxRecords is how many records are kept; the oldest are deleted
	// beyond it. Zero means DefaultMaxRecords.
	MaxRecords int
	// Now is the clock for record and rating times; nil means time.Now.
	Now func() time.Time
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.Timeout <= 0 {
		out.Timeout = DefaultTimeout
	}
	if out.MaxRecords <= 0 {
		out.MaxRecords = DefaultMaxRecords
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	return out
}

// Store is an open feedback file.
type Store struct {
	path string
	opts Options
	db   *bbolt.DB
}

// Open opens or creates the feedback file at path (mode 0600, its directory
// 0700). A file another process holds is refused with ErrLocked after
// Options.Timeout; a damaged file with ErrCorrupt and a file of another
// schema version with ErrSchema, which Recreate resolves.
func Open(path string, opts *Options) (*Store, error) {
	o := opts.withDefaults()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating feedback directory: %w", err)
	}
	db, err := openBolt(path, o.Timeout)
	if err != nil {
		return nil, err
	}
	s := &Store{path: path, opts: o, db: db}
	if err := s.init(); err != nil {
		_ = closeBolt(db)
		return nil, fmt.Errorf("opening feedback file %s: %w", path, err)
	}
	return s, nil
}

// Recreate moves the file at path aside as path.corrupt-<time> (if it
// exists) and opens a new, empty feedback file there. It returns the name
// the old file was moved to, or "" when there was none.
func Recreate(path string, opts *Options) (*Store, string, error) {
	o := opts.withDefaults()
	moved, err := boltErrors.MoveAsideDamaged(path, o.Now())
	if err != nil {
		return nil, "", err
	}
	s, err := Open(path, &o)
	return s, moved, err
}

func openBolt(path string, timeout time.Duration) (db *bbolt.DB, err error) {
	defer boltErrors.Guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	if err != nil {
		return nil, boltErrors.OpenError(path, err)
	}
	return db, nil
}

// boltErrors wraps this package's sentinel errors for package boltfile.
var boltErrors = boltfile.Errors{What: "feedback file", Corrupt: ErrCorrupt, Schema: ErrSchema, Locked: ErrLocked}

func closeBolt(db *bbolt.DB) (err error) {
	defer boltErrors.Guard(&err)
	return db.Close()
}

// init checks the meta bucket, creating the buckets in an empty file.
func (s *Store) init() (err error) {
	defer boltErrors.Guard(&err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	fresh := false
	err = s.db.View(func(tx *bbolt.Tx) error {
		var err error
		if fresh, err = boltErrors.CheckHeader(tx, magic, SchemaVersion); err != nil || fresh {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if tx.Bucket(bucketRecords) == nil || tx.Bucket(bucketIDs) == nil || len(meta.Get(keyCount)) != 8 {
			return fmt.Errorf("%w: bucket missing", ErrCorrupt)
		}
		return nil
	})
	if err != nil || !fresh {
		return err
	}
	return s.db.Update(func(tx *bbolt.Tx) error {
		for _, b := range [][]byte{bucketRecords, bucketIDs} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta, err := boltfile.WriteHeader(tx, magic, SchemaVersion)
		if err != nil {
			return err
		}
		return meta.Put(keyCount, binary.BigEndian.AppendUint64(nil, 0))
	})
}

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// Close closes the file.
func (s *Store) Close() error {
	if err := closeBolt(s.db); err != nil {
		return fmt.Errorf("closing feedback file %s: %w", s.path, err)
	}
	return nil
}

// Save stores rec, replacing the record with the same ID if there is one
// (it keeps its place in the history). A zero Time is set to now. Question,
// answer and comment are redacted before they are written. Once more than
// Options.MaxRecords records are kept, the oldest are deleted.
func (s *Store) Save(rec Record) error {
	if rec.ID == "" {
		return errors.New("saving answer record: the record has no id")
	}
	if rec.Rating != "" && rec.Rating != RatingUp && rec.Rating != RatingDown {
		return fmt.Errorf("saving answer record %s: %w", rec.ID, ErrRating)
	}
	if rec.Time.IsZero() {
		rec.Time = s.opts.Now()
	}
	redactRecord(&rec)
	data, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("saving answer record %s: %w", rec.ID, err)
	}
	err = s.db.Update(func(tx *bbolt.Tx) error {
		meta, recs, ids := tx.Bucket(bucketMeta), tx.Bucket(bucketRecords), tx.Bucket(bucketIDs)
		if seq := ids.Get([]byte(rec.ID)); seq != nil {
			return recs.Put(seq, data)
		}
		n, err := recs.NextSequence()
		if err != nil {
			return err
		}
		seq := binary.BigEndian.AppendUint64(nil, n)
		if err := recs.Put(seq, data); err != nil {
			return err
		}
		if err := ids.Put([]byte(rec.ID), seq); err != nil {
			return err
		}
		count := binary.BigEndian.Uint64(meta.Get(keyCount)) + 1
		for c := recs.Cursor(); count > uint64(s.opts.MaxRecords); count-- {
			k, v := c.First()
			if k == nil {
				break
			}
			var old struct{ ID string }
			if err := json.Unmarshal(v, &old); err != nil {
				return fmt.Errorf("%w: record %x: %w", ErrCorrupt, k, err)
			}
			if err := c.Delete(); err != nil {
				return err
			}
			if err := ids.Delete([]byte(old.ID)); err != nil {
				return err
			}
		}
		return meta.Put(keyCount, binary.BigEndian.AppendUint64(nil, count))
	})
	if err != nil {
		return fmt.Errorf("saving answer record %s: %w", rec.ID, err)
	}
	return nil
}

// Rate attaches a rating (RatingUp or RatingDown) and an optional comment
// to the record with this ID, replacing an earlier rating. An unknown ID is
// ErrNotFound; another rating is ErrRating.
func (s *Store) Rate(id, rating, comment string) error {
	if rating != RatingUp && rating != RatingDown {
		return fmt.Errorf("rating answer %s: %w (got %q)", id, ErrRating, rating)
	}
	comment, _ = secrets.Redact(comment)
	now := s.opts.Now()
	err := s.db.Update(func(tx *bbolt.Tx) error {
		recs, ids := tx.Bucket(bucketRecords), tx.Bucket(bucketIDs)
		seq := ids.Get([]byte(id))
		if seq == nil {
			return ErrNotFound
		}
		var rec Record
		if err := json.Unmarshal(recs.Get(seq), &rec); err != nil {
			return fmt.Errorf("%w: record %s: %w", ErrCorrupt, id, err)
		}
		rec.Rating, rec.Comment, rec.RatedAt = rating, comment, now
		data, err := json.Marshal(&rec)
		if err != nil {
			return err
		}
		return recs.Put(seq, data)
	})
	if err != nil {
		return fmt.Errorf("rating answer %s: %w", id, err)
	}
	return nil
}

// Get returns the record with this ID, or ErrNotFound.
func (s *Store) Get(id string) (Record, error) {
	var rec Record
	err := s.db.View(func(tx *bbolt.Tx) error {
		seq := tx.Bucket(bucketIDs).Get([]byte(id))
		if seq == nil {
			return ErrNotFound
		}
		if err := json.Unmarshal(tx.Bucket(bucketRecords).Get(seq), &rec); err != nil {
			return fmt.Errorf("%w: record %s: %w", ErrCorrupt, id, err)
		}
		return nil
	})
	if err != nil {
		return Record{}, fmt.Errorf("reading answer %s: %w", id, err)
	}
	return rec, nil
}

// Len returns how many records are kept.
func (s *Store) Len() (int, error) {
	var n uint64
	err := s.db.View(func(tx *bbolt.Tx) error {
		n = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyCount))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("counting answer records: %w", err)
	}
	return int(n), nil
}

// Filter chooses the records Export writes. The zero value means every
// rated record: ratings are what an export is for (reviewing answers,
// turning bad ones into eval cases), and unrated records are most of the
// file.
type Filter struct {
	// All includes unrated records too.
	All bool
	// Rating, when set, keeps only records rated RatingUp or RatingDown.
	Rating string
	// Since, when set, keeps only records saved at or after it.
	Since time.Time
}

func (f Filter) keep(r *Record) bool {
	switch {
	case f.Rating != "" && r.Rating != f.Rating:
		return false
	case !f.All && r.Rating == "":
		return false
	case !f.Since.IsZero() && r.Time.Before(f.Since):
		return false
	}
	return true
}

// Export writes the records f keeps to w as JSON lines (one Record object
// per line, the fields of Record's JSON tags), oldest first, and returns how
// many it wrote.
func (s *Store) Export(ctx context.Context, w io.Writer, f Filter) (int, error) {
	if f.Rating != "" && f.Rating != RatingUp && f.Rating != RatingDown {
		return 0, fmt.Errorf("exporting answer records: %w (got %q)", ErrRating, f.Rating)
	}
	n := 0
	var line bytes.Buffer
	enc := json.NewEncoder(&line)
	enc.SetEscapeHTML(false)
	err := s.db.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bucketRecords).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var rec Record
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("%w: record %x: %w", ErrCorrupt, k, err)
			}
			if !f.keep(&rec) {
				continue
			}
			line.Reset()
			if err := enc.Encode(&rec); err != nil {
				return err
			}
			if _, err := w.Write(line.Bytes()); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return n, fmt.Errorf("exporting answer records: %w", err)
	}
	return n, nil
}

// redactRecord replaces any credential left in rec's texts.
func redactRecord(rec *Record) {
	rec.Question, _ = secrets.Redact(rec.Question)
	rec.Answer, _ = secrets.Redact(rec.Answer)
	rec.Comment, _ = secrets.Redact(rec.Comment)
}
