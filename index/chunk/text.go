package chunk

import (
	"bytes"
	"context"
)

// markdown splits src at its headings: one section per heading, named by
// the path of headings above it ("Install > From source"). Fenced code
// blocks are not searched for headings.
func (c *Chunker) markdown(ctx context.Context, src []byte, lines *lineIndex) ([]Chunk, error) {
	b := &builder{opts: &c.opts, spec: &langSpec{lang: "markdown", sep: " > "}, src: src, lines: lines}
	var (
		titles []string // titles[i] is the current heading of level i+1
		fence  []byte   // the open code fence, if any
		start  = -1     // first line of the open section
		head   = -1     // line of the last heading
		path   []string
	)
	closeSection := func(last int) {
		for last >= start && start >= 0 && !b.hasText(lines.start(last), lines.end(last)) {
			last--
		}
		if start >= 0 && last >= start {
			b.add(segment{first: start, last: last, path: path, kind: KindSection})
		}
	}
	for i := 0; i < lines.count(); i++ {
		if err := b.tick(ctx); err != nil {
			return nil, err
		}
		line := bytes.TrimRight(src[lines.start(i):lines.end(i)], "\r\n")
		trimmed := bytes.TrimLeft(line, " ")
		if len(line)-len(trimmed) <= 3 && (bytes.HasPrefix(trimmed, []byte("```")) || bytes.HasPrefix(trimmed, []byte("~~~"))) {
			marker := trimmed[:3]
			if fence == nil {
				fence = marker
			} else if bytes.Equal(fence, marker) {
				fence = nil
			}
		}
		level, title, first := 0, "", i
		if fence == nil {
			level, title = atxHeading(line)
			if level == 0 && i > start && i > 0 {
				if l := setextLevel(line); l > 0 {
					prev := bytes.TrimSpace(src[lines.start(i-1):lines.end(i-1)])
					if len(prev) > 0 && i-1 != head && !bytes.HasPrefix(prev, []byte("```")) {
						level, title, first = l, string(prev), i-1
					}
				}
			}
		}
		if level == 0 {
			if start < 0 && len(bytes.TrimSpace(line)) > 0 {
				start = i
			}
			continue
		}
		closeSection(first - 1)
		if len(titles) >= level {
			titles = titles[:level-1]
		}
		for len(titles) < level-1 {
			titles = append(titles, "")
		}
		titles = append(titles, title)
		path = path[:0:0]
		for _, t := range titles {
			if t != "" {
				path = append(path, t)
			}
		}
		start, head = first, i
	}
	closeSection(lines.count() - 1)
	return b.emit(ctx, b.segs)
}

// atxHeading returns the level and text of a "# Title" line, or 0.
func atxHeading(line []byte) (int, string) {
	t := bytes.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return 0, ""
	}
	level := 0
	for level < len(t) && t[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || (level < len(t) && t[level] != ' ' && t[level] != '\t') {
		return 0, ""
	}
	title := bytes.TrimSpace(t[level:])
	title = bytes.TrimSpace(bytes.TrimRight(title, "#"))
	if len(title) > maxNameLen {
		title = title[:maxNameLen]
	}
	return level, string(title)
}

// setextLevel returns 1 for a "===" underline, 2 for "---", else 0.
func setextLevel(line []byte) int {
	t := bytes.TrimSpace(line)
	if len(t) == 0 || len(line)-len(bytes.TrimLeft(line, " ")) > 3 {
		return 0
	}
	if len(bytes.Trim(t, "=")) == 0 {
		return 1
	}
	if len(bytes.Trim(t, "-")) == 0 && len(t) >= 2 {
		return 2
	}
	return 0
}

// windows splits text without known structure into windows of
// WindowLines lines overlapping by WindowOverlap, each at most
// MaxChunkBytes; a longer single line is cut at rune boundaries.
func (c *Chunker) windows(ctx context.Context, src []byte, lines *lineIndex) ([]Chunk, error) {
	b := &builder{opts: &c.opts, spec: &langSpec{lang: "text"}, src: src, lines: lines}
	blank := func(i int) bool { return !b.hasText(lines.start(i), lines.end(i)) }
	var out []Chunk
	n := lines.count()
	for cur := 0; cur < n; {
		if err := b.tick(ctx); err != nil {
			return nil, err
		}
		if blank(cur) {
			cur++
			continue
		}
		end := cur
		for end+1 < n && end+1-cur < c.opts.WindowLines && b.fits(cur, end+1) {
			end++
		}
		for end > cur && blank(end) {
			end--
		}
		if !b.fits(cur, end) {
			out = b.cutLine(out, cur, "", KindWindow)
			cur++
			continue
		}
		out = b.appendChunk(out, cur, end, "", KindWindow)
		if end+1 >= n {
			break
		}
		overlap := min(c.opts.WindowOverlap, (end-cur+1)/2)
		cur = max(end+1-overlap, cur+1)
	}
	return out, nil
}
