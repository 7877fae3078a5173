package secrets

import (
	"slices"
	"strconv"
	"strings"
)

// RuleNamedSecret is the rule, used only by Redact, for a random-looking
// value that follows a credential word in prose or logs rather than in an
// assignment: "the token is …", "API key: …", "(token=…)", "set secret to …".
const RuleNamedSecret = "named-secret"

// maxLinkWords bounds how many words may stand between a credential word and
// the value it names ("my aws secret is now …").
const maxLinkWords = 3

// linkWords may stand between a credential word and its value in prose.
var linkWords = map[string]bool{
	"is": true, "was": true, "are": true, "be": true, "to": true, "as": true,
	"of": true, "now": true, "value": true, "set": true, "use": true, "with": true,
}

// namedWords are the credential words the named-secret rule looks for. It
// accepts a bare "key", which Scan does not (in code a bare key is usually a
// map key), because outgoing text is checked for leaks, not indexed: a
// placeholder instead of a random-looking map key costs an answer little.
var namedWords = map[string]bool{
	"key": true, "keys": true, "apikey": true, "token": true, "tokens": true,
	"secret": true, "secrets": true, "password": true, "passwd": true, "pwd": true,
	"passphrase": true, "credential": true, "credentials": true, "pat": true,
	"auth": true, "bearer": true,
}

// Redactor replaces the credentials in outgoing text with numbered
// placeholders such as [REDACTED:github-token#1]. The same secret gets the
// same placeholder every time it appears, in one text and in every later
// text redacted by the same Redactor, so a model can still tell that two
// places use one credential; different secrets of one rule get different
// numbers. The zero value is ready to use. A Redactor is not safe for
// concurrent use.
type Redactor struct {
	seen map[string]string // secret value → its placeholder
	last map[string]int    // rule → the last number given
}

// Redact returns text with every credential Scan finds, and every
// random-looking value named by a credential word in prose
// (RuleNamedSecret), replaced by a numbered placeholder, and the number of
// values replaced. It is meant for text about to leave the machine: a
// question, compiler output, a code chunk. Newlines inside a replaced range
// are kept after the placeholder, so line numbers stay valid, and redacting
// redacted text finds nothing more. When nothing is found Redact returns
// text itself without copying.
func Redact(text string) (redacted string, n int) {
	var r Redactor
	return r.Redact(text)
}

// Redact is Redact with the placeholders numbered across every text r has
// redacted.
func (r *Redactor) Redact(text string) (redacted string, n int) {
	fs := scanOutgoing(text)
	if len(fs) == 0 {
		return text, 0
	}
	if r.seen == nil {
		r.seen = make(map[string]string)
		r.last = make(map[string]int)
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, f := range fs {
		b.WriteString(text[last:f.Start])
		v := text[f.Start:f.End]
		ph, ok := r.seen[v]
		if !ok {
			r.last[f.Rule]++
			ph = "[REDACTED:" + f.Rule + "#" + strconv.Itoa(r.last[f.Rule]) + "]"
			r.seen[v] = ph
		}
		b.WriteString(ph)
		for k := strings.Count(v, "\n"); k > 0; k-- {
			b.WriteByte('\n')
		}
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String(), len(fs)
}

// scanOutgoing returns what Redact replaces in text: the findings of Scan
// and of the named-secret rule, ordered by Start and not overlapping.
func scanOutgoing(text string) []Finding {
	fs := Scan(text)
	named := scanNamed(text, fs)
	if len(named) == 0 {
		return fs
	}
	fs = append(fs, named...)
	slices.SortFunc(fs, func(a, b Finding) int { return a.Start - b.Start })
	return fs
}

// scanNamed returns the named-secret findings in text that do not overlap
// the findings in fs (ordered by Start).
func scanNamed(text string, fs []Finding) []Finding {
	var out []Finding
	next := 0 // first finding in fs that may overlap the current run
	n := len(text)
	for i := 0; i < n; {
		if class[text[i]]&classValue == 0 {
			i++
			continue
		}
		j := i + 1
		for j < n && class[text[j]]&classValue != 0 {
			j++
		}
		start, end := i, j
		i = j
		for end > start && (text[end-1] == '.' || text[end-1] == '~') {
			end-- // the end of a sentence
		}
		if end-start < minRun || end-start > maxAssigned {
			continue
		}
		for next < len(fs) && fs[next].End <= start {
			next++
		}
		if next < len(fs) && fs[next].Start < end {
			continue // already a finding
		}
		word := namingWord(text, start)
		if word == "" {
			continue
		}
		v := text[start:end]
		if !randomLooking(v) || echoesName(v, word) {
			continue
		}
		out = append(out, Finding{Start: start, End: end, Rule: RuleNamedSecret})
	}
	return out
}

// namingWord returns the credential word that names the value starting at
// text[p], looking back on the same line over quotes, brackets, := and up
// to maxLinkWords link words; "" when there is none.
func namingWord(text string, p int) string {
	for range maxLinkWords + 1 {
		for p > 0 && namingGap(text[p-1]) {
			p--
		}
		end := p
		for p > 0 && end-p < 64 && class[text[p-1]]&classWord != 0 {
			p--
		}
		if p == end {
			return ""
		}
		w := text[p:end]
		words := splitWords(w)
		if len(words) > 0 && namedWords[words[len(words)-1]] {
			return w
		}
		if !linkWords[strings.ToLower(w)] {
			return ""
		}
	}
	return ""
}

// namingGap reports whether c may stand between a credential word and its
// value: spaces, assignment, quoting and opening brackets.
func namingGap(c byte) bool {
	switch c {
	case ' ', '\t', ':', '=', '"', '\'', '`', '(', '[', '{', '<':
		return true
	}
	return false
}
