package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

var _ Client = (*anthropic)(nil)

// anthropic speaks the Messages API:
//
//	POST {base}/v1/messages
//	x-api-key: {key}
//	anthropic-version: 2023-06-01
//
// The system prompt is the top-level "system" field (system-role messages
// are folded into it) and max_tokens is always sent.
type anthropic struct {
	t       transport
	base    string
	version string
}

func newAnthropic(t transport, base, version string) *anthropic {
	return &anthropic{t: t, base: base, version: version}
}

type anthropicMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// anthropicRequest is the body of POST /v1/messages.
type anthropicRequest struct {
	Model       string             `json:"model"`
	MaxTokens   int                `json:"max_tokens"`
	System      string             `json:"system,omitempty"`
	Messages    []anthropicMessage `json:"messages"`
	Temperature *float64           `json:"temperature,omitempty"`
	Stream      bool               `json:"stream,omitempty"`
}

// anthropicUsage counts tokens; cached prompt tokens are reported apart
// from input_tokens and belong to the prompt too.
type anthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

func (u *anthropicUsage) prompt() int {
	return u.InputTokens + u.CacheCreationInputTokens + u.CacheReadInputTokens
}

// anthropicMessageResponse is a non-streamed answer, and the "message" of a
// message_start event.
type anthropicMessageResponse struct {
	Model   string `json:"model"`
	Content []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"content"`
	StopReason string          `json:"stop_reason"`
	Usage      *anthropicUsage `json:"usage"`
}

// anthropicEvent is one streamed event; which fields are set depends on Type.
type anthropicEvent struct {
	Type    string                    `json:"type"`
	Message *anthropicMessageResponse `json:"message"`
	Delta   struct {
		Type       string `json:"type"`
		Text       string `json:"text"`
		StopReason string `json:"stop_reason"`
	} `json:"delta"`
	Usage *anthropicUsage       `json:"usage"`
	Error *anthropicErrorDetail `json:"error"`
}

// anthropicErrorDetail is the "error" of
// {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}.
type anthropicErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

func parseAnthropicError(data []byte) (apiError, bool) {
	var body struct {
		Type  string                `json:"type"`
		Error *anthropicErrorDetail `json:"error"`
	}
	if err := json.Unmarshal(data, &body); err != nil || body.Error == nil {
		return apiError{}, false
	}
	return apiError{Type: body.Error.Type, Message: body.Error.Message}, true
}

func anthropicBody(req *Request, stream bool) *anthropicRequest {
	b := &anthropicRequest{
		Model:       req.Model,
		MaxTokens:   req.MaxTokens,
		Temperature: req.Temperature,
		Stream:      stream,
		Messages:    []anthropicMessage{},
	}
	if b.MaxTokens <= 0 {
		b.MaxTokens = DefaultAnthropicMaxTokens
	}
	system := []string{}
	if req.System != "" {
		system = append(system, req.System)
	}
	for _, m := range req.Messages {
		if m.Role == "system" {
			system = append(system, m.Content)
			continue
		}
		b.Messages = append(b.Messages, anthropicMessage(m))
	}
	b.System = strings.Join(system, "\n\n")
	return b
}

// Complete implements Client.
func (c *anthropic) Complete(ctx context.Context, req *Request, onDelta func(string)) (resp *Response, err error) {
	start := time.Now()
	defer func() { c.t.log(ctx, req.Model, onDelta != nil, start, err) }()
	h := http.Header{}
	h.Set("x-api-key", c.t.key)
	h.Set("anthropic-version", c.version)
	hr, limits, err := c.t.post(ctx, &call{
		url:        c.base + "/v1/messages",
		header:     h,
		body:       anthropicBody(req, onDelta != nil),
		model:      req.Model,
		limits:     anthropicLimits,
		parseError: parseAnthropicError,
	})
	if err != nil {
		return nil, err
	}
	defer hr.Body.Close()
	if onDelta == nil || !isEventStream(hr) {
		var mr anthropicMessageResponse
		if err := c.t.readJSON(ctx, hr, &mr); err != nil {
			return nil, withLimits(err, limits)
		}
		r := &Response{Model: mr.Model, FinishReason: mr.StopReason, Limits: limits}
		var text strings.Builder
		for _, b := range mr.Content {
			if b.Type == "text" {
				text.WriteString(b.Text)
			}
		}
		r.Text = text.String()
		if mr.Usage != nil {
			r.Usage = Usage{PromptTokens: mr.Usage.prompt(), CompletionTokens: mr.Usage.OutputTokens}
		}
		if onDelta != nil && r.Text != "" {
			onDelta(r.Text)
		}
		return r, nil
	}
	s := &stream{onDelta: onDelta}
	err = s.run(ctx, hr.Body, func(ev sseEvent) (bool, error) {
		var e anthropicEvent
		if err := json.Unmarshal([]byte(ev.Data), &e); err != nil {
			return false, &Error{Kind: KindBadResponse, Message: "decoding " + ev.Type + " event: " + err.Error(), Err: err}
		}
		switch e.Type {
		case "message_start":
			if e.Message != nil {
				s.resp.Model = e.Message.Model
				if e.Message.Usage != nil {
					s.resp.Usage = Usage{PromptTokens: e.Message.Usage.prompt(), CompletionTokens: e.Message.Usage.OutputTokens}
				}
			}
		case "content_block_delta":
			if e.Delta.Type == "text_delta" {
				s.delta(e.Delta.Text)
			}
		case "message_delta":
			if e.Delta.StopReason != "" {
				s.resp.FinishReason = e.Delta.StopReason
			}
			if e.Usage != nil {
				// message_delta usage is cumulative; input counts appear
				// here only in newer API versions.
				s.resp.Usage.CompletionTokens = e.Usage.OutputTokens
				if p := e.Usage.prompt(); p > 0 {
					s.resp.Usage.PromptTokens = p
				}
			}
		case "message_stop":
			return true, nil
		case "error":
			d := anthropicErrorDetail{Message: "error event without details"}
			if e.Error != nil {
				d = *e.Error
			}
			kind := classifyStatus(0, d.Type, "", d.Message)
			if kind == KindUnknown {
				kind = KindServer
			}
			return false, &Error{Kind: kind, Message: redact(d.Message, c.t.key)}
		}
		// ping, content_block_start, content_block_stop and event types
		// added later carry nothing this client needs.
		return false, nil
	})
	if err != nil {
		return nil, s.fail(err, limits)
	}
	s.resp.Text = s.text.String()
	s.resp.Limits = limits
	return &s.resp, nil
}
