package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/codemux/codemux/router"
)

// fakeKey builds a key-shaped string at run time.
func fakeKey(name string) string {
	return strings.Join([]string{"sk", "fake", name, "000111222333"}, "-")
}

func envOf(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

const full = `accounts:
  - name: openai-a
    provider: openai
    api_key_env: OPENAI_KEY_A
    priority: 1
    models:
      - model: gpt-4o-mini
        rpm: 500
        tpm: 200000
      - model: gpt-4o
        rpm: 100
        tpm: 30000
  - name: azure-eu
    provider: azure
    base_url: https://example-eu.openai.azure.com
    api_key_env: AZURE_KEY
    api_version: 2024-10-21
    models:
      - model: my-4o-deployment
        catalog: gpt-4o
        rpm: 60
        tpm: 60000
  - name: claude
    provider: anthropic
    api_key_env: ANTHROPIC_KEY
    models:
      - {model: claude-sonnet-4-5, rpm: 50, tpm: 40000}
  - name: local
    provider: openai-compatible
    base_url: http://127.0.0.1:11434/v1
    models:
      - {model: qwen-coder, rpm: 0, tpm: 0}
models:
  gpt-4o-mini: {context_window: 128000, max_output_tokens: 16384, tier: 1,
                input_cost_per_mtok: 0.15, output_cost_per_mtok: 0.60}
  gpt-4o: {tier: 3}
  qwen-coder: {context_window: 32768, max_output_tokens: 8192, tier: 1}
routing:
  kinds:
    chat: {min_tier: 1}
    reason: {min_tier: 3, degrade_to: 1}
    review: {min_tier: 2}
embeddings:
  provider: ollama
  model: nomic-embed-text
memory_cap: 1GiB
index:
  max_file_size: 512KiB
`

func TestParseFull(t *testing.T) {
	env := envOf(map[string]string{"OPENAI_KEY_A": fakeKey("a"), "AZURE_KEY": fakeKey("az"), "ANTHROPIC_KEY": fakeKey("an")})
	f, err := Parse("config.yaml", []byte(full), env)
	if err != nil {
		t.Fatalf("Parse(full) = %v", err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"accounts", len(f.Accounts), 4},
		{"router accounts", len(f.Router.Accounts), 4},
		{"priority", f.Router.Accounts[0].Priority, 1},
		{"key resolved", f.Router.Accounts[0].APIKey.Reveal(), fakeKey("a")},
		{"azure catalog alias", f.Router.Accounts[1].Models[0].CatalogName(), "gpt-4o"},
		{"azure version", f.Router.Accounts[1].APIVersion, "2024-10-21"},
		{"local has no key", f.Router.Accounts[3].APIKey.IsZero(), true},
		{"override merges with builtin", f.Models["gpt-4o"].ContextWindow, router.DefaultCatalog()["gpt-4o"].ContextWindow},
		{"override sets tier", f.Models["gpt-4o"].Tier, 3},
		{"new model", f.Models["qwen-coder"].ContextWindow, 32768},
		{"new model named", f.Models["qwen-coder"].Name, "qwen-coder"},
		{"builtin kept", f.Models["claude-sonnet-4-5"].Tier, 3},
		{"kind override", f.Kinds["reason"], router.KindPolicy{MinTier: 3, DegradeTo: 1}},
		{"new kind", f.Kinds["review"], router.KindPolicy{MinTier: 2}},
		{"default kind kept", f.Kinds["tests"], router.DefaultKinds()["tests"]},
		{"embeddings", f.Embeddings.Provider, EmbedOllama},
		{"ollama default url", f.Embeddings.BaseURL, DefaultOllamaBaseURL},
		{"memory cap", f.MemoryCap, int64(1 << 30)},
		{"max file size", f.Index.MaxFileSize, int64(512 << 10)},
		{"account line", f.Accounts[1].Line, 13},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("Parse(full) %s = %v, want %v", c.what, c.got, c.want)
		}
	}
	if _, err := router.New(f.Router, &router.Options{}); err != nil {
		t.Errorf("router.New(Parse(full).Router) = %v", err)
	}
	// No key anywhere in what might be printed or marshalled.
	js, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	for where, s := range map[string]string{"json": string(js), "%+v": fmt.Sprintf("%+v", f), "%#v": fmt.Sprintf("%#v", f.Router)} {
		if strings.Contains(s, "000111222333") {
			t.Errorf("%s of the loaded config shows a key", where)
		}
	}
}

func TestParseErrors(t *testing.T) {
	env := envOf(map[string]string{"K": fakeKey("k"), "EMPTY": " "})
	tests := []struct {
		name, yaml, want string
	}{
		{
			name: "missing env key",
			yaml: "accounts:\n  - name: openai-a\n    provider: openai\n    api_key_env: OPENAI_KEY_A\n    models: [{model: gpt-4o, rpm: 1, tpm: 1}]\n",
			want: `config.yaml:4: account "openai-a": environment variable OPENAI_KEY_A is not set`,
		},
		{
			name: "empty env key",
			yaml: "accounts:\n  - name: a\n    provider: openai\n    api_key_env: EMPTY\n    models: [{model: gpt-4o}]\n",
			want: `config.yaml:4: account "a": environment variable EMPTY is empty`,
		},
		{
			name: "unknown top-level key",
			yaml: "memory_cap: 1GiB\nacounts: []\n",
			want: `config.yaml:2: unknown key "acounts" in the config file (want accounts, embeddings, index, memory_cap, models, routing)`,
		},
		{
			name: "unknown account key",
			yaml: "accounts:\n  - name: a\n    provider: openai\n    api_key: sk-oops\n",
			want: `config.yaml:4: unknown key "api_key" in an account`,
		},
		{
			name: "negative rpm",
			yaml: "accounts:\n  - name: a\n    provider: openai\n    api_key_env: K\n    models:\n      - model: gpt-4o\n        rpm: -5\n",
			want: `config.yaml:7: rpm must not be negative (got -5)`,
		},
		{
			name: "non-numeric tpm",
			yaml: "accounts:\n  - name: a\n    provider: openai\n    api_key_env: K\n    models:\n      - {model: gpt-4o, tpm: lots}\n",
			want: `config.yaml:6: tpm must be a whole number, not "lots"`,
		},
		{
			name: "bad provider",
			yaml: "accounts:\n  - name: a\n    provider: gemini\n    api_key_env: K\n    models: [{model: gpt-4o}]\n",
			want: `config.yaml:2: account "a": unknown provider "gemini" (want openai, azure, anthropic or openai-compatible)`,
		},
		{
			name: "azure without base_url",
			yaml: "accounts:\n  - name: az\n    provider: azure\n    api_key_env: K\n    api_version: 2024-10-21\n    models: [{model: gpt-4o}]\n",
			want: `config.yaml:2: account "az": azure needs base_url`,
		},
		{
			name: "azure without api_version",
			yaml: "accounts:\n  - name: az\n    provider: azure\n    base_url: https://x.openai.azure.com\n    api_key_env: K\n    models: [{model: gpt-4o}]\n",
			want: `config.yaml:2: account "az": azure needs api_version`,
		},
		{
			name: "api_version outside azure",
			yaml: "accounts:\n  - name: a\n    provider: openai\n    api_key_env: K\n    api_version: 2024-10-21\n    models: [{model: gpt-4o}]\n",
			want: `config.yaml:2: account "a": api_version applies to azure only`,
		},
		{
			name: "missing api_key_env",
			yaml: "accounts:\n  - name: a\n    provider: anthropic\n    models: [{model: claude-sonnet-4-5}]\n",
			want: `config.yaml:2: account "a": api_key_env is missing`,
		},
		{
			name: "bad base_url",
			yaml: "accounts:\n  - name: a\n    provider: openai\n    base_url: ftp://x\n    api_key_env: K\n    models: [{model: gpt-4o}]\n",
			want: `config.yaml:2: account "a": base_url: "ftp://x" must be an http or https URL`,
		},
		{
			name: "duplicate account",
			yaml: "accounts:\n  - {name: a, provider: openai, api_key_env: K, models: [{model: gpt-4o}]}\n  - {name: a, provider: openai, api_key_env: K, models: [{model: gpt-4o}]}\n",
			want: `config.yaml:3: account "a" is already defined on line 2`,
		},
		{
			name: "duplicate key",
			yaml: "memory_cap: 1GiB\nmemory_cap: 2GiB\n",
			want: `config.yaml:2:`,
		},
		{
			name: "model not in catalog",
			yaml: "accounts:\n  - name: a\n    provider: openai\n    api_key_env: K\n    models:\n      - {model: gpt-9, rpm: 1}\n",
			want: `config.yaml:6: account "a": model "gpt-9" is not in the catalog`,
		},
		{
			name: "new model without window",
			yaml: "models:\n  mine: {tier: 1}\n",
			want: `config.yaml:2: model "mine": a model not in the built-in catalog needs context_window and tier`,
		},
		{
			name: "unknown model field",
			yaml: "models:\n  gpt-4o: {context: 5}\n",
			want: `config.yaml:2: unknown key "context" in model "gpt-4o"`,
		},
		{
			name: "degrade above min",
			yaml: "routing:\n  kinds:\n    reason: {min_tier: 2, degrade_to: 3}\n",
			want: `config.yaml:3: kind "reason": degrade_to 3 is above min_tier 2`,
		},
		{
			name: "new kind without min",
			yaml: "routing:\n  kinds:\n    poetry: {degrade_to: 1}\n",
			want: `config.yaml:3: kind "poetry": min_tier is missing`,
		},
		{
			name: "bad embeddings provider",
			yaml: "embeddings:\n  provider: word2vec\n",
			want: `config.yaml:2: embeddings: unknown provider "word2vec" (want builtin, ollama or openai-compatible)`,
		},
		{
			name: "openai-compatible embeddings without url",
			yaml: "embeddings:\n  provider: openai-compatible\n  model: m\n",
			want: `config.yaml:2: embeddings: openai-compatible needs base_url`,
		},
		{
			name: "embeddings key missing",
			yaml: "embeddings:\n  provider: openai-compatible\n  base_url: http://127.0.0.1:8080/v1\n  model: m\n  api_key_env: EMB_KEY\n",
			want: `config.yaml:5: embeddings: environment variable EMB_KEY is not set`,
		},
		{
			name: "bad memory cap",
			yaml: "memory_cap: 256 megs\n",
			want: `config.yaml:1: memory_cap: "256 megs" is not a size`,
		},
		{
			name: "accounts not a list",
			yaml: "accounts: {name: a}\n",
			want: `config.yaml:1: accounts must be a list`,
		},
		{
			name: "syntax error",
			yaml: "accounts:\n  - name: a\n   provider: x\n",
			want: `config.yaml:1: did not find expected`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("config.yaml", []byte(tt.yaml), env)
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Parse(%q) = %v, want an error starting %q", tt.yaml, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "000111222333") {
				t.Errorf("Parse(%q) error shows a key: %v", tt.yaml, err)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"256MiB", 256 << 20, false},
		{"1GiB", 1 << 30, false},
		{"1.5GB", 1500000000, false},
		{"1048576", 1 << 20, false},
		{"64 KiB", 64 << 10, false},
		{"10B", 10, false},
		{"0", 0, true},
		{"-1MiB", 0, true},
		{"1 PB", 0, true},
		{"MiB", 0, true},
		{"", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		contents *string
		want     int // accounts
	}{
		{name: "missing file gives defaults", contents: nil, want: 0},
		{name: "empty file gives defaults", contents: ptr(""), want: 0},
		{name: "comment only", contents: ptr("# nothing yet\n"), want: 0},
		{name: "one account", contents: ptr("accounts:\n  - {name: a, provider: openai, api_key_env: K, models: [{model: gpt-4o-mini, rpm: 5, tpm: 5000}]}\n"), want: 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("config%d.yaml", i))
			if tt.contents != nil {
				if err := os.WriteFile(path, []byte(*tt.contents), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			f, err := Load(path, envOf(map[string]string{"K": fakeKey("k")}))
			if err != nil {
				t.Fatalf("Load(%s) = %v", tt.name, err)
			}
			if len(f.Router.Accounts) != tt.want {
				t.Errorf("Load(%s) accounts = %d, want %d", tt.name, len(f.Router.Accounts), tt.want)
			}
			if f.MemoryCap != DefaultMemoryCap || f.Embeddings.Provider != EmbedBuiltin || len(f.Models) == 0 {
				t.Errorf("Load(%s) = cap %d, embeddings %q, %d models; want defaults", tt.name, f.MemoryCap, f.Embeddings.Provider, len(f.Models))
			}
		})
	}
	// A rewritten file has a new stamp; an untouched one keeps it.
	path := filepath.Join(dir, "stamped.yaml")
	if err := os.WriteFile(path, []byte("memory_cap: 1GiB\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if StampOf(path) != f.Stamp || !f.Stamp.Exists {
		t.Errorf("StampOf(unchanged) = %+v, want %+v", StampOf(path), f.Stamp)
	}
	if err := os.WriteFile(path, []byte("memory_cap: 2GiB\nindex: {max_file_size: 1MiB}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if StampOf(path) == f.Stamp {
		t.Errorf("StampOf(rewritten) = %+v, unchanged", f.Stamp)
	}
	if _, err := Load(dir, nil); err == nil {
		t.Errorf("Load(a directory) = nil error, want one")
	}
}

func ptr(s string) *string { return &s }
