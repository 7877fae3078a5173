package chunk

import (
	"bytes"
	"sort"
)

// lineIndex maps byte offsets to 0-based line numbers and back.
type lineIndex struct {
	starts []int // starts[i] is the offset of line i
	size   int   // length of the source
}

func newLineIndex(src []byte) *lineIndex {
	starts := make([]int, 1, 1+len(src)/32)
	for off := 0; ; {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			break
		}
		off += i + 1
		if off == len(src) {
			break
		}
		starts = append(starts, off)
	}
	return &lineIndex{starts: starts, size: len(src)}
}

// count is the number of lines.
func (l *lineIndex) count() int { return len(l.starts) }

// line returns the line holding byte offset off.
func (l *lineIndex) line(off int) int {
	return sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > off }) - 1
}

// lastLine returns the line holding the last byte of the range ending at
// end (exclusive) and starting at start.
func (l *lineIndex) lastLine(start, end int) int {
	if end > start {
		end--
	}
	return l.line(end)
}

// start returns the offset of the first byte of line i.
func (l *lineIndex) start(i int) int { return l.starts[i] }

// end returns the offset just past line i, including its newline.
func (l *lineIndex) end(i int) int {
	if i+1 < len(l.starts) {
		return l.starts[i+1]
	}
	return l.size
}

// bytes returns the size of lines first..last, inclusive.
func (l *lineIndex) bytes(first, last int) int { return l.end(last) - l.start(first) }
