// Package evalset builds retrieval benchmark cases from Go source: a doc comment is the query, the function it documents is the answer.
//
// Load walks a directory tree of Go files (typically $(go env GOROOT)/src),
// and turns every function and method into a Doc whose Text is the function
// source with its doc comment removed, so that the answer cannot be found by
// matching the comment itself. A seeded, deterministic sample of functions
// whose doc comment is long enough becomes the Cases: the query is the first
// sentence of the doc comment with the leading function name removed (Go doc
// comments begin with the name, which would make lexical search trivially
// perfect).
//
// # Doc IDs
//
// A Doc's ID is "rel:StartLine", where rel is the slash-separated path of the
// file relative to the root and StartLine is the 1-based line of the "func"
// keyword (the doc comment lies above it). Any index that stores chunks by
// path and start line can map its results to these IDs with DocID.
package evalset

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Case is one benchmark query and the location of its single relevant answer.
type Case struct {
	Query     string
	Rel       string // slash-separated path relative to the root
	Symbol    string // function name, or "Recv.Method" for methods
	StartLine int    // 1-based line of the "func" keyword
	EndLine   int    // 1-based line of the closing brace
}

// ID returns the Doc ID of the case's answer.
func (c Case) ID() string { return DocID(c.Rel, c.StartLine) }

// Doc is one function or method as an index would see it.
type Doc struct {
	ID        string
	Rel       string
	Symbol    string
	StartLine int
	EndLine   int
	Text      string // function source with its doc comment stripped
}

// Set is the corpus and the queries drawn from it.
type Set struct {
	Docs  []Doc  // every function, sorted by Rel then StartLine
	Cases []Case // the sampled queries, in sample order
}

// Options controls Load. The zero value (or nil) means defaults.
type Options struct {
	// Seed makes the case sample deterministic. Default 1.
	Seed uint64
	// MaxCases caps the number of cases. Default 1000; negative means all.
	MaxCases int
	// MinWords is the minimum number of words in a query. Default 5.
	MinWords int
	// Tests also reads *_test.go files (as docs and cases). Default false.
	Tests bool
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Seed == 0 {
		r.Seed = 1
	}
	if r.MaxCases == 0 {
		r.MaxCases = 1000
	}
	if r.MinWords == 0 {
		r.MinWords = 5
	}
	return r
}

// DocID returns the ID of the function starting at line in the file rel.
func DocID(rel string, line int) string {
	return rel + ":" + strconv.Itoa(line)
}

// Load parses every Go file under root (skipping testdata and vendor
// directories, and *_test.go files unless opts.Tests) and returns its docs and
// a deterministic sample of cases. Files that fail to parse are skipped.
func Load(ctx context.Context, root string, opts *Options) (*Set, error) {
	o := opts.withDefaults()
	var files []string
	err := walkSources(ctx, root, o.Tests, func(path string) error {
		files = append(files, path)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("walking %s: %w", root, err)
	}
	sort.Strings(files)

	set := &Set{}
	var candidates []Case
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return nil, fmt.Errorf("relativising %s: %w", path, err)
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		docs, cases := ParseFile(filepath.ToSlash(rel), src, o.MinWords)
		set.Docs = append(set.Docs, docs...)
		candidates = append(candidates, cases...)
	}

	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	r.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	if o.MaxCases > 0 && len(candidates) > o.MaxCases {
		candidates = candidates[:o.MaxCases]
	}
	set.Cases = candidates
	return set, nil
}

// walkSources calls fn with the path of every Go file under root that Load
// reads: testdata and vendor directories are skipped, and *_test.go files
// unless tests.
func walkSources(ctx context.Context, root string, tests bool, fn func(path string) error) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && skipDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !wantFile(d.Name(), tests) {
			return nil
		}
		return fn(path)
	})
}

// ParseFile returns the docs of one Go file and the cases whose query has at
// least minWords words. A file that does not parse yields nothing.
func ParseFile(rel string, src []byte, minWords int) ([]Doc, []Case) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, rel, src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return nil, nil
	}
	var docs []Doc
	var cases []Case
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Body == nil {
			continue
		}
		start := fset.Position(fn.Pos())
		end := fset.Position(fn.End())
		sym := symbolName(fn)
		d := Doc{
			ID:        DocID(rel, start.Line),
			Rel:       rel,
			Symbol:    sym,
			StartLine: start.Line,
			EndLine:   end.Line,
			Text:      string(src[start.Offset:end.Offset]),
		}
		docs = append(docs, d)
		if fn.Doc == nil {
			continue
		}
		q := Query(fn.Name.Name, fn.Doc.Text())
		if len(strings.Fields(q)) < minWords {
			continue
		}
		cases = append(cases, Case{Query: q, Rel: rel, Symbol: sym, StartLine: d.StartLine, EndLine: d.EndLine})
	}
	return docs, cases
}

// skipDir reports whether Load skips a directory: testdata, vendor, and
// names the go command ignores (leading "." or "_").
func skipDir(name string) bool {
	return name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")
}

func wantFile(name string, tests bool) bool {
	return strings.HasSuffix(name, ".go") && (tests || !strings.HasSuffix(name, "_test.go"))
}

func symbolName(fn *ast.FuncDecl) string {
	if fn.Recv == nil || len(fn.Recv.List) == 0 {
		return fn.Name.Name
	}
	t := fn.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
			continue
		case *ast.IndexExpr:
			t = x.X
			continue
		case *ast.IndexListExpr:
			t = x.X
			continue
		case *ast.ParenExpr:
			t = x.X
			continue
		}
		break
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name + "." + fn.Name.Name
	}
	return fn.Name.Name
}

// Query turns a doc comment into a search query: the first sentence of the
// first paragraph, with the leading function name (and an article before it)
// removed and whitespace collapsed. Directive lines ("//go:...") are dropped
// by ast.CommentGroup.Text already.
func Query(name, comment string) string {
	para, _, _ := strings.Cut(strings.TrimSpace(comment), "\n\n")
	words := strings.Fields(para)
	// First sentence: up to a word ending in '.' followed by more words.
	for i, w := range words {
		if strings.HasSuffix(w, ".") && i+1 < len(words) && !isAbbrev(w) {
			words = words[:i+1]
			break
		}
	}
	if len(words) > 1 && (words[0] == "A" || words[0] == "An" || words[0] == "The") && trimName(words[1]) == name {
		words = words[2:]
	} else if len(words) > 0 && trimName(words[0]) == name {
		words = words[1:]
	}
	return strings.Join(words, " ")
}

func trimName(w string) string {
	return strings.TrimSuffix(strings.TrimRight(w, ".,:;"), "'s")
}

func isAbbrev(w string) bool {
	switch strings.ToLower(w) {
	case "e.g.", "i.e.", "etc.", "vs.", "cf.":
		return true
	}
	return false
}
