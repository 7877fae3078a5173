package chunk

import (
	"context"
	"sort"
	"strings"
	"unicode/utf8"

	sitter "github.com/smacker/go-tree-sitter"
)

// group is a run of segments that becomes one chunk, or several when a
// single segment is too large.
type group struct {
	first, last int
	segs        []segment
	symbol      []string
	kind        string
	weak        bool // every segment is weak
	trailer     bool // ends with a container's trailer
	dead        bool // folded into a neighbour
}

func (g *group) lineCount() int { return g.last - g.first + 1 }

// fits reports whether lines first..last make an acceptable chunk.
func (b *builder) fits(first, last int) bool {
	return last-first+1 <= b.opts.MaxChunkLines && b.lines.bytes(first, last) <= b.opts.MaxChunkBytes
}

// emit merges tiny neighbours, folds tiny headers and trailers into the
// member next to them, splits what is too large and makes the chunks.
func (b *builder) emit(ctx context.Context, segs []segment) ([]Chunk, error) {
	groups := b.merge(segs)
	b.fold(groups)
	groups = b.fill(groups)
	var out []Chunk
	for i := range groups {
		g := &groups[i]
		if err := b.tick(ctx); err != nil {
			return nil, err
		}
		sym := strings.Join(g.symbol, b.spec.sep)
		// Groups of several segments, and groups that fold or fill
		// extended, fit by construction; only a single segment may not.
		if len(g.segs) != 1 || b.fits(g.first, g.last) {
			out = b.appendChunk(out, g.first, g.last, sym, g.kind)
			continue
		}
		var err error
		out, err = b.split(ctx, out, &g.segs[0], g.first, g.last, sym, g.kind)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// merge groups consecutive tiny segments of one level, up to the size
// limits.
func (b *builder) merge(segs []segment) []group {
	groups := make([]group, 0, len(segs))
	tiny := func(s *segment) bool { return s.last-s.first+1 < b.opts.MinChunkLines }
	for i := 0; i < len(segs); {
		j := i + 1
		if tiny(&segs[i]) {
			for j < len(segs) && tiny(&segs[j]) && segs[j].level == segs[i].level && b.fits(segs[i].first, segs[j].last) {
				j++
			}
		}
		groups = append(groups, newGroup(segs[i:j]))
		i = j
	}
	return groups
}

// newGroup names a run of segments: the longest symbol path they share, and
// the kind of the segment with that path, or the kind they share, or the
// kind of the first named one.
func newGroup(segs []segment) group {
	g := group{first: segs[0].first, last: segs[len(segs)-1].last, segs: segs, weak: true, trailer: segs[len(segs)-1].part == partTrailer}
	var named []*segment
	for i := range segs {
		s := &segs[i]
		if !s.weak() {
			g.weak = false
		}
		if s.path != nil && (s.part == partDecl || s.part == partHeader) {
			named = append(named, s)
		}
	}
	if len(named) == 0 {
		g.kind = segs[0].kind
		g.symbol = segs[0].path
		return g
	}
	prefix := named[0].path
	sameKind := true
	for _, s := range named[1:] {
		n := 0
		for n < len(prefix) && n < len(s.path) && prefix[n] == s.path[n] {
			n++
		}
		prefix = prefix[:n]
		if s.kind != named[0].kind {
			sameKind = false
		}
	}
	g.symbol = prefix
	g.kind = named[0].kind
	if sameKind {
		return g
	}
	// Mixed kinds: the kind of the segment named by the shared path, else
	// of the largest segment.
	size := 0
	for _, s := range named {
		if len(s.path) == len(prefix) {
			g.kind = s.kind
			break
		}
		if n := s.last - s.first; n > size {
			g.kind, size = s.kind, n
		}
	}
	return g
}

// fold joins each tiny group of only headers, trailers or member-level code
// to the group it leads into (or, for trailers, closes), which keeps its
// own name.
func (b *builder) fold(groups []group) {
	for i := range groups {
		g := &groups[i]
		if !g.weak || g.lineCount() >= b.opts.MinChunkLines {
			continue
		}
		dir := 1
		if g.trailer {
			dir = -1
		}
		t := b.neighbour(groups, i, dir)
		if t == nil {
			continue
		}
		first, last := min(t.first, g.first), max(t.last, g.last)
		if !b.fits(first, last) {
			continue
		}
		t.first, t.last = first, last
		t.segs = nil // the group now spans more than its segment
		g.dead = true
	}
}

// fill drops folded groups and gives the text no node holds (such as a
// lone line continuation between two macros) to the group before it, or
// after it, or to a chunk of its own, so that no line with text is lost.
func (b *builder) fill(groups []group) []group {
	out := make([]group, 0, len(groups))
	prevLast := -1
	place := func(first, last int, next *group) {
		for first <= last && !b.hasText(b.lines.start(first), b.lines.end(first)) {
			first++
		}
		for last >= first && !b.hasText(b.lines.start(last), b.lines.end(last)) {
			last--
		}
		if first > last {
			return
		}
		if n := len(out); n > 0 && b.fits(out[n-1].first, last) {
			out[n-1].last, out[n-1].segs = last, nil
			return
		}
		if next != nil && b.fits(first, next.last) {
			next.first, next.segs = first, nil
			return
		}
		out = append(out, group{first: first, last: last, kind: KindCode,
			segs: []segment{{first: first, last: last, kind: KindCode}}})
	}
	for i := range groups {
		g := &groups[i]
		if g.dead {
			continue
		}
		if g.first > prevLast+1 {
			place(prevLast+1, g.first-1, g)
		}
		out = append(out, *g)
		prevLast = g.last
	}
	place(prevLast+1, b.lines.count()-1, nil)
	return out
}

// neighbour returns the closest live group before (dir -1) or after (dir 1)
// groups[i].
func (b *builder) neighbour(groups []group, i, dir int) *group {
	for j := i + dir; j >= 0 && j < len(groups); j += dir {
		if !groups[j].dead {
			return &groups[j]
		}
	}
	return nil
}

// appendChunk appends the chunk of lines first..last.
func (b *builder) appendChunk(out []Chunk, first, last int, symbol, kind string) []Chunk {
	start, end := b.lines.start(first), b.lines.end(last)
	return append(out, Chunk{
		StartLine: first + 1,
		EndLine:   last + 1,
		StartByte: start,
		EndByte:   end,
		Symbol:    symbol,
		Kind:      kind,
		Language:  b.spec.lang,
		Text:      string(b.src[start:end]),
	})
}

// split cuts the lines first..last of a segment too large for one chunk
// into parts that fit, each keeping the segment's symbol and kind. Each part
// is made as large as the limits allow and then cut back to where a
// statement (a child node, at the shallowest depth that keeps the part at
// least half full) starts; with no such place it is cut by lines.
func (b *builder) split(ctx context.Context, out []Chunk, s *segment, first, last int, symbol, kind string) ([]Chunk, error) {
	for cur := first; cur <= last; {
		if err := b.tick(ctx); err != nil {
			return nil, err
		}
		if b.fits(cur, last) {
			return b.appendChunk(out, cur, last, symbol, kind), nil
		}
		limit := b.maxFit(cur, last)
		if limit < cur { // one line too long by itself
			out = b.cutLine(out, cur, symbol, kind)
			cur++
			continue
		}
		next := b.cutAt(s.nodes, cur, limit)
		out = b.appendChunk(out, cur, next-1, symbol, kind)
		cur = next
	}
	return out, nil
}

// maxFit returns the last line before last such that lines cur..line fit,
// or cur-1 if line cur alone does not.
func (b *builder) maxFit(cur, last int) int {
	hi := min(cur+b.opts.MaxChunkLines-1, last-1)
	budget := b.lines.start(cur) + b.opts.MaxChunkBytes
	// The first line in cur..hi whose end is past the byte budget.
	n := sort.Search(hi-cur+1, func(i int) bool { return b.lines.end(cur+i) > budget })
	return cur + n - 1
}

// cutAt returns the line in cur+1..limit+1 where the part starting at cur
// should end (exclusive), preferring the start of a statement near limit.
func (b *builder) cutAt(nodes []*sitter.Node, cur, limit int) int {
	p := uint32(b.lines.start(limit + 1))
	i := sort.Search(len(nodes), func(i int) bool { return nodes[i].EndByte() > p })
	if i == len(nodes) {
		return limit + 1
	}
	half := cur + (limit-cur+1)/2
	best := -1
	n := nodes[i]
	for depth := 0; depth < maxSplitDepth; depth++ {
		start := b.first(n)
		if start > limit {
			return limit + 1 // the cut falls between two nodes
		}
		if start > cur {
			if start >= half {
				return start
			}
			best = max(best, start)
		}
		b.cursor.Reset(n)
		if b.cursor.GoToFirstChildForByte(p) < 0 {
			break
		}
		n = b.cursor.CurrentNode()
	}
	if best > cur {
		return best
	}
	return limit + 1
}

// cutLine appends chunks for one line longer than MaxChunkBytes.
func (b *builder) cutLine(out []Chunk, line int, symbol, kind string) []Chunk {
	start, end := b.lines.start(line), b.lines.end(line)
	for start < end {
		stop := min(start+b.opts.MaxChunkBytes, end)
		for stop < end && stop > start+1 && !utf8.RuneStart(b.src[stop]) {
			stop--
		}
		out = append(out, Chunk{
			StartLine: line + 1, EndLine: line + 1,
			StartByte: start, EndByte: stop,
			Symbol: symbol, Kind: kind, Language: b.spec.lang,
			Text: string(b.src[start:stop]),
		})
		start = stop
	}
	return out
}
