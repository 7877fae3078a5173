package evalset

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

// StripDocComments returns src with the doc comments of its functions and
// methods blanked out: every byte of such a comment except newlines becomes
// a space, so line numbers (and therefore Doc IDs) are unchanged. Compiler
// directives ("//go:", "//line ") are kept. A file that does not parse is
// returned unchanged with the parse error.
func StripDocComments(src []byte) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", src, parser.ParseComments|parser.SkipObjectResolution)
	if err != nil {
		return src, err
	}
	out := append([]byte(nil), src...)
	for _, decl := range f.Decls {
		fn, ok := decl.(*ast.FuncDecl)
		if !ok || fn.Doc == nil {
			continue
		}
		for _, c := range fn.Doc.List {
			if strings.HasPrefix(c.Text, "//go:") || strings.HasPrefix(c.Text, "//line ") {
				continue
			}
			start, end := fset.Position(c.Pos()).Offset, fset.Position(c.End()).Offset
			for i := start; i < end; i++ {
				if out[i] != '\n' {
					out[i] = ' '
				}
			}
		}
	}
	return out, nil
}

// WriteStripped copies the Go files Load would read under root (with the
// same options) to dst, function doc comments blanked by StripDocComments,
// so that a full index built over dst answers the cases of Load(root) with
// the same Doc IDs. Files that do not parse are skipped, as Load skips them.
func WriteStripped(ctx context.Context, root, dst string, opts *Options) error {
	o := opts.withDefaults()
	return walkSources(ctx, root, o.Tests, func(path string) error {
		src, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		out, err := StripDocComments(src)
		if err != nil {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return fmt.Errorf("relativising %s: %w", path, err)
		}
		target := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return fmt.Errorf("creating directory for %s: %w", target, err)
		}
		if err := os.WriteFile(target, out, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", target, err)
		}
		return nil
	})
}
