package secrets

import (
	"slices"
	"strings"
)

// Rule names reported in Finding.Rule and in Mask placeholders. They are
// short, contain no long alphanumeric runs and so never look like secrets
// themselves.
const (
	RulePrivateKey     = "private-key"       // PEM private-key block body
	RuleAWSAccessKey   = "aws-access-key"    // AKIA…, ASIA… access key IDs
	RuleAWSSecretKey   = "aws-secret-key"    // 40-character secret assigned to an AWS-ish name
	RuleGCPAPIKey      = "gcp-api-key"       // AIza… API keys
	RuleAzureKey       = "azure-storage-key" // AccountKey=/SharedAccessKey= values
	RuleGitHubToken    = "github-token"      // ghp_, gho_, ghu_, ghs_, ghr_, github_pat_
	RuleSlackToken     = "slack-token"       // xoxb-, xoxa-, xoxp-, xoxr-, xoxs-
	RuleSlackWebhook   = "slack-webhook"     // hooks.slack.com/services/… path
	RuleOpenAIKey      = "openai-key"        // sk-…, sk-proj-…
	RuleAnthropicKey   = "anthropic-key"     // sk-ant-…
	RuleStripeKey      = "stripe-key"        // sk_live_, rk_live_
	RuleJWT            = "jwt"               // eyJ….eyJ….signature
	RuleBearerToken    = "bearer-token"      // "Bearer <high-entropy>"
	RuleURLPassword    = "url-password"      // scheme://user:password@host
	RuleAssignedSecret = "assigned-secret"   // high-entropy value assigned to password/secret/token/… names
)

// Finding is one credential found in a text: the byte range text[Start:End]
// holds the secret value (not the name it is assigned to) and Rule names the
// rule that matched.
type Finding struct {
	Start, End int
	Rule       string
}

// Scan returns the credentials found in text, ordered by Start and not
// overlapping.
func Scan(text string) []Finding {
	var out []Finding
	out = scanPEM(text, out)
	out = scanRuns(text, out)
	out = scanURLs(text, out)
	if len(out) < 2 {
		return out
	}
	slices.SortFunc(out, func(a, b Finding) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return b.End - a.End
	})
	kept := out[:1]
	for _, f := range out[1:] {
		if f.Start < kept[len(kept)-1].End {
			continue
		}
		kept = append(kept, f)
	}
	return kept
}

// Mask returns text with every finding replaced by a placeholder such as
// [REDACTED:aws-access-key], and the number of findings replaced. Newlines
// inside a replaced range are kept after the placeholder, so the masked text
// has the same number of lines as text and line numbers stay valid. When
// nothing is found Mask returns text itself without copying.
func Mask(text string) (masked string, n int) {
	fs := Scan(text)
	if len(fs) == 0 {
		return text, 0
	}
	var b strings.Builder
	b.Grow(len(text))
	last := 0
	for _, f := range fs {
		b.WriteString(text[last:f.Start])
		b.WriteString("[REDACTED:")
		b.WriteString(f.Rule)
		b.WriteByte(']')
		for k := strings.Count(text[f.Start:f.End], "\n"); k > 0; k-- {
			b.WriteByte('\n')
		}
		last = f.End
	}
	b.WriteString(text[last:])
	return b.String(), len(fs)
}
