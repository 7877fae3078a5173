package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Apply runs the check on an answer and returns "" when it passes, or why
// it failed.
func (c *Check) Apply(answer string) string {
	switch {
	case c.Contains != "":
		if !strings.Contains(strings.ToLower(answer), strings.ToLower(c.Contains)) {
			return fmt.Sprintf("contains %q: not in the answer", c.Contains)
		}
	case c.NotContains != "":
		if i := strings.Index(strings.ToLower(answer), strings.ToLower(c.NotContains)); i >= 0 {
			return fmt.Sprintf("not_contains %q: found at byte %d", c.NotContains, i)
		}
	case c.Regex != "":
		re := c.re
		if re == nil {
			var err error
			if re, err = regexp.Compile(c.Regex); err != nil {
				return fmt.Sprintf("regex %q: %v", c.Regex, err)
			}
		}
		if !re.MatchString(answer) {
			return fmt.Sprintf("regex %q: no match", c.Regex)
		}
	case c.JSONSchema != nil:
		v, err := answerJSON(answer)
		if err != nil {
			return "json_schema: " + err.Error()
		}
		if errs := c.JSONSchema.Validate(v); len(errs) > 0 {
			const show = 3
			msg := strings.Join(errs[:min(show, len(errs))], "; ")
			if len(errs) > show {
				msg += fmt.Sprintf(" (and %d more)", len(errs)-show)
			}
			return "json_schema: " + msg
		}
	default:
		return "empty check: it has none of contains, not_contains, regex, json_schema"
	}
	return ""
}

// answerJSON decodes the answer as JSON: the whole answer if it is JSON,
// else the first ```json fenced block in it.
func answerJSON(answer string) (any, error) {
	if v, err := decodeJSON(strings.TrimSpace(answer)); err == nil {
		return v, nil
	}
	block, ok := jsonBlock(answer)
	if !ok {
		return nil, errors.New("the answer is not JSON and has no ```json block")
	}
	v, err := decodeJSON(block)
	if err != nil {
		return nil, fmt.Errorf("the ```json block does not parse: %w", err)
	}
	return v, nil
}

// jsonBlock returns the body of the first fenced block whose info string
// is json.
func jsonBlock(s string) (string, bool) {
	for off := 0; ; {
		i := strings.Index(s[off:], "```")
		if i < 0 {
			return "", false
		}
		start := off + i + 3
		nl := strings.IndexByte(s[start:], '\n')
		if nl < 0 {
			return "", false
		}
		info := strings.TrimSpace(s[start : start+nl])
		body := start + nl + 1
		end := strings.Index(s[body:], "```")
		if end < 0 {
			end = len(s) - body // an unclosed block runs to the end
		}
		if strings.EqualFold(info, "json") {
			return s[body : body+end], true
		}
		off = min(len(s), body+end+3)
	}
}

// decodeJSON decodes exactly one JSON value.
func decodeJSON(s string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("text after the JSON value")
	}
	return v, nil
}
