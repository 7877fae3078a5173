package chunk

import (
	"context"
	"fmt"

	sitter "github.com/smacker/go-tree-sitter"
)

// Version identifies the chunking rules. An index that stores chunks records
// it and re-chunks every file when it changes.
//
// History:
//
//	1: tree-sitter chunking of 14 languages, Markdown sections, text windows.
const Version = 1

// Chunk kinds. Chunks of declarations carry the kind of the declaration;
// the others describe what the chunk holds.
const (
	KindFunction  = "function"
	KindMethod    = "method"
	KindClass     = "class"
	KindStruct    = "struct"
	KindInterface = "interface"
	KindType      = "type"
	KindEnum      = "enum"
	KindTrait     = "trait"
	KindImpl      = "impl"
	KindModule    = "module"
	KindConstant  = "constant"
	KindVariable  = "variable"
	KindSection   = "section"  // a Markdown heading and its text
	KindWindow    = "window"   // a line window of text without structure
	KindPreamble  = "preamble" // package clause, imports and code before the first declaration
	KindCode      = "code"     // top-level statements between or after declarations
)

// Chunk is a run of whole lines of a file.
type Chunk struct {
	StartLine, EndLine int    // 1-based, inclusive
	StartByte, EndByte int    // Text is src[StartByte:EndByte]
	Symbol             string // enclosing symbol path, e.g. "Server.handleSearch"; "" for file-level
	Kind               string // one of the Kind constants
	Language           string // as returned by LanguageOf
	Text               string
}

// Options bounds chunk sizes. The zero value of a field selects its default.
type Options struct {
	// MaxChunkLines is the most lines a chunk holds unless a single line is
	// longer than MaxChunkBytes. Default 120.
	MaxChunkLines int
	// MaxChunkBytes is the most bytes a chunk holds. Default 8192.
	MaxChunkBytes int
	// MinChunkLines: neighbouring pieces shorter than this many lines are
	// merged into one chunk. Default 4; 1 disables merging.
	MinChunkLines int
	// WindowLines and WindowOverlap shape the line windows used for text
	// without structure. Defaults 60 and 10.
	WindowLines, WindowOverlap int
}

const (
	defaultMaxChunkLines = 120
	defaultMaxChunkBytes = 8192
	defaultMinChunkLines = 4
	defaultWindowLines   = 60
	defaultWindowOverlap = 10
)

// resolve returns opts with defaults filled in and values made consistent.
func (o *Options) resolve() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxChunkLines <= 0 {
		r.MaxChunkLines = defaultMaxChunkLines
	}
	if r.MaxChunkBytes <= 0 {
		r.MaxChunkBytes = defaultMaxChunkBytes
	}
	if r.MinChunkLines <= 0 {
		r.MinChunkLines = defaultMinChunkLines
	}
	if r.WindowLines <= 0 {
		r.WindowLines = defaultWindowLines
	}
	if r.WindowLines > r.MaxChunkLines {
		r.WindowLines = r.MaxChunkLines
	}
	if r.WindowOverlap <= 0 {
		r.WindowOverlap = defaultWindowOverlap
	}
	if r.WindowOverlap >= r.WindowLines {
		r.WindowOverlap = r.WindowLines / 2
	}
	return r
}

// Chunker splits files into chunks. It reuses one parser per language and is
// not safe for concurrent use; use one Chunker per goroutine.
type Chunker struct {
	opts    Options
	parsers map[string]*parser
	// parsed counts the source bytes parsed since the C heap was last
	// trimmed (see trimEveryBytes).
	parsed int
}

// parser is a tree-sitter parser bound to one language.
type parser struct {
	p    *sitter.Parser
	spec *langSpec
}

// New returns a Chunker; nil opts selects the defaults.
func New(opts *Options) *Chunker {
	return &Chunker{opts: opts.resolve(), parsers: make(map[string]*parser)}
}

// Close frees the parsers and returns the C heap's free memory to the
// operating system. The Chunker must not be used afterwards.
func (c *Chunker) Close() error {
	for lang, p := range c.parsers {
		p.p.Close()
		delete(c.parsers, lang)
	}
	releaseCMemory()
	return nil
}

// Chunk splits src, the content of the file at path, into chunks ordered by
// position. The language is chosen by LanguageOf(path); a file it returns ""
// for yields no chunks. Files that do not parse cleanly are still chunked
// around their errors. Chunk fails only when ctx is done.
func (c *Chunker) Chunk(ctx context.Context, path string, src []byte) ([]Chunk, error) {
	lang := LanguageOf(path)
	if err := ctx.Err(); err != nil || lang == "" || len(src) == 0 {
		return nil, err
	}
	lines := newLineIndex(src)
	switch lang {
	case "markdown":
		return c.markdown(ctx, src, lines)
	case "text":
		return c.windows(ctx, src, lines)
	}
	p, err := c.parser(lang)
	if err != nil {
		return nil, err
	}
	tree, err := p.p.ParseCtx(ctx, nil, src)
	if err != nil {
		// A cancelled parse is kept for resumption; drop it.
		p.p.Reset()
		return nil, fmt.Errorf("parsing %s as %s: %w", path, lang, err)
	}
	defer func() {
		tree.Close()
		c.parsed += len(src)
		if len(src) >= trimAfterBytes || c.parsed >= trimEveryBytes {
			releaseCMemory()
			c.parsed = 0
		}
	}()
	b := &builder{
		opts:  &c.opts,
		spec:  p.spec,
		src:   src,
		lines: lines,
	}
	chunks, err := b.build(ctx, tree.RootNode())
	if err != nil {
		return nil, fmt.Errorf("chunking %s: %w", path, err)
	}
	return chunks, nil
}

// parser returns the parser for lang, creating it on first use.
func (c *Chunker) parser(lang string) (*parser, error) {
	if p, ok := c.parsers[lang]; ok {
		return p, nil
	}
	spec := specFor(lang)
	if spec == nil {
		return nil, fmt.Errorf("no grammar for language %q", lang)
	}
	sp := sitter.NewParser()
	sp.SetLanguage(spec.grammar)
	p := &parser{p: sp, spec: spec}
	c.parsers[lang] = p
	return p, nil
}
