package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"go.etcd.io/bbolt"
)

// ReplaceFiles stores a batch of files in one transaction: each file's old
// chunks are deleted, the new ones inserted, vectors added or released. The
// whole batch commits or none of it does; if ctx ends first nothing changes.
// A rel given twice ends as its last version. Commits cost an fsync each
// (≈2 ms), so callers batch many files.
func (s *Store) ReplaceFiles(ctx context.Context, batch []FileUpdate) ([]Change, error) {
	enc := make([]*encoded, len(batch))
	for i := range batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e := batch[i].enc
		if e == nil {
			var err error
			if e, err = s.cd.encodeUpdate(&batch[i]); err != nil {
				return nil, err
			}
		}
		enc[i] = e
	}

	var changes []Change
	err := s.update(func(tx *bbolt.Tx) error {
		changes = make([]Change, 0, len(batch))
		w := newWriter(tx)
		for i := range batch {
			if err := ctx.Err(); err != nil {
				return err
			}
			u, e := &batch[i], enc[i]
			ch := Change{Rel: u.File.Rel, Added: make([]uint32, len(e.chunks))}
			// Reference the new chunks' vectors before releasing the old
			// ones, so chunks that did not change keep their embeddings.
			for j, v := range e.chunks {
				id, err := w.nextID()
				if err != nil {
					return err
				}
				if err := w.chunks.Put(idKey(id), v); err != nil {
					return fmt.Errorf("storing chunk of %s: %w", u.File.Rel, err)
				}
				h := e.hashes[j]
				if err := w.ref(h, e.vecs[h]); err != nil {
					return err
				}
				ch.Added[j] = id
			}
			removed, err := w.deleteFile(u.File.Rel)
			if err != nil {
				return err
			}
			ch.Removed = removed
			if e.text != nil {
				if err := w.texts.Put([]byte(u.File.Rel), e.text); err != nil {
					return fmt.Errorf("storing text of %s: %w", u.File.Rel, err)
				}
			}
			f := u.File
			f.ChunkIDs = ch.Added
			if err := w.files.Put([]byte(f.Rel), encodeFile(&f)); err != nil {
				return fmt.Errorf("storing file %s: %w", f.Rel, err)
			}
			changes = append(changes, ch)
		}
		return bumpGeneration(tx)
	})
	if err != nil {
		return nil, fmt.Errorf("storing %d files: %w", len(batch), err)
	}
	return changes, nil
}

// encoded is a FileUpdate's records, ready to put.
type encoded struct {
	chunks [][]byte
	hashes []Hash
	vecs   map[Hash][]byte
	text   []byte // nil when the file has no chunks
}

// Encode compresses the chunk text and quantises the vectors of u so that
// ReplaceFiles, which would otherwise do it, spends less time in its
// transaction. It may run concurrently with anything; u must not change
// afterwards.
func (s *Store) Encode(u *FileUpdate) error {
	e, err := s.cd.encodeUpdate(u)
	if err != nil {
		return err
	}
	u.enc = e
	return nil
}

func (cd *codec) encodeUpdate(u *FileUpdate) (*encoded, error) {
	if u.File.Rel == "" {
		return nil, fmt.Errorf("storing files: empty path")
	}
	e := &encoded{chunks: make([][]byte, len(u.Chunks)), hashes: make([]Hash, len(u.Chunks))}
	size := 0
	for j := range u.Chunks {
		size += len(u.Chunks[j].Text)
	}
	text := make([]byte, 0, size)
	for j := range u.Chunks {
		c := u.Chunks[j]
		c.Rel = u.File.Rel
		if c.TextHash == (Hash{}) {
			c.TextHash = HashString(c.Text)
		}
		v, err := encodeChunk(&c, len(text))
		if err != nil {
			return nil, fmt.Errorf("storing %s: %w", u.File.Rel, err)
		}
		text = append(text, c.Text...)
		e.chunks[j], e.hashes[j] = v, c.TextHash
	}
	if len(u.Chunks) > 0 {
		var err error
		if e.text, err = cd.encodeText(u.File.Rel, text); err != nil {
			return nil, err
		}
	}
	if len(u.Vectors) > 0 {
		e.vecs = make(map[Hash][]byte, len(u.Vectors))
		for h, vec := range u.Vectors {
			if err := validVector(vec); err != nil {
				return nil, fmt.Errorf("storing %s: vector %s: %w", u.File.Rel, h, err)
			}
			e.vecs[h] = quantize(vec)
		}
	}
	return e, nil
}

// DeleteFiles removes files with their chunks, and vectors no other chunk
// uses, in one transaction. Unknown paths are ignored.
func (s *Store) DeleteFiles(ctx context.Context, rels []string) ([]Change, error) {
	var changes []Change
	err := s.update(func(tx *bbolt.Tx) error {
		changes = nil
		w := newWriter(tx)
		for _, rel := range rels {
			if err := ctx.Err(); err != nil {
				return err
			}
			if w.files.Get([]byte(rel)) == nil {
				continue
			}
			removed, err := w.deleteFile(rel)
			if err != nil {
				return err
			}
			changes = append(changes, Change{Rel: rel, Removed: removed})
		}
		if len(changes) == 0 {
			return nil
		}
		return bumpGeneration(tx)
	})
	if err != nil {
		return nil, fmt.Errorf("deleting %d files: %w", len(rels), err)
	}
	return changes, nil
}

// TouchFiles records new size, modification time and content hash for files
// whose chunks did not change (the chunk IDs stay). Unknown paths are ignored.
func (s *Store) TouchFiles(ctx context.Context, files []File) error {
	err := s.update(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketFiles)
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			v := b.Get([]byte(f.Rel))
			if v == nil {
				continue
			}
			old, err := decodeFile(f.Rel, v)
			if err != nil {
				return err
			}
			f.ChunkIDs = old.ChunkIDs
			if err := b.Put([]byte(f.Rel), encodeFile(&f)); err != nil {
				return fmt.Errorf("updating file %s: %w", f.Rel, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("updating %d files: %w", len(files), err)
	}
	return nil
}

// PutVectors stores embeddings for text hashes that chunks reference;
// hashes no chunk uses are skipped. It returns how many were stored.
func (s *Store) PutVectors(ctx context.Context, vecs map[Hash][]float32) (int, error) {
	enc := make(map[Hash][]byte, len(vecs))
	for h, v := range vecs {
		if err := validVector(v); err != nil {
			return 0, fmt.Errorf("storing vector %s: %w", h, err)
		}
		enc[h] = quantize(v)
	}
	n := 0
	err := s.update(func(tx *bbolt.Tx) error {
		n = 0
		vb := tx.Bucket(bucketVectors)
		for h, q := range enc {
			if err := ctx.Err(); err != nil {
				return err
			}
			v := vb.Get(h[:])
			if v == nil {
				continue
			}
			e, err := decodeVectorEntry(h, v)
			if err != nil {
				return err
			}
			e.vec = q
			if err := vb.Put(h[:], e.encode()); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("storing %d vectors: %w", len(vecs), err)
	}
	return n, nil
}

// writer holds the buckets of one write transaction.
type writer struct {
	files, chunks, texts, vectors *bbolt.Bucket
}

func newWriter(tx *bbolt.Tx) *writer {
	w := &writer{
		files:   tx.Bucket(bucketFiles),
		chunks:  tx.Bucket(bucketChunks),
		texts:   tx.Bucket(bucketTexts),
		vectors: tx.Bucket(bucketVectors),
	}
	// New chunk IDs are always the largest key: pack leaf pages full.
	w.chunks.FillPercent = 1
	return w
}

func (w *writer) nextID() (uint32, error) {
	seq, err := w.chunks.NextSequence()
	if err != nil {
		return 0, fmt.Errorf("allocating chunk id: %w", err)
	}
	if seq > math.MaxUint32 {
		return 0, fmt.Errorf("allocating chunk id: %w: chunk ids exhausted, reindex", ErrSchema)
	}
	return uint32(seq), nil
}

// ref counts one more chunk using h, storing vec (encoded) when given.
func (w *writer) ref(h Hash, vec []byte) error {
	e := vectorEntry{}
	if v := w.vectors.Get(h[:]); v != nil {
		var err error
		if e, err = decodeVectorEntry(h, v); err != nil {
			return err
		}
	}
	if e.refs == math.MaxUint32 {
		return fmt.Errorf("referencing vector %s: too many references", h)
	}
	e.refs++
	if vec != nil {
		e.vec = vec
	}
	if err := w.vectors.Put(h[:], e.encode()); err != nil {
		return fmt.Errorf("referencing vector %s: %w", h, err)
	}
	return nil
}

// unref counts one chunk less using h, deleting the vector at zero.
func (w *writer) unref(h Hash) error {
	v := w.vectors.Get(h[:])
	if v == nil {
		return fmt.Errorf("releasing vector %s: %w: no entry", h, ErrCorrupt)
	}
	e, err := decodeVectorEntry(h, v)
	if err != nil {
		return err
	}
	if e.refs <= 1 {
		return w.vectors.Delete(h[:])
	}
	e.refs--
	return w.vectors.Put(h[:], e.encode())
}

// deleteFile removes rel and its chunks, releasing their vectors.
func (w *writer) deleteFile(rel string) ([]uint32, error) {
	v := w.files.Get([]byte(rel))
	if v == nil {
		return nil, nil
	}
	f, err := decodeFile(rel, v)
	if err != nil {
		return nil, err
	}
	for _, id := range f.ChunkIDs {
		cv := w.chunks.Get(idKey(id))
		if cv == nil {
			return nil, fmt.Errorf("deleting %s: %w: chunk %d missing", rel, ErrCorrupt, id)
		}
		h, err := chunkHash(id, cv)
		if err != nil {
			return nil, err
		}
		if err := w.chunks.Delete(idKey(id)); err != nil {
			return nil, fmt.Errorf("deleting chunk %d of %s: %w", id, rel, err)
		}
		if err := w.unref(h); err != nil {
			return nil, err
		}
	}
	if err := w.files.Delete([]byte(rel)); err != nil {
		return nil, fmt.Errorf("deleting %s: %w", rel, err)
	}
	if err := w.texts.Delete([]byte(rel)); err != nil {
		return nil, fmt.Errorf("deleting text of %s: %w", rel, err)
	}
	return f.ChunkIDs, nil
}

// bumpGeneration counts one more write that changed chunks, which makes
// every snapshot stale.
func bumpGeneration(tx *bbolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	g := generation(meta) + 1
	return meta.Put(keyGen, binary.BigEndian.AppendUint64(nil, g))
}

func generation(meta *bbolt.Bucket) uint64 {
	if v := meta.Get(keyGen); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// Generation returns the number of writes that changed chunks so far.
func (s *Store) Generation() (uint64, error) {
	var g uint64
	err := s.view(func(tx *bbolt.Tx) error {
		g = generation(tx.Bucket(bucketMeta))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reading index generation: %w", err)
	}
	return g, nil
}

// ErrStale reports a snapshot computed at an older generation.
var ErrStale = errors.New("snapshot is stale: the index changed since")

// PutSnapshot stores data under name as valid for generation gen. It fails
// with ErrStale if the store has moved past gen, so a snapshot never claims
// a state it does not reflect.
func (s *Store) PutSnapshot(name string, gen uint64, data []byte) error {
	v, err := s.cd.encodeSnapshot(gen, data)
	if err != nil {
		return fmt.Errorf("compressing snapshot %s: %w", name, err)
	}
	err = s.update(func(tx *bbolt.Tx) error {
		if cur := generation(tx.Bucket(bucketMeta)); cur != gen {
			return fmt.Errorf("%w (snapshot of %d, index at %d)", ErrStale, gen, cur)
		}
		return tx.Bucket(bucketSnapshots).Put([]byte(name), v)
	})
	if err != nil {
		return fmt.Errorf("storing snapshot %s: %w", name, err)
	}
	return nil
}

// Snapshot returns the data stored under name if it is valid for the
// current generation; ok is false when there is none or it is stale.
func (s *Store) Snapshot(name string) (data []byte, ok bool, err error) {
	err = s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketSnapshots).Get([]byte(name))
		if len(v) < 8 || binary.BigEndian.Uint64(v) != generation(tx.Bucket(bucketMeta)) {
			return nil
		}
		var err error
		data, err = s.cd.decodeSnapshot(v)
		if err != nil {
			return fmt.Errorf("%w: snapshot %s: %w", ErrCorrupt, name, err)
		}
		ok = true
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("reading snapshot %s: %w", name, err)
	}
	return data, ok, nil
}

// DropSnapshot deletes the snapshot stored under name, if any.
func (s *Store) DropSnapshot(name string) {
	_ = s.update(func(tx *bbolt.Tx) error { return tx.Bucket(bucketSnapshots).Delete([]byte(name)) })
}
