// Package config loads codemux's YAML config file.
//
// The file describes LLM accounts and their per-model limits, overrides of
// the built-in model catalog, the tier policy of request kinds, the embedding
// backend, the memory cap and index limits:
//
//	accounts:
//	  - name: openai-a
//	    provider: openai            # openai | azure | anthropic | openai-compatible
//	    base_url: https://…         # optional; required for azure and openai-compatible
//	    api_key_env: OPENAI_KEY_A   # the key is only ever read from the environment
//	    api_version: 2024-10-21     # azure only, required there
//	    priority: 0                 # lower is preferred before cost; default 0
//	    models:
//	      - model: gpt-4o-mini      # name sent to the provider (azure: deployment)
//	        catalog: gpt-4o-mini    # catalog entry describing it; default: model
//	        rpm: 500                # 0 or absent: not limited
//	        tpm: 200000
//	models:                         # merged field by field into the built-in catalog
//	  gpt-4o-mini: {context_window: 128000, max_output_tokens: 16384, tier: 1,
//	                input_cost_per_mtok: 0.15, output_cost_per_mtok: 0.60}
//	routing:
//	  kinds:                        # merged into chat, explain, generate, tests, reason
//	    reason: {min_tier: 3, degrade_to: 2}
//	embeddings:
//	  provider: builtin             # builtin | ollama | openai-compatible
//	  base_url: http://127.0.0.1:11434
//	  model: nomic-embed-text
//	  api_key_env: EMBED_KEY        # optional
//	memory_cap: 256MiB              # bytes or KiB/MiB/GiB/KB/MB/GB
//	index:
//	  max_file_size: 1MiB
//
// Every mistake is reported with the file and line it is on, and unknown
// keys are mistakes:
//
//	config.yaml:7: account "openai-a": environment variable OPENAI_KEY_A is not set
//
// API keys are never in the file: each account names an environment
// variable, which Load resolves into the router config in memory only, as a
// router.Secret that prints and marshals as "[redacted]".
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/codemux/codemux/router"
	"github.com/codemux/codemux/router/provider"
)

// Embedding backends.
const (
	EmbedBuiltin          = "builtin"
	EmbedOllama           = "ollama"
	EmbedOpenAICompatible = "openai-compatible"
)

// Defaults.
const (
	DefaultMemoryCap     = 256 << 20
	DefaultMaxFileSize   = 1 << 20
	DefaultOllamaBaseURL = "http://127.0.0.1:11434"
)

// File is a loaded config file.
type File struct {
	Path     string // "" when no file was read
	Stamp    Stamp  // what the file looked like when read
	Accounts []Account
	// Models is the catalog: DefaultCatalog with the file's overrides.
	Models map[string]router.ModelInfo
	// Kinds is the request kinds: DefaultKinds with the file's overrides.
	Kinds      map[string]router.KindPolicy
	Embeddings Embeddings
	MemoryCap  int64 // bytes
	Index      Index
	// Router is the router config, API keys resolved from the environment.
	Router router.Config
}

// Account is one account as written in the file (the key is in Router).
type Account struct {
	Name       string
	Provider   string
	BaseURL    string
	APIKeyEnv  string
	APIVersion string
	Priority   int
	Models     []router.ModelLimit
	Line       int
}

// Embeddings selects the embedding backend.
type Embeddings struct {
	Provider  string // EmbedBuiltin, EmbedOllama or EmbedOpenAICompatible
	BaseURL   string
	Model     string
	APIKeyEnv string
	APIKey    router.Secret // resolved from APIKeyEnv; zero if none
}

// Index holds indexing limits.
type Index struct {
	MaxFileSize int64 // bytes; larger files are skipped
}

// Default returns the configuration used when there is no config file: no
// accounts, the built-in catalog and kinds, the built-in embedder.
func Default() *File {
	f := &File{
		Models:     router.DefaultCatalog(),
		Kinds:      router.DefaultKinds(),
		Embeddings: Embeddings{Provider: EmbedBuiltin},
		MemoryCap:  DefaultMemoryCap,
		Index:      Index{MaxFileSize: DefaultMaxFileSize},
	}
	f.Router = router.Config{Models: f.Models, Kinds: f.Kinds}
	return f
}

// Load reads the config file at path, resolving API keys with env (which
// reports whether a variable is set). A missing file yields Default().
func Load(path string, env func(string) (string, bool)) (*File, error) {
	stamp := StampOf(path)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		f := Default()
		f.Stamp = stamp
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	f, err := Parse(path, data, env)
	if err != nil {
		return nil, err
	}
	f.Stamp = stamp
	return f, nil
}

// Stamp identifies a version of the config file, so a daemon can reload it
// without a restart when it changes: compare f.Stamp with StampOf(f.Path).
type Stamp struct {
	Exists  bool
	Size    int64
	ModTime time.Time
}

// StampOf returns the current stamp of the file at path.
func StampOf(path string) Stamp {
	fi, err := os.Stat(path)
	if err != nil {
		return Stamp{}
	}
	return Stamp{Exists: true, Size: fi.Size(), ModTime: fi.ModTime()}
}

// Parse parses a config file's contents; path names it in errors.
func Parse(path string, data []byte, env func(string) (string, bool)) (*File, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	f := Default()
	f.Path = path
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return f, nil // empty file
		}
		return nil, syntaxError(path, err)
	}
	p := &parser{path: path, env: env, f: f}
	if len(doc.Content) == 0 {
		return f, nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return f, nil
	}
	if err := p.root(root); err != nil {
		return nil, err
	}
	if err := p.resolve(); err != nil {
		return nil, err
	}
	return f, nil
}

type parser struct {
	path     string
	env      func(string) (string, bool)
	f        *File
	keyLines []int // line of each account's api_key_env
	embedKey int   // line of embeddings.api_key_env
	// modelLines are the account models, checked against the catalog once
	// models: is merged (it may come after accounts:).
	modelLines []modelRef
}

func (p *parser) errf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", p.path, n.Line, fmt.Sprintf(format, args...))
}

// fields decodes a mapping node, calling each known key's handler and
// rejecting unknown or repeated keys.
func (p *parser) fields(n *yaml.Node, what string, known map[string]func(v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "%s must be a mapping", what)
	}
	seen := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		h, ok := known[k.Value]
		if !ok {
			return p.errf(k, "unknown key %q in %s (want %s)", k.Value, what, strings.Join(slices.Sorted(maps.Keys(known)), ", "))
		}
		if seen[k.Value] {
			return p.errf(k, "%s: %q given twice", what, k.Value)
		}
		seen[k.Value] = true
		if err := h(v); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) str(dst *string, what string) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode {
			return p.errf(n, "%s must be a string", what)
		}
		*dst = n.Value
		return nil
	}
}

func (p *parser) nonNeg(dst *int, what string) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		v, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			return p.errf(n, "%s must be a whole number, not %q", what, n.Value)
		}
		if v < 0 {
			return p.errf(n, "%s must not be negative (got %d)", what, v)
		}
		*dst = v
		return nil
	}
}

func (p *parser) integer(dst *int, what string) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		v, err := strconv.Atoi(n.Value)
		if n.Kind != yaml.ScalarNode || err != nil {
			return p.errf(n, "%s must be a whole number, not %q", what, n.Value)
		}
		*dst = v
		return nil
	}
}

func (p *parser) cost(dst *float64, what string) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		v, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || err != nil {
			return p.errf(n, "%s must be a number, not %q", what, n.Value)
		}
		if v < 0 {
			return p.errf(n, "%s must not be negative (got %v)", what, v)
		}
		*dst = v
		return nil
	}
}

func (p *parser) size(dst *int64, what string) func(*yaml.Node) error {
	return func(n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode {
			return p.errf(n, "%s must be a size such as 256MiB", what)
		}
		v, err := ParseSize(n.Value)
		if err != nil {
			return p.errf(n, "%s: %v", what, err)
		}
		*dst = v
		return nil
	}
}

func (p *parser) root(n *yaml.Node) error {
	return p.fields(n, "the config file", map[string]func(*yaml.Node) error{
		"accounts":   p.accountList,
		"models":     p.models,
		"routing":    p.routing,
		"embeddings": p.embeddings,
		"memory_cap": p.size(&p.f.MemoryCap, "memory_cap"),
		"index": func(n *yaml.Node) error {
			return p.fields(n, "index", map[string]func(*yaml.Node) error{
				"max_file_size": p.size(&p.f.Index.MaxFileSize, "index.max_file_size"),
			})
		},
	})
}

func (p *parser) accountList(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return p.errf(n, "accounts must be a list")
	}
	names := make(map[string]int)
	for _, an := range n.Content {
		a := Account{Line: an.Line}
		keyLine := an.Line
		err := p.fields(an, "an account", map[string]func(*yaml.Node) error{
			"name":     p.str(&a.Name, "name"),
			"provider": p.str(&a.Provider, "provider"),
			"base_url": p.str(&a.BaseURL, "base_url"),
			"api_key_env": func(v *yaml.Node) error {
				keyLine = v.Line
				return p.str(&a.APIKeyEnv, "api_key_env")(v)
			},
			"api_version": p.str(&a.APIVersion, "api_version"),
			"priority":    p.integer(&a.Priority, "priority"),
			"models":      func(v *yaml.Node) error { return p.accountModels(v, &a) },
		})
		if err != nil {
			return err
		}
		if err := p.checkAccount(an, &a); err != nil {
			return err
		}
		if prev, dup := names[a.Name]; dup {
			return p.errf(an, "account %q is already defined on line %d", a.Name, prev)
		}
		names[a.Name] = an.Line
		p.f.Accounts = append(p.f.Accounts, a)
		p.keyLines = append(p.keyLines, keyLine)
	}
	return nil
}

func (p *parser) checkAccount(n *yaml.Node, a *Account) error {
	if a.Name == "" {
		return p.errf(n, "account has no name")
	}
	switch a.Provider {
	case provider.OpenAI, provider.Azure, provider.Anthropic, provider.OpenAICompatible:
	case "":
		return p.errf(n, "account %q: provider is missing (want %s, %s, %s or %s)", a.Name, provider.OpenAI, provider.Azure, provider.Anthropic, provider.OpenAICompatible)
	default:
		return p.errf(n, "account %q: unknown provider %q (want %s, %s, %s or %s)", a.Name, a.Provider, provider.OpenAI, provider.Azure, provider.Anthropic, provider.OpenAICompatible)
	}
	if a.BaseURL != "" {
		if err := checkURL(a.BaseURL); err != nil {
			return p.errf(n, "account %q: base_url: %v", a.Name, err)
		}
	}
	switch a.Provider {
	case provider.Azure:
		if a.BaseURL == "" {
			return p.errf(n, "account %q: azure needs base_url (https://RESOURCE.openai.azure.com)", a.Name)
		}
		if a.APIVersion == "" {
			return p.errf(n, "account %q: azure needs api_version (for example %s)", a.Name, provider.DefaultAzureAPIVersion)
		}
	case provider.OpenAICompatible:
		if a.BaseURL == "" {
			return p.errf(n, "account %q: openai-compatible needs base_url", a.Name)
		}
	}
	if a.APIVersion != "" && a.Provider != provider.Azure {
		return p.errf(n, "account %q: api_version applies to azure only", a.Name)
	}
	if a.APIKeyEnv == "" && a.Provider != provider.OpenAICompatible {
		return p.errf(n, "account %q: api_key_env is missing: name the environment variable that holds the key", a.Name)
	}
	if len(a.Models) == 0 {
		return p.errf(n, "account %q: models is empty: list at least one model with its rpm and tpm", a.Name)
	}
	return nil
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %q", s)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q must be an http or https URL", s)
	}
	return nil
}

func (p *parser) accountModels(n *yaml.Node, a *Account) error {
	if n.Kind != yaml.SequenceNode {
		return p.errf(n, "models of an account must be a list")
	}
	seen := make(map[string]bool)
	for _, mn := range n.Content {
		var m router.ModelLimit
		err := p.fields(mn, "an account model", map[string]func(*yaml.Node) error{
			"model":   p.str(&m.Model, "model"),
			"catalog": p.str(&m.Catalog, "catalog"),
			"rpm":     p.nonNeg(&m.RPM, "rpm"),
			"tpm":     p.nonNeg(&m.TPM, "tpm"),
		})
		if err != nil {
			return err
		}
		if m.Model == "" {
			return p.errf(mn, "a model of an account has no model name")
		}
		if seen[m.Model] {
			return p.errf(mn, "model %q is listed twice", m.Model)
		}
		seen[m.Model] = true
		a.Models = append(a.Models, m)
		// Catalog membership is checked after models: is merged.
		p.modelLines = append(p.modelLines, modelRef{name: m.CatalogName(), node: mn, account: &a.Name})
	}
	return nil
}

type modelRef struct {
	name    string
	node    *yaml.Node
	account *string
}

func (p *parser) models(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		return p.errf(n, "models must be a mapping of model name to its description")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		name := k.Value
		info, builtin := p.f.Models[name]
		info.Name = name
		err := p.fields(v, fmt.Sprintf("model %q", name), map[string]func(*yaml.Node) error{
			"context_window":       p.nonNeg(&info.ContextWindow, "context_window"),
			"max_output_tokens":    p.nonNeg(&info.MaxOutputTokens, "max_output_tokens"),
			"tier":                 p.nonNeg(&info.Tier, "tier"),
			"input_cost_per_mtok":  p.cost(&info.InputCostPerMTok, "input_cost_per_mtok"),
			"output_cost_per_mtok": p.cost(&info.OutputCostPerMTok, "output_cost_per_mtok"),
		})
		if err != nil {
			return err
		}
		if info.ContextWindow == 0 || info.Tier == 0 {
			what := "a model not in the built-in catalog needs"
			if builtin {
				what = "a model needs"
			}
			return p.errf(k, "model %q: %s context_window and tier (1-3)", name, what)
		}
		if info.MaxOutputTokens > info.ContextWindow {
			return p.errf(k, "model %q: max_output_tokens %d exceeds context_window %d", name, info.MaxOutputTokens, info.ContextWindow)
		}
		p.f.Models[name] = info
	}
	return nil
}

func (p *parser) routing(n *yaml.Node) error {
	return p.fields(n, "routing", map[string]func(*yaml.Node) error{
		"kinds": func(n *yaml.Node) error {
			if n.Kind != yaml.MappingNode {
				return p.errf(n, "routing.kinds must be a mapping of request kind to its policy")
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				pol, known := p.f.Kinds[k.Value]
				minSet := false
				err := p.fields(v, fmt.Sprintf("kind %q", k.Value), map[string]func(*yaml.Node) error{
					"min_tier": func(v *yaml.Node) error {
						minSet = true
						return p.nonNeg(&pol.MinTier, "min_tier")(v)
					},
					"degrade_to": p.nonNeg(&pol.DegradeTo, "degrade_to"),
				})
				if err != nil {
					return err
				}
				if !known && !minSet {
					return p.errf(k, "kind %q: min_tier is missing", k.Value)
				}
				if pol.MinTier < 1 {
					return p.errf(k, "kind %q: min_tier must be at least 1", k.Value)
				}
				if pol.DegradeTo > pol.MinTier {
					return p.errf(k, "kind %q: degrade_to %d is above min_tier %d", k.Value, pol.DegradeTo, pol.MinTier)
				}
				p.f.Kinds[k.Value] = pol
			}
			return nil
		},
	})
}

func (p *parser) embeddings(n *yaml.Node) error {
	e := &p.f.Embeddings
	err := p.fields(n, "embeddings", map[string]func(*yaml.Node) error{
		"provider": p.str(&e.Provider, "embeddings.provider"),
		"base_url": p.str(&e.BaseURL, "embeddings.base_url"),
		"model":    p.str(&e.Model, "embeddings.model"),
		"api_key_env": func(v *yaml.Node) error {
			p.embedKey = v.Line
			return p.str(&e.APIKeyEnv, "embeddings.api_key_env")(v)
		},
	})
	if err != nil {
		return err
	}
	switch e.Provider {
	case EmbedBuiltin:
		if e.BaseURL != "" || e.Model != "" || e.APIKeyEnv != "" {
			return p.errf(n, "embeddings: the builtin embedder takes no base_url, model or api_key_env")
		}
	case EmbedOllama:
		if e.BaseURL == "" {
			e.BaseURL = DefaultOllamaBaseURL
		}
	case EmbedOpenAICompatible:
		if e.BaseURL == "" {
			return p.errf(n, "embeddings: openai-compatible needs base_url")
		}
	default:
		return p.errf(n, "embeddings: unknown provider %q (want %s, %s or %s)", e.Provider, EmbedBuiltin, EmbedOllama, EmbedOpenAICompatible)
	}
	if e.Provider != EmbedBuiltin {
		if e.Model == "" {
			return p.errf(n, "embeddings: %s needs model", e.Provider)
		}
		if err := checkURL(e.BaseURL); err != nil {
			return p.errf(n, "embeddings: base_url: %v", err)
		}
	}
	return nil
}

// resolve checks catalog references, reads keys from the environment and
// builds the router config.
func (p *parser) resolve() error {
	for _, ref := range p.modelLines {
		if _, ok := p.f.Models[ref.name]; !ok {
			return p.errf(ref.node, "account %q: model %q is not in the catalog: describe it under models: (context_window, tier) or set catalog: to a known model", *ref.account, ref.name)
		}
	}
	cfg := router.Config{Models: p.f.Models, Kinds: p.f.Kinds}
	for i, a := range p.f.Accounts {
		ac := router.AccountConfig{
			Name: a.Name, Provider: a.Provider, BaseURL: a.BaseURL, APIVersion: a.APIVersion,
			Priority: a.Priority, Models: a.Models,
		}
		if a.APIKeyEnv != "" {
			key, err := p.lookup(a.APIKeyEnv)
			if err != nil {
				return fmt.Errorf("%s:%d: account %q: %w", p.path, p.keyLines[i], a.Name, err)
			}
			ac.APIKey = router.NewSecret(key)
		}
		cfg.Accounts = append(cfg.Accounts, ac)
	}
	if e := &p.f.Embeddings; e.APIKeyEnv != "" {
		key, err := p.lookup(e.APIKeyEnv)
		if err != nil {
			return fmt.Errorf("%s:%d: embeddings: %w", p.path, p.embedKey, err)
		}
		e.APIKey = router.NewSecret(key)
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%s: %w", p.path, err)
	}
	p.f.Router = cfg
	return nil
}

func (p *parser) lookup(name string) (string, error) {
	v, ok := p.env(name)
	switch {
	case !ok:
		return "", fmt.Errorf("environment variable %s is not set", name)
	case strings.TrimSpace(v) == "":
		return "", fmt.Errorf("environment variable %s is empty", name)
	}
	return v, nil
}

// ParseSize parses a byte size: a whole number of bytes, or a number with a
// unit: B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of
// 1024). "256MiB", "1GiB", "1.5GB" and "1048576" are sizes.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = strings.TrimSpace(t[:i]), strings.TrimSpace(t[i:])
	}
	mult := map[string]float64{
		"": 1, "B": 1,
		"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	}[unit]
	v, err := strconv.ParseFloat(num, 64)
	if mult == 0 || err != nil || num == "" {
		return 0, fmt.Errorf("%q is not a size (use bytes or a unit: KiB, MiB, GiB, KB, MB, GB)", s)
	}
	n := int64(v * mult)
	if n <= 0 {
		return 0, fmt.Errorf("size %q must be positive", s)
	}
	return n, nil
}

// syntaxError turns yaml.v3's "yaml: line N: msg" into "path:N: msg".
func syntaxError(path string, err error) error {
	msg := err.Error()
	rest, ok := strings.CutPrefix(msg, "yaml: line ")
	if i := strings.Index(rest, ": "); ok && i > 0 {
		if n, err2 := strconv.Atoi(rest[:i]); err2 == nil {
			return fmt.Errorf("%s:%d: %s", path, n, rest[i+2:])
		}
	}
	return fmt.Errorf("%s: %w", path, err)
}
