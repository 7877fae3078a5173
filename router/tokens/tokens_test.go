package tokens

import (
	"strings"
	"sync"
	"testing"
)

func TestEncodingFor(t *testing.T) {
	tests := []struct {
		model, want string
	}{
		{"gpt-4o", O200K},
		{"gpt-4o-mini", O200K},
		{"gpt-4o-2024-08-06", O200K},
		{"gpt-4.1-nano", O200K},
		{"gpt-5", O200K},
		{"gpt-5-mini", O200K},
		{"o1", O200K},
		{"o3-mini", O200K},
		{"o4-mini", O200K},
		{"gpt-4", CL100K},
		{"gpt-4-turbo", CL100K},
		{"gpt-3.5-turbo", CL100K},
		{"claude-sonnet-4-5", Estimate},
		{"llama3", Estimate},
		{"ollama-model", Estimate},
		{"o", Estimate},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			if got := EncodingFor(tt.model); got != tt.want {
				t.Errorf("EncodingFor(%q) = %q, want %q", tt.model, got, tt.want)
			}
		})
	}
}

func TestCount(t *testing.T) {
	c := New()
	tests := []struct {
		model, text string
		want        int
	}{
		{"gpt-4", "hello world", 2},
		{"gpt-4", "tiktoken is great!", 6},
		{"gpt-4o", "hello world", 2},
		{"gpt-4o", "tiktoken is great!", 6},
		{"gpt-4o", "", 0},
		{"gpt-4o", "<|endoftext|>", 7}, // special tokens are counted as text
		{"claude-sonnet-4", strings.Repeat("a", 32), 10},
		{"claude-sonnet-4", strings.Repeat("a", 33), 11},
	}
	for _, tt := range tests {
		t.Run(tt.model+"/"+tt.text, func(t *testing.T) {
			if got := c.Count(tt.model, tt.text); got != tt.want {
				t.Errorf("Count(%q, %q) = %d, want %d", tt.model, tt.text, got, tt.want)
			}
			// Cached answers agree.
			if got := c.Count(tt.model, tt.text); got != tt.want {
				t.Errorf("second Count(%q, %q) = %d, want %d", tt.model, tt.text, got, tt.want)
			}
		})
	}
}

func TestCountEncodingsDiffer(t *testing.T) {
	// o200k merges more of this text than cl100k, which proves the two
	// encoders are distinct tables.
	c := New()
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. Привет, мир! こんにちは世界 ", 20)
	o, cl := c.Count("gpt-4o", text), c.Count("gpt-4", text)
	if o >= cl {
		t.Errorf("Count(gpt-4o) = %d, Count(gpt-4) = %d; want o200k < cl100k on multilingual text", o, cl)
	}
}

func TestCalibration(t *testing.T) {
	tests := []struct {
		name    string
		model   string
		observe [][2]int // counted, actual
		n       int
		want    int
	}{
		{name: "exact family unchanged", model: "gpt-4o", observe: [][2]int{{100, 200}}, n: 1000, want: 1000},
		{name: "estimate with margin only", model: "claude-sonnet-4", n: 1000, want: 1100},
		{name: "first observation sets the ratio", model: "claude-sonnet-4", observe: [][2]int{{1000, 1200}}, n: 1000, want: 1320},
		{name: "ewma moves toward new ratio", model: "claude-sonnet-4", observe: [][2]int{{1000, 1000}, {1000, 2000}}, n: 1000, want: 1320},
		{name: "ratio clamped", model: "claude-sonnet-4", observe: [][2]int{{10, 1000}}, n: 100, want: 330},
		{name: "families apart", model: "llama3", observe: nil, n: 100, want: 110},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New()
			for _, o := range tt.observe {
				c.Observe(tt.model, o[0], o[1])
			}
			if FamilyOf(tt.model) != FamilyClaude {
				c.Observe("claude-opus-4", 10, 30) // another family must not move this one
			}
			if got := c.Adjust(tt.model, tt.n); got != tt.want {
				t.Errorf("Adjust(%q, %d) = %d, want %d (ratio %v)", tt.model, tt.n, got, tt.want, c.Ratio(tt.model))
			}
		})
	}
}

func TestCountConcurrent(t *testing.T) {
	c := New()
	var wg sync.WaitGroup
	texts := []string{"func main() { fmt.Println(\"hi\") }", "hello world", "tiktoken is great!"}
	want := make([]int, len(texts))
	for i, s := range texts {
		want[i] = New().Count("gpt-4o", s)
	}
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				k := (g + i) % len(texts)
				if got := c.Count("gpt-4o", texts[k]); got != want[k] {
					t.Errorf("Count(gpt-4o, %q) = %d, want %d", texts[k], got, want[k])
					return
				}
				c.Observe("claude-x", 100, 120)
			}
		}()
	}
	wg.Wait()
}

func BenchmarkCount(b *testing.B) {
	c := New()
	text := strings.Repeat("func (r *Router) Do(ctx context.Context, req *Request) error { return nil }\n", 50)
	c.Count("gpt-4o", "warm up")
	b.SetBytes(int64(len(text)))
	i := 0
	for b.Loop() {
		i++
		c.Count("gpt-4o", text+string(rune('a'+i%26))+strings.Repeat(" ", i%1000)) // defeat the cache
	}
}
