package secrets

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

const (
	upperDigitChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	alnumChars      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	base64Chars     = alnumChars + "+/"
	base64URLChars  = alnumChars + "-_"
	hexChars        = "0123456789abcdef"
)

// randString returns a deterministic pseudo-random string of n characters
// from alphabet, so that key-shaped values are built at run time and no
// secret-looking literal is committed.
func randString(seed uint64, n int, alphabet string) string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

// pemBlock returns a PEM block of the given type with a random body of
// lines 64 characters wide.
func pemBlock(typ string, seed uint64, size int) string {
	body := randString(seed, size, base64Chars)
	var b strings.Builder
	b.WriteString("-----BEGIN " + typ + "-----\n")
	for len(body) > 64 {
		b.WriteString(body[:64] + "\n")
		body = body[64:]
	}
	b.WriteString(body + "\n-----END " + typ + "-----\n")
	return b.String()
}

type match struct{ Rule, Value string }

func scanMatches(text string) []match {
	var got []match
	for _, f := range Scan(text) {
		got = append(got, match{f.Rule, text[f.Start:f.End]})
	}
	return got
}

func TestScan(t *testing.T) {
	awsKey := "AKIA" + randString(1, 16, upperDigitChars)
	awsTemp := "ASIA" + randString(2, 16, upperDigitChars)
	awsSecret := randString(3, 40, base64Chars)
	gcpKey := "AIza" + randString(4, 35, base64URLChars)
	azureKey := randString(5, 86, base64Chars) + "=="
	ghp := "ghp_" + randString(6, 36, alnumChars)
	ghs := "ghs_" + randString(7, 36, alnumChars)
	ghPAT := "github_pat_" + randString(8, 22, alnumChars) + "_" + randString(9, 59, alnumChars)
	slackTok := "xoxb-" + randString(10, 12, "0123456789") + "-" + randString(11, 13, "0123456789") + "-" + randString(12, 24, alnumChars)
	slackHook := "T" + randString(13, 8, upperDigitChars) + "/B" + randString(14, 8, upperDigitChars) + "/" + randString(15, 24, alnumChars)
	openaiKey := "sk-" + randString(16, 48, alnumChars)
	openaiProj := "sk-proj-" + randString(17, 64, base64URLChars)
	anthropicKey := "sk-ant-api03-" + randString(18, 93, base64URLChars) + "AA"
	stripeKey := "sk_" + "live_" + randString(19, 24, alnumChars)
	jwt := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"1234567890","name":"someone"}`)) + "." +
		randString(20, 43, base64URLChars)
	secret := randString(21, 32, base64Chars)
	secret2 := randString(22, 24, alnumChars)
	rsa := pemBlock("RSA PRIVATE KEY", 23, 1600)
	rsaBody := rsa[strings.Index(rsa, "\n")+1 : strings.LastIndex(rsa, "\n-----END")]
	hexDigest := randString(24, 64, hexChars)

	tests := []struct {
		name string
		text string
		want []match
	}{
		// PEM private keys.
		{"pem rsa", "x := `" + rsa + "`", []match{{RulePrivateKey, rsaBody}}},
		{"pem openssh", pemBlock("OPENSSH PRIVATE KEY", 30, 400), []match{{RulePrivateKey, ""}}},
		{"pem ec", pemBlock("EC PRIVATE KEY", 31, 160), []match{{RulePrivateKey, ""}}},
		{"pem pkcs8", pemBlock("PRIVATE KEY", 32, 1200), []match{{RulePrivateKey, ""}}},
		{"pem encrypted", pemBlock("ENCRYPTED PRIVATE KEY", 33, 1200), []match{{RulePrivateKey, ""}}},
		{"pem pgp", pemBlock("PGP PRIVATE KEY BLOCK", 34, 800), []match{{RulePrivateKey, ""}}},
		{"pem json escaped", `{"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\n` +
			randString(35, 64, base64Chars) + `\n` + randString(36, 64, base64Chars) + `\n-----END PRIVATE KEY-----\n"}`,
			[]match{{RulePrivateKey, ""}}},
		{"pem go concatenated", "const k = \"-----BEGIN EC PRIVATE KEY-----\\n\" +\n\t\"" + randString(37, 64, base64Chars) +
			"\\n\" +\n\t\"" + randString(38, 40, base64Chars) + "\\n\" +\n\t\"-----END EC PRIVATE KEY-----\\n\"\n",
			[]match{{RulePrivateKey, ""}}},
		{"pem without end", "-----BEGIN RSA PRIVATE KEY-----\n" + randString(39, 64, base64Chars) + "\n" +
			randString(40, 64, base64Chars) + "\nfunc main() {}\n", []match{{RulePrivateKey, ""}}},
		{"pem public key", pemBlock("PUBLIC KEY", 41, 300), nil},
		{"pem certificate", pemBlock("CERTIFICATE", 42, 900), nil},
		{"pem header constant", "const rsaHeader = \"-----BEGIN RSA PRIVATE KEY-----\"\n\nfunc parse(b []byte) error {\n\treturn nil\n}\n// -----END RSA PRIVATE KEY-----\n", nil},
		{"pem testing key", pemBlock("RSA TESTING KEY", 43, 900), nil},

		// Prefixed tokens.
		{"aws access key", "aws_access_key_id = " + awsKey + "\n", []match{{RuleAWSAccessKey, awsKey}}},
		{"aws temporary key", `"AccessKeyId": "` + awsTemp + `"`, []match{{RuleAWSAccessKey, awsTemp}}},
		{"aws example key", "id: AKIA" + "IOSFODNN7" + "EXAMPLE", nil},
		{"aws key too short", "AKIA" + randString(1, 15, upperDigitChars), nil},
		{"aws key inside word", "XAKIA" + randString(1, 16, upperDigitChars), nil},
		{"aws secret key", "aws_secret_access_key = " + awsSecret + "\n", []match{{RuleAWSSecretKey, awsSecret}}},
		{"gcp api key", `const key = "` + gcpKey + `"`, []match{{RuleGCPAPIKey, gcpKey}}},
		{"azure connection string", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=" + azureKey + ";EndpointSuffix=core.windows.net",
			[]match{{RuleAzureKey, azureKey}}},
		{"github classic", "token: " + ghp, []match{{RuleGitHubToken, ghp}}},
		{"github server", "GITHUB_TOKEN=" + ghs + "\n", []match{{RuleGitHubToken, ghs}}},
		{"github fine-grained", `"` + ghPAT + `"`, []match{{RuleGitHubToken, ghPAT}}},
		{"github wrong length", "ghp_" + randString(6, 30, alnumChars), nil},
		{"slack token", "SLACK=" + slackTok, []match{{RuleSlackToken, slackTok}}},
		{"slack webhook", "url: https://hooks.slack.com/services/" + slackHook + "\n", []match{{RuleSlackWebhook, slackHook}}},
		{"openai legacy", "Authorization: " + openaiKey, []match{{RuleOpenAIKey, openaiKey}}},
		{"openai project", `OPENAI_API_KEY="` + openaiProj + `"`, []match{{RuleOpenAIKey, openaiProj}}},
		{"anthropic", "x-api-key: " + anthropicKey, []match{{RuleAnthropicKey, anthropicKey}}},
		{"stripe live", "stripe.Key = \"" + stripeKey + "\"", []match{{RuleStripeKey, stripeKey}}},
		{"stripe-like css class", `class="sk-spinner-double-bounce-container"`, nil},
		{"jwt", "Cookie: session=" + jwt + "; Path=/", []match{{RuleJWT, jwt}}},
		{"jwt header only", "eyJ" + "hbGciOiJIUzI1NiJ9 is the header", nil},

		// Passwords in URLs.
		{"postgres url", `dsn := "postgres://app:` + secret2 + `@db.internal:5432/prod"`, []match{{RuleURLPassword, secret2}}},
		{"redis url", "REDIS_URL=redis://:Xk82-mQz91@cache:6379/0\n", []match{{RuleURLPassword, "Xk82-mQz91"}}},
		{"url fixture password", `u := "http://user:password@example.com/"`, nil},
		{"url short password", `u := "https://gopher:go@golang.org/"`, nil},
		{"url env password", `url: "amqp://guest:${RABBIT_PASSWORD}@mq:5672/"`, nil},
		{"url without password", `git clone https://git@github.com/x/y.git`, nil},
		{"url port not password", `http://localhost:8080@`, nil},
		{"cvs pserver", `cvs -d :pserver:anoncvs@sourceware.org:/cvs/src login`, nil},
		{"cvs url", `cvs://:pserver:anoncvs1@sourceware.org/cvs`, nil},

		// Assignments and bearer tokens.
		{"go const apiKey", `const apiKey = "` + secret + `"`, []match{{RuleAssignedSecret, secret}}},
		{"go short assign", `clientSecret := "` + secret2 + `"`, []match{{RuleAssignedSecret, secret2}}},
		{"json password", `{"user": "bob", "password": "` + secret2 + `"}`, []match{{RuleAssignedSecret, secret2}}},
		{"env secret key", "SECRET_KEY=" + secret2 + "\n", []match{{RuleAssignedSecret, secret2}}},
		{"yaml db password", "db:\n  db_password: " + secret2 + "\n", []match{{RuleAssignedSecret, secret2}}},
		{"python auth token", `AUTH_TOKEN = '` + secret + `'`, []match{{RuleAssignedSecret, secret}}},
		{"bearer header", `req.Header.Set("Authorization", "Bearer ` + secret2 + `")`, []match{{RuleBearerToken, secret2}}},
		{"token type", `tokenType = "` + secret + `"`, nil},
		{"token url", `TOKEN_URL = "` + secret + `"`, nil},
		{"bare key", `key := "` + secret + `"`, nil},
		{"getenv", `token := os.Getenv("GITHUB_TOKEN_FOR_RELEASES")`, nil},
		{"placeholder changeme", `password = "changeme-changeme-2024-x"`, nil},
		{"placeholder your key", `apiKey: "<your-api-key-goes-here-123>"`, nil},
		{"placeholder xxx", `api_key = "xxxxxxxxxxxxxxxxxxxxxxxx1"`, nil},
		{"hex digest", `secret: "` + hexDigest + `",`, nil},
		{"uuid", `token = "123e4567-e89b-12d3-a456-426614174000"`, nil},
		{"identifier value", "\tPrivateKey:  testRSA2048PrivateKey,\n", nil},
		{"constant from constant", "\tNL80211_ATTR_SAE_PASSWORD = C.NL80211_ATTR_SAE_PASSWORD\n", nil},
		{"identifier secret", "\tsecret := loadSigningSecretFromVault2(ctx)\n", nil},
		{"comparison", `if token == "` + secret + `" {`, nil},
		{"short password", `password = "hunter2"`, nil},
		{"words", `password: "correct-horse-battery-staple-2"`, nil},
		{"lower-case identifier", `password = "defaultadminpassword2024"`, nil},
		{"upper-case constant", `AUTH = "DEFAULT_ADMIN_ACCOUNT_2024"`, nil},
		{"path", `secretFile = "/etc/service/config/secret2.txt"`, nil},
		{"base64 test vector", `{input: "` + secret + `", output: "x"}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanMatches(tt.text)
			// An empty wanted value means "one finding of this rule", for
			// cases where the exact range is checked elsewhere.
			if len(got) == len(tt.want) {
				for i := range got {
					if tt.want[i].Value == "" {
						got[i].Value = ""
					}
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Scan(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

// TestScanRandomAssigned checks that the assignment rule finds nearly all
// generated values, and no words, across many random draws.
func TestScanRandomAssigned(t *testing.T) {
	tests := []struct {
		alphabet string
		n        int
	}{
		{base64Chars, 20},
		{base64Chars, 40},
		{alnumChars, 24},
		{base64URLChars, 32},
		{"abcdefghijklmnopqrstuvwxyz0123456789", 24},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d-of-%d", tt.n, len(tt.alphabet)), func(t *testing.T) {
			const draws = 500
			found := 0
			for seed := range uint64(draws) {
				v := randString(seed+1000, tt.n, tt.alphabet)
				if len(Scan(`apiKey = "`+v+`"`)) == 1 {
					found++
				}
			}
			if found < draws*9/10 {
				t.Errorf("Scan found %d of %d random %d-character values, want at least 90%%", found, draws, tt.n)
			}
		})
	}
}

func TestMask(t *testing.T) {
	rsa := pemBlock("RSA PRIVATE KEY", 50, 1600)
	ghp := "ghp_" + randString(51, 36, alnumChars)
	secret := randString(52, 32, base64Chars)
	tests := []struct {
		name     string
		text     string
		wantN    int
		want     string // substring the masked text must contain
		notWant  string // substring the masked text must not contain
		wantSame bool   // masked text must be text itself
	}{
		{"pem keeps lines", "before\n" + rsa + "after\n", 1,
			"-----BEGIN RSA PRIVATE KEY-----\n[REDACTED:private-key]\n", rsa[40:80], false},
		{"token", "export GH=" + ghp + "\n", 1, "export GH=[REDACTED:github-token]\n", ghp, false},
		{"assignment keeps name", `password: "` + secret + `"`, 1, `password: "[REDACTED:assigned-secret]"`, secret, false},
		{"two findings", ghp + " and " + ghp, 2, "[REDACTED:github-token] and [REDACTED:github-token]", ghp, false},
		{"nothing", "package main\n\nfunc main() {}\n", 0, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, n := Mask(tt.text)
			if n != tt.wantN {
				t.Errorf("Mask(%q) n = %d, want %d", tt.text, n, tt.wantN)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("Mask(%q) = %q, want it to contain %q", tt.text, got, tt.want)
			}
			if tt.notWant != "" && strings.Contains(got, tt.notWant) {
				t.Errorf("Mask(%q) = %q, still contains %q", tt.text, got, tt.notWant)
			}
			if tt.wantSame && got != tt.text {
				t.Errorf("Mask(%q) = %q, want the text unchanged", tt.text, got)
			}
			if a, b := strings.Count(got, "\n"), strings.Count(tt.text, "\n"); a != b {
				t.Errorf("Mask(%q) has %d newlines, want %d", tt.text, a, b)
			}
			if again, n2 := Mask(got); n2 != 0 || again != got {
				t.Errorf("Mask(Mask(%q)) found %d more secrets in %q", tt.text, n2, got)
			}
		})
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"apiKey", []string{"api", "key"}},
		{"APIKey", []string{"api", "key"}},
		{"AWS_SECRET_ACCESS_KEY", []string{"aws", "secret", "access", "key"}},
		{"client-secret", []string{"client", "secret"}},
		{"config.db.password", []string{"config", "db", "password"}},
		{"tokenType", []string{"token", "type"}},
		{"x", []string{"x"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := splitWords(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("splitWords(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
