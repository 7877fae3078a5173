package index

import (
	"context"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/codemux/codemux/index/lexical"
)

// Mode selects the rankings a search uses.
type Mode int

const (
	Hybrid  Mode = iota // BM25 and vectors fused (the default)
	Lexical             // BM25 only
	Vector              // vector similarity only
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case Hybrid:
		return "hybrid"
	case Lexical:
		return "lexical"
	case Vector:
		return "vector"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Query is a search request.
type Query struct {
	Text string
	K    int // results wanted; 0 means DefaultK, at most MaxK
	// Languages keeps chunks of these languages (as chunk.LanguageOf names
	// them); empty keeps all.
	Languages []string
	// Paths keeps chunks of files matching one of these: a directory or
	// file path relative to the root ("internal/", "cmd/main.go") or a
	// path.Match pattern ("*.go", "pkg/*/util.go"); empty keeps all.
	Paths []string
	Mode  Mode
	// WithText fills Result.Text with the whole chunk (secrets masked).
	WithText bool
}

// Result is one search hit.
type Result struct {
	Path      string // slash-separated, relative to the root
	StartLine int    // 1-based, inclusive
	EndLine   int
	Symbol    string
	Kind      string
	Language  string
	Score     float64 // higher is better; comparable within one search only
	Snippet   string  // the lines of the chunk that best match the query
	Text      string  // the whole chunk, when Query.WithText is set
}

// Search limits.
const (
	DefaultK = 10
	MaxK     = 200
)

// fusion weighs the rankings of a hybrid search: reciprocal rank fusion
// with constant k over the BM25 list, the vector list and the list of
// candidates whose symbol name appears in the query.
type fusion struct {
	k                       int
	lexical, vector, symbol float64
}

// defaultFusion returns the weights chosen with BenchmarkRetrieval.
func defaultFusion() fusion { return fusion{k: 10, lexical: 1, vector: 0.5, symbol: 0.25} }

// minCandidates is the fewest candidates taken from each ranking.
const minCandidates = 50

// A snippet holds at most snippetLines lines of at most maxSnippetLine bytes.
const (
	snippetLines   = 8
	maxSnippetLine = 240
)

// candidates are the rankings of one query, best first.
type candidates struct {
	lex, vec, sym []uint32
	scores        map[uint32]float64 // BM25 score or cosine similarity
}

// Search returns the chunks that best match q, best first.
func (ix *Index) Search(ctx context.Context, q Query) ([]Result, error) {
	text := strings.TrimSpace(q.Text)
	if text == "" {
		return nil, fmt.Errorf("searching: empty query")
	}
	k := q.K
	if k <= 0 {
		k = DefaultK
	}
	k = min(k, MaxK)
	q.Text = text
	cands, err := ix.candidates(ctx, q, max(minCandidates, 3*k))
	if err != nil {
		return nil, err
	}
	ranked, scores := ix.fusion.rank(q.Mode, cands)
	if len(ranked) > k {
		ranked = ranked[:k]
	}
	if len(ranked) == 0 {
		return nil, nil
	}
	chunks, err := ix.st.Chunks(ranked)
	if err != nil {
		return nil, fmt.Errorf("searching: %w", err)
	}
	terms := queryTerms(text)
	out := make([]Result, 0, len(chunks))
	for i, c := range chunks {
		if c.ID == 0 {
			continue // removed by an update since the ranking
		}
		out = append(out, Result{
			Path: c.Rel, StartLine: c.StartLine, EndLine: c.EndLine,
			Symbol: c.Symbol, Kind: c.Kind, Language: c.Language,
			Score:   scores[ranked[i]],
			Snippet: snippet(c.Text, terms),
		})
		if q.WithText {
			out[len(out)-1].Text = c.Text
		}
	}
	return out, nil
}

// candidates runs the rankings q's mode needs, n candidates each.
func (ix *Index) candidates(ctx context.Context, q Query, n int) (candidates, error) {
	c := candidates{scores: map[uint32]float64{}}
	// Embed before taking the engine lock: it may call a server.
	var qvec []float32
	if q.Mode != Lexical {
		vecs, err := ix.emb.Embed(ctx, []string{q.Text})
		if err != nil {
			if q.Mode == Vector {
				return c, fmt.Errorf("searching: embedding the query: %w", err)
			}
			ix.log.Warn("embedding query failed; lexical results only", "err", err)
		} else if len(vecs) == 1 && norm(vecs[0]) > 0 {
			qvec = vecs[0]
		}
	}

	e := ix.eng
	e.mu.RLock()
	defer e.mu.RUnlock()
	filter := ix.filter(q)
	if q.Mode != Vector {
		for _, h := range e.lex.Search(q.Text, n, filter) {
			c.lex = append(c.lex, h.ID)
			c.scores[h.ID] = float64(h.Score)
		}
	}
	if qvec != nil {
		ids, sims, err := ix.vectorSearch(ctx, qvec, n, filter, c.lex)
		if err != nil {
			return c, err
		}
		c.vec = ids
		if q.Mode == Vector {
			for i, id := range ids {
				c.scores[id] = sims[i]
			}
		}
	}
	if q.Mode == Hybrid {
		c.sym = ix.symbolMatches(q.Text, [][]uint32{c.lex, c.vec})
	}
	return c, nil
}

// rank orders the candidates for mode and returns the scores to report.
func (f fusion) rank(mode Mode, c candidates) ([]uint32, map[uint32]float64) {
	switch mode {
	case Lexical:
		return c.lex, c.scores
	case Vector:
		return c.vec, c.scores
	}
	fused := lexical.Fuse([][]uint32{c.lex, c.vec, c.sym}, []float64{f.lexical, f.vector, f.symbol}, f.k)
	ranked := make([]uint32, len(fused))
	scores := make(map[uint32]float64, len(fused))
	for i, r := range fused {
		ranked[i] = r.ID
		scores[r.ID] = r.Score
	}
	return ranked, scores
}

// vectorSearch returns up to n chunk IDs by cosine similarity, best first,
// scoring the chunks in also exactly (see vectors.query). Filtered queries ask every cell for more candidates so that enough
// survive the filter. Callers hold e.mu.
func (ix *Index) vectorSearch(ctx context.Context, qvec []float32, n int, filter func(uint32) bool, also []uint32) ([]uint32, []float64, error) {
	e := ix.eng
	want := n
	if filter != nil {
		want = max(n*20, 1000)
	}
	res, sims, err := e.vec.query(ctx, qvec, want, filter != nil, also)
	if err != nil {
		return nil, nil, err
	}
	if filter == nil {
		return res, sims, nil
	}
	ids := make([]uint32, 0, min(n, len(res)))
	keep := make([]float64, 0, cap(ids))
	for i, id := range res {
		if !filter(id) {
			continue
		}
		ids = append(ids, id)
		keep = append(keep, sims[i])
		if len(ids) == n {
			break
		}
	}
	return ids, keep, nil
}

// filter returns the chunk filter of q, or nil when q keeps everything.
// Callers hold e.mu.
func (ix *Index) filter(q Query) func(uint32) bool {
	if len(q.Languages) == 0 && len(q.Paths) == 0 {
		return nil
	}
	langs := map[string]bool{}
	for _, l := range q.Languages {
		langs[strings.ToLower(l)] = true
	}
	var prefixes, globs []string
	for _, p := range q.Paths {
		p = strings.TrimPrefix(path.Clean(strings.ReplaceAll(p, "\\", "/")), "./")
		if strings.ContainsAny(p, "*?[") {
			globs = append(globs, p)
		} else {
			prefixes = append(prefixes, p)
		}
	}
	chunks := ix.eng.chunks
	return func(id uint32) bool {
		c, ok := chunks[id]
		if !ok {
			return false
		}
		if len(langs) > 0 && !langs[c.lang] {
			return false
		}
		if len(q.Paths) == 0 {
			return true
		}
		for _, p := range prefixes {
			if p == "." || c.rel == p || strings.HasPrefix(c.rel, p+"/") {
				return true
			}
		}
		for _, g := range globs {
			if ok, _ := path.Match(g, c.rel); ok {
				return true
			}
			if ok, _ := path.Match(g, path.Base(c.rel)); ok && !strings.Contains(g, "/") {
				return true
			}
		}
		return false
	}
}

// symbolMatches returns the candidates whose symbol name (or its last
// component) is a word of the query, in the order first seen. Callers hold
// e.mu.
func (ix *Index) symbolMatches(query string, lists [][]uint32) []uint32 {
	words := map[string]bool{}
	for _, w := range strings.FieldsFunc(query, func(r rune) bool {
		return !(r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127)
	}) {
		words[strings.ToLower(strings.Trim(w, "."))] = true
	}
	var out []uint32
	seen := map[uint32]bool{}
	for _, l := range lists {
		for _, id := range l {
			if seen[id] {
				continue
			}
			seen[id] = true
			sym := strings.ToLower(ix.eng.chunks[id].symbol)
			if sym == "" {
				continue
			}
			last := sym[strings.LastIndexAny(sym, ".:")+1:]
			if words[sym] || words[last] {
				out = append(out, id)
			}
		}
	}
	return out
}

// queryTerms returns the query's search terms as BM25 sees them.
func queryTerms(query string) map[string]bool {
	terms := map[string]bool{}
	for _, t := range lexical.Tokens(query) {
		terms[t] = true
	}
	return terms
}

// snippet returns up to snippetLines lines of text around the line that
// holds the most query terms (the chunk's first lines when none match).
func snippet(text string, terms map[string]bool) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		if len(l) > maxSnippetLine {
			cut := maxSnippetLine
			for cut > 0 && !utf8.RuneStart(l[cut]) {
				cut--
			}
			lines[i] = l[:cut] + "…"
		}
	}
	if len(lines) <= snippetLines {
		return strings.Join(lines, "\n")
	}
	score := make([]int, len(lines))
	for i, l := range lines {
		if len(terms) == 0 {
			break
		}
		seen := map[string]bool{}
		for _, t := range lexical.Tokens(l) {
			if terms[t] && !seen[t] {
				seen[t] = true
				score[i]++
			}
		}
	}
	// Best window of snippetLines lines by the sum of line scores.
	best, bestScore, sum := 0, -1, 0
	for i := range lines {
		sum += score[i]
		if i >= snippetLines {
			sum -= score[i-snippetLines]
		}
		if i >= snippetLines-1 && sum > bestScore {
			best, bestScore = i-snippetLines+1, sum
		}
	}
	// Start two lines above the window's first matching line.
	for i := best; i < best+snippetLines; i++ {
		if score[i] > 0 {
			best = min(max(0, i-2), len(lines)-snippetLines)
			break
		}
	}
	return strings.Join(lines[best:best+snippetLines], "\n")
}
