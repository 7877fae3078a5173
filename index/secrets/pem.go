package secrets

import "strings"

const (
	// maxPEMBody bounds how far past a BEGIN header the END line is looked
	// for; a 4096-bit RSA key quoted line by line in source is about 5 KB.
	maxPEMBody = 16 << 10
	// minPEMBase64 is the least number of base64 characters a body must
	// hold to count as a key (an ed25519 key body has about 200).
	minPEMBase64 = 40
)

// scanPEM appends the bodies of PEM private-key blocks (RSA, EC, DSA,
// OPENSSH, PGP, ENCRYPTED and plain PKCS#8) to out. The BEGIN and END lines
// stay outside the finding so masked text still shows what was there. Blocks
// quoted in source (one string per line, or one string with \n escapes) are
// found too.
func scanPEM(text string, out []Finding) []Finding {
	const marker = "PRIVATE KEY"
	off := 0
	for {
		i := strings.Index(text[off:], marker)
		if i < 0 {
			return out
		}
		i += off
		off = i + len(marker)
		lineStart := strings.LastIndexByte(text[:i], '\n') + 1
		lo := max(lineStart, i-48)
		if !strings.Contains(text[lo:i], "-----BEGIN ") {
			continue
		}
		h := off
		if strings.HasPrefix(text[h:], " BLOCK") {
			h += len(" BLOCK")
		}
		if !strings.HasPrefix(text[h:], "-----") {
			continue
		}
		bodyStart := h + len("-----")
		limit := min(len(text), bodyStart+maxPEMBody)
		bodyEnd := limit
		if e := strings.Index(text[bodyStart:limit], "-----END "); e >= 0 {
			bodyEnd = bodyStart + e
		} else {
			bodyEnd = base64LinesEnd(text, bodyStart, limit)
		}
		s, e, ok := keyBody(text, bodyStart, bodyEnd)
		if !ok {
			continue
		}
		out = append(out, Finding{Start: s, End: e, Rule: RulePrivateKey})
		off = bodyEnd
	}
}

// keyBody trims quoting and escapes from text[start:end] and reports the
// range of the base64 payload, and whether it looks like key material: at
// least minPEMBase64 base64 characters and little else (header lines such as
// Proc-Type and DEK-Info are allowed).
func keyBody(text string, start, end int) (s, e int, ok bool) {
	s = trimBodyStart(text, start, end)
	e = trimBodyEnd(text, s, end)
	b64, other := 0, 0
	for k := s; k < e; k++ {
		c := text[k]
		switch {
		case isBase64(c):
			b64++
		case pemNoise(c), c == '\\':
		default:
			other++
		}
	}
	return s, e, b64 >= minPEMBase64 && other*10 <= b64
}

// base64LinesEnd returns where a PEM body with no END line stops: at the
// first line, from start, that is not base64 once quoting is removed.
func base64LinesEnd(text string, start, limit int) int {
	k := start
	if nl := strings.IndexByte(text[k:limit], '\n'); nl >= 0 {
		k += nl + 1 // the rest of the header line
	} else {
		return limit
	}
	for k < limit {
		nl := strings.IndexByte(text[k:limit], '\n')
		lineEnd := limit
		if nl >= 0 {
			lineEnd = k + nl
		}
		if _, _, ok := keyBody(text, k, lineEnd); !ok && !base64Line(text[k:lineEnd]) {
			return k
		}
		if nl < 0 {
			return limit
		}
		k = lineEnd + 1
	}
	return limit
}

// base64Line reports whether line holds only base64 and quoting, with at
// least one base64 character.
func base64Line(line string) bool {
	n := 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case isBase64(c):
			n++
		case pemNoise(c), c == '\\':
		default:
			return false
		}
	}
	return n > 0
}

// pemNoise reports whether c is whitespace or quoting around a PEM body.
func pemNoise(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '"', '\'', '`', ',', ';':
		return true
	}
	return false
}

func isBase64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '='
}

// trimBodyStart skips whitespace, quotes, \n escapes and string
// concatenation from text[s:e] and returns the first index of the payload.
func trimBodyStart(text string, s, e int) int {
	for s < e {
		c := text[s]
		switch {
		case pemNoise(c):
			s++
		case c == '\\' && s+1 < e && (text[s+1] == 'n' || text[s+1] == 'r'):
			s += 2
		case c == '+' && s+1 < e && (text[s+1] == ' ' || text[s+1] == '\t' || text[s+1] == '\n'):
			s++
		default:
			return s
		}
	}
	return s
}

// trimBodyEnd is trimBodyStart from the other end: it returns the index
// just past the payload in text[s:e].
func trimBodyEnd(text string, s, e int) int {
	for e > s {
		c := text[e-1]
		switch {
		case pemNoise(c):
			e--
		case (c == 'n' || c == 'r') && e-2 >= s && text[e-2] == '\\':
			e -= 2
		case c == '+' && e-2 >= s && (text[e-2] == ' ' || text[e-2] == '\t'):
			e--
		default:
			return e
		}
	}
	return e
}
