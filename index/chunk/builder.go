package chunk

import (
	"context"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
)

// Nesting bounds keep the work per file linear and the stack shallow however
// deeply the source nests.
const (
	maxNesting    = 16 // containers inside containers chunked member by member
	maxWrappers   = 4  // wrappers around one declaration (export, decorators)
	maxSplitDepth = 48 // levels descended when splitting a large declaration
	ctxCheckEvery = 64 // loop iterations between ctx checks
)

// builder turns one syntax tree into chunks.
type builder struct {
	opts   *Options
	spec   *langSpec
	src    []byte
	lines  *lineIndex
	cursor *sitter.TreeCursor

	segs    []segment
	levels  int  // level ids handed out so far
	sawDecl bool // a declaration has been seen
	steps   int  // loop iterations, for ctx checks
}

// segment is a run of whole lines holding one declaration, the header or
// trailer of a container, or code between declarations.
type segment struct {
	first, last int      // lines, 0-based inclusive
	path        []string // symbol path; nil for top-level code
	kind        string
	part        part
	level       int // tiny segments merge only with neighbours of the same level
	nodes       []*sitter.Node
}

// part says what a segment holds.
type part uint8

const (
	partDecl    part = iota // a declaration
	partCode                // top-level code between declarations
	partHeader              // a container's own lines before its first member
	partMember              // code between the members of a container
	partTrailer             // a container's own lines after its last member
)

// weak reports whether s has no name of its own: a tiny weak segment folds
// into the declaration it leads into or closes.
func (s *segment) weak() bool { return s.part >= partHeader }

// tick counts one loop iteration and reports ctx's error now and then.
func (b *builder) tick(ctx context.Context) error {
	b.steps++
	if b.steps%ctxCheckEvery == 0 {
		return ctx.Err()
	}
	return nil
}

func (b *builder) build(ctx context.Context, root *sitter.Node) ([]Chunk, error) {
	b.cursor = sitter.NewTreeCursor(root)
	defer b.cursor.Close()
	if err := b.members(ctx, root, nil, "", 0, 0); err != nil {
		return nil, err
	}
	return b.emit(ctx, b.segs)
}

// children returns all children of n in order.
func (b *builder) children(n *sitter.Node) []*sitter.Node { return b.childrenUpTo(n, -1) }

// childrenUpTo returns the first limit children of n, or all if limit < 0.
func (b *builder) childrenUpTo(n *sitter.Node, limit int) []*sitter.Node {
	b.cursor.Reset(n)
	if limit == 0 || !b.cursor.GoToFirstChild() {
		return nil
	}
	var kids []*sitter.Node
	for {
		kids = append(kids, b.cursor.CurrentNode())
		if len(kids) == limit || !b.cursor.GoToNextSibling() {
			return kids
		}
	}
}

// first and last return the lines of n's first and last byte.
func (b *builder) first(n *sitter.Node) int { return b.lines.line(int(n.StartByte())) }
func (b *builder) last(n *sitter.Node) int {
	return b.lines.lastLine(int(n.StartByte()), int(n.EndByte()))
}

// describe classifies n, looking through wrappers to the declaration inside.
func (b *builder) describe(n *sitter.Node) decl {
	cur := n
	for i := 0; i <= maxWrappers; i++ {
		if cur.IsError() && cur.ChildCount() > 0 {
			// Declarations that did not parse as part of the file may
			// still be whole inside the error.
			return decl{role: roleGroup, kind: KindCode, node: cur}
		}
		r := b.spec.rule(cur.Symbol())
		switch r.role {
		case roleDecl, roleContainer, roleGroup:
			var d decl
			if r.describe != nil {
				d = r.describe(b, cur)
			} else {
				d = decl{role: r.role, kind: r.kind}
				if r.role != roleGroup {
					d.name = b.nameOf(cur)
				}
			}
			if d.node == nil {
				d.node = cur
			}
			return d
		case roleWrapper:
			inner := b.wrapped(cur)
			if inner == nil {
				return decl{role: roleOther}
			}
			cur = inner
		default:
			if cur != n {
				return decl{role: roleOther}
			}
			return decl{role: r.role}
		}
	}
	return decl{role: roleOther}
}

// wrapped returns the declaration a wrapper node holds, or nil.
func (b *builder) wrapped(n *sitter.Node) *sitter.Node {
	for _, f := range [...]string{"declaration", "definition"} {
		if c := n.ChildByFieldName(f); c != nil {
			return c
		}
	}
	for _, c := range b.children(n) {
		if !c.IsNamed() {
			continue
		}
		switch b.spec.rule(c.Symbol()).role {
		case roleDecl, roleContainer, roleGroup, roleWrapper:
			return c
		}
	}
	return nil
}

// body returns the node holding the members of a container.
func (b *builder) body(n *sitter.Node) *sitter.Node {
	if c := n.ChildByFieldName("body"); c != nil {
		return c
	}
	for _, c := range b.children(n) {
		if c.IsNamed() && b.spec.has(c.Symbol(), flagBody) {
			return c
		}
	}
	return n
}

// members appends the segments for the children of parent. path and kind
// are those of the enclosing container ("" and nil at the top level); depth
// counts the containers and groups around parent.
func (b *builder) members(ctx context.Context, parent *sitter.Node, path []string, kind string, level, depth int) error {
	var run []*sitter.Node // code since the last declaration
	for _, kid := range b.children(parent) {
		if err := b.tick(ctx); err != nil {
			return err
		}
		if !kid.IsNamed() && !b.hasText(int(kid.StartByte()), int(kid.EndByte())) {
			continue // statement-ending newlines
		}
		d := b.describe(kid)
		switch d.role {
		case roleDecl, roleContainer, roleGroup:
		default:
			run = append(run, kid)
			continue
		}
		// Comments directly above the declaration belong to it.
		lead := len(run)
		next := b.first(kid)
		for lead > 0 {
			c := run[lead-1]
			if b.spec.rule(c.Symbol()).role != roleComment || b.last(c)+1 < next {
				break
			}
			if lead > 1 && b.last(run[lead-2]) >= b.first(c) {
				break // a trailing comment of the code before it
			}
			next = b.first(c)
			lead--
		}
		b.gap(run[:lead], path, kind, level, depth, partMember)
		if err := b.declaration(ctx, kid, d, run[lead:], path, kind, level, depth); err != nil {
			return err
		}
		run = run[:0]
		b.sawDecl = true
	}
	b.gap(run, path, kind, level, depth, partTrailer)
	return nil
}

// gap appends a segment for code between declarations; inside a container
// it is a member gap, or p (a trailer) after the last member.
func (b *builder) gap(nodes []*sitter.Node, path []string, kind string, level, depth int, p part) {
	if len(nodes) == 0 {
		return
	}
	s := segment{
		first: b.first(nodes[0]),
		last:  b.last(nodes[len(nodes)-1]),
		path:  path,
		kind:  kind,
		part:  p,
		level: level,
		nodes: append([]*sitter.Node(nil), nodes...),
	}
	if depth == 0 {
		s.part = partCode
	}
	if path == nil {
		s.kind = KindCode
		if !b.sawDecl {
			s.kind = KindPreamble
		}
		for _, n := range nodes {
			if b.spec.rule(n.Symbol()).role == rolePreamble {
				s.kind = KindPreamble
				break
			}
		}
	}
	b.add(s)
}

// declaration appends the segments of one declaration n described by d,
// with its leading comments.
func (b *builder) declaration(ctx context.Context, n *sitter.Node, d decl, comments []*sitter.Node, path []string, ckind string, level, depth int) error {
	kind := d.kind
	if kind == KindFunction {
		switch ckind {
		case KindClass, KindStruct, KindImpl, KindTrait, KindInterface:
			kind = KindMethod
		}
	}
	own := path
	if d.name != "" {
		own = append(append(make([]string, 0, len(path)+2), path...), strings.Split(d.name, pathSep)...)
	}
	nodes := append(append([]*sitter.Node(nil), comments...), n)
	first := b.first(nodes[0])
	var inner *sitter.Node
	if d.role != roleDecl && depth < maxNesting {
		inner = b.body(d.node)
		if inner == d.node && d.role == roleContainer {
			inner = nil // a class without a body
		}
	}
	if inner == nil {
		b.add(segment{first: first, last: b.last(n), path: own, kind: kind, level: level, nodes: nodes})
		return nil
	}
	b.levels++
	lvl := b.levels
	wkind := kind
	if d.role == roleGroup {
		wkind = ckind // a group's own lines belong to the enclosing container
		if wkind == "" {
			wkind = KindCode
		}
	}
	// Header: from the comments to the first member.
	headerEnd := inner.StartByte()
	if inner == d.node {
		headerEnd = d.node.StartByte()
	}
	if start, end := int(nodes[0].StartByte()), b.trimEnd(int(nodes[0].StartByte()), int(headerEnd)); end > start {
		b.add(segment{first: first, last: b.lines.lastLine(start, end), path: own, kind: wkind, part: partHeader, level: lvl})
	}
	if err := b.members(ctx, inner, own, wkind, lvl, depth+1); err != nil {
		return err
	}
	// Trailer: from the end of the members to the end of the declaration.
	if start, end := int(inner.EndByte()), int(n.EndByte()); end > start && b.hasText(start, end) {
		b.add(segment{first: b.lines.line(start), last: b.lines.lastLine(start, end), path: own, kind: wkind, part: partTrailer, level: lvl})
	}
	return nil
}

// trimEnd returns end moved back over white space, but not before start.
func (b *builder) trimEnd(start, end int) int {
	for end > start && isSpace(b.src[end-1]) {
		end--
	}
	return end
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '\f', '\v':
		return true
	}
	return false
}

// hasText reports whether src[start:end] holds anything but white space.
func (b *builder) hasText(start, end int) bool {
	for _, c := range b.src[start:end] {
		if !isSpace(c) {
			return true
		}
	}
	return false
}

// add appends s, folding it into the previous segment where they share a
// line so that segments never overlap.
func (b *builder) add(s segment) {
	if n := len(b.segs); n > 0 {
		prev := &b.segs[n-1]
		if s.first <= prev.last {
			if s.last <= prev.last {
				if prev.part == partHeader && s.part == partDecl {
					prev.part = partDecl // a one-line class
				}
				prev.nodes = append(prev.nodes, s.nodes...)
				return
			}
			s.first = prev.last + 1
		}
	}
	b.segs = append(b.segs, s)
}
