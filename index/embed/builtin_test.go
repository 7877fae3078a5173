package embed

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/codemux/codemux/index/evalset"
)

func embedOne(t *testing.T, e Embedder, text string) []float32 {
	t.Helper()
	v, err := e.Embed(context.Background(), []string{text})
	if err != nil {
		t.Fatalf("Embed(%q) error: %v", text, err)
	}
	return v[0]
}

func TestPieces(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"parseConfig", []string{"parse", "config"}},
		{"HTTPServer", []string{"http", "server"}},
		{"snake_case_name", []string{"snake", "name"}},
		{"utf8Decode x int64", []string{"utf", "decode", "int"}},
		{"Écrire", []string{"écrire"}},
		{"the a of", nil},
	}
	for _, tt := range tests {
		var got []string
		pieces(tt.in, func(p []byte) { got = append(got, string(p)) })
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("pieces(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestStem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"parse", "pars"}, {"parses", "pars"}, {"parsed", "pars"}, {"parsing", "pars"},
		{"entries", "entry"}, {"classes", "class"}, {"running", "run"}, {"called", "call"}, {"status", "status"},
	}
	for _, tt := range tests {
		if got := stem(tt.in); got != tt.want {
			t.Errorf("stem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBuiltinBasics(t *testing.T) {
	b := NewBuiltin(nil)
	if b.ID() != "builtin/v1/384" || b.Dim() != 384 {
		t.Errorf("NewBuiltin(nil): ID() = %q, Dim() = %d, want builtin/v1/384, 384", b.ID(), b.Dim())
	}
	if got := NewBuiltin(&BuiltinOptions{Dim: 256}).ID(); got != "builtin/v1/256" {
		t.Errorf("NewBuiltin(Dim 256).ID() = %q, want builtin/v1/256", got)
	}
	texts := []string{"func parseConfig(path string) (*Config, error)", "", "the of and", "x"}
	vs, err := b.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		var n float64
		for _, x := range v {
			n += float64(x) * float64(x)
		}
		want := 1.0
		if i > 0 {
			want = 0 // no features
		}
		if len(v) != 384 || math.Abs(n-want) > 1e-4 {
			t.Errorf("Embed(%q): len %d, squared norm %v, want 384, %v", texts[i], len(v), n, want)
		}
	}
	again := embedOne(t, NewBuiltin(nil), texts[0])
	if !reflect.DeepEqual(again, vs[0]) {
		t.Errorf("Embed(%q) differs between embedders: not deterministic", texts[0])
	}
}

func TestBuiltinNamingVariants(t *testing.T) {
	b := NewBuiltin(nil)
	tests := []struct {
		query, near, far string
	}{
		{"parse config", "parseCfg", "renderWidget"},
		{"marshaling", "Marshal", "Unlock"},
		{"private key", "privKey", "publicHost"},
		{"http server", "HTTPServer", "tcpClient"},
		{"connection pool", "connPool", "errorList"},
	}
	for _, tt := range tests {
		q := embedOne(t, b, tt.query)
		near, far := Dot(q, embedOne(t, b, tt.near)), Dot(q, embedOne(t, b, tt.far))
		if near <= far || near < 0.3 {
			t.Errorf("cos(%q, %q) = %.3f, cos(%q, %q) = %.3f, want the first >= 0.3 and larger", tt.query, tt.near, near, tt.query, tt.far, far)
		}
	}
}

func TestBuiltinHeadWeight(t *testing.T) {
	b := NewBuiltin(nil)
	q := embedOne(t, b, "decode")
	head := embedOne(t, b, "func decode()\nreturn render(x)")
	body := embedOne(t, b, "func render()\nreturn decode(x)")
	if Dot(q, head) <= Dot(q, body) {
		t.Errorf("cos(decode, decode in signature) = %.3f <= cos(decode, decode in body) = %.3f", Dot(q, head), Dot(q, body))
	}
}

func TestBuiltinCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := NewBuiltin(nil).Embed(ctx, []string{"a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Embed(cancelled) error = %v, want context.Canceled", err)
	}
}

func TestDot(t *testing.T) {
	a := []float32{1, 2, 3, 4, 5}
	if got := Dot(a, a); got != 55 {
		t.Errorf("Dot(%v, %v) = %v, want 55", a, a, got)
	}
}

// BenchmarkBuiltinEmbed embeds Go functions from GOROOT/src in batches of 64
// and reports throughput in MB/s of chunk text.
func BenchmarkBuiltinEmbed(b *testing.B) {
	ctx := context.Background()
	root, err := evalset.GorootSrc(ctx)
	if err != nil {
		b.Skip(err)
	}
	set, err := evalset.Load(ctx, root+"/net/http", nil)
	if err != nil {
		b.Fatal(err)
	}
	var texts []string
	size := 0
	for _, d := range set.Docs {
		texts = append(texts, d.Text)
		size += len(d.Text)
		if len(texts) == 64 {
			break
		}
	}
	e := NewBuiltin(nil)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBuiltinEmbedPackage embeds every function of GOROOT/src/net/http
// (tests included), in batches of 64, as indexing a package does; the
// package's vocabulary is larger than one batch's.
func BenchmarkBuiltinEmbedPackage(b *testing.B) {
	ctx := context.Background()
	set, err := evalset.GorootPackage(ctx, "net/http")
	if err != nil {
		b.Skipf("GOROOT/src/net/http unavailable: %v", err)
	}
	texts := make([]string, len(set.Docs))
	for i, d := range set.Docs {
		texts[i] = d.Text
	}
	e := NewBuiltin(nil)
	b.SetBytes(int64(set.Bytes()))
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(texts); i += 64 {
			if _, err := e.Embed(ctx, texts[i:min(i+64, len(texts))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(texts)), "ns/text")
}
