package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	os.Exit(m.Run())
}

var fixedNow = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

func openTemp(t *testing.T, opts *Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "index.bolt")
	if opts == nil {
		opts = &Options{}
	}
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%q) = %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// vec returns a deterministic test vector for text.
func vec(text string, dims int) []float32 {
	r := rand.New(rand.NewPCG(uint64(len(text)), uint64(HashString(text)[0])))
	v := make([]float32, dims)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// update builds a FileUpdate with one chunk per text, embedding them all.
func update(rel string, texts ...string) FileUpdate {
	u := FileUpdate{File: File{Rel: rel, Size: int64(len(strings.Join(texts, ""))), ModTime: 42, ContentHash: HashString(strings.Join(texts, ""))}}
	u.Vectors = map[Hash][]float32{}
	line := 1
	for i, text := range texts {
		n := strings.Count(text, "\n") + 1
		u.Chunks = append(u.Chunks, Chunk{
			StartLine: line, EndLine: line + n - 1, StartByte: i * 10, EndByte: i*10 + len(text),
			Symbol: fmt.Sprintf("sym%d", i), Kind: "function", Language: "go", Text: text,
		})
		u.Vectors[HashString(text)] = vec(text, 8)
		line += n
	}
	return u
}

func mustReplace(t *testing.T, s *Store, batch ...FileUpdate) []Change {
	t.Helper()
	ch, err := s.ReplaceFiles(context.Background(), batch)
	if err != nil {
		t.Fatalf("ReplaceFiles() = %v", err)
	}
	return ch
}

func mustVerify(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Verify(context.Background()); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
}

// texts returns rel → chunk texts as stored.
func contents(t *testing.T, s *Store) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	err := s.Files(context.Background(), func(f File) error {
		cs, err := s.Chunks(f.ChunkIDs)
		if err != nil {
			return err
		}
		texts := []string{}
		for _, c := range cs {
			if c.ID == 0 {
				return fmt.Errorf("file %s lists missing chunk", f.Rel)
			}
			texts = append(texts, c.Text)
		}
		out[f.Rel] = texts
		return nil
	})
	if err != nil {
		t.Fatalf("Files() = %v", err)
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	s, path := openTemp(t, &Options{EmbedderID: "test-v1", Root: "/ws"})
	long := strings.Repeat("func parseConfig(path string) (*Config, error) {\n\treturn nil, nil\n}\n", 20)
	u := update("a/b.go", "package b\n", long, "héllo\x00\xff wörld")
	changes := mustReplace(t, s, u)
	if len(changes) != 1 || len(changes[0].Added) != 3 || len(changes[0].Removed) != 0 {
		t.Fatalf("ReplaceFiles() changes = %+v, want 3 added", changes)
	}
	f, ok, err := s.File("a/b.go")
	if err != nil || !ok {
		t.Fatalf("File(a/b.go) = %v, %v, %v", f, ok, err)
	}
	if want := changes[0].Added; !slices.Equal(f.ChunkIDs, want) || f.Size != u.File.Size || f.ModTime != 42 || f.ContentHash != u.File.ContentHash {
		t.Errorf("File(a/b.go) = %+v, want ids %v and the stored meta", f, want)
	}
	cs, err := s.Chunks(append(f.ChunkIDs, 9999))
	if err != nil {
		t.Fatalf("Chunks() = %v", err)
	}
	for i, want := range u.Chunks {
		want.ID, want.Rel, want.TextHash = f.ChunkIDs[i], "a/b.go", HashString(want.Text)
		if !reflect.DeepEqual(cs[i], want) {
			t.Errorf("Chunks()[%d] = %+v, want %+v", i, cs[i], want)
		}
	}
	if cs[3].ID != 0 {
		t.Errorf("Chunks()[missing] = %+v, want zero", cs[3])
	}
	var noText []Chunk
	if err := s.ForEachChunk(context.Background(), false, func(c Chunk) error { noText = append(noText, c); return nil }); err != nil {
		t.Fatalf("ForEachChunk() = %v", err)
	}
	if len(noText) != 3 || noText[1].Text != "" || noText[1].Symbol != "sym1" || noText[1].TextHash != HashString(long) {
		t.Errorf("ForEachChunk(withText=false) = %+v", noText)
	}
	for h, want := range u.Vectors {
		got, ok, err := s.VectorFor(h)
		if err != nil || !ok {
			t.Fatalf("VectorFor(%v) = %v, %v, %v", h, got, ok, err)
		}
		// 4-bit quantisation of a Gaussian vector keeps cosine ≈ 0.99.
		if sim := cosine(got, want); sim < 0.98 {
			t.Errorf("VectorFor(%v) cosine to original = %v, want ≥ 0.98", h, sim)
		}
	}
	nvec := 0
	if err := s.ForEachVector(context.Background(), func(Hash, []float32) error { nvec++; return nil }); err != nil || nvec != 3 {
		t.Errorf("ForEachVector() saw %d vectors, err %v; want 3", nvec, err)
	}
	st, err := s.Stats()
	if err != nil || st.Files != 1 || st.Chunks != 3 || st.Vectors != 3 || st.DiskBytes <= 0 || st.UsedBytes <= 0 || st.UsedBytes > st.DiskBytes {
		t.Errorf("Stats() = %+v, %v", st, err)
	}
	mustVerify(t, s)
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}

	s2, err := Open(path, &Options{EmbedderID: "test-v1"})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	want := Info{Schema: SchemaVersion, EmbedderID: "test-v1", Root: "/ws", Created: fixedNow()}
	if got := s2.Info(); got != want && !(got.Created.Equal(want.Created) && got.Root == want.Root && got.EmbedderID == want.EmbedderID) {
		t.Errorf("Info() = %+v, want %+v", got, want)
	}
	if got := contents(t, s2); !reflect.DeepEqual(got["a/b.go"], []string{"package b\n", long, "héllo\x00\xff wörld"}) {
		t.Errorf("after reopen contents = %q", got)
	}
	for _, p := range []string{path, filepath.Dir(path)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if fi.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("mode of %s = %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return dot / math.Sqrt(na*nb)
}

func TestReplaceDeleteSemantics(t *testing.T) {
	type op struct {
		replace []FileUpdate
		del     []string
	}
	tests := []struct {
		name string
		ops  []op
		want map[string][]string
		vecs int
	}{
		{"replace wholly", []op{{replace: []FileUpdate{update("x.go", "a", "b", "c")}}, {replace: []FileUpdate{update("x.go", "b", "d")}}},
			map[string][]string{"x.go": {"b", "d"}}, 2},
		{"delete leaves no trace", []op{{replace: []FileUpdate{update("x.go", "a"), update("y.go", "b")}}, {del: []string{"x.go", "missing.go"}}},
			map[string][]string{"y.go": {"b"}}, 1},
		{"same rel twice in a batch: last wins", []op{{replace: []FileUpdate{update("x.go", "a", "b"), update("x.go", "c")}}},
			map[string][]string{"x.go": {"c"}}, 1},
		{"empty file", []op{{replace: []FileUpdate{update("x.go")}}},
			map[string][]string{"x.go": {}}, 0},
		{"shared text counted twice", []op{{replace: []FileUpdate{update("x.go", "same", "same"), update("y.go", "same")}}, {del: []string{"x.go"}}},
			map[string][]string{"y.go": {"same"}}, 1},
		{"delete everything", []op{{replace: []FileUpdate{update("x.go", "a"), update("y.go", "a")}}, {del: []string{"x.go", "y.go"}}},
			map[string][]string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTemp(t, &Options{NoSync: true})
			for _, o := range tt.ops {
				if o.replace != nil {
					mustReplace(t, s, o.replace...)
				}
				if o.del != nil {
					if _, err := s.DeleteFiles(context.Background(), o.del); err != nil {
						t.Fatalf("DeleteFiles(%q) = %v", o.del, err)
					}
				}
			}
			if got := contents(t, s); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("contents = %q, want %q", got, tt.want)
			}
			st, err := s.Stats()
			if err != nil || st.Vectors != tt.vecs {
				t.Errorf("Stats().Vectors = %d (%v), want %d", st.Vectors, err, tt.vecs)
			}
			mustVerify(t, s)
		})
	}
}

func TestChangesAndIDs(t *testing.T) {
	s, _ := openTemp(t, &Options{NoSync: true})
	c1 := mustReplace(t, s, update("x.go", "a", "b"))
	c2 := mustReplace(t, s, update("x.go", "c"))
	if !slices.Equal(c2[0].Removed, c1[0].Added) {
		t.Errorf("second ReplaceFiles Removed = %v, want %v", c2[0].Removed, c1[0].Added)
	}
	if c2[0].Added[0] <= c1[0].Added[1] {
		t.Errorf("new chunk id %d not above old ids %v: ids must never be reused", c2[0].Added[0], c1[0].Added)
	}
	d, err := s.DeleteFiles(context.Background(), []string{"x.go"})
	if err != nil || len(d) != 1 || !slices.Equal(d[0].Removed, c2[0].Added) {
		t.Errorf("DeleteFiles() = %+v, %v; want removed %v", d, err, c2[0].Added)
	}
}

func TestSnapshots(t *testing.T) {
	s, path := openTemp(t, &Options{NoSync: true})
	ctx := context.Background()
	gen := func() uint64 {
		g, err := s.Generation()
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	if _, ok, err := s.Snapshot("lex"); ok || err != nil {
		t.Fatalf("Snapshot() of a new store = %v, %v; want none", ok, err)
	}
	g0 := gen()
	if err := s.PutSnapshot("lex", g0, []byte("state 0")); err != nil {
		t.Fatal(err)
	}
	mustReplace(t, s, update("x.go", "a"))
	steps := []struct {
		name    string
		do      func() error
		changes bool
	}{
		{"replace", func() error { _, err := s.ReplaceFiles(ctx, []FileUpdate{update("y.go", "b")}); return err }, true},
		{"delete unknown", func() error { _, err := s.DeleteFiles(ctx, []string{"nope.go"}); return err }, false},
		{"touch", func() error { return s.TouchFiles(ctx, []File{{Rel: "x.go", Size: 5}}) }, false},
		{"put vectors", func() error { _, err := s.PutVectors(ctx, map[Hash][]float32{HashString("a"): {1}}); return err }, false},
		{"delete", func() error { _, err := s.DeleteFiles(ctx, []string{"x.go"}); return err }, true},
	}
	for _, st := range steps {
		before := gen()
		if err := s.PutSnapshot("lex", before, []byte(st.name)); err != nil {
			t.Fatalf("PutSnapshot(current generation) = %v", err)
		}
		if err := st.do(); err != nil {
			t.Fatal(err)
		}
		data, ok, err := s.Snapshot("lex")
		if err != nil || ok == st.changes || (ok && string(data) != st.name) {
			t.Errorf("after %s: Snapshot() = %q, %v, %v; want valid = %v", st.name, data, ok, err, !st.changes)
		}
		if err := s.PutSnapshot("lex", before, nil); st.changes && !errors.Is(err, ErrStale) {
			t.Errorf("after %s: PutSnapshot(old generation) = %v, want ErrStale", st.name, err)
		}
	}
	if err := s.PutSnapshot("lex", gen(), []byte("final")); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s2, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if data, ok, err := s2.Snapshot("lex"); !ok || err != nil || string(data) != "final" {
		t.Errorf("Snapshot() after reopen = %q, %v, %v", data, ok, err)
	}
}

func TestTouchFiles(t *testing.T) {
	s, _ := openTemp(t, &Options{NoSync: true})
	c := mustReplace(t, s, update("x.go", "a", "b"))
	touched := File{Rel: "x.go", Size: 99, ModTime: 1234, ContentHash: HashString("new"), ChunkIDs: []uint32{77}}
	if err := s.TouchFiles(context.Background(), []File{touched, {Rel: "unknown.go"}}); err != nil {
		t.Fatalf("TouchFiles() = %v", err)
	}
	got, ok, err := s.File("x.go")
	want := touched
	want.ChunkIDs = c[0].Added
	if err != nil || !ok || !reflect.DeepEqual(got, want) {
		t.Errorf("File(x.go) after TouchFiles = %+v, %v, %v; want %+v", got, ok, err, want)
	}
	if _, ok, _ := s.File("unknown.go"); ok {
		t.Errorf("TouchFiles created an unknown file")
	}
	mustVerify(t, s)
}

func TestVectorsFollowText(t *testing.T) {
	s, _ := openTemp(t, &Options{NoSync: true})
	mustReplace(t, s, update("old/name.go", "alpha", "beta"))

	// A rename: the new path arrives with no vectors and must find them.
	moved := update("new/name.go", "alpha", "beta")
	moved.Vectors = nil
	missing, err := s.MissingVectors([]Hash{HashString("alpha"), HashString("beta"), HashString("alpha")})
	if err != nil || len(missing) != 0 {
		t.Fatalf("MissingVectors(renamed texts) = %v, %v; want none", missing, err)
	}
	mustReplace(t, s, moved)
	if _, err := s.DeleteFiles(context.Background(), []string{"old/name.go"}); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"alpha", "beta"} {
		if _, ok, err := s.VectorFor(HashString(text)); err != nil || !ok {
			t.Errorf("VectorFor(%q) after rename = %v, %v; want kept", text, ok, err)
		}
	}

	// An edit: unchanged chunks keep their vector even though the file is
	// replaced wholly; the dropped text's vector goes.
	edit := update("new/name.go", "alpha", "gamma")
	delete(edit.Vectors, HashString("alpha"))
	mustReplace(t, s, edit)
	tests := []struct {
		text string
		want bool
	}{{"alpha", true}, {"gamma", true}, {"beta", false}}
	for _, tt := range tests {
		if _, ok, err := s.VectorFor(HashString(tt.text)); err != nil || ok != tt.want {
			t.Errorf("VectorFor(%q) after edit = %v, %v; want %v", tt.text, ok, err, tt.want)
		}
	}
	vs, err := s.Vectors([]Hash{HashString("alpha"), HashString("beta"), HashString("alpha")})
	if err != nil || len(vs) != 1 || len(vs[HashString("alpha")]) != 8 {
		t.Errorf("Vectors(alpha, beta, alpha) = %v, %v; want alpha's 8-d vector only", vs, err)
	}
	got, err := s.MissingVectors([]Hash{HashString("beta"), HashString("gamma")})
	if err != nil || !slices.Equal(got, []Hash{HashString("beta")}) {
		t.Errorf("MissingVectors(beta, gamma) = %v, %v; want [beta]", got, err)
	}
	mustVerify(t, s)
}

func TestEmbedderChangeDropsVectors(t *testing.T) {
	s, path := openTemp(t, &Options{EmbedderID: "a", NoSync: true})
	mustReplace(t, s, update("x.go", "one", "two"), update("y.go", "two"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		id      string
		dropped bool
	}{{"", false}, {"a", false}, {"b", true}} {
		t.Run("embedder="+tt.id, func(t *testing.T) {
			s, err := Open(path, &Options{EmbedderID: tt.id})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got := s.Info().VectorsDropped; got != tt.dropped {
				t.Errorf("Info().VectorsDropped = %v, want %v", got, tt.dropped)
			}
			missing, err := s.MissingVectors([]Hash{HashString("one"), HashString("two")})
			if err != nil || (len(missing) == 2) != tt.dropped {
				t.Errorf("MissingVectors() = %v, %v; dropped %v", missing, err, tt.dropped)
			}
			mustVerify(t, s)
			if tt.dropped {
				n, err := s.PutVectors(context.Background(), map[Hash][]float32{
					HashString("one"): vec("one", 4), HashString("two"): vec("two", 4), HashString("unused"): vec("x", 4),
				})
				if err != nil || n != 2 {
					t.Errorf("PutVectors() = %d, %v; want 2 stored", n, err)
				}
				if got, ok, _ := s.VectorFor(HashString("two")); !ok || len(got) != 4 {
					t.Errorf("VectorFor(two) = %v, %v; want the 4-d vector", got, ok)
				}
				if _, ok, _ := s.VectorFor(HashString("unused")); ok {
					t.Errorf("PutVectors stored a vector no chunk uses")
				}
				mustVerify(t, s)
			}
		})
	}
}

func TestSecondOpenTimesOut(t *testing.T) {
	s, path := openTemp(t, nil)
	_, err := Open(path, &Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open() = %v, want ErrLocked", err)
	}
	t.Logf("second Open: %v", err)
	if !strings.Contains(err.Error(), "in use by another codemux process") {
		t.Errorf("second Open() message %q does not say the index is in use", err)
	}
	if _, _, err := Recreate(path, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("Recreate(open file) = %v, want ErrLocked", err)
	}
	if _, ok, err := s.File("x"); err != nil || ok {
		t.Errorf("first store after refused Recreate: File() = %v, %v", ok, err)
	}
}

func TestBadFiles(t *testing.T) {
	// writeStore fills a store and returns the bytes its data takes.
	writeStore := func(t *testing.T, path string) int64 {
		s, err := Open(path, &Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 50 {
			mustReplace(t, s, update(fmt.Sprintf("f%d.go", i), randomText(i, 3000), fmt.Sprint(i)))
		}
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		return st.UsedBytes
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
		want    error
	}{
		{"random bytes", func(t *testing.T, path string) {
			b := make([]byte, 64<<10)
			r := rand.New(rand.NewPCG(1, 2))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			writeFile(t, path, b)
		}, ErrCorrupt},
		{"text file", func(t *testing.T, path string) { writeFile(t, path, []byte("hello\n")) }, ErrCorrupt},
		{"truncated into its data", func(t *testing.T, path string) {
			used := writeStore(t, path)
			if err := os.Truncate(path, used/2); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt},
		{"truncated to one page", func(t *testing.T, path string) {
			writeStore(t, path)
			if err := os.Truncate(path, 4096); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt},
		{"garbage in data pages", func(t *testing.T, path string) {
			writeStore(t, path)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			r := rand.New(rand.NewPCG(3, 4))
			for i := 4 * 4096; i < len(b); i++ {
				b[i] = byte(r.Uint32())
			}
			writeFile(t, path, b)
		}, ErrCorrupt},
		{"foreign bbolt file", func(t *testing.T, path string) {
			rawBolt(t, path, func(tx *bbolt.Tx) error {
				b, err := tx.CreateBucket([]byte("widgets"))
				if err != nil {
					return err
				}
				return b.Put([]byte("k"), []byte("v"))
			})
		}, ErrCorrupt},
		{"bad magic", func(t *testing.T, path string) {
			writeStore(t, path)
			rawBolt(t, path, func(tx *bbolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyMagic, []byte("other")) })
		}, ErrCorrupt},
		{"bucket missing", func(t *testing.T, path string) {
			writeStore(t, path)
			rawBolt(t, path, func(tx *bbolt.Tx) error { return tx.DeleteBucket(bucketVectors) })
		}, ErrCorrupt},
		{"newer schema", func(t *testing.T, path string) {
			writeStore(t, path)
			rawBolt(t, path, func(tx *bbolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(keySchema, []byte{0, 0, 0, SchemaVersion + 1})
			})
		}, ErrSchema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "index.bolt")
			tt.prepare(t, path)
			s, err := Open(path, &Options{Timeout: 100 * time.Millisecond})
			if err == nil {
				// Damage bbolt does not see on open must show on a full check.
				err = s.Verify(context.Background())
				_ = s.Close()
			}
			t.Logf("Open+Verify: %v", err)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open+Verify(%s) = %v, want %v", tt.name, err, tt.want)
			}
			s, moved, err := Recreate(path, &Options{Now: fixedNow})
			if err != nil {
				t.Fatalf("Recreate() = %v", err)
			}
			defer s.Close()
			if want := path + ".corrupt-20260102T030405.000000000Z"; moved != want {
				t.Errorf("Recreate() moved to %q, want %q", moved, want)
			}
			if _, err := os.Stat(moved); err != nil {
				t.Errorf("moved file: %v", err)
			}
			mustReplace(t, s, update("x.go", "fresh"))
			if got := contents(t, s); !reflect.DeepEqual(got, map[string][]string{"x.go": {"fresh"}}) {
				t.Errorf("after Recreate contents = %q", got)
			}
			mustVerify(t, s)
		})
	}
}

// randomText returns n bytes of incompressible text seeded by seed.
func randomText(seed, n int) string {
	r := rand.New(rand.NewPCG(uint64(seed), 99))
	const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[r.IntN(len(chars))]
	}
	return string(b)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func rawBolt(t *testing.T, path string, fn func(*bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestRecreateWithoutFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "index.bolt")
	s, moved, err := Recreate(path, nil)
	if err != nil || moved != "" {
		t.Fatalf("Recreate(no file) = %q, %v; want a new store and nothing moved", moved, err)
	}
	_ = s.Close()
}

func TestCancelledWriteChangesNothing(t *testing.T) {
	s, _ := openTemp(t, &Options{NoSync: true})
	mustReplace(t, s, update("x.go", "a"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.ReplaceFiles(ctx, []FileUpdate{update("x.go", "b"), update("y.go", "c")}); !errors.Is(err, context.Canceled) {
		t.Errorf("ReplaceFiles(cancelled) = %v, want context.Canceled", err)
	}
	if _, err := s.DeleteFiles(ctx, []string{"x.go"}); !errors.Is(err, context.Canceled) {
		t.Errorf("DeleteFiles(cancelled) = %v, want context.Canceled", err)
	}
	if got := contents(t, s); !reflect.DeepEqual(got, map[string][]string{"x.go": {"a"}}) {
		t.Errorf("contents after cancelled writes = %q", got)
	}
}

func TestBadInput(t *testing.T) {
	s, _ := openTemp(t, &Options{NoSync: true})
	nan := update("x.go", "a")
	nan.Vectors[HashString("a")] = []float32{1, float32(math.NaN())}
	neg := update("y.go", "a")
	neg.Chunks[0].StartLine = -1
	for name, u := range map[string]FileUpdate{"empty rel": update("", "a"), "NaN vector": nan, "negative line": neg} {
		if _, err := s.ReplaceFiles(context.Background(), []FileUpdate{u}); err == nil {
			t.Errorf("ReplaceFiles(%s) = nil error, want one", name)
		}
	}
	if got := contents(t, s); len(got) != 0 {
		t.Errorf("contents after refused writes = %q", got)
	}
}

func TestFullFile(t *testing.T) {
	s, _ := openTemp(t, &Options{NoSync: true, MaxBytes: 2 << 20})
	ctx := context.Background()
	mustReplace(t, s, update("small.go", "fits"))
	var big []FileUpdate
	for i := range 200 {
		big = append(big, update(fmt.Sprintf("big%d.go", i), randomText(i, 20000)))
	}
	_, err := s.ReplaceFiles(ctx, big)
	if !errors.Is(err, ErrFull) {
		t.Fatalf("ReplaceFiles(beyond MaxBytes) = %v, want ErrFull", err)
	}
	mustVerify(t, s)
	if got := contents(t, s); !reflect.DeepEqual(got, map[string][]string{"small.go": {"fits"}}) {
		t.Errorf("contents after a refused write = %q", got)
	}
	mustReplace(t, s, update("small.go", "still works"))
	mustVerify(t, s)
}

func TestCallbackPanicIsNotCorruption(t *testing.T) {
	s, _ := openTemp(t, &Options{NoSync: true})
	mustReplace(t, s, update("x.go", "a"))
	defer func() {
		if r := recover(); r != "boom" {
			t.Errorf("recover() = %v, want the callback's panic", r)
		}
	}()
	_ = s.ForEachChunk(context.Background(), true, func(Chunk) error { panic("boom") })
	t.Errorf("ForEachChunk swallowed the callback's panic")
}

func TestCompact(t *testing.T) {
	s, path := openTemp(t, &Options{NoSync: true})
	var batch []FileUpdate
	for i := range 800 {
		batch = append(batch, update(fmt.Sprintf("f%03d.go", i), randomText(i, 4000), fmt.Sprint("keep", i%7)))
	}
	c := mustReplace(t, s, batch...)
	lastID := c[len(c)-1].Added[1]
	var dels []string
	for i := range 790 {
		dels = append(dels, fmt.Sprintf("f%03d.go", i))
	}
	if _, err := s.DeleteFiles(context.Background(), dels); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	want := contents(t, s)
	if err := s.Compact(context.Background()); err != nil {
		t.Fatalf("Compact() = %v", err)
	}
	after, _ := os.Stat(path)
	if after.Size() >= before.Size()/2 {
		t.Errorf("Compact() size %d → %d, want less than half", before.Size(), after.Size())
	}
	if got := contents(t, s); !reflect.DeepEqual(got, want) {
		t.Errorf("contents after Compact = %q, want %q", got, want)
	}
	mustVerify(t, s)
	c = mustReplace(t, s, update("new.go", "n"))
	if c[0].Added[0] <= lastID {
		t.Errorf("chunk id after Compact = %d, want above %d (sequence kept)", c[0].Added[0], lastID)
	}
	if _, err := os.Stat(path + ".compact"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open after Compact = %v", err)
	}
	defer s2.Close()
	mustVerify(t, s2)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s2.Compact(ctx); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("Compact(cancelled) = %v", err)
	}
	mustVerify(t, s2)
}

func TestCodec(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	random := make([]byte, 500)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	tests := []struct {
		name string
		text string
	}{
		{"empty", ""},
		{"short", "x := 1"},
		{"compressible", strings.Repeat("if err != nil { return err }\n", 50)},
		{"incompressible", string(random)},
		{"invalid utf-8", "\xff\xfe\x00abc" + strings.Repeat("\x80", 200)},
	}
	var cd codec
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Chunk{ID: 7, Rel: "p/q.go", StartLine: 3, EndLine: 9, StartByte: 10, EndByte: 99, Symbol: "S", Kind: "k", Language: "go", TextHash: HashString(tt.text), Text: tt.text}
			const off = 5
			v, err := encodeChunk(&c, off)
			if err != nil {
				t.Fatal(err)
			}
			tv, err := cd.encodeText(c.Rel, []byte("01234"+tt.text+"xyz"))
			if err != nil {
				t.Fatal(err)
			}
			got, ref, err := decodeChunk(7, v)
			if err != nil {
				t.Fatalf("decodeChunk(encodeChunk(%q)) = %v", tt.text, err)
			}
			text, err := cd.decodeText(c.Rel, tv)
			if err == nil {
				err = sliceText(&got, ref, text)
			}
			if err != nil || !reflect.DeepEqual(got, c) {
				t.Errorf("decodeChunk(encodeChunk(%q)) with its text = %+v, %v", tt.text, got, err)
			}
			if h, err := chunkHash(7, v); err != nil || h != c.TextHash {
				t.Errorf("chunkHash() = %v, %v; want %v", h, err, c.TextHash)
			}
			if len(tv) > len(tt.text)+8+16 {
				t.Errorf("encoded text size %d for %d bytes of text", len(tv), len(tt.text)+8)
			}
			for n := range len(v) - 1 {
				if _, _, err := decodeChunk(7, v[:n]); err == nil {
					t.Errorf("decodeChunk(truncated to %d) = nil error", n)
				}
			}
			for n := range len(tv) - 1 {
				if _, err := cd.decodeText(c.Rel, tv[:n]); err == nil {
					t.Errorf("decodeText(truncated to %d) = nil error", n)
				}
			}
		})
	}
}

func TestQuantize(t *testing.T) {
	sparse := make([]float32, 192)
	sparse[3], sparse[50], sparse[90], sparse[150], sparse[191] = 0.9, -0.5, 0.3, 0.2, -0.1
	tests := []struct {
		name      string
		v         []float32
		minCosine float64
	}{
		{"zero", []float32{0, 0, 0}, 0},
		{"one", []float32{1}, 0.999},
		{"odd length", []float32{-3, 2, 0.5, 1e-6, -0.25}, 0.98},
		{"outlier", []float32{10, 0.1, -0.1, 0.2, -0.2, 0.3, 0.05, -0.05, 0.15, -0.15, 0.1, 0.1}, 0.99},
		{"sparse", sparse, 0.99},
		{"dense", vec("x", 192), 0.98},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			b := quantize(v)
			got, err := dequantize(b)
			if err != nil || len(got) != len(v) {
				t.Fatalf("dequantize(quantize(%v)) = %v, %v", v, got, err)
			}
			_, n := binary.Uvarint(b)
			scale := float64(math.Float32frombits(binary.LittleEndian.Uint32(b[n:])))
			for i, x := range v {
				want := math.Max(-7*scale, math.Min(7*scale, float64(x)))
				if d := math.Abs(float64(got[i]) - want); d > scale/2*(1+1e-6)+1e-12 {
					t.Errorf("dequantize(quantize(%v))[%d] = %v, want %v within %v", v[:min(len(v), 4)], i, got[i], want, scale/2)
				}
			}
			if c := cosine(v, got); tt.minCosine > 0 && !(c >= tt.minCosine) {
				t.Errorf("cosine(v, dequantize(quantize(v))) = %.4f, want ≥ %v", c, tt.minCosine)
			}
		})
	}
}

func TestDequantizeBadLength(t *testing.T) {
	good := quantize([]float32{1, 2, 3})
	for _, b := range [][]byte{nil, good[:len(good)-1], append(append([]byte(nil), good...), 0)} {
		if got, err := dequantize(b); err == nil {
			t.Errorf("dequantize(%v) = %v, want an error", b, got)
		}
	}
}

// TestQuant checks quant against math.Round (half away from zero) and the
// clamp, at the boundaries where a cheaper rounding could differ.
func TestQuant(t *testing.T) {
	below := func(x float32) float32 { return math.Nextafter32(x, float32(math.Inf(-1))) }
	tests := []struct {
		x, scale float32
	}{
		{0, 1}, {0.5, 1}, {-0.5, 1}, {below(0.5), 1}, {-below(0.5), 1},
		{1.5, 1}, {-2.5, 1}, {below(6.5), 1}, {6.5, 1}, {-6.5, 1}, {7.49, 1},
		{100, 1}, {-100, 1}, {0.3, 0.1}, {-0.65, 0.1}, {1e-30, 1e-31}, {3, 0}, {3, -1},
	}
	for _, tt := range tests {
		want := int8(0)
		if tt.scale > 0 {
			want = int8(math.Max(-7, math.Min(7, math.Round(float64(tt.x/tt.scale)))))
		}
		if got := quant(tt.x, tt.scale); got != want {
			t.Errorf("quant(%v, %v) = %d, want %d", tt.x, tt.scale, got, want)
		}
	}
}
