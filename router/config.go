package router

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"strings"

	"github.com/codemux/codemux/router/provider"
)

// Config is everything the router needs to know about accounts, models and
// request kinds. The config file package builds it; API keys are resolved
// into it in memory only.
type Config struct {
	Accounts []AccountConfig
	// Models is the catalog: context window, output limit, tier and cost per
	// model name. Nil means DefaultCatalog(); a config file merges its
	// overrides into DefaultCatalog() before handing it here.
	Models map[string]ModelInfo
	// Kinds maps a request kind to its tier policy. Nil means DefaultKinds().
	Kinds map[string]KindPolicy
}

// AccountConfig is one account of one provider.
type AccountConfig struct {
	Name       string
	Provider   string // provider.OpenAI, provider.Azure, provider.Anthropic, provider.OpenAICompatible
	BaseURL    string
	APIVersion string // Azure only
	APIKey     Secret
	// Priority orders accounts before cost: lower is preferred; 0 is the
	// default.
	Priority int
	Models   []ModelLimit
}

// ModelLimit is one model an account may use and its per-minute limits.
type ModelLimit struct {
	Model string // name sent to the provider (Azure: deployment name)
	// Catalog is the catalog entry describing Model; "" means Model itself
	// (Azure deployments are often named differently from their model).
	Catalog string
	RPM     int // requests per minute; 0 = not limited
	TPM     int // tokens per minute; 0 = not limited
}

// CatalogName returns the catalog entry that describes m.
func (m ModelLimit) CatalogName() string {
	if m.Catalog != "" {
		return m.Catalog
	}
	return m.Model
}

// ModelInfo describes a model in the catalog.
type ModelInfo struct {
	Name              string  `json:"name"`
	ContextWindow     int     `json:"contextWindow"`
	MaxOutputTokens   int     `json:"maxOutputTokens"`
	Tier              int     `json:"tier"` // 1 small/cheap … 3 strongest reasoning
	InputCostPerMTok  float64 `json:"inputCostPerMtok"`
	OutputCostPerMTok float64 `json:"outputCostPerMtok"`
}

// KindPolicy says which models may answer a kind of request.
type KindPolicy struct {
	MinTier int
	// DegradeTo is the lowest tier the kind may fall back to when no model
	// of MinTier or above can answer in time; 0 means never degrade.
	DegradeTo int
}

// DefaultKind is the kind of a request that names none.
const DefaultKind = "chat"

// DefaultKinds returns the built-in request kinds. Each call returns a new
// map.
func DefaultKinds() map[string]KindPolicy {
	return map[string]KindPolicy{
		"chat":     {MinTier: 1},
		"explain":  {MinTier: 1},
		"generate": {MinTier: 2, DegradeTo: 1},
		"tests":    {MinTier: 2, DegradeTo: 1},
		"reason":   {MinTier: 3, DegradeTo: 2},
	}
}

// DefaultCatalog returns the built-in catalog of well-known models. Each call
// returns a new map. Prices are list prices in USD per million tokens.
func DefaultCatalog() map[string]ModelInfo {
	m := map[string]ModelInfo{
		// OpenAI
		"gpt-4o-mini":  {ContextWindow: 128000, MaxOutputTokens: 16384, Tier: 1, InputCostPerMTok: 0.15, OutputCostPerMTok: 0.60},
		"gpt-4o":       {ContextWindow: 128000, MaxOutputTokens: 16384, Tier: 2, InputCostPerMTok: 2.50, OutputCostPerMTok: 10},
		"gpt-4.1-nano": {ContextWindow: 1047576, MaxOutputTokens: 32768, Tier: 1, InputCostPerMTok: 0.10, OutputCostPerMTok: 0.40},
		"gpt-4.1-mini": {ContextWindow: 1047576, MaxOutputTokens: 32768, Tier: 1, InputCostPerMTok: 0.40, OutputCostPerMTok: 1.60},
		"gpt-4.1":      {ContextWindow: 1047576, MaxOutputTokens: 32768, Tier: 2, InputCostPerMTok: 2, OutputCostPerMTok: 8},
		"gpt-5-nano":   {ContextWindow: 400000, MaxOutputTokens: 128000, Tier: 1, InputCostPerMTok: 0.05, OutputCostPerMTok: 0.40},
		"gpt-5-mini":   {ContextWindow: 400000, MaxOutputTokens: 128000, Tier: 2, InputCostPerMTok: 0.25, OutputCostPerMTok: 2},
		"gpt-5":        {ContextWindow: 400000, MaxOutputTokens: 128000, Tier: 3, InputCostPerMTok: 1.25, OutputCostPerMTok: 10},
		"o3-mini":      {ContextWindow: 200000, MaxOutputTokens: 100000, Tier: 3, InputCostPerMTok: 1.10, OutputCostPerMTok: 4.40},
		"o4-mini":      {ContextWindow: 200000, MaxOutputTokens: 100000, Tier: 3, InputCostPerMTok: 1.10, OutputCostPerMTok: 4.40},
		"o3":           {ContextWindow: 200000, MaxOutputTokens: 100000, Tier: 3, InputCostPerMTok: 2, OutputCostPerMTok: 8},
		"gpt-4-turbo":  {ContextWindow: 128000, MaxOutputTokens: 4096, Tier: 2, InputCostPerMTok: 10, OutputCostPerMTok: 30},
		"gpt-3.5-turbo": {ContextWindow: 16385, MaxOutputTokens: 4096, Tier: 1, InputCostPerMTok: 0.50,
			OutputCostPerMTok: 1.50},
		// Anthropic
		"claude-3-5-haiku-latest": {ContextWindow: 200000, MaxOutputTokens: 8192, Tier: 1, InputCostPerMTok: 0.80, OutputCostPerMTok: 4},
		"claude-haiku-4-5":        {ContextWindow: 200000, MaxOutputTokens: 64000, Tier: 1, InputCostPerMTok: 1, OutputCostPerMTok: 5},
		"claude-3-7-sonnet-latest": {ContextWindow: 200000, MaxOutputTokens: 64000, Tier: 2, InputCostPerMTok: 3,
			OutputCostPerMTok: 15},
		"claude-sonnet-4-0": {ContextWindow: 200000, MaxOutputTokens: 64000, Tier: 3, InputCostPerMTok: 3, OutputCostPerMTok: 15},
		"claude-sonnet-4-5": {ContextWindow: 200000, MaxOutputTokens: 64000, Tier: 3, InputCostPerMTok: 3, OutputCostPerMTok: 15},
		"claude-opus-4-1":   {ContextWindow: 200000, MaxOutputTokens: 32000, Tier: 3, InputCostPerMTok: 15, OutputCostPerMTok: 75},
		"claude-opus-4-0":   {ContextWindow: 200000, MaxOutputTokens: 32000, Tier: 3, InputCostPerMTok: 15, OutputCostPerMTok: 75},
		"claude-sonnet-4-20250514": {ContextWindow: 200000, MaxOutputTokens: 64000, Tier: 3, InputCostPerMTok: 3,
			OutputCostPerMTok: 15},
	}
	for name, info := range m {
		info.Name = name
		m[name] = info
	}
	return m
}

// withDefaults returns a copy of c with nil maps replaced by the defaults.
func (c Config) withDefaults() Config {
	if c.Models == nil {
		c.Models = DefaultCatalog()
	} else {
		c.Models = maps.Clone(c.Models)
	}
	if c.Kinds == nil {
		c.Kinds = DefaultKinds()
	}
	return c
}

// Validate reports the first problem that would stop the router from using
// c: duplicate or unnamed accounts, unknown providers, negative limits,
// models missing from the catalog.
func (c Config) Validate() error {
	c = c.withDefaults()
	seen := make(map[string]bool)
	for i, a := range c.Accounts {
		if a.Name == "" {
			return fmt.Errorf("account %d: name is empty", i+1)
		}
		if seen[a.Name] {
			return fmt.Errorf("account %q: defined twice", a.Name)
		}
		seen[a.Name] = true
		switch a.Provider {
		case provider.OpenAI, provider.Azure, provider.Anthropic, provider.OpenAICompatible:
		default:
			return fmt.Errorf("account %q: unknown provider %q (want %s, %s, %s or %s)",
				a.Name, a.Provider, provider.OpenAI, provider.Azure, provider.Anthropic, provider.OpenAICompatible)
		}
		if len(a.Models) == 0 {
			return fmt.Errorf("account %q: no models", a.Name)
		}
		models := make(map[string]bool)
		for _, m := range a.Models {
			if m.Model == "" {
				return fmt.Errorf("account %q: a model has no name", a.Name)
			}
			if models[m.Model] {
				return fmt.Errorf("account %q: model %q listed twice", a.Name, m.Model)
			}
			models[m.Model] = true
			if m.RPM < 0 || m.TPM < 0 {
				return fmt.Errorf("account %q: model %q: negative limit (rpm %d, tpm %d)", a.Name, m.Model, m.RPM, m.TPM)
			}
			info, ok := c.Models[m.CatalogName()]
			if !ok {
				return fmt.Errorf("account %q: model %q is not in the catalog; describe it under models: or name its catalog entry", a.Name, m.CatalogName())
			}
			if info.ContextWindow <= 0 || info.Tier <= 0 {
				return fmt.Errorf("model %q: context window and tier must be positive", m.CatalogName())
			}
		}
	}
	for kind, p := range c.Kinds {
		if p.MinTier < 0 || p.DegradeTo < 0 || p.DegradeTo > p.MinTier {
			return fmt.Errorf("kind %q: degrade tier %d must be between 0 and min tier %d", kind, p.DegradeTo, p.MinTier)
		}
	}
	return nil
}

// Secret is an API key. It prints, marshals and logs as "[redacted]"; only
// Reveal returns the key.
type Secret struct{ key string }

// NewSecret wraps key.
func NewSecret(key string) Secret { return Secret{key: key} }

const redacted = "[redacted]"

// Reveal returns the key, for the provider client only.
func (s Secret) Reveal() string { return s.key }

// IsZero reports whether no key is set.
func (s Secret) IsZero() bool { return s.key == "" }

func (s Secret) String() string {
	if s.key == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the key.
func (s Secret) GoString() string { return fmt.Sprintf("router.Secret(%q)", s.String()) }

// Format keeps every fmt verb from printing the key.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, s.GoString())
		return
	}
	fmt.Fprint(f, s.String())
}

// MarshalJSON writes "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// LogValue writes "[redacted]" to slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// sameEndpoint reports whether a and b talk to the same account in the same
// way, so a client and its limiter state can be kept across a reload.
func sameEndpoint(a, b AccountConfig) bool {
	return a.Provider == b.Provider && strings.TrimRight(a.BaseURL, "/") == strings.TrimRight(b.BaseURL, "/") &&
		a.APIVersion == b.APIVersion && a.APIKey.key == b.APIKey.key
}
