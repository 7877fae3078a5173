package prompt

import "testing"

func TestFamily(t *testing.T) {
	tests := []struct {
		model, want string
	}{
		{"gpt-4o-mini", FamilyGPT},
		{"gpt-4.1", FamilyGPT},
		{"GPT-5", FamilyGPT},
		{"chatgpt-4o-latest", FamilyGPT},
		{"gpt-35-turbo", FamilyGPT},
		{"ft:gpt-4o-mini-2024-07-18:acme::abc123", FamilyGPT},
		{"openai/gpt-4o", FamilyGPT},
		{"gpt-oss-20b", FamilyGPT},
		{"o1", FamilyGPT},
		{"o3-mini", FamilyGPT},
		{"o4-mini-2025-04-16", FamilyGPT},
		{"codex-mini-latest", FamilyGPT},
		{"gemini-2.5-pro", FamilyGPT},
		{"claude-sonnet-4-5", FamilyClaude},
		{"claude-3-5-haiku-latest", FamilyClaude},
		{"anthropic.claude-3-5-sonnet-20240620-v1:0", FamilyClaude},
		{"anthropic/claude-opus-4-1", FamilyClaude},
		{"llama3.1:8b", FamilySmall},
		{"meta-llama/Llama-3.3-70B-Instruct", FamilySmall},
		{"qwen2.5-coder:7b", FamilySmall},
		{"mistral-small-latest", FamilySmall},
		{"phi-4", FamilySmall},
		{"gemma3:4b", FamilySmall},
		{"deepseek-r1:14b", FamilySmall},
		{"omni-model", FamilySmall}, // not an o-series name
		{"o", FamilySmall},
		{"", FamilySmall},
		{"my-private-model", FamilySmall},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			if got := Family(tt.model); got != tt.want {
				t.Errorf("Family(%q) = %q, want %q", tt.model, got, tt.want)
			}
		})
	}
}
