package prompt

import "strings"

// Model families: prompts are written per family because a prompt tuned for
// one family of models does not transfer to another.
const (
	// FamilyGPT is OpenAI's GPT and o-series models (also on Azure) and
	// other frontier models that follow markdown-structured prompts.
	FamilyGPT = "gpt"
	// FamilyClaude is Anthropic's Claude models, prompted with XML-tagged
	// context.
	FamilyClaude = "claude"
	// FamilySmall is open models served through OpenAI-compatible servers
	// (Llama, Qwen, Mistral, Phi, Gemma, DeepSeek, …) and any unknown model:
	// short, explicit prompts with an answer marker.
	FamilySmall = "small"
)

// Families returns the model families in a fixed order. Each call returns a
// new slice.
func Families() []string { return []string{FamilyGPT, FamilyClaude, FamilySmall} }

// Family returns the prompt family of a model name. Names may carry a
// routing prefix ("openai/gpt-4o", "anthropic.claude-3-5-sonnet-…",
// "ft:gpt-4o-mini:org::id"); matching ignores case. Azure deployments are
// recognised by the catalog name the router passes (router.ModelInfo.Name),
// not by the deployment name. Unknown models are FamilySmall: a short,
// explicit prompt works acceptably on strong models too, while a long
// markdown prompt can derail a small one.
func Family(model string) string {
	m := strings.ToLower(strings.TrimSpace(model))
	if strings.Contains(m, "claude") {
		return FamilyClaude
	}
	base := m
	if i := strings.LastIndexAny(base, "/"); i >= 0 {
		base = base[i+1:]
	}
	switch {
	case strings.Contains(m, "gpt"), // gpt-4o, chatgpt-4o-latest, ft:gpt-…, gpt-oss
		strings.HasPrefix(base, "codex"),
		isOSeries(base),
		strings.HasPrefix(base, "gemini"): // follows markdown prompts like GPT
		return FamilyGPT
	}
	return FamilySmall
}

// isOSeries reports whether m names an OpenAI reasoning model (o1, o3-mini,
// o4-mini-2025-04-16…).
func isOSeries(m string) bool {
	return len(m) >= 2 && m[0] == 'o' && m[1] >= '1' && m[1] <= '9' &&
		(len(m) == 2 || m[2] == '-')
}
