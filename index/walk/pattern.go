package walk

import (
	"bytes"
	"strconv"
	"strings"
)

// pattern is one line of a gitignore-syntax file, with git's semantics
// (gitignore(5)): a pattern without a slash (other than a trailing one)
// matches the name of a file or directory at any depth below base; a pattern
// with a slash is anchored to base and matched against the path below it,
// where * ? and [...] never match a slash and ** spans directories.
type pattern struct {
	glob     string // pattern proper: no "!", no leading or trailing "/"
	base     string // slash-separated directory the file applies to; "" is the root
	source   string // file the pattern came from, for skip reasons
	negate   bool   // "!pattern": re-include
	dirOnly  bool   // "pattern/": matches directories only
	basename bool   // no slash: match the last path element
	literal  bool   // glob has no wildcards or escapes
}

// parseIgnore parses the content of a gitignore-syntax file whose directory
// is base (relative to the root, slash-separated). source names the file in
// skip reasons.
func parseIgnore(data []byte, base, source string) []pattern {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var out []pattern
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if p, ok := parseLine(line, base, source); ok {
			out = append(out, p)
		}
	}
	return out
}

// parseLine parses one line; ok is false for blank lines, comments and
// patterns that can match nothing.
func parseLine(line, base, source string) (p pattern, ok bool) {
	if line == "" || line[0] == '#' {
		return p, false
	}
	line = trimTrailingSpaces(line)
	p.base, p.source = base, source
	if strings.HasPrefix(line, "!") {
		p.negate = true
		line = line[1:]
	}
	if strings.HasSuffix(line, "/") {
		p.dirOnly = true
		line = line[:len(line)-1]
	}
	p.basename = !strings.Contains(line, "/")
	line = strings.TrimPrefix(line, "/")
	if line == "" {
		return p, false
	}
	p.glob = line
	p.literal = !strings.ContainsAny(line, `*?[\`)
	return p, true
}

// trimTrailingSpaces removes trailing spaces that are not escaped with a
// backslash, as git does.
func trimTrailingSpaces(s string) string {
	end := len(s)
	for end > 0 && s[end-1] == ' ' {
		// Count the backslashes before this space: an odd number escapes it.
		k := end - 1
		for k > 0 && s[k-1] == '\\' {
			k--
		}
		if (end-1-k)%2 == 1 {
			break
		}
		end--
	}
	return s[:end]
}

// match reports whether the pattern matches the path rel (slash-separated,
// relative to the root) whose last element is name. The caller only asks
// about paths below p.base.
func (p *pattern) match(rel, name string, isDir bool) bool {
	if p.dirOnly && !isDir {
		return false
	}
	if p.basename {
		if p.literal {
			return p.glob == name
		}
		return wildmatch(p.glob, name)
	}
	sub := rel
	if p.base != "" {
		if len(rel) <= len(p.base) || !strings.HasPrefix(rel, p.base) || rel[len(p.base)] != '/' {
			return false
		}
		sub = rel[len(p.base)+1:]
	}
	if p.literal {
		return p.glob == sub
	}
	return wildmatch(p.glob, sub)
}

func (p *pattern) String() string {
	s := p.glob
	if p.negate {
		s = "!" + s
	}
	if p.dirOnly {
		s += "/"
	}
	return p.source + ": " + strconv.Quote(s)
}

// wildmatch reports whether text matches the glob pat with git's
// WM_PATHNAME semantics: * ? and [...] do not match '/'; a "**" path
// element matches zero or more directories ("**/x", "a/**/b"), or, last,
// everything below ("a/**"); any other ** is a plain *.
//
// Matching goes element by element, so its cost is bounded by the product
// of pattern and path lengths times the path depth per "**" element, even
// for hostile patterns such as *a*a*a*a*b.
func wildmatch(pat, text string) bool {
	if !strings.Contains(pat, "/") && !strings.Contains(text, "/") {
		return matchElem(pat, text)
	}
	return matchElems(strings.Split(pat, "/"), strings.Split(text, "/"))
}

func matchElems(pats, elems []string) bool {
	for len(pats) > 0 {
		if pats[0] == "**" {
			if len(pats) == 1 {
				return len(elems) > 0
			}
			for k := 0; k <= len(elems); k++ {
				if matchElems(pats[1:], elems[k:]) {
					return true
				}
			}
			return false
		}
		if len(elems) == 0 || !matchElem(pats[0], elems[0]) {
			return false
		}
		pats, elems = pats[1:], elems[1:]
	}
	return len(elems) == 0
}

// matchElem matches one path element (no '/') against one pattern element
// with *, ?, [...] and backslash escapes. On a mismatch it backtracks to the
// last *, which is enough because * cannot match across elements.
func matchElem(pat, text string) bool {
	pi, ti := 0, 0
	starPi, starTi := -1, 0
	for ti < len(text) || pi < len(pat) {
		if pi < len(pat) {
			switch c := pat[pi]; c {
			case '*':
				for pi < len(pat) && pat[pi] == '*' {
					pi++
				}
				starPi, starTi = pi, ti
				continue
			case '?':
				if ti < len(text) {
					pi++
					ti++
					continue
				}
			case '[':
				if ti < len(text) {
					if next, ok := matchClass(pat, pi, text[ti]); ok {
						pi = next
						ti++
						continue
					}
				}
			case '\\':
				if pi+1 < len(pat) && ti < len(text) && text[ti] == pat[pi+1] {
					pi += 2
					ti++
					continue
				}
			default:
				if ti < len(text) && text[ti] == c {
					pi++
					ti++
					continue
				}
			}
		}
		if starPi < 0 || starTi >= len(text) {
			return false
		}
		starTi++
		pi, ti = starPi, starTi
	}
	return true
}

// matchClass matches the byte c against the bracket expression starting at
// pat[pi] == '['. It returns the index after the closing ']' and whether c
// matched; an unterminated bracket never matches.
func matchClass(pat string, pi int, c byte) (next int, ok bool) {
	i := pi + 1
	negate := false
	if i < len(pat) && (pat[i] == '!' || pat[i] == '^') {
		negate = true
		i++
	}
	matched := false
	first := true
	for {
		if i >= len(pat) {
			return 0, false
		}
		ch := pat[i]
		if ch == ']' && !first {
			i++
			break
		}
		first = false
		if ch == '[' && i+1 < len(pat) && pat[i+1] == ':' {
			if end := strings.Index(pat[i+2:], ":]"); end >= 0 {
				if posixClass(pat[i+2:i+2+end], c) {
					matched = true
				}
				i += 2 + end + 2
				continue
			}
		}
		if ch == '\\' && i+1 < len(pat) {
			i++
			ch = pat[i]
		}
		lo, hi := ch, ch
		if i+2 < len(pat) && pat[i+1] == '-' && pat[i+2] != ']' {
			hi = pat[i+2]
			if hi == '\\' && i+3 < len(pat) {
				i++
				hi = pat[i+2]
			}
			i += 2
		}
		if lo <= c && c <= hi {
			matched = true
		}
		i++
	}
	return i, matched != negate
}

// posixClass reports whether c belongs to the named POSIX character class.
func posixClass(name string, c byte) bool {
	isUpper := 'A' <= c && c <= 'Z'
	isLower := 'a' <= c && c <= 'z'
	isDigit := '0' <= c && c <= '9'
	switch name {
	case "alnum":
		return isUpper || isLower || isDigit
	case "alpha":
		return isUpper || isLower
	case "digit":
		return isDigit
	case "lower":
		return isLower
	case "upper":
		return isUpper
	case "space":
		return c == ' ' || '\t' <= c && c <= '\r'
	case "xdigit":
		return isDigit || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
	case "punct":
		return c > ' ' && c < 0x7f && !isUpper && !isLower && !isDigit
	case "blank":
		return c == ' ' || c == '\t'
	}
	return false
}
