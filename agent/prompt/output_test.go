package prompt

import "testing"

func TestPostprocess(t *testing.T) {
	tests := []struct {
		name, family, in, want string
	}{
		{
			"gpt blurb, alias and sign-off", FamilyGPT,
			"Sure! Here's the updated function:\n\n```golang\nfunc (s *Server) handleSearch(ctx context.Context, q Query) ([]Hit, error) {\n\treturn s.index.Search(ctx, q)\n}\n```\n\nI hope this helps! Let me know if you have questions.",
			"```go\nfunc (s *Server) handleSearch(ctx context.Context, q Query) ([]Hit, error) {\n\treturn s.index.Search(ctx, q)\n}\n```",
		},
		{
			"gpt interjection keeps the sentence", FamilyGPT,
			"Of course, the handler returns errBadK when K is zero (server/handler.go:42).",
			"The handler returns errBadK when K is zero (server/handler.go:42).",
		},
		{
			"gpt interjection before an identifier", FamilyGPT,
			"Sure, handleSearch returns errBadK first.",
			"handleSearch returns errBadK first.",
		},
		{
			"gpt great question", FamilyGPT,
			"Great question! The cache key includes the request time, so every lookup misses (cache/key.go:17).",
			"The cache key includes the request time, so every lookup misses (cache/key.go:17).",
		},
		{
			"gpt substantive here-is line stays", FamilyGPT,
			"Here is why the cache misses: the key includes the time.\n\nSee cache/key.go:17.",
			"Here is why the cache misses: the key includes the time.\n\nSee cache/key.go:17.",
		},
		{
			"gpt OK as a word stays", FamilyGPT,
			"OK responses are cached for a minute; errors are not (cache/policy.go:8).",
			"OK responses are cached for a minute; errors are not (cache/policy.go:8).",
		},
		{
			"gpt only a blurb is kept", FamilyGPT,
			"Sure!",
			"Sure!",
		},
		{
			"gpt lead-in without content after it stays", FamilyGPT,
			"Here's the code:",
			"Here's the code:",
		},
		{
			"gpt answer marker in prose is not extracted", FamilyGPT,
			"The small prompt asks the model to wrap its reply in <answer> tags and the post-processor removes them.",
			"The small prompt asks the model to wrap its reply in <answer> tags and the post-processor removes them.",
		},
		{
			"claude reasoning then answer", FamilyClaude,
			"<thinking>\nThe key is built in cache/key.go from the path and time.Now(). That changes every call.\n</thinking>\n\n<answer>\nEvery lookup misses because the cache key includes `time.Now()` (cache/key.go:17).\n\nDrop the time from the key.\n</answer>",
			"Every lookup misses because the cache key includes `time.Now()` (cache/key.go:17).\n\nDrop the time from the key.",
		},
		{
			"claude lead-in line", FamilyClaude,
			"I'll walk through the request path step by step:\n\n1. `Serve` reads a frame (rpc/conn.go:30).\n2. `dispatch` picks the handler (rpc/conn.go:58).",
			"1. `Serve` reads a frame (rpc/conn.go:30).\n2. `dispatch` picks the handler (rpc/conn.go:58).",
		},
		{
			"claude list-indented fence is kept", FamilyClaude,
			"1. Change the check:\n   ```go\n   if q.K < 0 {\n   ```\n2. Run the tests.",
			"1. Change the check:\n   ```go\n   if q.K < 0 {\n   ```\n2. Run the tests.",
		},
		{
			"claude answer marker inside code is not extracted", FamilyClaude,
			"The template ends with:\n\n```text\n<answer>\nAnswer between <answer> and </answer>.\n```",
			"The template ends with:\n\n```text\n<answer>\nAnswer between <answer> and </answer>.\n```",
		},
		{
			"small answer marker with blurb inside", FamilySmall,
			"<answer>\nCertainly! The function returns nil and errBadK when K is zero (server/handler.go:42).\n</answer>",
			"The function returns nil and errBadK when K is zero (server/handler.go:42).",
		},
		{
			"small think block", FamilySmall,
			"<think>\nThe user asks about K. Looking at handleSearch...\n</think>\n<answer>It returns errBadK (server/handler.go:42).</answer>",
			"It returns errBadK (server/handler.go:42).",
		},
		{
			"small think opened by the chat template", FamilySmall,
			"Okay, the user wants to know what happens when K is zero.\n</think>\n\nIt returns errBadK before searching (server/handler.go:42).",
			"It returns errBadK before searching (server/handler.go:42).",
		},
		{
			"small inline marker", FamilySmall,
			"Here is my answer: <answer>It returns errBadK.</answer> Thanks!",
			"It returns errBadK.",
		},
		{
			"small unclosed marker", FamilySmall,
			"<answer>\nThe handler checks K first, then calls",
			"The handler checks K first, then calls",
		},
		{
			"small answer label", FamilySmall,
			"Answer: handleSearch returns errBadK when K is zero.",
			"handleSearch returns errBadK when K is zero.",
		},
		{
			"small unclosed fence", FamilySmall,
			"<answer>\nUse this:\n\n```go\nfunc TestHandleSearch(t *testing.T) {\n\tt.Run(\"zero K\", func(t *testing.T) {",
			"Use this:\n\n```go\nfunc TestHandleSearch(t *testing.T) {\n\tt.Run(\"zero K\", func(t *testing.T) {\n```",
		},
		{
			"small stray indentation", FamilySmall,
			"The fix:\n\n    ```Go\n    if err != nil {\n    \treturn err\n\n    }\n    ```\n",
			"The fix:\n\n```go\nif err != nil {\n\treturn err\n\n}\n```",
		},
		{
			"tilde fences", FamilyGPT,
			"~~~py\nprint(1)\n~~~",
			"```python\nprint(1)\n```",
		},
		{
			"tilde fence holding backticks", FamilyGPT,
			"~~~md\n```go\nx := 1\n```\n~~~",
			"````markdown\n```go\nx := 1\n```\n````",
		},
		{
			"longer outer fence is kept", FamilyGPT,
			"````\n```go\nx\n```\n````",
			"````\n```go\nx\n```\n````",
		},
		{
			"info string keeps its attributes", FamilyGPT,
			"``` JS title=app.js\nlet x = 1\n```",
			"```javascript title=app.js\nlet x = 1\n```",
		},
		{
			"inline triple backticks are not a fence", FamilyGPT,
			"Run ```make test``` first.",
			"Run ```make test``` first.",
		},
		{
			"sign-off inside code stays", FamilyGPT,
			"```text\nlog line\n\nLet me know if it fails\n```",
			"```text\nlog line\n\nLet me know if it fails\n```",
		},
		{
			"CRLF", FamilyClaude,
			"Sure!\r\n\r\nThe answer is in rpc/conn.go:30.\r\n",
			"The answer is in rpc/conn.go:30.",
		},
		{
			"empty", FamilySmall,
			"  \n",
			"",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Postprocess(tt.family, tt.in); got != tt.want {
				t.Errorf("Postprocess(%q, %q) =\n%q\nwant\n%q", tt.family, tt.in, got, tt.want)
			}
		})
	}
}

func TestFenceLanguage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"golang", "go"}, {"Go", "go"}, {" python3 ", "python"}, {"c++", "cpp"}, {"C#", "csharp"},
		{"tsx", "tsx"}, {"zsh", "bash"}, {"yml", "yaml"}, {"", ""}, {"haskell", "haskell"},
	}
	for _, tt := range tests {
		if got := fenceLanguage(tt.in); got != tt.want {
			t.Errorf("fenceLanguage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFence(t *testing.T) {
	tests := []struct{ in, want string }{
		{"x := 1", "```"}, {"a ``` b", "````"}, {"`````", "``````"}, {"`x`", "```"},
	}
	for _, tt := range tests {
		if got := fence(tt.in); got != tt.want {
			t.Errorf("fence(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
