package chunk

import (
	"bytes"

	sitter "github.com/smacker/go-tree-sitter"
)

// role says how the chunker treats a syntax node.
type role uint8

const (
	roleOther     role = iota // statements, punctuation: gap text
	roleDecl                  // a declaration: one chunk
	roleContainer             // a declaration whose members are chunked one by one
	roleGroup                 // a container without a name of its own (Go type (...), #ifdef)
	roleWrapper               // wraps a declaration (export, decorators, templates)
	rolePreamble              // package clauses, imports, includes
	roleComment               // comments and attributes; attach to the declaration below
)

// describeFunc refines a node's rule by looking at the node itself.
type describeFunc func(b *builder, n *sitter.Node) decl

// rule tells how to treat one node type.
type rule struct {
	role     role
	kind     string
	describe describeFunc // nil: role and kind as given, generic name
}

// decl is what the chunker needs to know about a node.
type decl struct {
	role role
	kind string
	name string
	node *sitter.Node // the declaration itself (inside any wrappers)
}

// symbol flags used while looking for names and bodies.
const (
	flagIdent      = 1 << iota // identifier-like: its text is a name
	flagDeclarator             // holds one declared name (variable_declarator, const_spec)
	flagBody                   // holds the members of a container
)

// langSpec is what the chunker knows about one language, indexed by the
// grammar's symbol ids so classifying a node costs no string work.
type langSpec struct {
	lang    string
	grammar *sitter.Language
	sep     string // joins symbol path components
	rules   []rule
	flags   []uint8
}

func (s *langSpec) rule(sym sitter.Symbol) rule {
	if int(sym) < len(s.rules) {
		return s.rules[sym]
	}
	return rule{}
}

func (s *langSpec) has(sym sitter.Symbol, flag uint8) bool {
	return int(sym) < len(s.flags) && s.flags[sym]&flag != 0
}

// specFor builds the spec for lang, or returns nil if lang has no grammar.
func specFor(lang string) *langSpec {
	g := grammar(lang)
	if g == nil {
		return nil
	}
	byName := rulesFor(lang)
	flagNames := map[string]uint8{
		"identifier": flagIdent, "type_identifier": flagIdent, "field_identifier": flagIdent,
		"property_identifier": flagIdent, "simple_identifier": flagIdent, "constant": flagIdent,
		"name": flagIdent, "word": flagIdent, "variable_name": flagIdent,
		"qualified_identifier": flagIdent, "scoped_identifier": flagIdent, "scope_resolution": flagIdent,
		"destructor_name": flagIdent, "operator_name": flagIdent, "qualified_name": flagIdent,
		"namespace_identifier": flagIdent, "scoped_type_identifier": flagIdent, "package_identifier": flagIdent,
		"private_property_identifier": flagIdent, "namespace_name": flagIdent,
		"variable_declarator": flagDeclarator, "init_declarator": flagDeclarator,
		"const_spec": flagDeclarator, "var_spec": flagDeclarator, "type_spec": flagDeclarator, "type_alias": flagDeclarator,
		"const_element": flagDeclarator, "property_element": flagDeclarator,
		"class_body": flagBody, "enum_class_body": flagBody, "declaration_list": flagBody,
		"field_declaration_list": flagBody, "statement_block": flagBody, "block": flagBody,
		"body_statement": flagBody, "interface_body": flagBody, "enum_body": flagBody,
		"compound_statement": flagBody,
	}
	n := int(g.SymbolCount())
	s := &langSpec{lang: lang, grammar: g, sep: ".", rules: make([]rule, n), flags: make([]uint8, n)}
	if lang == "cpp" || lang == "rust" || lang == "ruby" {
		s.sep = "::"
	}
	for i := 0; i < n; i++ {
		sym := sitter.Symbol(i)
		if g.SymbolType(sym) != sitter.SymbolTypeRegular {
			continue
		}
		name := g.SymbolName(sym)
		s.rules[i] = byName[name]
		s.flags[i] = flagNames[name]
	}
	return s
}

func declRule(kind string) rule      { return rule{role: roleDecl, kind: kind} }
func containerRule(kind string) rule { return rule{role: roleContainer, kind: kind} }
func groupRule(kind string) rule     { return rule{role: roleGroup, kind: kind} }

// rulesFor returns the node rules of lang by node type name.
func rulesFor(lang string) map[string]rule {
	wrapper := rule{role: roleWrapper}
	preamble := rule{role: rolePreamble}
	comment := rule{role: roleComment}
	switch lang {
	case "go":
		return map[string]rule{
			"function_declaration": declRule(KindFunction),
			"method_declaration":   {role: roleDecl, kind: KindMethod, describe: goMethod},
			"type_declaration":     {role: roleDecl, kind: KindType, describe: goTypeDecl},
			"type_spec":            {role: roleDecl, kind: KindType, describe: goTypeSpec},
			"type_alias":           {role: roleDecl, kind: KindType, describe: goTypeSpec},
			"const_declaration":    {role: roleDecl, kind: KindConstant, describe: goSpecs},
			"var_declaration":      {role: roleDecl, kind: KindVariable, describe: goSpecs},
			"package_clause":       preamble,
			"import_declaration":   preamble,
			"comment":              comment,
		}
	case "python":
		return map[string]rule{
			"function_definition":     declRule(KindFunction),
			"class_definition":        containerRule(KindClass),
			"decorated_definition":    wrapper,
			"import_statement":        preamble,
			"import_from_statement":   preamble,
			"future_import_statement": preamble,
			"comment":                 comment,
		}
	case "javascript", "typescript", "tsx":
		return map[string]rule{
			"function_declaration":           declRule(KindFunction),
			"generator_function_declaration": declRule(KindFunction),
			"function_signature":             declRule(KindFunction),
			"class_declaration":              containerRule(KindClass),
			"abstract_class_declaration":     containerRule(KindClass),
			"class":                          containerRule(KindClass),
			"interface_declaration":          declRule(KindInterface),
			"type_alias_declaration":         declRule(KindType),
			"enum_declaration":               declRule(KindEnum),
			"internal_module":                containerRule(KindModule),
			"module":                         containerRule(KindModule),
			"lexical_declaration":            {role: roleDecl, kind: KindVariable, describe: jsVariable},
			"variable_declaration":           {role: roleDecl, kind: KindVariable, describe: jsVariable},
			"method_definition":              declRule(KindMethod),
			"method_signature":               declRule(KindMethod),
			"abstract_method_signature":      declRule(KindMethod),
			"public_field_definition":        declRule(KindVariable),
			"field_definition":               declRule(KindVariable),
			"export_statement":               wrapper,
			"ambient_declaration":            wrapper,
			"expression_statement":           wrapper,
			"import_statement":               preamble,
			"comment":                        comment,
			"decorator":                      comment,
		}
	case "java":
		return map[string]rule{
			"class_declaration":               containerRule(KindClass),
			"record_declaration":              containerRule(KindClass),
			"enum_declaration":                declRule(KindEnum),
			"interface_declaration":           declRule(KindInterface),
			"annotation_type_declaration":     declRule(KindInterface),
			"method_declaration":              declRule(KindMethod),
			"constructor_declaration":         declRule(KindMethod),
			"compact_constructor_declaration": declRule(KindMethod),
			"field_declaration":               declRule(KindVariable),
			"constant_declaration":            declRule(KindConstant),
			"package_declaration":             preamble,
			"import_declaration":              preamble,
			"line_comment":                    comment,
			"block_comment":                   comment,
		}
	case "rust":
		return map[string]rule{
			"function_item":            declRule(KindFunction),
			"function_signature_item":  declRule(KindFunction),
			"struct_item":              declRule(KindStruct),
			"union_item":               declRule(KindStruct),
			"enum_item":                declRule(KindEnum),
			"type_item":                declRule(KindType),
			"const_item":               declRule(KindConstant),
			"static_item":              declRule(KindConstant),
			"macro_definition":         declRule(KindFunction),
			"trait_item":               containerRule(KindTrait),
			"impl_item":                {role: roleContainer, kind: KindImpl, describe: rustImpl},
			"mod_item":                 containerRule(KindModule),
			"foreign_mod_item":         groupRule(KindCode),
			"use_declaration":          preamble,
			"extern_crate_declaration": preamble,
			"line_comment":             comment,
			"block_comment":            comment,
			"attribute_item":           comment,
			"inner_attribute_item":     comment,
		}
	case "c", "cpp":
		m := map[string]rule{
			"function_definition":  declRule(KindFunction),
			"struct_specifier":     declRule(KindStruct),
			"union_specifier":      declRule(KindStruct),
			"enum_specifier":       declRule(KindEnum),
			"type_definition":      declRule(KindType),
			"declaration":          {role: roleDecl, kind: KindVariable, describe: cDeclaration},
			"preproc_def":          declRule(KindConstant),
			"preproc_function_def": declRule(KindFunction),
			"preproc_ifdef":        groupRule(KindCode),
			"preproc_if":           groupRule(KindCode),
			"preproc_else":         groupRule(KindCode),
			"preproc_elif":         groupRule(KindCode),
			"preproc_elifdef":      groupRule(KindCode),
			"preproc_include":      preamble,
			"comment":              comment,
		}
		if lang == "cpp" {
			m["class_specifier"] = containerRule(KindClass)
			m["struct_specifier"] = containerRule(KindStruct)
			m["union_specifier"] = containerRule(KindStruct)
			m["namespace_definition"] = containerRule(KindModule)
			m["linkage_specification"] = groupRule(KindCode)
			m["template_declaration"] = wrapper
			m["field_declaration"] = rule{role: roleDecl, kind: KindVariable, describe: cDeclaration}
			m["alias_declaration"] = declRule(KindType)
			m["concept_definition"] = declRule(KindType)
			m["using_declaration"] = preamble
		}
		return m
	case "csharp":
		return map[string]rule{
			"namespace_declaration":             containerRule(KindModule),
			"file_scoped_namespace_declaration": preamble,
			"class_declaration":                 containerRule(KindClass),
			"record_declaration":                containerRule(KindClass),
			"record_struct_declaration":         containerRule(KindStruct),
			"struct_declaration":                containerRule(KindStruct),
			"interface_declaration":             declRule(KindInterface),
			"enum_declaration":                  declRule(KindEnum),
			"delegate_declaration":              declRule(KindType),
			"method_declaration":                declRule(KindMethod),
			"constructor_declaration":           declRule(KindMethod),
			"destructor_declaration":            declRule(KindMethod),
			"operator_declaration":              declRule(KindMethod),
			"conversion_operator_declaration":   declRule(KindMethod),
			"indexer_declaration":               declRule(KindMethod),
			"local_function_statement":          declRule(KindFunction),
			"property_declaration":              declRule(KindVariable),
			"field_declaration":                 declRule(KindVariable),
			"event_field_declaration":           declRule(KindVariable),
			"event_declaration":                 declRule(KindVariable),
			"using_directive":                   preamble,
			"extern_alias_directive":            preamble,
			"comment":                           comment,
		}
	case "ruby":
		return map[string]rule{
			"method":           declRule(KindFunction),
			"singleton_method": declRule(KindMethod),
			"class":            containerRule(KindClass),
			"singleton_class":  containerRule(KindClass),
			"module":           containerRule(KindModule),
			"comment":          comment,
		}
	case "php":
		return map[string]rule{
			"function_definition":       declRule(KindFunction),
			"method_declaration":        declRule(KindMethod),
			"class_declaration":         containerRule(KindClass),
			"trait_declaration":         containerRule(KindTrait),
			"interface_declaration":     declRule(KindInterface),
			"enum_declaration":          declRule(KindEnum),
			"namespace_definition":      {role: roleContainer, kind: KindModule, describe: phpNamespace},
			"namespace_use_declaration": preamble,
			"const_declaration":         declRule(KindConstant),
			"property_declaration":      declRule(KindVariable),
			"comment":                   comment,
			"attribute_list":            comment,
		}
	case "kotlin":
		return map[string]rule{
			"class_declaration":     {role: roleContainer, kind: KindClass, describe: kotlinClass},
			"object_declaration":    containerRule(KindClass),
			"companion_object":      {role: roleContainer, kind: KindClass, describe: kotlinCompanion},
			"function_declaration":  declRule(KindFunction),
			"secondary_constructor": declRule(KindMethod),
			"property_declaration":  declRule(KindVariable),
			"type_alias":            declRule(KindType),
			"package_header":        preamble,
			"import_list":           preamble,
			"comment":               comment,
			"line_comment":          comment,
			"multiline_comment":     comment,
		}
	case "bash":
		return map[string]rule{
			"function_definition": declRule(KindFunction),
			"comment":             comment,
		}
	}
	return nil
}

// pathSep separates the components of a name that spans several levels of
// the symbol path, such as a Go method's receiver and name.
const pathSep = "\x00"

// maxNameLen bounds the length of one symbol path component.
const maxNameLen = 200

// text returns the source text of n, trimmed and bounded for use as a name.
func (b *builder) text(n *sitter.Node) string {
	t := bytes.TrimSpace(b.src[n.StartByte():n.EndByte()])
	if len(t) > maxNameLen {
		t = t[:maxNameLen]
	}
	if i := bytes.IndexAny(t, "\r\n"); i >= 0 {
		t = bytes.TrimSpace(t[:i])
	}
	return string(t)
}

// maxNameVisits bounds the nodes looked at while searching for a name.
const maxNameVisits = 64

// nameOf finds the declared name of n: its name field, the end of its
// declarator chain (C), or the first declarator or identifier near the top
// of its subtree.
func (b *builder) nameOf(n *sitter.Node) string {
	cur := n
	for i := 0; i < 8; i++ {
		if cur != n && b.spec.has(cur.Symbol(), flagIdent) {
			return b.text(cur)
		}
		if nm := cur.ChildByFieldName("name"); nm != nil {
			return b.text(nm)
		}
		d := cur.ChildByFieldName("declarator")
		if d == nil {
			break
		}
		cur = d
	}
	// Breadth-first over the top of the subtree, preferring declarators
	// (the type of a field comes before its name).
	queue := []*sitter.Node{n}
	var ident *sitter.Node
	for visits := 0; len(queue) > 0 && visits < maxNameVisits; visits++ {
		x := queue[0]
		queue = queue[1:]
		sym := x.Symbol()
		if x != n {
			if b.spec.has(sym, flagDeclarator) {
				if nm := x.ChildByFieldName("name"); nm != nil {
					return b.text(nm)
				}
				if c := b.firstIdent(x); c != nil {
					return b.text(c)
				}
			}
			if ident == nil && b.spec.has(sym, flagIdent) {
				ident = x
				continue
			}
			if b.spec.has(sym, flagBody) {
				continue
			}
		}
		for _, c := range b.childrenUpTo(x, maxNameVisits) {
			if c.IsNamed() {
				queue = append(queue, c)
			}
		}
	}
	if ident != nil {
		return b.text(ident)
	}
	return ""
}

// firstIdent returns the first identifier-like child of n.
func (b *builder) firstIdent(n *sitter.Node) *sitter.Node {
	for _, c := range b.children(n) {
		if b.spec.has(c.Symbol(), flagIdent) {
			return c
		}
	}
	return nil
}

// goMethod names a Go method Recv.Method.
func goMethod(b *builder, n *sitter.Node) decl {
	name := b.nameOf(n)
	if recv := n.ChildByFieldName("receiver"); recv != nil {
		for _, p := range b.children(recv) {
			t := p.ChildByFieldName("type")
			if t == nil {
				continue
			}
			r := bytes.TrimLeft(b.src[t.StartByte():t.EndByte()], "*( ")
			if i := bytes.IndexAny(r, "[ )"); i >= 0 {
				r = r[:i]
			}
			if len(r) > 0 && len(r) <= maxNameLen {
				name = string(r) + pathSep + name
			}
			break
		}
	}
	return decl{role: roleDecl, kind: KindMethod, name: name}
}

// goTypeDecl treats type (...) with several specs as a group and a single
// spec as the declaration of that type.
func goTypeDecl(b *builder, n *sitter.Node) decl {
	var spec *sitter.Node
	specs := 0
	for _, c := range b.childrenUpTo(n, 8) {
		if b.spec.has(c.Symbol(), flagDeclarator) {
			spec = c
			if specs++; specs > 1 {
				break
			}
		}
	}
	if specs == 1 {
		d := goTypeSpec(b, spec)
		d.node = n
		return d
	}
	return decl{role: roleGroup, kind: KindType}
}

// goTypeSpec names a type spec and tells struct and interface types apart.
func goTypeSpec(b *builder, n *sitter.Node) decl {
	kind := KindType
	if t := n.ChildByFieldName("type"); t != nil {
		switch t.Type() {
		case "struct_type":
			kind = KindStruct
		case "interface_type":
			kind = KindInterface
		}
	}
	return decl{role: roleDecl, kind: kind, name: b.nameOf(n)}
}

// goSpecs names a const or var declaration after its only spec; a block of
// several specs has no single name.
func goSpecs(b *builder, n *sitter.Node) decl {
	r := b.spec.rule(n.Symbol())
	specs := 0
	var first *sitter.Node
	for _, c := range b.childrenUpTo(n, 8) {
		if b.spec.has(c.Symbol(), flagDeclarator) {
			if first == nil {
				first = c
			}
			if specs++; specs > 1 {
				break
			}
		}
	}
	d := decl{role: roleDecl, kind: r.kind}
	if specs == 1 {
		d.name = b.nameOf(first)
	}
	return d
}

// jsVariable makes const f = () => {} a function and const X = 1 a constant.
func jsVariable(b *builder, n *sitter.Node) decl {
	d := decl{role: roleDecl, kind: KindVariable, name: b.nameOf(n)}
	kids := b.children(n)
	if len(kids) > 0 && kids[0].Type() == "const" {
		d.kind = KindConstant
	}
	for _, c := range kids {
		if !b.spec.has(c.Symbol(), flagDeclarator) {
			continue
		}
		if v := c.ChildByFieldName("value"); v != nil {
			switch v.Type() {
			case "arrow_function", "function_expression", "function", "generator_function":
				d.kind = KindFunction
			}
		}
		break
	}
	return d
}

// rustImpl names an impl block after the type it implements.
func rustImpl(b *builder, n *sitter.Node) decl {
	name := ""
	if t := n.ChildByFieldName("type"); t != nil {
		name = b.text(t)
		if i := bytes.IndexByte([]byte(name), '<'); i > 0 {
			name = name[:i]
		}
	}
	return decl{role: roleContainer, kind: KindImpl, name: name}
}

// cDeclaration makes a declaration with a function declarator a function
// (or method) prototype.
func cDeclaration(b *builder, n *sitter.Node) decl {
	d := decl{role: roleDecl, kind: KindVariable, name: b.nameOf(n)}
	cur := n
	for i := 0; i < 8; i++ {
		cur = cur.ChildByFieldName("declarator")
		if cur == nil {
			break
		}
		if cur.Type() == "function_declarator" {
			d.kind = KindFunction
			break
		}
	}
	return d
}

// phpNamespace makes namespace Foo { ... } a module and namespace Foo; part
// of the preamble.
func phpNamespace(b *builder, n *sitter.Node) decl {
	if n.ChildByFieldName("body") == nil {
		return decl{role: rolePreamble}
	}
	return decl{role: roleContainer, kind: KindModule, name: b.nameOf(n)}
}

// kotlinClass tells interfaces (kept whole) from classes.
func kotlinClass(b *builder, n *sitter.Node) decl {
	for _, c := range b.children(n) {
		if c.IsNamed() && c.Type() != "modifiers" {
			break
		}
		if !c.IsNamed() && c.Type() == "interface" {
			return decl{role: roleDecl, kind: KindInterface, name: b.nameOf(n)}
		}
	}
	return decl{role: roleContainer, kind: KindClass, name: b.nameOf(n)}
}

// kotlinCompanion names an unnamed companion object "Companion".
func kotlinCompanion(b *builder, n *sitter.Node) decl {
	name := ""
	for _, c := range b.children(n) {
		if c.Type() == "type_identifier" {
			name = b.text(c)
			break
		}
	}
	if name == "" {
		name = "Companion"
	}
	return decl{role: roleContainer, kind: KindClass, name: name}
}
