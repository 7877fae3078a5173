package scalebench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"

	sitter "github.com/smacker/go-tree-sitter"

	"github.com/codemux/codemux/index/chunk"
	"github.com/codemux/codemux/index/walk"
)

// grammar is the grammar index/chunk parses lang with.
func grammar(lang string) *sitter.Language { return chunk.Grammar(lang) }

// IndexableFiles lists the files of the workspace at root that the index
// would read: those walk.Walk visits (default options) whose language
// chunk.LanguageOf knows. Content checks (walk.Classify) happen when the
// files are read.
func IndexableFiles(ctx context.Context, root string) ([]walk.File, error) {
	var files []walk.File
	err := walk.Walk(ctx, root, nil, func(f walk.File) error {
		if chunk.LanguageOf(f.Rel) != "" {
			files = append(files, f)
		}
		return nil
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("listing the files of %s: %w", root, err)
	}
	return files, nil
}

// ParseStats sums up a parse-only pass.
type ParseStats struct {
	Files       int   // files parsed with a grammar
	Bytes       int64 // their bytes
	Unparsed    int   // files read but chunked without a parser (markdown, text)
	Classified  int   // files walk.Classify leaves out (binary, generated, …)
	ErrorTrees  int   // parsed files whose tree has an error node
	ParsedLangs map[string]int
}

// ParseOnly reads every file as the index does (head first, walk.Classify,
// then the rest) and parses those with a grammar, closing every tree, on
// workers goroutines with one parser per goroutine and language. It is the
// floor a cold index is compared against: the same reading and parsing,
// without chunking, embedding or storing.
func ParseOnly(ctx context.Context, files []walk.File, workers int) (ParseStats, error) {
	workers = max(workers, 1)
	jobs := make(chan walk.File)
	type part struct {
		st  ParseStats
		err error
	}
	parts := make([]part, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			parsers := map[string]*sitter.Parser{}
			defer func() {
				for _, p := range parsers {
					p.Close()
				}
			}()
			st := ParseStats{ParsedLangs: map[string]int{}}
			for f := range jobs {
				if parts[i].err != nil {
					continue // drain
				}
				if err := parseFile(ctx, f, parsers, &st); err != nil {
					parts[i].err = err
				}
			}
			parts[i].st = st
		}()
	}
feed:
	for _, f := range files {
		select {
		case jobs <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	total := ParseStats{ParsedLangs: map[string]int{}}
	for _, p := range parts {
		if p.err != nil {
			return total, p.err
		}
		total.Files += p.st.Files
		total.Bytes += p.st.Bytes
		total.Unparsed += p.st.Unparsed
		total.Classified += p.st.Classified
		total.ErrorTrees += p.st.ErrorTrees
		for l, n := range p.st.ParsedLangs {
			total.ParsedLangs[l] += n
		}
	}
	return total, ctx.Err()
}

func parseFile(ctx context.Context, f walk.File, parsers map[string]*sitter.Parser, st *ParseStats) error {
	src, skip, err := readClassified(f)
	if err != nil {
		return err
	}
	if skip {
		st.Classified++
		return nil
	}
	lang := chunk.LanguageOf(f.Rel)
	g := grammar(lang)
	if g == nil {
		st.Unparsed++
		return nil
	}
	p := parsers[lang]
	if p == nil {
		p = sitter.NewParser()
		p.SetLanguage(g)
		parsers[lang] = p
	}
	tree, err := p.ParseCtx(ctx, nil, src)
	if err != nil {
		return fmt.Errorf("parsing %s: %w", f.Rel, err)
	}
	if tree.RootNode().HasError() {
		st.ErrorTrees++
	}
	tree.Close()
	st.Files++
	st.Bytes += int64(len(src))
	st.ParsedLangs[lang]++
	return nil
}

// readClassified reads f as the index does (walk.Read). A file gone since
// the walk counts as classified out.
func readClassified(f walk.File) (src []byte, skip bool, err error) {
	src, reason, err := walk.Read(f)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", f.Rel, err)
	}
	return src, reason != "", nil
}
