package secrets

import (
	"encoding/base64"
	"os"
	"sort"
	"strings"
	"testing"
)

// TestRedact checks that every rule is caught where outgoing text carries
// credentials: questions people type, tool and log output, and code.
func TestRedact(t *testing.T) {
	awsKey := "AKIA" + randString(101, 16, upperDigitChars)
	awsSecret := randString(102, 40, base64Chars)
	gcpKey := "AIza" + randString(103, 35, base64URLChars)
	azureKey := randString(104, 86, base64Chars) + "=="
	ghp := "ghp_" + randString(105, 36, alnumChars)
	ghPAT := "github_pat_" + randString(106, 22, alnumChars) + "_" + randString(107, 59, alnumChars)
	slackTok := "xoxp-" + randString(108, 12, "0123456789") + "-" + randString(109, 13, "0123456789") + "-" + randString(110, 24, alnumChars)
	slackHook := "T" + randString(111, 8, upperDigitChars) + "/B" + randString(112, 8, upperDigitChars) + "/" + randString(113, 24, alnumChars)
	openaiKey := "sk-proj-" + randString(114, 64, base64URLChars)
	anthropicKey := "sk-ant-api03-" + randString(115, 93, base64URLChars) + "AA"
	jwt := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"42","exp":1700000000}`)) + "." + randString(116, 43, base64URLChars)
	secret := randString(117, 32, base64Chars)
	secret2 := randString(118, 24, alnumChars)
	rsa := pemBlock("RSA PRIVATE KEY", 119, 1600)
	ed := pemBlock("OPENSSH PRIVATE KEY", 120, 400)

	tests := []struct {
		name  string
		text  string
		wantN int
		want  []string // substrings the redacted text must contain
		gone  []string // values it must no longer contain
	}{
		// Questions people type.
		{"question aws key", "why does s3 answer AccessDenied for " + awsKey + "?", 1,
			[]string{"for [REDACTED:aws-access-key#1]?"}, []string{awsKey}},
		{"question aws secret in prose", "my aws secret is " + awsSecret + " and it fails", 1,
			[]string{"my aws secret is [REDACTED:named-secret#1] and"}, []string{awsSecret}},
		{"question token is", "the token is " + secret2 + ", why 401?", 1,
			[]string{"the token is [REDACTED:named-secret#1], why"}, []string{secret2}},
		{"question api key colon", "API key: " + secret2, 1, []string{"API key: [REDACTED:named-secret#1]"}, []string{secret2}},
		{"question set password to", "I set the password to " + secret + ".", 1,
			[]string{"password to [REDACTED:named-secret#1]."}, []string{secret}},
		{"question github token", "gh says " + ghp + " is bad, and so is " + ghPAT, 2,
			[]string{"[REDACTED:github-token#1] is bad", "so is [REDACTED:github-token#2]"}, []string{ghp, ghPAT}},
		{"question openai", "is " + openaiKey + " a project key?", 1, []string{"is [REDACTED:openai-key#1] a"}, []string{openaiKey}},
		{"question anthropic", "(" + anthropicKey + ")", 1, []string{"([REDACTED:anthropic-key#1])"}, []string{anthropicKey}},
		{"question gcp", "maps rejects `" + gcpKey + "`", 1, []string{"`[REDACTED:gcp-api-key#1]`"}, []string{gcpKey}},
		{"question slack", "posting with " + slackTok + " fails", 1, []string{"with [REDACTED:slack-token#1] fails"}, []string{slackTok}},
		{"question pasted key", "this key does not load:\n" + ed + "what is wrong?", 1,
			[]string{"-----BEGIN OPENSSH PRIVATE KEY-----\n[REDACTED:private-key#1]\n"}, []string{ed[40:90]}},

		// Tool, test and log output.
		{"log token field", "Error: 401 Unauthorized (token=" + secret2 + ")", 1, []string{"(token=[REDACTED:named-secret#1])"}, []string{secret2}},
		{"logfmt password", `level=error msg="auth failed" password=` + secret2 + " user=bob", 1,
			[]string{"password=[REDACTED:assigned-secret#1] user=bob"}, []string{secret2}},
		{"curl bearer", "$ curl -H 'Authorization: Bearer " + secret2 + "' https://api.internal/v1", 1,
			[]string{"Bearer [REDACTED:bearer-token#1]'"}, []string{secret2}},
		{"env dump", "HOME=/home/u\nAWS_ACCESS_KEY_ID=" + awsKey + "\nAWS_SECRET_ACCESS_KEY=" + awsSecret + "\nSLACK_WEBHOOK=https://hooks.slack.com/services/" + slackHook + "\n", 3,
			[]string{"AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key#1]\n", "AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-key#1]\n", "services/[REDACTED:slack-webhook#1]\n"},
			[]string{awsKey, awsSecret, slackHook}},
		{"azure connection string", "panic: open storage: DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + azureKey + ";EndpointSuffix=core.windows.net", 1,
			[]string{"AccountKey=[REDACTED:azure-storage-key#1];"}, []string{azureKey}},
		{"jwt in a request dump", "GET /me HTTP/1.1\nCookie: session=" + jwt + "; Path=/\n", 1, []string{"session=[REDACTED:jwt#1];"}, []string{jwt}},
		{"db url", "dial tcp: postgres://app:" + secret2 + "@db:5432/prod: connection refused", 1,
			[]string{"app:[REDACTED:url-password#1]@db"}, []string{secret2}},

		// Code chunks.
		{"go const", "const apiKey = \"" + secret + "\"\n", 1, []string{`apiKey = "[REDACTED:assigned-secret#1]"`}, []string{secret}},
		{"python client secret", "CLIENT_SECRET = '" + secret2 + "'\n", 1, []string{"CLIENT_SECRET = '[REDACTED:assigned-secret#1]'"}, []string{secret2}},
		{"yaml password", "db:\n  password: " + secret2 + "\n", 1, []string{"password: [REDACTED:assigned-secret#1]\n"}, []string{secret2}},
		{"go bare key", "key := \"" + secret + "\"\n", 1, []string{`key := "[REDACTED:named-secret#1]"`}, []string{secret}},
		{"go embedded pem", "var k = `" + rsa + "`\n", 1, []string{"-----BEGIN RSA PRIVATE KEY-----\n[REDACTED:private-key#1]\n"}, []string{rsa[40:90]}},

		// Nothing to redact.
		{"plain question", "How does the client retry failed requests?", 0, nil, nil},
		{"token words", "the token is invalid and the key is missing; password: hunter2", 0, nil, nil},
		{"identifiers", "\tkey := loadSigningKeyFromVaultConfig2(ctx)\n\ttoken := oauth2.StaticTokenSource(tok)\n", 0, nil, nil},
		{"hex digest", "the key is " + randString(121, 64, hexChars), 0, nil, nil},
		{"uuid", "token: 123e4567-e89b-12d3-a456-426614174000", 0, nil, nil},
		{"aws example key", "use AKIA" + "IOSFODNN7" + "EXAMPLE as the key", 0, nil, nil},
		{"path", "the key is stored in /etc/service/config/keys2/current.pem", 0, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := Redact(tt.text)
			if n != tt.wantN {
				t.Errorf("Redact(%q) n = %d, want %d (got %q)", tt.text, n, tt.wantN, got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Redact(%q) = %q, want it to contain %q", tt.text, got, w)
				}
			}
			for _, g := range tt.gone {
				if strings.Contains(got, g) {
					t.Errorf("Redact(%q) = %q, still contains %q", tt.text, got, g)
				}
			}
			if tt.wantN == 0 && got != tt.text {
				t.Errorf("Redact(%q) = %q, want the text unchanged", tt.text, got)
			}
			if a, b := strings.Count(got, "\n"), strings.Count(tt.text, "\n"); a != b {
				t.Errorf("Redact(%q) has %d newlines, want %d", tt.text, a, b)
			}
			if again, n2 := Redact(got); n2 != 0 || again != got {
				t.Errorf("Redact(Redact(%q)) found %d more in %q", tt.text, n2, got)
			}
		})
	}
}

func TestRedactorNumbering(t *testing.T) {
	ghA := "ghp_" + randString(130, 36, alnumChars)
	ghB := "ghp_" + randString(131, 36, alnumChars)
	awsKey := "AKIA" + randString(132, 16, upperDigitChars)
	tests := []struct {
		name  string
		texts []string // redacted in order by one Redactor
		want  []string
		wantN []int
	}{
		{"same secret same placeholder", []string{ghA + " then " + ghA},
			[]string{"[REDACTED:github-token#1] then [REDACTED:github-token#1]"}, []int{2}},
		{"numbers per rule", []string{ghA + " " + awsKey + " " + ghB},
			[]string{"[REDACTED:github-token#1] [REDACTED:aws-access-key#1] [REDACTED:github-token#2]"}, []int{3}},
		{"across texts", []string{"q: " + ghB, "ctx: " + ghA + " " + ghB, "none"},
			[]string{"q: [REDACTED:github-token#1]", "ctx: [REDACTED:github-token#2] [REDACTED:github-token#1]", "none"}, []int{1, 2, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Redactor
			for i, text := range tt.texts {
				got, n := r.Redact(text)
				if got != tt.want[i] || n != tt.wantN[i] {
					t.Errorf("Redact(%q) = %q, %d, want %q, %d", text, got, n, tt.want[i], tt.wantN[i])
				}
			}
		})
	}
}

// FuzzRedact checks Redact's invariants on arbitrary text: the line count is
// kept, n counts the placeholders written, and redacting again finds
// nothing.
func FuzzRedact(f *testing.F) {
	f.Add("the token is " + randString(140, 24, alnumChars) + ".")
	f.Add("key: " + randString(141, 30, base64Chars) + "\n" + "ghp_" + randString(142, 36, alnumChars))
	f.Add("-----BEGIN RSA PRIVATE KEY-----\n" + randString(143, 64, base64Chars) + "\n-----END RSA PRIVATE KEY-----\n")
	f.Fuzz(func(t *testing.T, text string) {
		got, n := Redact(text)
		if a, b := strings.Count(got, "\n"), strings.Count(text, "\n"); a != b {
			t.Fatalf("Redact(%q) = %q has %d newlines, want %d", text, got, a, b)
		}
		if strings.Count(got, "[REDACTED:")-strings.Count(text, "[REDACTED:") != n {
			t.Fatalf("Redact(%q) = %q, n = %d does not match the placeholders written", text, got, n)
		}
		if again, n2 := Redact(got); n2 != 0 || again != got {
			t.Fatalf("Redact(Redact(%q)) found %d more in %q", text, n2, got)
		}
	})
}

// maxFindingsPerMB bounds the findings Redact may report in GOROOT/src,
// which holds no real credentials: a handful of test keys and fixtures in
// 120 MB. Each one replaces a value sent to a model, so a rule change that
// raises the rate is a regression of answer quality.
const maxFindingsPerMB = 0.25

// TestGorootRedactions counts what Redact would replace in GOROOT/src (the
// first 24 MB, or all of it with -goroot, logging each finding by rule for
// review) and fails when the rate exceeds maxFindingsPerMB.
func TestGorootRedactions(t *testing.T) {
	limit := int64(24 << 20)
	if *gorootReport {
		limit = 0
	}
	byRule := map[string][]string{}
	var bytes, total int
	for _, p := range gorootFiles(t, limit) {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		bytes += len(data)
		text := string(data)
		for _, f := range scanOutgoing(text) {
			total++
			byRule[f.Rule] = append(byRule[f.Rule], findingSample(p, text, f))
		}
	}
	rules := make([]string, 0, len(byRule))
	for r := range byRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	t.Logf("Redact over %d bytes: %d findings", bytes, total)
	for _, r := range rules {
		t.Logf("%-18s %d", r, len(byRule[r]))
		for _, s := range byRule[r] {
			t.Logf("    %s", s)
		}
	}
	if mb := float64(bytes) / (1 << 20); float64(total) > maxFindingsPerMB*mb {
		t.Errorf("Redact found %d values in %.0f MB of GOROOT/src, want at most %.0f", total, mb, maxFindingsPerMB*mb)
	}
}

// BenchmarkRedactGoroot measures Redact over all of GOROOT/src.
func BenchmarkRedactGoroot(b *testing.B) {
	benchGoroot(b, 0, func(text string) { Redact(text) })
}
