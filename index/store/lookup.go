package store

import (
	"context"
	"encoding/binary"
	"fmt"

	"go.etcd.io/bbolt"
)

// checkEvery is how many records a scan handles between ctx checks.
const checkEvery = 1024

// scan calls fn for every record of b in key order, checking ctx every
// checkEvery records.
func scan(ctx context.Context, b *bbolt.Bucket, fn func(k, v []byte) error) error {
	c := b.Cursor()
	n := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if n++; n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// File returns the stored metadata of rel.
func (s *Store) File(rel string) (File, bool, error) {
	var f File
	found := false
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketFiles).Get([]byte(rel))
		if v == nil {
			return nil
		}
		var err error
		f, err = decodeFile(rel, v)
		found = err == nil
		return err
	})
	if err != nil {
		return File{}, false, fmt.Errorf("reading file %s: %w", rel, err)
	}
	return f, found, nil
}

// HasFiles reports whether any file is stored. Unlike Stats it reads one
// page.
func (s *Store) HasFiles() (bool, error) {
	var has bool
	err := s.view(func(tx *bbolt.Tx) error {
		k, _ := tx.Bucket(bucketFiles).Cursor().First()
		has = k != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("checking for files: %w", err)
	}
	return has, nil
}

// Files calls fn for every stored file in path order, in one consistent
// snapshot.
func (s *Store) Files(ctx context.Context, fn func(File) error) error {
	err := s.view(func(tx *bbolt.Tx) error {
		return scan(ctx, tx.Bucket(bucketFiles), func(k, v []byte) error {
			f, err := decodeFile(string(k), v)
			if err != nil {
				return err
			}
			return call(fn, f)
		})
	})
	if err != nil {
		return fmt.Errorf("listing files: %w", err)
	}
	return nil
}

// Chunk returns chunk id with its text; found is false if there is none.
func (s *Store) Chunk(id uint32) (c Chunk, found bool, err error) {
	cs, err := s.Chunks([]uint32{id})
	if err != nil {
		return Chunk{}, false, err
	}
	return cs[0], cs[0].ID != 0, nil
}

// Chunks returns the chunks with the given IDs and their text, in the same
// order, from one snapshot. A missing chunk is the zero Chunk (ID 0).
func (s *Store) Chunks(ids []uint32) ([]Chunk, error) {
	out := make([]Chunk, len(ids))
	err := s.view(func(tx *bbolt.Tx) error {
		b, tb := tx.Bucket(bucketChunks), tx.Bucket(bucketTexts)
		texts := map[string]*textCache{} // one decoded text per file
		for i, id := range ids {
			v := b.Get(idKey(id))
			if v == nil {
				continue
			}
			c, ref, err := decodeChunk(id, v)
			if err != nil {
				return err
			}
			tc := texts[c.Rel]
			if tc == nil {
				tc = &textCache{cd: &s.cd}
				texts[c.Rel] = tc
			}
			if err := tc.fill(tb, &c, ref); err != nil {
				return err
			}
			out[i] = c
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %d chunks: %w", len(ids), err)
	}
	return out, nil
}

// ForEachChunk calls fn for every chunk in ID order, in one snapshot; the
// text is decoded only when withText is set. fn must not keep c.Text if
// memory matters: it is a fresh string per chunk.
func (s *Store) ForEachChunk(ctx context.Context, withText bool, fn func(c Chunk) error) error {
	err := s.view(func(tx *bbolt.Tx) error {
		tb := tx.Bucket(bucketTexts)
		tc := textCache{cd: &s.cd} // a file's chunks have consecutive IDs
		return scan(ctx, tx.Bucket(bucketChunks), func(k, v []byte) error {
			if len(k) != 4 {
				return fmt.Errorf("%w: chunk key of %d bytes", ErrCorrupt, len(k))
			}
			ch, ref, err := decodeChunk(binary.BigEndian.Uint32(k), v)
			if err != nil {
				return err
			}
			if withText {
				if err := tc.fill(tb, &ch, ref); err != nil {
					return err
				}
			}
			return call(fn, ch)
		})
	})
	if err != nil {
		return fmt.Errorf("reading chunks: %w", err)
	}
	return nil
}

// ForEachVector calls fn for every stored vector, in one snapshot. Text
// hashes whose vector is missing (dropped, or never embedded) are skipped.
func (s *Store) ForEachVector(ctx context.Context, fn func(h Hash, vec []float32) error) error {
	err := s.view(func(tx *bbolt.Tx) error {
		return scan(ctx, tx.Bucket(bucketVectors), func(k, v []byte) error {
			if len(k) != HashSize {
				return fmt.Errorf("%w: vector key of %d bytes", ErrCorrupt, len(k))
			}
			h := Hash(k)
			e, err := decodeVectorEntry(h, v)
			if err != nil || e.vec == nil {
				return err
			}
			vec, err := dequantize(e.vec)
			if err != nil {
				return err
			}
			return call2(fn, h, vec)
		})
	})
	if err != nil {
		return fmt.Errorf("reading vectors: %w", err)
	}
	return nil
}

func call2[A, B any](fn func(A, B) error, a A, b B) error {
	return call(func(struct{}) error { return fn(a, b) }, struct{}{})
}

// VectorFor returns the vector stored for text hash h.
func (s *Store) VectorFor(h Hash) ([]float32, bool, error) {
	var vec []float32
	err := s.view(func(tx *bbolt.Tx) error {
		v := tx.Bucket(bucketVectors).Get(h[:])
		if v == nil {
			return nil
		}
		e, err := decodeVectorEntry(h, v)
		if err != nil || e.vec == nil {
			return err
		}
		vec, err = dequantize(e.vec)
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("reading vector %s: %w", h, err)
	}
	return vec, vec != nil, nil
}

// Vectors returns the stored vectors of the given hashes, from one snapshot;
// hashes without a vector are absent from the map.
func (s *Store) Vectors(hs []Hash) (map[Hash][]float32, error) {
	out := make(map[Hash][]float32, len(hs))
	err := s.view(func(tx *bbolt.Tx) error {
		b := tx.Bucket(bucketVectors)
		for _, h := range hs {
			if _, done := out[h]; done {
				continue
			}
			v := b.Get(h[:])
			if v == nil {
				continue
			}
			e, err := decodeVectorEntry(h, v)
			if err != nil {
				return err
			}
			if e.vec == nil {
				continue
			}
			if out[h], err = dequantize(e.vec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading %d vectors: %w", len(hs), err)
	}
	return out, nil
}

// MissingVectors returns, without duplicates and in first-seen order, the
// hashes among hs that have no stored vector: those are the texts to embed.
func (s *Store) MissingVectors(hs []Hash) ([]Hash, error) {
	var out []Hash
	err := s.view(func(tx *bbolt.Tx) error {
		out = nil
		b := tx.Bucket(bucketVectors)
		seen := make(map[Hash]bool, len(hs))
		for _, h := range hs {
			if seen[h] {
				continue
			}
			seen[h] = true
			if v := b.Get(h[:]); len(v) <= 4 {
				out = append(out, h)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("checking %d vectors: %w", len(hs), err)
	}
	return out, nil
}

// Verify checks the whole file: bbolt's page structure, every record decodes,
// every file's chunks exist and name it, every chunk belongs to exactly one
// file, and every vector's reference count equals the chunks using it.
// Problems are reported as an error wrapping ErrCorrupt.
func (s *Store) Verify(ctx context.Context) error {
	// bbolt's Check is safe against concurrent writers only inside a
	// writable transaction; this one is rolled back.
	err := s.readInWriteTx(func(tx *bbolt.Tx) error {
		var first error
		for err := range tx.Check() {
			if first == nil {
				first = fmt.Errorf("%w: %w", ErrCorrupt, err)
			}
		}
		if first != nil {
			return first
		}
		owner := map[uint32]string{}
		withChunks := map[string]bool{}
		fc := tx.Bucket(bucketFiles).Cursor()
		for k, v := fc.First(); k != nil; k, v = fc.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			f, err := decodeFile(string(k), v)
			if err != nil {
				return err
			}
			withChunks[f.Rel] = len(f.ChunkIDs) > 0
			for _, id := range f.ChunkIDs {
				if prev, dup := owner[id]; dup {
					return fmt.Errorf("%w: chunk %d listed by %s and %s", ErrCorrupt, id, prev, f.Rel)
				}
				owner[id] = f.Rel
			}
		}
		tcur := tx.Bucket(bucketTexts).Cursor()
		for k, _ := tcur.First(); k != nil; k, _ = tcur.Next() {
			if !withChunks[string(k)] {
				return fmt.Errorf("%w: text of %s, which has no chunks", ErrCorrupt, k)
			}
		}
		refs := map[Hash]uint32{}
		seq := tx.Bucket(bucketChunks).Sequence()
		tb := tx.Bucket(bucketTexts)
		tc := textCache{cd: &s.cd}
		err := scan(ctx, tx.Bucket(bucketChunks), func(k, v []byte) error {
			if len(k) != 4 {
				return fmt.Errorf("%w: chunk key of %d bytes", ErrCorrupt, len(k))
			}
			id := binary.BigEndian.Uint32(k)
			c, ref, err := decodeChunk(id, v)
			if err != nil {
				return err
			}
			if err := tc.fill(tb, &c, ref); err != nil {
				return err
			}
			if uint64(id) > seq {
				return fmt.Errorf("%w: chunk %d beyond sequence %d", ErrCorrupt, id, seq)
			}
			rel, ok := owner[id]
			if !ok {
				return fmt.Errorf("%w: chunk %d (%s) belongs to no file", ErrCorrupt, id, c.Rel)
			}
			if rel != c.Rel {
				return fmt.Errorf("%w: chunk %d says %s, listed by %s", ErrCorrupt, id, c.Rel, rel)
			}
			delete(owner, id)
			refs[c.TextHash]++
			return nil
		})
		if err != nil {
			return err
		}
		for id, rel := range owner {
			return fmt.Errorf("%w: %s lists missing chunk %d", ErrCorrupt, rel, id)
		}
		vc := tx.Bucket(bucketVectors).Cursor()
		for k, v := vc.First(); k != nil; k, v = vc.Next() {
			if len(k) != HashSize {
				return fmt.Errorf("%w: vector key of %d bytes", ErrCorrupt, len(k))
			}
			h := Hash(k)
			e, err := decodeVectorEntry(h, v)
			if err != nil {
				return err
			}
			if e.vec != nil {
				if _, err := dequantize(e.vec); err != nil {
					return err
				}
			}
			if e.refs != refs[h] {
				return fmt.Errorf("%w: vector %s counts %d references, %d chunks use it", ErrCorrupt, h, e.refs, refs[h])
			}
			delete(refs, h)
		}
		for h, n := range refs {
			return fmt.Errorf("%w: %d chunks use text hash %s without a vector entry", ErrCorrupt, n, h)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("verifying index %s: %w", s.path, err)
	}
	return nil
}
