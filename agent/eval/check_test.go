package eval

import (
	"strings"
	"testing"
)

func TestCheckApply(t *testing.T) {
	schema := func(js string) *Schema { return mustSchema(t, js) }
	summary := `{"type":"object","required":["summary"],"properties":{"summary":{"type":"string"}}}`
	tests := []struct {
		name   string
		check  Check
		answer string
		want   string // "" passes; else a substring of the reason
	}{
		{"contains", Check{Contains: "backoff"}, "It uses exponential backoff.", ""},
		{"contains ignores case", Check{Contains: "backoff"}, "Backoff doubles each time.", ""},
		{"contains missing", Check{Contains: "backoff"}, "It retries three times.", `contains "backoff": not in the answer`},
		{"not contains", Check{NotContains: "I don't know"}, "It retries.", ""},
		{"not contains found", Check{NotContains: "I don't know"}, "Sorry, i don't know.", `not_contains "I don't know": found at byte 7`},
		{"regex", Check{Regex: "(?i)retr(y|ies)"}, "It Retries with jitter.", ""},
		{"regex no match", Check{Regex: `\bjitter\b`}, "It retries.", `regex "\\bjitter\\b": no match`},
		{"regex bad", Check{Regex: "("}, "x", "missing closing )"},
		{"schema whole answer", Check{JSONSchema: schema(summary)}, ` {"summary": "retries"} `, ""},
		{"schema fenced block", Check{JSONSchema: schema(summary)},
			"Here it is:\n```go\nx := 1\n```\n\n```json\n{\"summary\": \"retries\"}\n```\nDone.", ""},
		{"schema fenced block uppercase info", Check{JSONSchema: schema(summary)}, "```JSON\n{\"summary\": \"x\"}\n```", ""},
		{"schema unclosed block", Check{JSONSchema: schema(summary)}, "```json\n{\"summary\": \"x\"}\n", ""},
		{"schema first json block only", Check{JSONSchema: schema(summary)},
			"```json\n{\"other\": 1}\n```\n```json\n{\"summary\": \"x\"}\n```", `json_schema: $: missing required property "summary"`},
		{"schema violation", Check{JSONSchema: schema(summary)}, `{"summary": 3}`, "json_schema: $.summary: want string, got integer"},
		{"schema no json", Check{JSONSchema: schema(summary)}, "The client retries.", "the answer is not JSON and has no ```json block"},
		{"schema bad block", Check{JSONSchema: schema(summary)}, "```json\n{summary: x}\n```", "the ```json block does not parse"},
		{"schema trailing text", Check{JSONSchema: schema(summary)}, `{"summary":"x"} and more`, "the answer is not JSON"},
		{"schema many violations", Check{JSONSchema: schema(`{"type":"array","items":{"type":"string"}}`)}, `[1,2,3,4,5]`, "(and 2 more)"},
		{"empty check", Check{}, "anything", "empty check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.check.Apply(tt.answer)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("%s.Apply(%q) = %q, want %q", tt.check.String(), tt.answer, got, tt.want)
			}
			if tt.want != "" && got == "" {
				t.Errorf("%s.Apply(%q) passed, want a failure", tt.check.String(), tt.answer)
			}
		})
	}
}
