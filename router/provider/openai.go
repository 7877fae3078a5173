package provider

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

var _ Client = (*openAI)(nil)

// openAI speaks the Chat Completions API (POST {base}/chat/completions) to
// OpenAI itself and to OpenAI-compatible servers (Ollama, vLLM, llama.cpp),
// for which the key is optional.
type openAI struct {
	t    transport
	base string
	// maxTokensField is max_completion_tokens for OpenAI, which deprecated
	// max_tokens and rejects it for reasoning models, and max_tokens for
	// compatible servers, most of which know only that name.
	maxTokensField string
}

func newOpenAI(t transport, base string) *openAI {
	c := &openAI{t: t, base: base, maxTokensField: "max_tokens"}
	if t.provider == OpenAI {
		c.maxTokensField = "max_completion_tokens"
	}
	return c
}

// Complete implements Client.
func (c *openAI) Complete(ctx context.Context, req *Request, onDelta func(string)) (*Response, error) {
	h := http.Header{}
	if c.t.key != "" {
		h.Set("Authorization", "Bearer "+c.t.key)
	}
	body := chatBody(req, onDelta != nil, c.maxTokensField, true)
	return completeChat(ctx, &c.t, &call{
		url:        c.base + "/chat/completions",
		header:     h,
		body:       body,
		model:      req.Model,
		limits:     openAILimits,
		parseError: parseOpenAIError,
	}, onDelta)
}

// chatMessage is a Chat Completions message.
type chatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chatRequest is the body of POST /chat/completions.
type chatRequest struct {
	Model               string         `json:"model,omitempty"`
	Messages            []chatMessage  `json:"messages"`
	MaxTokens           int            `json:"max_tokens,omitempty"`
	MaxCompletionTokens int            `json:"max_completion_tokens,omitempty"`
	Temperature         *float64       `json:"temperature,omitempty"`
	Stream              bool           `json:"stream,omitempty"`
	StreamOptions       *streamOptions `json:"stream_options,omitempty"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// chatBody translates req. The system prompt becomes the first message.
// withModel is false for Azure, where the deployment in the path names the
// model.
func chatBody(req *Request, stream bool, maxTokensField string, withModel bool) *chatRequest {
	b := &chatRequest{Temperature: req.Temperature, Stream: stream}
	if withModel {
		b.Model = req.Model
	}
	if req.System != "" {
		b.Messages = append(b.Messages, chatMessage{Role: "system", Content: req.System})
	}
	for _, m := range req.Messages {
		b.Messages = append(b.Messages, chatMessage(m))
	}
	if b.Messages == nil {
		b.Messages = []chatMessage{}
	}
	if maxTokensField == "max_completion_tokens" {
		b.MaxCompletionTokens = req.MaxTokens
	} else {
		b.MaxTokens = req.MaxTokens
	}
	if stream {
		// Without include_usage a stream carries no token counts; with it
		// the last chunk before [DONE] has empty choices and the usage.
		b.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	return b
}

type chatUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
}

// chatResponse is a non-streamed Chat Completions answer.
type chatResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Message struct {
			Content *string `json:"content"`
			Refusal *string `json:"refusal"`
		} `json:"message"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
	Usage *chatUsage      `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// chatChunk is one streamed Chat Completions event.
type chatChunk struct {
	Model   string `json:"model"`
	Choices []struct {
		Index int `json:"index"`
		Delta struct {
			Content string `json:"content"`
			Refusal string `json:"refusal"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *chatUsage      `json:"usage"`
	Error json.RawMessage `json:"error"`
}

// completeChat runs one Chat Completions call (OpenAI, Azure, compatible).
func completeChat(ctx context.Context, t *transport, c *call, onDelta func(string)) (resp *Response, err error) {
	start := time.Now()
	defer func() { t.log(ctx, c.model, onDelta != nil, start, err) }()
	hr, limits, err := t.post(ctx, c)
	if err != nil {
		return nil, err
	}
	defer hr.Body.Close()
	if onDelta == nil || !isEventStream(hr) {
		var cr chatResponse
		if err := t.readJSON(ctx, hr, &cr); err != nil {
			return nil, withLimits(err, limits)
		}
		if len(cr.Error) > 0 && string(cr.Error) != "null" {
			return nil, openAIErrorValue(t, cr.Error, hr.StatusCode, limits)
		}
		if len(cr.Choices) == 0 {
			return nil, &Error{Kind: KindBadResponse, Status: hr.StatusCode, Message: "response has no choices", Limits: limits}
		}
		ch := cr.Choices[0]
		r := &Response{Model: cr.Model, FinishReason: ch.FinishReason, Limits: limits}
		switch {
		case ch.Message.Content != nil:
			r.Text = *ch.Message.Content
		case ch.Message.Refusal != nil:
			r.Text = *ch.Message.Refusal
		}
		if cr.Usage != nil {
			r.Usage = Usage{PromptTokens: cr.Usage.PromptTokens, CompletionTokens: cr.Usage.CompletionTokens}
		}
		if onDelta != nil && r.Text != "" {
			onDelta(r.Text)
		}
		return r, nil
	}
	s := &stream{onDelta: onDelta}
	err = s.run(ctx, hr.Body, func(ev sseEvent) (bool, error) {
		if ev.Data == "[DONE]" {
			return true, nil
		}
		var ch chatChunk
		if err := json.Unmarshal([]byte(ev.Data), &ch); err != nil {
			return false, &Error{Kind: KindBadResponse, Message: "decoding stream chunk: " + err.Error(), Err: err}
		}
		if len(ch.Error) > 0 && string(ch.Error) != "null" {
			return false, openAIErrorValue(t, ch.Error, 0, limits)
		}
		if ch.Model != "" {
			s.resp.Model = ch.Model
		}
		for _, choice := range ch.Choices {
			if choice.Index != 0 {
				continue
			}
			s.delta(choice.Delta.Content)
			s.delta(choice.Delta.Refusal)
			if choice.FinishReason != nil && *choice.FinishReason != "" {
				s.resp.FinishReason = *choice.FinishReason
			}
		}
		if ch.Usage != nil {
			s.resp.Usage = Usage{PromptTokens: ch.Usage.PromptTokens, CompletionTokens: ch.Usage.CompletionTokens}
		}
		return false, nil
	})
	if err != nil {
		return nil, s.fail(err, limits)
	}
	s.resp.Text = s.text.String()
	s.resp.Limits = limits
	return &s.resp, nil
}

// openAIErrorDetail is the "error" object of OpenAI and Azure error bodies:
//
//	{"error":{"message":"…","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}
//	{"error":{"code":"429","message":"Requests to the ChatCompletions_Create Operation …"}}
//
// Some compatible servers send "error" as a bare string.
type openAIErrorDetail struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

// parseOpenAIError reads an OpenAI, Azure or compatible error body.
func parseOpenAIError(data []byte) (apiError, bool) {
	var body struct {
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(data, &body); err != nil || len(body.Error) == 0 {
		return apiError{}, false
	}
	return decodeOpenAIError(body.Error)
}

func decodeOpenAIError(raw json.RawMessage) (apiError, bool) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return apiError{Message: s}, true
	}
	var d openAIErrorDetail
	if err := json.Unmarshal(raw, &d); err != nil {
		return apiError{}, false
	}
	ae := apiError{Type: d.Type, Message: d.Message}
	if len(d.Code) > 0 {
		var code string
		var n json.Number
		switch {
		case json.Unmarshal(d.Code, &code) == nil:
			ae.Code = code
		case json.Unmarshal(d.Code, &n) == nil:
			ae.Code = n.String()
		}
	}
	return ae, true
}

// openAIErrorValue classifies an "error" found inside a 2xx body or stream
// chunk. Azure writes the HTTP status as the code ("429"); it counts as the
// status when the response itself had none.
func openAIErrorValue(t *transport, raw json.RawMessage, status int, limits Limits) *Error {
	ae, ok := decodeOpenAIError(raw)
	if !ok {
		return &Error{Kind: KindBadResponse, Message: "decoding error in response: " + redact(string(raw), t.key), Limits: limits}
	}
	classifyAs := status
	if classifyAs/100 == 2 {
		classifyAs = 0
	}
	if n, err := strconv.Atoi(ae.Code); err == nil && classifyAs == 0 && n >= 400 && n < 600 {
		classifyAs = n
	}
	kind := classifyStatus(classifyAs, ae.Type, ae.Code, ae.Message)
	if kind == KindUnknown {
		kind = KindServer
	}
	return &Error{Kind: kind, Status: classifyAs, Message: redact(ae.Message, t.key), Limits: limits}
}

// withLimits attaches the response's limits to an *Error.
func withLimits(err error, limits Limits) error {
	if e, ok := err.(*Error); ok {
		e.Limits = limits
	}
	return err
}
