package word

import (
	"slices"
	"strings"
	"testing"
)

func TestIsStop(t *testing.T) {
	tests := []struct {
		w    string
		want bool
	}{
		{"func", true}, {"the", true}, {"implements", true}, {"interface", true},
		{"a", true}, {"down", true}, {"function", true},
		{"parse", false}, {"funcs", false}, {"fun", false}, {"", false},
		{"implementsx", false}, {"Func", false}, // callers lowercase first
		{strings.Repeat("x", 40), false},
	}
	for _, tt := range tests {
		if got := IsStop([]byte(tt.w)); got != tt.want {
			t.Errorf("IsStop(%q) = %v, want %v", tt.w, got, tt.want)
		}
	}
}

func TestKeyOf(t *testing.T) {
	words := []string{"a", "ab", "abcdefg", "abcdefgh", "abcdefghi", "abcdefghijklmnop", "b", "ba", "abcdefgi"}
	seen := map[Key]string{}
	for _, w := range words {
		k := KeyOf(w)
		if k == (Key{}) {
			t.Errorf("KeyOf(%q) is the zero Key", w)
		}
		if o, dup := seen[k]; dup {
			t.Errorf("KeyOf(%q) = KeyOf(%q) = %v", w, o, k)
		}
		seen[k] = w
		if kb := KeyOf([]byte(w)); kb != k {
			t.Errorf("KeyOf([]byte(%q)) = %v, KeyOf(string) = %v", w, kb, k)
		}
	}
}

func TestNextRun(t *testing.T) {
	ident := NewClasses(true, true)
	letters := NewClasses(false, false)
	tests := []struct {
		name string
		c    *Classes
		text string
		want []string // runs, "*" marking one with a non-ASCII byte
	}{
		{"identifier", &ident, "  parse_Config2(x) ", []string{"parse_Config2", "x"}},
		{"letters", &letters, "  parse_Config2(x) ", []string{"parse", "Config", "x"}},
		{"non-ASCII", &letters, "données·x", []string{"*données·x"}},
		{"empty", &letters, "", nil},
		{"separators only", &letters, " 1_2 ", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for i := 0; i < len(tt.text); {
				start, end, ascii := tt.c.NextRun(tt.text, i)
				if start == end {
					break
				}
				run := tt.text[start:end]
				if !ascii {
					run = "*" + run
				}
				got = append(got, run)
				i = end
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("runs of %q = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestRuneClass(t *testing.T) {
	tests := []struct {
		text string
		want Class
		size int
	}{
		{"É", Upper, 2}, {"é", Lower, 2}, {"日", Lower, 3}, {"·", None, 2}, {"\xff", None, 1}, {"٣", None, 2},
	}
	for _, tt := range tests {
		if c, size := RuneClass(tt.text, 0); c != tt.want || size != tt.size {
			t.Errorf("RuneClass(%q) = %d, %d; want %d, %d", tt.text, c, size, tt.want, tt.size)
		}
	}
}

func TestSplit(t *testing.T) {
	ident := NewClasses(true, true)
	letters := NewClasses(false, false)
	tests := []struct {
		name         string
		c            *Classes
		text         string
		pieces, word []string
	}{
		{"case changes", &ident, "parseConfig HTTPServer", []string{"parse", "Config", "HTTP", "Server"}, []string{"parseConfig", "HTTPServer"}},
		{"underscore and digits", &ident, "utf8_decode2x", []string{"utf", "8", "decode", "2", "x"}, []string{"utf8_decode2x"}},
		{"letters only", &letters, "utf8_decode2x", []string{"utf", "decode", "x"}, []string{"utf", "decode", "x"}},
		{"non-ASCII", &ident, "ÉcrireDonnées·x", []string{"Écrire", "Données", "x"}, []string{"ÉcrireDonnées", "x"}},
		{"separators only", &ident, " ,; ", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var pieces, words []string
			tt.c.Split(tt.text, func(p string) { pieces = append(pieces, p) }, func(w string) { words = append(words, w) })
			if !slices.Equal(pieces, tt.pieces) || !slices.Equal(words, tt.word) {
				t.Errorf("Split(%q) = pieces %q, words %q; want %q, %q", tt.text, pieces, words, tt.pieces, tt.word)
			}
		})
	}
}
