package prompt

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Postprocess cleans a model's answer for display. For every family it
//
//   - drops a leading reasoning block (<think>…</think>, <thinking>…</thinking>);
//   - keeps only the text between <answer> and </answer> when the answer
//     has them (a marker inside a code block does not count; the claude
//     reason prompt and every small prompt ask for it; a missing closing
//     tag keeps the rest of the answer);
//   - strips a preamble at the start ("Sure! Here's the code:",
//     "Certainly!", "Great question.", "Answer:") only when it is an
//     interjection or a lead-in line ending in ":" with content after it;
//   - strips a trailing sign-off paragraph ("I hope this helps!", "Let me
//     know if …");
//   - normalises code fences: ~~~ becomes ```, language tags become one
//     lower-case name per language (golang → go), fences indented for no
//     reason (not inside a list) are moved to the margin with their code,
//     and a fence left open is closed;
//
// and trims the result. Small models also get their reasoning dropped when
// the opening <think> was part of the chat template and only </think>
// shows, and an <answer> marker counts anywhere outside code, not only at
// the start of a line. Postprocess never returns "" for an answer with
// text: if cleaning would leave nothing, the trimmed answer is returned.
func Postprocess(family, text string) string {
	orig := strings.TrimSpace(text)
	s := strings.ReplaceAll(text, "\r\n", "\n")
	s = stripReasoning(family, s)
	s = extractAnswer(family, s)
	s = stripPreamble(s)
	s = stripSignOff(s)
	s = strings.TrimSpace(normaliseFences(s))
	if s == "" {
		return orig
	}
	return s
}

// stripReasoning drops a leading <think> or <thinking> block. An unclosed
// block (the answer was cut while thinking) loses only its tag.
func stripReasoning(family, s string) string {
	t := strings.TrimLeft(s, " \t\n")
	for _, tag := range []string{"think", "thinking"} {
		open, end := "<"+tag+">", "</"+tag+">"
		if !strings.HasPrefix(t, open) {
			continue
		}
		if i := strings.Index(t, end); i >= 0 {
			return t[i+len(end):]
		}
		return t[len(open):]
	}
	if family == FamilySmall && !strings.Contains(s, "<think>") {
		if i := strings.Index(s, "</think>"); i >= 0 && !insideFence(s[:i]) {
			return s[i+len("</think>"):]
		}
	}
	return s
}

// extractAnswer returns the text between the first <answer> outside code
// and the last </answer> after it.
func extractAnswer(family, s string) string {
	const open, end = "<answer>", "</answer>"
	from := 0
	for {
		i := strings.Index(s[from:], open)
		if i < 0 {
			return s
		}
		i += from
		atLineStart := strings.TrimLeft(s[strings.LastIndexByte(s[:i], '\n')+1:i], " \t") == ""
		if (atLineStart || family == FamilySmall) && !insideFence(s[:i]) {
			body := s[i+len(open):]
			if j := strings.LastIndex(body, end); j >= 0 {
				body = body[:j]
			}
			return body
		}
		from = i + len(open)
	}
}

var (
	// answerLabel is a label some models put before the answer.
	answerLabel = regexp.MustCompile(`(?i)^(?:final answer|answer|response)\s*:\s*`)
	// interjection is a filler opening: "Sure!", "Certainly.", "Of course,".
	interjection = regexp.MustCompile(`(?i)^(?:(?:sure(?: thing)?|certainly|of course|absolutely|okay|ok|alright|all right|great question|good question|excellent question|happy to help|glad to help)\s*[!.,]+|i(?:'d| would) be (?:happy|glad) to help[^.!\n]{0,60}[.!])\s*`)
	// leadIn is a line announcing what follows: "Here's the updated code:".
	leadIn = regexp.MustCompile(`(?i)^(?:here(?:'s| is| are)|below (?:is|are)|the following (?:is|are)|let me|let's|let us|i'll|i will)\b.{0,150}:$`)
	// signOff is a closing pleasantry paragraph.
	signOff = regexp.MustCompile(`(?i)^(?:i hope (?:this|that) helps|hope (?:this|that) helps|let me know if|feel free to (?:ask|reach out|let me know)|happy coding|if you have any (?:other |more |further )?questions)`)
)

// stripPreamble removes a filler opening from the first line.
func stripPreamble(s string) string {
	s = trimBlankLines(s)
	line, rest, _ := strings.Cut(s, "\n")
	orig := line
	line = answerLabel.ReplaceAllString(line, "")
	unlabelled := line
	line = interjection.ReplaceAllString(line, "")
	capitalise := line != unlabelled
	hasMore := strings.TrimSpace(rest) != ""
	if leadIn.MatchString(strings.TrimSpace(line)) && hasMore {
		line = ""
	}
	if line == orig {
		return s
	}
	if strings.TrimSpace(line) == "" {
		if !hasMore {
			return s
		}
		return rest
	}
	if capitalise {
		line = upperFirst(line)
	}
	return line + "\n" + rest
}

// trimBlankLines drops leading blank lines, keeping the indentation of the
// first line with text.
func trimBlankLines(s string) string {
	for {
		line, rest, ok := strings.Cut(s, "\n")
		if !ok || strings.TrimSpace(line) != "" {
			return s
		}
		s = rest
	}
}

// upperFirst capitalises a sentence left after its opening was removed
// ("Sure, the cache…" → "The cache…") when its first word is a plain
// lower-case word, not an identifier such as handleSearch or err_bad.
func upperFirst(s string) string {
	word, _, _ := strings.Cut(s, " ")
	for _, r := range word {
		if !unicode.IsLower(r) {
			return s
		}
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// stripSignOff removes a closing pleasantry paragraph outside code.
func stripSignOff(s string) string {
	t := strings.TrimRight(s, " \t\n")
	i := strings.LastIndex(t, "\n\n")
	last := strings.TrimSpace(t[i+1:])
	if i < 0 || len(last) > 200 || !signOff.MatchString(last) || insideFence(t[:i]) {
		return s
	}
	return t[:i]
}

// fenceLine is a code fence line: its indentation, character, length and
// info string.
type fenceLine struct {
	indent string
	char   byte
	n      int
	info   string
}

// parseFence reports whether line is a code fence line.
func parseFence(line string) (fenceLine, bool) {
	body := strings.TrimLeft(line, " \t")
	f := fenceLine{indent: line[:len(line)-len(body)]}
	if body == "" || (body[0] != '`' && body[0] != '~') {
		return f, false
	}
	f.char = body[0]
	for f.n < len(body) && body[f.n] == f.char {
		f.n++
	}
	if f.n < 3 {
		return f, false
	}
	f.info = strings.TrimSpace(body[f.n:])
	if f.char == '`' && strings.Contains(f.info, "`") {
		return f, false // inline code such as ```x```, not a fence
	}
	return f, true
}

// closes reports whether line closes a fence opened by open.
func (open fenceLine) closes(line string) bool {
	f, ok := parseFence(line)
	return ok && f.char == open.char && f.n >= open.n && f.info == ""
}

// insideFence reports whether a code fence is still open at the end of s.
func insideFence(s string) bool {
	var open fenceLine
	in := false
	for _, line := range strings.Split(s, "\n") {
		if in {
			in = !open.closes(line)
			continue
		}
		open, in = parseFence(line)
	}
	return in
}

// listItem matches a markdown list item line.
var listItem = regexp.MustCompile(`^\s*(?:[-*+]|\d+[.)])\s`)

// normaliseFences rewrites the code fences of s; see Postprocess.
func normaliseFences(s string) string {
	lines := strings.Split(s, "\n")
	var out []string
	prev := "" // the last non-blank line outside code
	for i := 0; i < len(lines); i++ {
		open, ok := parseFence(lines[i])
		if !ok {
			out = append(out, lines[i])
			if strings.TrimSpace(lines[i]) != "" {
				prev = lines[i]
			}
			continue
		}
		end := i + 1
		for end < len(lines) && !open.closes(lines[end]) {
			end++
		}
		body := lines[i+1 : min(end, len(lines))]
		indent := open.indent
		prevIndent := len(prev) - len(strings.TrimLeft(prev, " \t"))
		if indent != "" && !listItem.MatchString(prev) && prevIndent < len(indent) {
			body = dedent(body, indent)
			indent = ""
		}
		marker := strings.Repeat("`", open.n)
		if open.char == '~' {
			marker = fence(strings.Join(body, "\n"))
		}
		out = append(out, indent+marker+fenceInfo(open.info))
		out = append(out, body...)
		out = append(out, indent+marker)
		i = end // the closing line, or past the end when the fence was open
	}
	return strings.Join(out, "\n")
}

// dedent removes indent from the start of each line, or as much of it as
// the line has.
func dedent(lines []string, indent string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, indent):
			out[i] = l[len(indent):]
		case strings.HasPrefix(indent, l): // blank or shorter white space
			out[i] = ""
		default:
			lead := l[:len(l)-len(strings.TrimLeft(l, " \t"))]
			if strings.HasPrefix(indent, lead) {
				out[i] = l[len(lead):]
			} else {
				out[i] = l
			}
		}
	}
	return out
}

// fenceInfo normalises an info string: its language first and canonical.
func fenceInfo(info string) string {
	lang, rest, _ := strings.Cut(info, " ")
	lang = fenceLanguage(strings.Trim(lang, "{}."))
	if rest = strings.TrimSpace(rest); rest != "" {
		return lang + " " + rest
	}
	return lang
}
