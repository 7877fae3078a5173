package secrets

import "strings"

// minURLPassword is the shortest password in a URL's user information that
// counts; shorter ones in code are test fixtures (user:pass, gopher:go).
const minURLPassword = 8

// scanURLs appends the passwords of URLs with user information
// (postgres://app:s3cr3t-v4lue@db/prod) to out.
func scanURLs(text string, out []Finding) []Finding {
	off := 0
	for {
		i := strings.Index(text[off:], "://")
		if i < 0 {
			return out
		}
		start := off + i + len("://")
		off = start
		end := start
		colon := -1
		for end < len(text) && end-start < 256 && !urlStop(text[end]) {
			if text[end] == ':' && colon < 0 {
				colon = end
			}
			end++
		}
		if end >= len(text) || text[end] != '@' || colon < 0 {
			continue
		}
		pw := text[colon+1 : end]
		if urlPassword(pw) {
			out = append(out, Finding{Start: colon + 1, End: end, Rule: RuleURLPassword})
		}
		off = end
	}
}

// urlStop reports whether c ends the user information of a URL.
func urlStop(c byte) bool {
	switch c {
	case '@', '/', '?', '#', ' ', '\t', '\n', '\r', '"', '\'', '`', '<', '>', '\\', '(', ')', '[', ']', '{', '}':
		return true
	}
	return false
}

// urlPassword reports whether pw looks like a real password rather than a
// placeholder or fixture: long enough, mixing letters with digits or
// symbols, and not built from the word "password".
func urlPassword(pw string) bool {
	if len(pw) < minURLPassword || placeholder(pw) || strings.Contains(pw, ":") {
		return false
	}
	l := strings.ToLower(pw)
	for _, w := range []string{"pass", "word", "secret", "pwd", "user"} {
		if strings.Contains(l, w) {
			return false
		}
	}
	if strings.HasPrefix(pw, "$") || strings.HasPrefix(pw, "%(") {
		return false // ${VAR}, $VAR, %(name)s templates
	}
	letters := 0
	for i := 0; i < len(pw); i++ {
		if c := pw[i]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			letters++
		}
	}
	return letters > 0 && letters < len(pw)
}
