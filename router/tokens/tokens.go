// Package tokens counts prompt tokens offline: exactly with OpenAI's BPE
// encodings for OpenAI-family models, and by a calibrated estimate for
// models (Claude and unknown ones) whose tokenizer is not available offline.
//
// Estimates learn from the usage providers report: Observe keeps an EWMA of
// actual/estimated tokens per model family, and Adjust applies it with a
// safety margin so reservations err on the high side.
package tokens

import (
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"sync"

	"github.com/pkoukk/tiktoken-go"
	tiktokenloader "github.com/pkoukk/tiktoken-go-loader"
)

// Encoding names. Estimate means no offline tokenizer is known.
const (
	O200K    = "o200k_base"
	CL100K   = "cl100k_base"
	Estimate = "estimate"
)

// Families of estimated models, calibrated separately.
const (
	FamilyClaude = "claude"
	FamilyOther  = "other"
)

const (
	bytesPerToken = 3.2  // uncalibrated estimate: code and prose average
	margin        = 0.10 // safety margin on calibrated estimates
	alpha         = 0.2  // EWMA weight of a new observation
	minRatio      = 0.5
	maxRatio      = 3.0
	cacheCap      = 8192 // cached counts before the cache is cleared
)

// EncodingFor returns the BPE encoding used by model, or Estimate.
func EncodingFor(model string) string {
	m := strings.ToLower(model)
	switch {
	case strings.HasPrefix(m, "gpt-4o"), strings.HasPrefix(m, "chatgpt-4o"),
		strings.HasPrefix(m, "gpt-4.1"), strings.HasPrefix(m, "gpt-4.5"),
		strings.HasPrefix(m, "gpt-5"), strings.HasPrefix(m, "gpt-oss"),
		isOSeries(m):
		return O200K
	case strings.HasPrefix(m, "gpt-4"), strings.HasPrefix(m, "gpt-3.5"), strings.HasPrefix(m, "gpt-35"),
		strings.HasPrefix(m, "text-embedding-"):
		return CL100K
	}
	return Estimate
}

// isOSeries reports whether m names an OpenAI reasoning model (o1, o3, o4…).
func isOSeries(m string) bool {
	return len(m) >= 2 && m[0] == 'o' && m[1] >= '1' && m[1] <= '9' &&
		(len(m) == 2 || m[2] == '-')
}

// FamilyOf returns the calibration family of an estimated model.
func FamilyOf(model string) string {
	if strings.Contains(strings.ToLower(model), "claude") {
		return FamilyClaude
	}
	return FamilyOther
}

// Counter counts tokens. The zero value is not usable; call New. A Counter is
// safe for concurrent use; BPE tables load lazily on first use.
type Counter struct {
	o200k, cl100k encoder

	seed  maphash.Seed
	mu    sync.Mutex
	cache map[cacheKey]int
	ratio map[string]float64 // family → EWMA of actual/estimated
}

type encoder struct {
	name string
	once sync.Once
	tk   *tiktoken.Tiktoken
	err  error
}

type cacheKey struct {
	enc  string
	hash uint64
	n    int
}

// New returns a Counter.
func New() *Counter {
	return &Counter{
		o200k:  encoder{name: O200K},
		cl100k: encoder{name: CL100K},
		seed:   maphash.MakeSeed(),
		cache:  make(map[cacheKey]int),
		ratio:  make(map[string]float64),
	}
}

// Count returns the tokens of text for model: exact for BPE families, an
// uncalibrated estimate otherwise (pass it through Adjust before reserving).
// Counts are cached by text hash, since context pieces recur.
func (c *Counter) Count(model, text string) int {
	return c.CountEncoding(EncodingFor(model), text)
}

// CountEncoding is Count for an encoding name (O200K, CL100K or Estimate)
// rather than a model.
func (c *Counter) CountEncoding(enc, text string) int {
	if text == "" {
		return 0
	}
	if enc != O200K && enc != CL100K {
		return estimate(text)
	}
	key := cacheKey{enc: enc, hash: maphash.String(c.seed, text), n: len(text)}
	c.mu.Lock()
	n, ok := c.cache[key]
	c.mu.Unlock()
	if ok {
		return n
	}
	tk, err := c.encoder(enc)
	if err != nil {
		// The tables are embedded; failing to load them is a build defect.
		// Fall back to a conservative estimate rather than failing requests.
		return int(math.Ceil(float64(estimate(text)) * (1 + margin)))
	}
	n = len(tk.EncodeOrdinary(text))
	c.mu.Lock()
	if len(c.cache) >= cacheCap {
		clear(c.cache)
	}
	c.cache[key] = n
	c.mu.Unlock()
	return n
}

func estimate(text string) int {
	return int(math.Ceil(float64(len(text)) / bytesPerToken))
}

// Exact reports whether counts for model are exact BPE counts.
func Exact(model string) bool { return EncodingFor(model) != Estimate }

// Adjust turns a Count total for model into the number to reserve: exact
// counts are returned unchanged; estimates are scaled by the learned ratio
// and the safety margin.
func (c *Counter) Adjust(model string, n int) int {
	if Exact(model) || n == 0 {
		return n
	}
	return int(math.Ceil(float64(n)*c.Ratio(model)*(1+margin) - 1e-9))
}

// Ratio returns the learned actual/estimated ratio for model's family (1
// before any observation; always 1 for exact families).
func (c *Counter) Ratio(model string) float64 {
	if Exact(model) {
		return 1
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.ratio[FamilyOf(model)]; ok {
		return r
	}
	return 1
}

// Observe learns from a response: counted is the raw Count total of the
// prompt that was sent, actual the prompt tokens the provider reported.
func (c *Counter) Observe(model string, counted, actual int) {
	if Exact(model) || counted <= 0 || actual <= 0 {
		return
	}
	obs := min(max(float64(actual)/float64(counted), minRatio), maxRatio)
	fam := FamilyOf(model)
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.ratio[fam]
	if !ok {
		c.ratio[fam] = obs
		return
	}
	c.ratio[fam] = r + alpha*(obs-r)
}

func (c *Counter) encoder(name string) (*tiktoken.Tiktoken, error) {
	e := &c.o200k
	if name == CL100K {
		e = &c.cl100k
	}
	e.once.Do(func() { e.tk, e.err = load(name) })
	return e.tk, e.err
}

// load builds an encoding from the BPE tables embedded by tiktoken-go-loader,
// without touching tiktoken-go's global loader.
func load(name string) (*tiktoken.Tiktoken, error) {
	ranks, err := tiktokenloader.NewOfflineLoader().LoadTiktokenBpe(name + ".tiktoken")
	if err != nil {
		return nil, fmt.Errorf("loading %s tables: %w", name, err)
	}
	var special map[string]int
	var pat string
	switch name {
	case O200K:
		special = map[string]int{tiktoken.ENDOFTEXT: 199999, tiktoken.ENDOFPROMPT: 200018}
		pat = strings.Join([]string{
			`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
			`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?`,
			`\p{N}{1,3}`,
			` ?[^\s\p{L}\p{N}]+[\r\n/]*`,
			`\s*[\r\n]+`,
			`\s+(?!\S)`,
			`\s+`,
		}, "|")
	case CL100K:
		special = map[string]int{
			tiktoken.ENDOFTEXT: 100257, tiktoken.FIM_PREFIX: 100258, tiktoken.FIM_MIDDLE: 100259,
			tiktoken.FIM_SUFFIX: 100260, tiktoken.ENDOFPROMPT: 100276,
		}
		pat = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	default:
		return nil, fmt.Errorf("unknown encoding %q", name)
	}
	bpe, err := tiktoken.NewCoreBPE(ranks, special, pat)
	if err != nil {
		return nil, fmt.Errorf("building %s encoder: %w", name, err)
	}
	set := make(map[string]any, len(special))
	for k := range special {
		set[k] = true
	}
	return tiktoken.NewTiktoken(bpe, &tiktoken.Encoding{Name: name, PatStr: pat, MergeableRanks: ranks, SpecialTokens: special}, set), nil
}
