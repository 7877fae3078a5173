package eval

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func mustSchema(t *testing.T, js string) *Schema {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatalf("schema %s: %v", js, err)
	}
	s, err := CompileSchema(v)
	if err != nil {
		t.Fatalf("CompileSchema(%s) = %v", js, err)
	}
	return s
}

func TestSchemaValidate(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		value  string
		want   []string // the violations, in order; nil means valid
	}{
		{"object ok", `{"type":"object","required":["summary"],"properties":{"summary":{"type":"string","minLength":3}}}`,
			`{"summary":"retries with backoff"}`, nil},
		{"missing required", `{"type":"object","required":["summary","steps"]}`,
			`{"summary":"x"}`, []string{`$: missing required property "steps"`}},
		{"wrong type", `{"type":"object"}`, `[1,2]`, []string{"$: want object, got array"}},
		{"type list", `{"type":["string","null"]}`, `null`, nil},
		{"type list miss", `{"type":["string","null"]}`, `3`, []string{"$: want string or null, got integer"}},
		{"integer", `{"type":"integer"}`, `3.5`, []string{"$: want integer, got number"}},
		{"integer ok", `{"type":"integer","minimum":1,"maximum":10}`, `10`, nil},
		{"minimum", `{"type":"number","minimum":1}`, `0.5`, []string{"$: 0.5 is less than the minimum 1"}},
		{"maximum", `{"maximum":1}`, `2`, []string{"$: 2 is more than the maximum 1"}},
		{"minLength counts characters", `{"type":"string","minLength":3}`, `"héé"`, nil},
		{"minLength", `{"type":"string","minLength":3}`, `"ab"`, []string{"$: string of 2 characters is shorter than 3"}},
		{"maxLength", `{"maxLength":2}`, `"abc"`, []string{"$: string of 3 characters is longer than 2"}},
		{"enum", `{"enum":["low","high"]}`, `"mid"`, []string{`$: "mid" is not one of the allowed values`}},
		{"enum number", `{"enum":[1,2]}`, `2`, nil},
		{"const", `{"const":"x"}`, `"y"`, []string{`$: "y" is not one of the allowed values`}},
		{"items", `{"type":"array","minItems":1,"items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}}`,
			`[{"name":"a"},{"name":2},{}]`, []string{"$[1].name: want string, got integer", `$[2]: missing required property "name"`}},
		{"min items", `{"type":"array","minItems":2}`, `[1]`, []string{"$: 1 items, want at least 2"}},
		{"max items", `{"maxItems":1}`, `[1,2]`, []string{"$: 2 items, want at most 1"}},
		{"nested path", `{"properties":{"a":{"properties":{"b":{"type":"boolean"}}}}}`, `{"a":{"b":"yes"}}`, []string{"$.a.b: want boolean, got string"}},
		{"additional properties", `{"properties":{"a":{}},"additionalProperties":false}`, `{"a":1,"z":2}`, []string{`$: property "z" is not allowed`}},
		{"additional allowed by default", `{"properties":{"a":{}}}`, `{"a":1,"z":2}`, nil},
		{"annotations ignored", `{"title":"t","description":"d","type":"string"}`, `"x"`, nil},
		{"empty schema accepts all", `{}`, `{"any":[1,"two",null]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSchema(t, tt.schema)
			var v any
			if err := json.Unmarshal([]byte(tt.value), &v); err != nil {
				t.Fatal(err)
			}
			if got := s.Validate(v); !slices.Equal(got, tt.want) {
				t.Errorf("Validate(%s, %s) = %q, want %q", tt.schema, tt.value, got, tt.want)
			}
		})
	}
}

func TestCompileSchemaErrors(t *testing.T) {
	tests := []struct {
		schema string
		want   string
	}{
		{`[]`, "a schema is a mapping"},
		{`{"type":"text"}`, `unknown type "text"`},
		{`{"pattern":"^a"}`, `unsupported schema keyword "pattern"`},
		{`{"properties":{"a":{"oneOf":[]}}}`, `$.a: unsupported schema keyword "oneOf"`},
		{`{"required":"a"}`, "want a list of strings"},
		{`{"minLength":-1}`, "want a non-negative integer"},
		{`{"minLength":1.5}`, "want a non-negative integer"},
		{`{"minimum":"1"}`, "want a number"},
		{`{"enum":[]}`, "enum is a non-empty list"},
		{`{"additionalProperties":{}}`, "additionalProperties must be true or false"},
		{`{"items":{"type":"nope"}}`, `$[]: type: unknown type "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			var v any
			if err := json.Unmarshal([]byte(tt.schema), &v); err != nil {
				t.Fatal(err)
			}
			_, err := CompileSchema(v)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CompileSchema(%s) = %v, want an error containing %q", tt.schema, err, tt.want)
			}
		})
	}
}
