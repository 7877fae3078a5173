package eval

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Schema is a compiled JSON Schema of the small subset evals need: type
// (a name or a list), properties, required, additionalProperties (a
// boolean), items, enum, const, minLength, maxLength, minimum, maximum,
// minItems and maxItems. Annotations (title,
// description, $schema, default, examples) are accepted and ignored; any
// other keyword is an error, so a check never silently checks less than
// it says.
type Schema struct {
	Types                []string
	Properties           map[string]*Schema
	Required             []string
	AdditionalProperties *bool
	Items                *Schema
	Enum                 []any
	MinLength, MaxLength *int
	Minimum, Maximum     *float64
	MinItems, MaxItems   *int
}

var schemaTypes = []string{"object", "array", "string", "number", "integer", "boolean", "null"}

var schemaAnnotations = map[string]bool{"title": true, "description": true, "$schema": true, "default": true, "examples": true, "$comment": true}

// CompileSchema compiles a schema decoded from YAML or JSON (maps with
// string keys, lists, strings, numbers, booleans).
func CompileSchema(v any) (*Schema, error) {
	return compile(v, "$")
}

func compile(v any, at string) (*Schema, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: a schema is a mapping, got %s", at, typeName(v))
	}
	s := &Schema{}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		val := m[k]
		var err error
		switch k {
		case "type":
			s.Types, err = compileTypes(val)
		case "properties":
			props, ok := val.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: properties is a mapping, got %s", at, typeName(val))
			}
			s.Properties = make(map[string]*Schema, len(props))
			for name, p := range props {
				if s.Properties[name], err = compile(p, at+"."+name); err != nil {
					return nil, err
				}
			}
		case "required":
			s.Required, err = stringList(val)
		case "additionalProperties":
			b, ok := val.(bool)
			if !ok {
				return nil, fmt.Errorf("%s: additionalProperties must be true or false", at)
			}
			s.AdditionalProperties = &b
		case "items":
			s.Items, err = compile(val, at+"[]")
		case "enum":
			list, ok := val.([]any)
			if !ok || len(list) == 0 {
				return nil, fmt.Errorf("%s: enum is a non-empty list", at)
			}
			for _, e := range list {
				s.Enum = append(s.Enum, normalize(e))
			}
		case "const":
			s.Enum = []any{normalize(val)}
		case "minLength":
			s.MinLength, err = count(val)
		case "maxLength":
			s.MaxLength, err = count(val)
		case "minItems":
			s.MinItems, err = count(val)
		case "maxItems":
			s.MaxItems, err = count(val)
		case "minimum":
			s.Minimum, err = number(val)
		case "maximum":
			s.Maximum, err = number(val)
		default:
			if !schemaAnnotations[k] {
				return nil, fmt.Errorf("%s: unsupported schema keyword %q", at, k)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", at, k, err)
		}
	}
	return s, nil
}

func compileTypes(v any) ([]string, error) {
	var names []string
	if s, ok := v.(string); ok {
		names = []string{s}
	} else {
		var err error
		if names, err = stringList(v); err != nil {
			return nil, err
		}
	}
	for _, n := range names {
		if !slices.Contains(schemaTypes, n) {
			return nil, fmt.Errorf("unknown type %q (want one of %s)", n, strings.Join(schemaTypes, ", "))
		}
	}
	return names, nil
}

func stringList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list of strings, got %s", typeName(v))
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("want a list of strings, found %s", typeName(e))
		}
		out = append(out, s)
	}
	return out, nil
}

func count(v any) (*int, error) {
	f, ok := normalize(v).(float64)
	if !ok || f < 0 || f != math.Trunc(f) {
		return nil, errors.New("want a non-negative integer")
	}
	n := int(f)
	return &n, nil
}

func number(v any) (*float64, error) {
	f, ok := normalize(v).(float64)
	if !ok {
		return nil, errors.New("want a number")
	}
	return &f, nil
}

// normalize turns every number into float64, as encoding/json decodes
// them, so values from YAML and from answers compare equal.
func normalize(v any) any {
	switch x := v.(type) {
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case float32:
		return float64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalize(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalize(e)
		}
		return out
	}
	return v
}

// Validate checks v, a value decoded by encoding/json, and returns one
// message per violation, each starting with the JSON path of the value
// ($.items[2].name); none means v is valid.
func (s *Schema) Validate(v any) []string {
	var errs []string
	s.validate(normalize(v), "$", &errs)
	return errs
}

func (s *Schema) validate(v any, at string, errs *[]string) {
	fail := func(format string, args ...any) {
		*errs = append(*errs, at+": "+fmt.Sprintf(format, args...))
	}
	if len(s.Types) > 0 && !slices.ContainsFunc(s.Types, func(t string) bool { return hasType(v, t) }) {
		fail("want %s, got %s", strings.Join(s.Types, " or "), typeName(v))
		return
	}
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { return reflect.DeepEqual(e, v) }) {
		fail("%s is not one of the allowed values", short(v))
	}
	switch x := v.(type) {
	case string:
		n := utf8.RuneCountInString(x)
		if s.MinLength != nil && n < *s.MinLength {
			fail("string of %d characters is shorter than %d", n, *s.MinLength)
		}
		if s.MaxLength != nil && n > *s.MaxLength {
			fail("string of %d characters is longer than %d", n, *s.MaxLength)
		}
	case float64:
		if s.Minimum != nil && x < *s.Minimum {
			fail("%v is less than the minimum %v", x, *s.Minimum)
		}
		if s.Maximum != nil && x > *s.Maximum {
			fail("%v is more than the maximum %v", x, *s.Maximum)
		}
	case []any:
		if s.MinItems != nil && len(x) < *s.MinItems {
			fail("%d items, want at least %d", len(x), *s.MinItems)
		}
		if s.MaxItems != nil && len(x) > *s.MaxItems {
			fail("%d items, want at most %d", len(x), *s.MaxItems)
		}
		if s.Items != nil {
			for i, e := range x {
				s.Items.validate(e, at+"["+strconv.Itoa(i)+"]", errs)
			}
		}
	case map[string]any:
		for _, r := range s.Required {
			if _, ok := x[r]; !ok {
				fail("missing required property %q", r)
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if p, ok := s.Properties[k]; ok {
				p.validate(x[k], at+"."+k, errs)
			} else if s.AdditionalProperties != nil && !*s.AdditionalProperties {
				fail("property %q is not allowed", k)
			}
		}
	}
}

func hasType(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f) && !math.IsInf(f, 0)
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	}
	return false
}

func typeName(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		if x == math.Trunc(x) {
			return "integer"
		}
		return "number"
	case int, int64, uint64, float32:
		return "number"
	}
	return fmt.Sprintf("%T", v)
}

// short renders a value for a message, cut to a readable length.
func short(v any) string {
	s := fmt.Sprint(v)
	if str, ok := v.(string); ok {
		s = strconv.Quote(str)
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}
