package chunk

import (
	"path/filepath"
	"strings"

	sitter "github.com/smacker/go-tree-sitter"
	"github.com/smacker/go-tree-sitter/bash"
	"github.com/smacker/go-tree-sitter/c"
	"github.com/smacker/go-tree-sitter/cpp"
	"github.com/smacker/go-tree-sitter/csharp"
	"github.com/smacker/go-tree-sitter/golang"
	"github.com/smacker/go-tree-sitter/java"
	"github.com/smacker/go-tree-sitter/javascript"
	"github.com/smacker/go-tree-sitter/kotlin"
	"github.com/smacker/go-tree-sitter/php"
	"github.com/smacker/go-tree-sitter/python"
	"github.com/smacker/go-tree-sitter/ruby"
	"github.com/smacker/go-tree-sitter/rust"
	"github.com/smacker/go-tree-sitter/typescript/tsx"
	"github.com/smacker/go-tree-sitter/typescript/typescript"
)

// grammar returns the tree-sitter grammar for a language name returned by
// LanguageOf, or nil for languages chunked without a parser.
// Grammar returns the tree-sitter grammar Chunk parses lang with (as
// LanguageOf names it), or nil for languages chunked without a parser.
func Grammar(lang string) *sitter.Language { return grammar(lang) }

func grammar(lang string) *sitter.Language {
	switch lang {
	case "go":
		return golang.GetLanguage()
	case "python":
		return python.GetLanguage()
	case "javascript":
		return javascript.GetLanguage()
	case "typescript":
		return typescript.GetLanguage()
	case "tsx":
		return tsx.GetLanguage()
	case "java":
		return java.GetLanguage()
	case "rust":
		return rust.GetLanguage()
	case "c":
		return c.GetLanguage()
	case "cpp":
		return cpp.GetLanguage()
	case "csharp":
		return csharp.GetLanguage()
	case "ruby":
		return ruby.GetLanguage()
	case "php":
		return php.GetLanguage()
	case "kotlin":
		return kotlin.GetLanguage()
	case "bash":
		return bash.GetLanguage()
	}
	return nil
}

// LanguageOf names the language of the file at path by its extension or
// name: one of "go", "python", "javascript", "typescript", "tsx", "java",
// "rust", "c", "cpp", "csharp", "ruby", "php", "kotlin", "bash",
// "markdown", or "text" for any other file, which is chunked in line windows.
// It returns "" for files known to be binary (images, archives, objects),
// which are not chunked at all. Deciding whether an unknown file holds text
// is the caller's business.
func LanguageOf(path string) string {
	base := filepath.Base(path)
	ext := strings.ToLower(filepath.Ext(base))
	switch ext {
	case ".go":
		return "go"
	case ".py", ".pyi", ".pyw":
		return "python"
	case ".js", ".mjs", ".cjs", ".jsx":
		return "javascript"
	case ".ts", ".mts", ".cts":
		return "typescript"
	case ".tsx":
		return "tsx"
	case ".java":
		return "java"
	case ".rs":
		return "rust"
	case ".c", ".h":
		return "c"
	case ".cc", ".cpp", ".cxx", ".c++", ".hh", ".hpp", ".hxx", ".h++", ".ipp", ".tpp", ".inl":
		return "cpp"
	case ".cs":
		return "csharp"
	case ".rb", ".rake", ".gemspec", ".ru":
		return "ruby"
	case ".php", ".phtml":
		return "php"
	case ".kt", ".kts":
		return "kotlin"
	case ".sh", ".bash":
		return "bash"
	case ".md", ".markdown", ".mdown", ".mkd":
		return "markdown"
	case ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tif", ".tiff", ".psd",
		".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tar", ".jar", ".war",
		".exe", ".dll", ".so", ".dylib", ".o", ".a", ".lib", ".obj", ".class", ".pyc", ".pyo",
		".wasm", ".bin", ".dat", ".db", ".sqlite", ".woff", ".woff2", ".ttf", ".otf", ".eot",
		".mp3", ".mp4", ".wav", ".ogg", ".flac", ".avi", ".mov", ".mkv", ".webm", ".syso":
		return ""
	}
	switch base {
	case "Rakefile", "Gemfile", "Guardfile", "Podfile", "Vagrantfile":
		return "ruby"
	case ".bashrc", ".bash_profile", ".profile", ".bash_aliases":
		return "bash"
	}
	return "text"
}
