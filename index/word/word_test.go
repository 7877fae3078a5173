package word

import (
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
