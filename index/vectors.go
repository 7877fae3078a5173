package index

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"sync"

	"github.com/philippgille/chromem-go"
)

// vectors is the vector engine: chromem-go collections partitioned by a
// coarse quantiser (an inverted file). chromem-go scores every document of
// a collection it is asked about, which costs about 0.5 µs per document at
// 192 dimensions (most of it chromem-go's per-document overhead, not the
// dot product): 44 ms at 85k chunks. So the vectors are split into cells,
// one collection each, around centroids learned by spherical k-means; a
// query scores the centroids and asks only the probe cells nearest to it.
//
// Until trainMin vectors exist there is one cell and every query is exact.
// The centroids are learned again each time the count doubles (moving
// every vector to its new cell), and at Open they come back from a
// snapshot with each chunk's cell, so reopening costs no training.
// An Update holds training back until its end (deferTrain), so a cold
// index learns the cells once, from the whole workspace, instead of at
// every doubling on the way (which was a sixteenth of its CPU).
// Filtered queries ask every cell.
type vectors struct {
	db        *chromem.DB
	cells     []*chromem.Collection
	centroids [][]float32 // nil while untrained; one per cell
	cellOf    map[uint32]uint16
	// vecOf holds the vector of each chunk in cellOf: the slice its cell
	// holds too (vectors enter unit-length, which chromem-go keeps without
	// copying), so training and exact scoring read vectors without
	// chromem-go's copying GetByID.
	vecOf     map[uint32][]float32
	dim       int
	trainedAt int // vector count at the last training
	seq       int // names new collections
	// probeDiv sets the cells a query asks: len(cells)/probeDiv, at least
	// minProbe.
	probeDiv int
	// deferTrain holds training back while Open loads or an Update adds
	// (see settle).
	deferTrain bool
}

// Inverted-file settings, chosen with BenchmarkSearch and BenchmarkRetrieval.
const (
	trainMin      = 4096 // vectors before the first training
	trainSample   = 8192 // vectors k-means learns from
	trainRounds   = 6
	vectorsPerCel = 1024 // see cellsFor; within [minCells, maxCells]
	minCells      = 16
	maxCells      = 256
	minProbe      = 4
	probeDiv      = 8
)

func newVectors() (*vectors, error) {
	v := &vectors{db: chromem.NewDB(), cellOf: make(map[uint32]uint16), vecOf: make(map[uint32][]float32), probeDiv: probeDiv}
	c, err := v.newCell()
	if err != nil {
		return nil, err
	}
	v.cells = []*chromem.Collection{c}
	return v, nil
}

func (v *vectors) newCell() (*chromem.Collection, error) {
	v.seq++
	noEmbed := func(context.Context, string) ([]float32, error) {
		return nil, errors.New("vectors are computed by the index, not the collection")
	}
	c, err := v.db.CreateCollection(fmt.Sprintf("cell-%d", v.seq), nil, noEmbed)
	if err != nil {
		return nil, fmt.Errorf("creating vector collection: %w", err)
	}
	return c, nil
}

// count returns the number of vectors held.
func (v *vectors) count() int { return len(v.cellOf) }

// add stores the vector of chunk id (replacing any) in its nearest cell.
// vec must have unit length (see toUnit) and is kept, not copied.
func (v *vectors) add(ctx context.Context, id uint32, vec []float32) error {
	if _, ok := v.cellOf[id]; ok {
		if err := v.remove(ctx, []uint32{id}); err != nil {
			return err
		}
	}
	cell := 0
	if v.centroids != nil {
		cell = nearest(v.centroids, vec)
	}
	return v.addTo(ctx, id, vec, cell)
}

func (v *vectors) addTo(ctx context.Context, id uint32, vec []float32, cell int) error {
	if err := v.cells[cell].AddDocument(ctx, chromem.Document{ID: docID(id), Embedding: vec}); err != nil {
		return fmt.Errorf("adding vector of chunk %d: %w", id, err)
	}
	v.cellOf[id] = uint16(cell)
	v.vecOf[id] = vec
	v.dim = len(vec)
	if !v.deferTrain && v.trainDue() {
		return v.train(ctx)
	}
	return nil
}

// trainDue reports whether there are enough vectors, and twice as many as
// at the last training, to learn the cells again.
func (v *vectors) trainDue() bool {
	return v.count() >= trainMin && v.count() >= 2*v.trainedAt
}

// remove drops the vectors of ids; IDs without one are ignored.
func (v *vectors) remove(ctx context.Context, ids []uint32) error {
	byCell := map[uint16][]string{}
	for _, id := range ids {
		if c, ok := v.cellOf[id]; ok {
			byCell[c] = append(byCell[c], docID(id))
			delete(v.cellOf, id)
			delete(v.vecOf, id)
		}
	}
	for c, docs := range byCell {
		if err := v.cells[c].Delete(ctx, nil, nil, docs...); err != nil {
			return fmt.Errorf("removing vectors: %w", err)
		}
	}
	return nil
}

// query returns up to n chunk IDs by cosine similarity to q, best first;
// all asks every cell (for filtered queries). The chunks in also (the
// lexical candidates) are scored exactly wherever their cell is, so the
// cells a query skips never cost a chunk that fusion would have weighed.
func (v *vectors) query(ctx context.Context, q []float32, n int, all bool, also []uint32) ([]uint32, []float64, error) {
	if v.count() == 0 || len(q) != v.dim {
		return nil, nil, nil
	}
	probe := make([]int, 0, len(v.cells))
	if v.centroids == nil || all {
		for i := range v.cells {
			probe = append(probe, i)
		}
	} else {
		q = normalized(q)
		type cs struct {
			cell int
			sim  float32
		}
		sims := make([]cs, len(v.centroids))
		for i, c := range v.centroids {
			sims[i] = cs{i, dot(q, c)}
		}
		slices.SortFunc(sims, func(a, b cs) int { return cmp.Compare(b.sim, a.sim) })
		for _, s := range sims[:min(len(sims), max(minProbe, len(sims)/v.probeDiv))] {
			probe = append(probe, s.cell)
		}
	}
	var res []chromem.Result
	for _, c := range probe {
		col := v.cells[c]
		k := min(n, col.Count())
		if k == 0 {
			continue
		}
		r, err := col.QueryEmbedding(ctx, q, k, nil, nil)
		if err != nil {
			return nil, nil, fmt.Errorf("searching vectors: %w", err)
		}
		res = append(res, r...)
	}
	if v.centroids != nil && !all && len(also) > 0 {
		seen := make(map[string]bool, len(res))
		for _, r := range res {
			seen[r.ID] = true
		}
		qn := normalized(q)
		for _, id := range also {
			vec, ok := v.vecOf[id]
			if !ok || seen[docID(id)] {
				continue
			}
			res = append(res, chromem.Result{ID: docID(id), Similarity: dot(qn, vec)})
		}
	}
	slices.SortStableFunc(res, func(a, b chromem.Result) int { return cmp.Compare(b.Similarity, a.Similarity) })
	ids := make([]uint32, 0, min(n, len(res)))
	sims := make([]float64, 0, cap(ids))
	for _, r := range res[:min(n, len(res))] {
		if id, ok := parseDocID(r.ID); ok {
			ids = append(ids, id)
			sims = append(sims, float64(r.Similarity))
		}
	}
	return ids, sims, nil
}

// train learns new centroids from a sample of the vectors and moves every
// vector to its nearest one.
func (v *vectors) train(ctx context.Context) error {
	n := v.count()
	ids := make([]uint32, 0, n)
	for id := range v.cellOf {
		ids = append(ids, id)
	}
	slices.Sort(ids) // deterministic sample
	step := max(1, n/trainSample)
	var sample [][]float32
	for i := 0; i < n; i += step {
		sample = append(sample, v.vecOf[ids[i]])
	}
	k := min(maxCells, max(minCells, cellsFor(n)))
	cents := kmeans(sample, k, trainRounds)
	if err := ctx.Err(); err != nil {
		return err
	}
	cells := make([]*chromem.Collection, len(cents))
	for i := range cells {
		c, err := v.newCell()
		if err != nil {
			return err
		}
		cells[i] = c
	}
	// Move cell by cell, deleting what was moved every moveBatch vectors,
	// so that little is held twice even when one cell holds everything.
	byOld := make([][]uint32, len(v.cells))
	for _, id := range ids {
		c := v.cellOf[id]
		byOld[c] = append(byOld[c], id)
	}
	cellOf := make(map[uint32]uint16, n)
	const moveBatch = 1024
	vecs := make([][]float32, 0, moveBatch)
	to := make([]int, moveBatch)
	moved := make([]string, 0, moveBatch)
	for old, members := range byOld {
		from := v.cells[old]
		for len(members) > 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			group := members[:min(moveBatch, len(members))]
			members = members[len(group):]
			vecs, moved = vecs[:0], moved[:0]
			for _, id := range group {
				vecs = append(vecs, v.vecOf[id])
			}
			assign(cents, vecs, to)
			for i, id := range group {
				c, doc := to[i], docID(id)
				if err := cells[c].AddDocument(ctx, chromem.Document{ID: doc, Embedding: vecs[i]}); err != nil {
					return fmt.Errorf("moving vector of chunk %d: %w", id, err)
				}
				cellOf[id] = uint16(c)
				moved = append(moved, doc)
			}
			if len(members) > 0 {
				if err := from.Delete(ctx, nil, nil, moved...); err != nil {
					return fmt.Errorf("moving vectors: %w", err)
				}
			}
		}
		_ = v.db.DeleteCollection(from.Name)
		v.cells[old] = nil
	}
	v.cells, v.centroids, v.cellOf, v.trainedAt = cells, cents, cellOf, n
	return nil
}

// cellsFor returns the number of cells for n vectors: n/vectorsPerCel
// rounded down to a power of two, the count training at every doubling
// from trainMin used to reach. More cells cost more than they save:
// chromem-go's overhead per collection asked outweighs the smaller cells
// (BenchmarkSearch at 85k chunks: 82 cells, hybrid p50 9.4 ms / p99 17.3;
// 64 cells, 7.7 / 13.6).
func cellsFor(n int) int {
	c := n / vectorsPerCel
	if c <= 0 {
		return 0
	}
	return 1 << (bits.Len(uint(c)) - 1)
}

// settle ends a deferral of training (a load or an Update): it learns the
// cells if the count reached trainMin or doubled meanwhile.
func (v *vectors) settle(ctx context.Context) error {
	v.deferTrain = false
	if !v.trainDue() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return v.train(ctx)
}

// kmeans returns k unit centroids of the unit vectors in sample by
// spherical k-means from a spread-out deterministic start.
func kmeans(sample [][]float32, k, rounds int) [][]float32 {
	k = min(k, len(sample))
	dim := len(sample[0])
	cents := make([][]float32, k)
	for i := range cents {
		cents[i] = normalized(sample[i*len(sample)/k])
	}
	assigned := make([]int, len(sample))
	for range rounds {
		assign(cents, sample, assigned)
		sums := make([][]float64, k)
		counts := make([]int, k)
		for i := range sums {
			sums[i] = make([]float64, dim)
		}
		for i, x := range sample {
			c := assigned[i]
			counts[c]++
			for j, f := range x {
				sums[c][j] += float64(f)
			}
		}
		for c := range cents {
			if counts[c] == 0 {
				// An empty cell restarts at a point of the largest one.
				big := 0
				for j := range counts {
					if counts[j] > counts[big] {
						big = j
					}
				}
				for i := range sample {
					if assigned[i] == big {
						cents[c] = normalized(sample[i])
						assigned[i] = c
						counts[big]--
						break
					}
				}
				continue
			}
			v := make([]float32, dim)
			for j, s := range sums[c] {
				v[j] = float32(s)
			}
			cents[c] = normalized(v)
		}
	}
	return cents
}

// assign sets out[i] to the nearest centroid of xs[i], splitting the work
// over GOMAXPROCS goroutines: training runs when an Update's workers are
// done and the cores are free.
func assign(cents, xs [][]float32, out []int) {
	const minPart = 256 // vectors worth a goroutine
	parts := min(runtime.GOMAXPROCS(0), len(xs)/minPart)
	if parts <= 1 {
		for i, x := range xs {
			out[i] = nearest(cents, x)
		}
		return
	}
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*len(xs)/parts, (p+1)*len(xs)/parts
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				out[i] = nearest(cents, xs[i])
			}
		})
	}
	wg.Wait()
}

func nearest(cents [][]float32, x []float32) int {
	best, bestSim := 0, float32(math.Inf(-1))
	for i, c := range cents {
		if s := dot(x, c); s > bestSim {
			best, bestSim = i, s
		}
	}
	return best
}

func dot(a, b []float32) float32 {
	n := min(len(a), len(b))
	a, b = a[:n], b[:n]
	var s0, s1, s2, s3 float32
	for len(a) >= 8 && len(b) >= 8 {
		s0 += a[0]*b[0] + a[4]*b[4]
		s1 += a[1]*b[1] + a[5]*b[5]
		s2 += a[2]*b[2] + a[6]*b[6]
		s3 += a[3]*b[3] + a[7]*b[7]
		a, b = a[8:], b[8:]
	}
	for i := range a {
		s0 += a[i] * b[i]
	}
	return s0 + s1 + s2 + s3
}

// normalized returns x scaled to unit length (a copy); zero stays zero.
func normalized(x []float32) []float32 {
	out := make([]float32, len(x))
	n := norm(x)
	if n == 0 {
		return out
	}
	for i, f := range x {
		out[i] = float32(float64(f) / n)
	}
	return out
}

// cellsVersion is the layout of the "cells" snapshot.
//
// History:
//
//	1: uvarint version, dim, cells, trainedAt; cells×dim float32 (LE)
//	   centroids; uvarint count, then count × (uvarint chunk-ID delta,
//	   uvarint cell), in increasing ID order.
const cellsVersion = 1

// marshal encodes the centroids and each vector's cell; nil when untrained.
func (v *vectors) marshal() []byte {
	if v.centroids == nil {
		return nil
	}
	b := binary.AppendUvarint(nil, cellsVersion)
	b = binary.AppendUvarint(b, uint64(v.dim))
	b = binary.AppendUvarint(b, uint64(len(v.centroids)))
	b = binary.AppendUvarint(b, uint64(v.trainedAt))
	for _, c := range v.centroids {
		for _, f := range c {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
	}
	ids := make([]uint32, 0, len(v.cellOf))
	for id := range v.cellOf {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b = binary.AppendUvarint(b, uint64(len(ids)))
	prev := uint32(0)
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(id-prev))
		b = binary.AppendUvarint(b, uint64(v.cellOf[id]))
		prev = id
	}
	return b
}

// cellPlan is a decoded "cells" snapshot: centroids and each chunk's cell.
type cellPlan struct {
	dim       int
	centroids [][]float32
	trainedAt int
	cellOf    map[uint32]uint16
}

func unmarshalCells(b []byte) (*cellPlan, error) {
	bad := errors.New("bad cells snapshot")
	next := func() (uint64, error) {
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, bad
		}
		b = b[n:]
		return x, nil
	}
	var hdr [4]uint64
	for i := range hdr {
		x, err := next()
		if err != nil {
			return nil, err
		}
		hdr[i] = x
	}
	if hdr[0] != cellsVersion {
		return nil, fmt.Errorf("cells snapshot version %d, want %d", hdr[0], cellsVersion)
	}
	dim, k := int(hdr[1]), int(hdr[2])
	if dim == 0 || k == 0 || k > maxCells || dim > 1<<16 || len(b) < k*dim*4 {
		return nil, bad
	}
	p := &cellPlan{dim: dim, trainedAt: int(hdr[3]), centroids: make([][]float32, k)}
	for i := range p.centroids {
		c := make([]float32, dim)
		for j := range c {
			c[j] = math.Float32frombits(binary.LittleEndian.Uint32(b))
			b = b[4:]
		}
		p.centroids[i] = c
	}
	n, err := next()
	if err != nil || n > uint64(len(b)) {
		return nil, bad
	}
	p.cellOf = make(map[uint32]uint16, n)
	id := uint64(0)
	for range n {
		d, err := next()
		if err != nil {
			return nil, err
		}
		c, err := next()
		if err != nil || c >= uint64(k) {
			return nil, bad
		}
		id += d
		if id > math.MaxUint32 {
			return nil, bad
		}
		p.cellOf[uint32(id)] = uint16(c)
	}
	return p, nil
}

// usePlan makes an empty vectors follow a snapshot's cells while loading.
func (v *vectors) usePlan(p *cellPlan) error {
	cells := make([]*chromem.Collection, len(p.centroids))
	for i := range cells {
		c, err := v.newCell()
		if err != nil {
			return err
		}
		cells[i] = c
	}
	for _, c := range v.cells {
		_ = v.db.DeleteCollection(c.Name)
	}
	v.cells, v.centroids, v.trainedAt = cells, p.centroids, p.trainedAt
	return nil
}
