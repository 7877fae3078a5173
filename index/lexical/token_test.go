package lexical

import (
	"reflect"
	"testing"
)

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"parseConfig", []string{"pars", "config", "parseconfig"}},
		{"HTTPServer", []string{"http", "server", "httpserver"}},
		{"snake_case_name", []string{"snak", "nam", "snakecasename"}},
		{"kebab-style", []string{"kebab", "styl"}},
		{"utf8Decode int64", []string{"utf", "decod", "utf8decode", "int", "64", "int64"}},
		{"XMLHttpRequest2", []string{"xml", "http", "request", "xmlhttprequest2"}},
		{"the file is parsed", []string{"fil", "pars"}},
		{"func (s *Server) Serve() error { return nil }", []string{"server", "serv", "error"}},
		{"Écrire données", []string{"écrir", "donné"}},
		{"a b c", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := Tokens(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Tokens(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"parses", "pars"}, {"parsed", "pars"}, {"parsing", "pars"}, {"parse", "pars"},
		{"classes", "class"}, {"entries", "entry"}, {"matches", "match"}, {"running", "run"},
		{"stopped", "stop"}, {"called", "call"}, {"status", "status"}, {"analysis", "analysis"},
		{"files", "fil"}, {"bytes", "byt"}, {"need", "need"}, {"ring", "ring"}, {"bus", "bus"},
	}
	for _, tt := range tests {
		if got := string(stem([]byte(tt.in))); got != tt.want {
			t.Errorf("stem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTokenizerVariants(t *testing.T) {
	in := "parsedConfigs"
	tests := []struct {
		tz   tokenizer
		want []string
	}{
		{tokenizer{}, []string{"pars", "config", "parsedconfigs"}},
		{tokenizer{noStem: true}, []string{"parsed", "configs", "parsedconfigs"}},
		{tokenizer{noWhole: true}, []string{"pars", "config"}},
	}
	for _, tt := range tests {
		var got []string
		tt.tz.each(in, func(b []byte) { got = append(got, string(b)) })
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v.each(%q) = %q, want %q", tt.tz, in, got, tt.want)
		}
	}
}

// each calls emit for every term of text. The slice passed to emit is only
// valid during the call.
func (tz tokenizer) each(text string, emit func([]byte)) {
	var tl termList
	tz.appendTerms(&tl, text)
	for i := range tl.len() {
		emit(tl.term(i))
	}
}
