package secrets

import (
	"math"
	"slices"
	"strings"
)

// minRun is the shortest run of value characters worth a closer look. Every
// token rule and the assignment rule need at least this many characters, so
// shorter runs — almost all of ordinary text — cost one table lookup per
// byte and nothing more.
const minRun = 20

// maxAssigned is the longest value the assignment rule considers; longer
// runs are data (test vectors, embedded blobs), not credentials.
const maxAssigned = 256

// minEntropy is the Shannon entropy, in bits per character, a value assigned
// to a secret-like name must reach. Random base64 of 20 characters scores
// about 4.0; English-like identifiers score below 3.5.
const minEntropy = 3.5

// Character classes: classValue bytes may appear in a secret value (base64,
// base64url, JWT dots, paths); classWord bytes in a prefixed token.
const (
	classValue = 1 << iota
	classWord
)

var class = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_', c == '-':
			t[c] = classValue | classWord
		case c == '+', c == '/', c == '.', c == '~':
			t[c] = classValue
		}
	}
	return t
}()

// scanRuns finds maximal runs of value characters at least minRun long and
// appends the findings of the token, webhook and assignment rules within
// them to out.
func scanRuns(text string, out []Finding) []Finding {
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
		if j-i >= minRun {
			out = checkRun(text, i, j, out)
		}
		i = j
	}
	return out
}

// checkRun applies the rules to the value run text[i:j].
func checkRun(text string, i, j int, out []Finding) []Finding {
	before := len(out)
	// Prefixed tokens start a word run inside the value run.
	for s := i; s < j; {
		if class[text[s]]&classWord == 0 {
			s++
			continue
		}
		e := s + 1
		for e < j && class[text[e]]&classWord != 0 {
			e++
		}
		if e-s >= minRun || strings.HasPrefix(text[s:e], "eyJ") {
			if rule := tokenRule(text[s:e]); rule != "" {
				out = append(out, Finding{Start: s, End: e, Rule: rule})
			} else if end, ok := jwtEnd(text, s, j); ok {
				out = append(out, Finding{Start: s, End: end, Rule: RuleJWT})
				e = end
			}
		}
		s = e
	}
	if k := strings.Index(text[i:j], "hooks.slack.com/services/"); k >= 0 {
		s := i + k + len("hooks.slack.com/services/")
		if j-s >= 20 && !placeholder(text[s:j]) {
			out = append(out, Finding{Start: s, End: j, Rule: RuleSlackWebhook})
		}
	}
	if len(out) > before {
		return out
	}
	if f, ok := assignedSecret(text, i, j); ok {
		out = append(out, f)
	}
	return out
}

// tokenRule returns the rule a word run t matches by its prefix and shape,
// or "" if none.
func tokenRule(t string) string {
	switch {
	case len(t) == 20 && awsKeyPrefix(t) && upperDigits(t[4:]) && !strings.Contains(t, "EXAMPLE"):
		return RuleAWSAccessKey
	case len(t) == 39 && strings.HasPrefix(t, "AIza") && !placeholder(t):
		return RuleGCPAPIKey
	case len(t) == 40 && t[0] == 'g' && t[1] == 'h' && strings.IndexByte("pousr", t[2]) >= 0 && t[3] == '_' && alnum(t[4:]):
		return RuleGitHubToken
	case len(t) >= 70 && strings.HasPrefix(t, "github_pat_"):
		return RuleGitHubToken
	case len(t) >= 20 && strings.HasPrefix(t, "xox") && strings.IndexByte("abprse", t[3]) >= 0 && t[4] == '-' && hasDigit(t) && !placeholder(t):
		return RuleSlackToken
	case len(t) >= 40 && strings.HasPrefix(t, "sk-ant-") && randomLooking(t[7:]):
		return RuleAnthropicKey
	case len(t) >= 40 && strings.HasPrefix(t, "sk-") && randomLooking(t[3:]):
		return RuleOpenAIKey
	case len(t) >= 24 && (strings.HasPrefix(t, "sk_live_") || strings.HasPrefix(t, "rk_live_")) && randomLooking(t[8:]):
		return RuleStripeKey
	}
	return ""
}

// jwtEnd reports whether a JSON Web Token starts at text[s] (within the
// value run ending at j) and where it ends: three base64url segments joined
// by dots, the first two starting with "eyJ" (base64 of `{"`).
func jwtEnd(text string, s, j int) (int, bool) {
	k := s
	for seg := 0; seg < 3; seg++ {
		start := k
		for k < j && class[text[k]]&classWord != 0 {
			k++
		}
		if seg < 2 && (!strings.HasPrefix(text[start:k], "eyJ") || k-start < 10) {
			return 0, false
		}
		if seg == 2 && k-start < 16 {
			return 0, false
		}
		if seg < 2 {
			if k >= j || text[k] != '.' {
				return 0, false
			}
			k++
		}
	}
	return k, true
}

// assignedSecret applies the assignment rule to the value run text[i:j]: a
// value assigned to a secret-like name (apiKey = "…", "password": "…",
// SECRET_KEY=…, Authorization: Bearer …) that looks random.
func assignedSecret(text string, i, j int) (Finding, bool) {
	// Base64 padding is outside the value classes so that NAME=value splits.
	for k := 0; k < 2 && j < len(text) && text[j] == '='; k++ {
		j++
	}
	if j-i > maxAssigned {
		return Finding{}, false
	}
	rule := RuleAssignedSecret
	var name string
	if lowerHasSuffix(text[:i], "bearer ") {
		rule = RuleBearerToken
	} else {
		p := i // p walks backwards over the assignment
		if p > 0 && (text[p-1] == '"' || text[p-1] == '\'' || text[p-1] == '`') {
			if j >= len(text) || text[j] != text[p-1] {
				return Finding{}, false
			}
			p--
		} else if j < len(text) && !unquotedEnd(text[j]) {
			return Finding{}, false
		}
		name = assignedName(text, p)
		if name == "" || !secretName(name) {
			return Finding{}, false
		}
	}
	v := text[i:j]
	if !randomLooking(v) || name != "" && echoesName(v, name) {
		return Finding{}, false
	}
	if rule == RuleAssignedSecret && len(v) == 40 && strings.Contains(strings.ToLower(name), "aws") {
		rule = RuleAWSSecretKey
	}
	if rule == RuleAssignedSecret && (strings.EqualFold(name, "AccountKey") || strings.EqualFold(name, "SharedAccessKey")) {
		rule = RuleAzureKey
	}
	return Finding{Start: i, End: j, Rule: rule}, true
}

// unquotedEnd reports whether c may follow an unquoted assigned value: the
// end of a line or of a field in .env, YAML, INI or connection strings.
func unquotedEnd(c byte) bool {
	switch c {
	case '\n', '\r', ' ', '\t', ';', ',', '&', '#':
		return true
	}
	return false
}

// assignedName returns the name assigned to by the text ending at p: an
// identifier or quoted key followed by =, :, := or =>. It returns "" when
// text[:p] does not end in an assignment.
func assignedName(text string, p int) string {
	p = skipSpaceBack(text, p)
	switch {
	case p >= 2 && text[p-2:p] == ":=", p >= 2 && text[p-2:p] == "=>":
		p -= 2
	case p >= 1 && (text[p-1] == '=' || text[p-1] == ':'):
		if p >= 2 && strings.IndexByte("=!<>:", text[p-2]) >= 0 {
			return "" // a comparison, not an assignment
		}
		p--
	default:
		return ""
	}
	p = skipSpaceBack(text, p)
	if p > 0 && (text[p-1] == '"' || text[p-1] == '\'') {
		p--
	}
	end := p
	for p > 0 && end-p < 64 && (class[text[p-1]]&classWord != 0 || text[p-1] == '.') {
		p--
	}
	return text[p:end]
}

func skipSpaceBack(text string, p int) int {
	for p > 0 && (text[p-1] == ' ' || text[p-1] == '\t') {
		p--
	}
	return p
}

// secretWords are the last words of names whose values are credentials.
var secretWords = map[string]bool{
	"secret": true, "secrets": true, "token": true, "password": true, "passwd": true,
	"pwd": true, "passphrase": true, "credential": true, "credentials": true,
	"apikey": true, "secretkey": true, "accesskey": true, "privatekey": true, "auth": true,
	"accountkey": true, "sharedaccesskey": true, "clientsecret": true, "authtoken": true,
}

// keyQualifiers turn a trailing "key" into a credential name (apiKey,
// SECRET_KEY, signing_key); a bare "key" is usually a map key.
var keyQualifiers = map[string]bool{
	"api": true, "access": true, "secret": true, "private": true, "signing": true,
	"client": true, "account": true, "master": true, "auth": true, "encryption": true,
	"app": true, "consumer": true, "license": true, "shared": true, "service": true,
}

// secretName reports whether an assigned name, split into words at
// underscores, dashes, dots and camelCase boundaries, ends in a credential
// word. tokenType, TOKEN_URL and passwordFile do not; apiKey, clientSecret
// and DB_PASSWORD do.
func secretName(name string) bool {
	words := splitWords(name)
	if len(words) == 0 {
		return false
	}
	last := words[len(words)-1]
	if secretWords[last] {
		return true
	}
	return last == "key" && len(words) >= 2 && keyQualifiers[words[len(words)-2]]
}

// splitWords splits an identifier into lower-case words.
func splitWords(name string) []string {
	var words []string
	start := -1
	flush := func(end int) {
		if start >= 0 && end > start {
			words = append(words, strings.ToLower(name[start:end]))
		}
		start = -1
	}
	for k := 0; k < len(name); k++ {
		c := name[k]
		switch {
		case c == '_' || c == '-' || c == '.':
			flush(k)
		case 'A' <= c && c <= 'Z':
			// A capital starts a word unless it continues an acronym that is
			// not followed by a lower-case letter (APIKey → API, Key).
			if start >= 0 {
				prevUpper := 'A' <= name[k-1] && name[k-1] <= 'Z'
				nextLower := k+1 < len(name) && 'a' <= name[k+1] && name[k+1] <= 'z'
				if !prevUpper || nextLower {
					flush(k)
				}
			}
			if start < 0 {
				start = k
			}
		default:
			if start < 0 {
				start = k
			}
		}
	}
	flush(len(name))
	return words
}

// randomLooking reports whether v looks like generated key material rather
// than a word, identifier, path, digest or placeholder: it mixes letters and
// digits, is not hex or a UUID, is not a placeholder, and has high entropy.
func randomLooking(v string) bool {
	if len(v) < 16 || placeholder(v) {
		return false
	}
	var upper, lower, digit, hex, other int
	for k := 0; k < len(v); k++ {
		c := v[k]
		switch {
		case '0' <= c && c <= '9':
			digit++
		case 'a' <= c && c <= 'z':
			lower++
		case 'A' <= c && c <= 'Z':
			upper++
		default:
			other++
		}
		if '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' {
			hex++
		}
	}
	if digit == 0 || upper+lower == 0 {
		return false
	}
	if hex+strings.Count(v, "-") == len(v) {
		return false // hex digest or UUID
	}
	if upper == 0 && lower > 0 && other > 0 || v[0] == '/' || strings.Contains(v, "//") || strings.Count(v, ".") > 1 {
		return false // lower-case words, paths and dotted names
	}
	maxWord := maxMeanWordLen
	if upper == 0 || lower == 0 {
		maxWord = maxMeanWordLenOneCase
	}
	return entropy(v) >= minEntropy && meanWordLen(v) < maxWord
}

// maxMeanWordLen separates identifiers from generated strings: split at
// non-letters and lower-to-upper case changes, identifiers such as
// testRSA2048PrivateKey have words of four or more letters on average, while
// random base64 averages under three. In single-case values words end only
// at digits and symbols, so random ones average about 3.6 letters
// and identifiers (testpassword123) many more.
const (
	maxMeanWordLen        = 4.0
	maxMeanWordLenOneCase = 6.0
)

// meanWordLen returns the mean length of the letter words in v.
func meanWordLen(v string) float64 {
	words, letters := 0, 0
	prevLower, inWord := false, false
	for k := 0; k < len(v); k++ {
		c := v[k]
		isLower := 'a' <= c && c <= 'z'
		isUpper := 'A' <= c && c <= 'Z'
		switch {
		case !isLower && !isUpper:
			inWord = false
		case !inWord || isUpper && prevLower:
			words++
			inWord = true
		}
		if isLower || isUpper {
			letters++
		}
		prevLower = isLower
	}
	if words == 0 {
		return 0
	}
	return float64(letters) / float64(words)
}

// placeholders are substrings (lower case) of values that stand in for a
// real credential.
var placeholders = []string{
	"xxxx", "example", "changeme", "change_me", "placeholder", "your_", "your-",
	"yourkey", "dummy", "fake", "sample", "redacted", "replace", "insert", "****",
	"00000000", "abcdef", "123456", "<", ">", "${", "{{", "$(", "%s",
}

func placeholder(v string) bool {
	l := strings.ToLower(v)
	for _, p := range placeholders {
		if strings.Contains(l, p) {
			return true
		}
	}
	return false
}

// entropy returns the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	var counts [256]int
	for k := 0; k < len(s); k++ {
		counts[s[k]]++
	}
	h := 0.0
	n := float64(len(s))
	for _, c := range counts {
		if c == 0 {
			continue
		}
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}

func awsKeyPrefix(t string) bool {
	switch t[:4] {
	case "AKIA", "ASIA", "ABIA", "ACCA":
		return true
	}
	return false
}

func upperDigits(s string) bool {
	for k := 0; k < len(s); k++ {
		if c := s[k]; !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func alnum(s string) bool {
	for k := 0; k < len(s); k++ {
		if c := s[k]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func hasDigit(s string) bool {
	return strings.ContainsAny(s, "0123456789")
}

// lowerHasSuffix reports whether s ends with suffix, ignoring ASCII case.
func lowerHasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// echoesName reports whether the value repeats the credential word of the
// name it is assigned to, as constants defined from other constants do
// (ATTR_PASSWORD = C.ATTR_PASSWORD); generated secrets never do.
func echoesName(v, name string) bool {
	words := splitWords(name)
	last := words[len(words)-1]
	return slices.Contains(splitWords(v), last) || strings.Contains(strings.ToLower(v), last)
}
