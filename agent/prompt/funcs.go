package prompt

import (
	"strings"
	"text/template"
)

// funcs are the functions templates may call besides text/template's
// built-ins.
func funcs() template.FuncMap {
	return template.FuncMap{
		// fence returns a backtick fence longer than any backtick run in
		// text, so code that itself contains ``` cannot close it early.
		"fence": fence,
		// attr escapes text for an XML attribute value.
		"attr": attr,
		// lang returns the canonical code-fence language for a language
		// name ("golang" → "go", "c#" → "csharp", "" → "").
		"lang": fenceLanguage,
		// trim removes leading and trailing white space.
		"trim": strings.TrimSpace,
	}
}

func fence(text string) string {
	longest, run := 0, 0
	for i := 0; i < len(text); i++ {
		if text[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

var attrReplacer = strings.NewReplacer(`&`, "&amp;", `<`, "&lt;", `>`, "&gt;", `"`, "&quot;", "\n", " ")

func attr(s string) string { return attrReplacer.Replace(s) }

// fenceLanguage returns the canonical fence tag of a language name: one
// name per language for the tags models and tools use.
func fenceLanguage(name string) string {
	l := strings.ToLower(strings.TrimSpace(name))
	switch l {
	case "golang":
		return "go"
	case "py", "py3", "python3":
		return "python"
	case "js", "node", "nodejs", "mjs", "cjs":
		return "javascript"
	case "ts":
		return "typescript"
	case "sh", "shell", "zsh":
		return "bash"
	case "yml":
		return "yaml"
	case "rs":
		return "rust"
	case "rb":
		return "ruby"
	case "kt", "kts":
		return "kotlin"
	case "cs", "c#", "c_sharp":
		return "csharp"
	case "c++", "cxx", "cc", "hpp":
		return "cpp"
	case "md":
		return "markdown"
	case "txt", "plaintext", "plain":
		return "text"
	}
	return l
}
