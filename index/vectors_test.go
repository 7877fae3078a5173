package index

import (
	"context"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// clusteredVectors returns n unit vectors of dim around k random centres.
func clusteredVectors(n, k, dim int) [][]float32 {
	r := rand.New(rand.NewPCG(1, 2))
	centres := make([][]float32, k)
	for i := range centres {
		c := make([]float32, dim)
		for j := range c {
			c[j] = float32(r.NormFloat64())
		}
		centres[i] = c
	}
	out := make([][]float32, n)
	for i := range out {
		c := centres[i%k]
		v := make([]float32, dim)
		for j := range v {
			v[j] = c[j] + 0.3*float32(r.NormFloat64())
		}
		out[i] = normalized(v)
	}
	return out
}

// exactTop returns the IDs (index+1) of the n vectors nearest to q.
func exactTop(vecs [][]float32, q []float32, n int) []uint32 {
	ids := make([]uint32, len(vecs))
	for i := range ids {
		ids[i] = uint32(i + 1)
	}
	slices.SortFunc(ids, func(a, b uint32) int {
		da, db := dot(q, vecs[a-1]), dot(q, vecs[b-1])
		switch {
		case da > db:
			return -1
		case da < db:
			return 1
		}
		return 0
	})
	return ids[:n]
}

func TestVectorCells(t *testing.T) {
	ctx := context.Background()
	const n, dim = 3 * trainMin, 32
	vecs := clusteredVectors(n, 40, dim)
	v, err := newVectors()
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range vecs {
		if err := v.add(ctx, uint32(i+1), x); err != nil {
			t.Fatalf("add(%d) = %v", i+1, err)
		}
		if i+1 == trainMin-1 && v.centroids != nil {
			t.Fatalf("trained at %d vectors, want %d", i+1, trainMin)
		}
	}
	if v.centroids == nil || len(v.cells) < minCells || v.trainedAt != 2*trainMin {
		t.Fatalf("after %d vectors: %d cells, trained at %d; want at least %d cells trained at %d", n, len(v.cells), v.trainedAt, minCells, 2*trainMin)
	}
	total := 0
	for _, c := range v.cells {
		total += c.Count()
	}
	if total != n || v.count() != n {
		t.Fatalf("cells hold %d vectors, count() = %d; want %d", total, v.count(), n)
	}

	// Probed search finds the exact neighbours of clustered data, and the
	// chunks given in also are scored wherever they are.
	for _, qi := range []int{0, 17, 5000} {
		q := vecs[qi]
		want := exactTop(vecs, q, 5)
		got, sims, err := v.query(ctx, q, 5, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("query(vector %d) = %v, want %v", qi+1, got, want)
		}
		if len(sims) != len(got) || sims[0] < 0.99 {
			t.Errorf("query(vector %d) similarities = %v, want the first ≈ 1", qi+1, sims)
		}
		far := exactTop(vecs, q, n)[n-1] // surely in a cell not probed
		got, _, err = v.query(ctx, q, n, false, []uint32{far})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(got, far) {
			t.Errorf("query(vector %d, also %d) left out chunk %d", qi+1, far, far)
		}
	}

	// The cells survive a snapshot: a new vectors following the plan puts
	// every vector back in its cell without training.
	p, err := unmarshalCells(v.marshal())
	if err != nil {
		t.Fatalf("unmarshalCells(marshal()) = %v", err)
	}
	if len(p.centroids) != len(v.centroids) || len(p.cellOf) != n || p.trainedAt != v.trainedAt {
		t.Fatalf("plan = %d centroids, %d cells, trained at %d; want %d, %d, %d", len(p.centroids), len(p.cellOf), p.trainedAt, len(v.centroids), n, v.trainedAt)
	}
	w, err := newVectors()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.usePlan(p); err != nil {
		t.Fatal(err)
	}
	w.deferTrain = true
	for i, x := range vecs {
		if err := w.addTo(ctx, uint32(i+1), x, int(p.cellOf[uint32(i+1)])); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.settle(ctx); err != nil {
		t.Fatal(err)
	}
	for id, c := range v.cellOf {
		if w.cellOf[id] != c {
			t.Fatalf("reloaded chunk %d in cell %d, want %d", id, w.cellOf[id], c)
		}
	}

	// Removing leaves nothing behind.
	all := make([]uint32, n)
	for i := range all {
		all[i] = uint32(i + 1)
	}
	if err := w.remove(ctx, all); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := w.query(ctx, vecs[0], 5, false, nil); w.count() != 0 || len(got) != 0 {
		t.Errorf("after remove: count() = %d, query = %v; want empty", w.count(), got)
	}
}

func TestUnmarshalCellsErrors(t *testing.T) {
	ctx := context.Background()
	v, err := newVectors()
	if err != nil {
		t.Fatal(err)
	}
	for i, x := range clusteredVectors(trainMin, 8, 16) {
		if err := v.add(ctx, uint32(i+1), x); err != nil {
			t.Fatal(err)
		}
	}
	good := v.marshal()
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"version", append([]byte{9}, good[1:]...)},
		{"truncated", good[:len(good)/2]},
		{"header only", good[:4]},
	} {
		if _, err := unmarshalCells(tt.data); err == nil {
			t.Errorf("unmarshalCells(%s) = nil error, want one", tt.name)
		}
	}
}

// TestReopenKeepsCells checks that Open puts every vector back in the cell
// it had, from the saved snapshot, and that search still answers.
func TestReopenKeepsCells(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes thousands of chunks")
	}
	ctx := context.Background()
	root := capWorkspace(t, 400)
	data := t.TempDir()
	ix, err := Open(ctx, root, &Options{DataDir: data, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Update(ctx, UpdateOptions{}); err != nil {
		t.Fatalf("Update() = %v", err)
	}
	if ix.eng.vec.centroids == nil {
		t.Fatalf("%d vectors and no cells; want cells from %d", ix.eng.vec.count(), trainMin)
	}
	q := Query{Text: "render the item", K: 10}
	before, err := ix.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	cells := maps.Clone(ix.eng.vec.cellOf)
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if ix, err = Open(ctx, root, &Options{DataDir: data, Workers: 2}); err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if !maps.Equal(ix.eng.vec.cellOf, cells) {
		t.Errorf("after reopen %d vectors in cells, %d moved; want all %d where they were", len(ix.eng.vec.cellOf), moved(cells, ix.eng.vec.cellOf), len(cells))
	}
	after, err := ix.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	// Many chunks tie here, and stored vectors are int8, so only check
	// that both answer in full.
	if len(before) != q.K || len(after) != q.K {
		t.Errorf("Search(%q) = %d results before reopen, %d after; want %d", q.Text, len(before), len(after), q.K)
	}
}

func TestCellsFor(t *testing.T) {
	for _, tt := range []struct{ n, want int }{
		{0, 0}, {1023, 0}, {1024, 1}, {3 * 1024, 2}, {4096, 4}, {84835, 64}, {131071, 64}, {131072, 128},
	} {
		if got := cellsFor(tt.n); got != tt.want {
			t.Errorf("cellsFor(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

func moved(a, b map[uint32]uint16) int {
	n := 0
	for id, c := range a {
		if bc, ok := b[id]; !ok || bc != c {
			n++
		}
	}
	return n
}

// TestDeferredTraining checks that vectors added while training is held
// back stay in one exact cell, and that settle then learns the cells once
// and puts every vector in its nearest one.
func TestDeferredTraining(t *testing.T) {
	ctx := context.Background()
	const n, dim = 3 * trainMin, 32
	vecs := clusteredVectors(n, 40, dim)
	v, err := newVectors()
	if err != nil {
		t.Fatal(err)
	}
	v.deferTrain = true
	for i, x := range vecs {
		if err := v.add(ctx, uint32(i+1), x); err != nil {
			t.Fatalf("add(%d) = %v", i+1, err)
		}
	}
	if v.centroids != nil || len(v.cells) != 1 {
		t.Fatalf("while deferred: %d cells, centroids %v; want 1 cell, none", len(v.cells), v.centroids != nil)
	}
	if err := v.settle(ctx); err != nil {
		t.Fatalf("settle() = %v", err)
	}
	if want := max(minCells, cellsFor(n)); len(v.centroids) != want || len(v.cells) != want || v.trainedAt != n {
		t.Fatalf("after settle: %d centroids, %d cells, trained at %d; want %d, %d, %d", len(v.centroids), len(v.cells), v.trainedAt, want, want, n)
	}
	total := 0
	for _, c := range v.cells {
		total += c.Count()
	}
	if total != n || v.count() != n {
		t.Fatalf("cells hold %d vectors, count() = %d; want %d", total, v.count(), n)
	}
	for i, x := range vecs {
		id := uint32(i + 1)
		want := nearest(v.centroids, x)
		if got := int(v.cellOf[id]); got != want {
			t.Fatalf("chunk %d in cell %d, want its nearest %d", id, got, want)
		}
		if _, err := v.cells[want].GetByID(ctx, docID(id)); err != nil {
			t.Fatalf("cell %d does not hold chunk %d: %v", want, id, err)
		}
	}
	if err := v.settle(ctx); err != nil || v.trainedAt != n {
		t.Errorf("second settle() = %v, trained at %d; want no training (at %d)", err, v.trainedAt, n)
	}
}
