package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file writes the dialects' wire formats: error bodies, answers and
// event streams, with the rate-limit headers each service sends.

func (s *Server) anthropic() bool { return s.opts.Dialect == Anthropic }

// setLimitHeaders writes the dialect's rate-limit headers for x.limits.
func (s *Server) setLimitHeaders(x *exchange) {
	h := x.w.Header()
	l := x.limits
	switch s.opts.Dialect {
	case Anthropic:
		stamp := func(d time.Duration) string {
			t := x.now.Add(d).UTC()
			if t.Truncate(time.Second) != t {
				t = t.Truncate(time.Second).Add(time.Second)
			}
			return t.Format(time.RFC3339)
		}
		if l.rpm > 0 {
			h.Set("anthropic-ratelimit-requests-limit", strconv.Itoa(l.rpm))
			h.Set("anthropic-ratelimit-requests-remaining", strconv.Itoa(l.requestsLeft))
			h.Set("anthropic-ratelimit-requests-reset", stamp(l.requestsReset))
		}
		if l.tpm > 0 {
			for _, name := range []string{"tokens", "input-tokens"} {
				h.Set("anthropic-ratelimit-"+name+"-limit", strconv.Itoa(l.tpm))
				h.Set("anthropic-ratelimit-"+name+"-remaining", strconv.Itoa(l.tokensLeft))
				h.Set("anthropic-ratelimit-"+name+"-reset", stamp(l.tokensReset))
			}
		}
		h.Set("request-id", "req_"+x.id)
	case Azure:
		if l.rpm > 0 {
			h.Set("x-ratelimit-remaining-requests", strconv.Itoa(l.requestsLeft))
		}
		if l.tpm > 0 {
			h.Set("x-ratelimit-remaining-tokens", strconv.Itoa(l.tokensLeft))
		}
		h.Set("apim-request-id", x.id)
	default:
		if l.rpm > 0 {
			h.Set("x-ratelimit-limit-requests", strconv.Itoa(l.rpm))
			h.Set("x-ratelimit-remaining-requests", strconv.Itoa(l.requestsLeft))
			h.Set("x-ratelimit-reset-requests", l.requestsReset.Round(time.Millisecond).String())
		}
		if l.tpm > 0 {
			h.Set("x-ratelimit-limit-tokens", strconv.Itoa(l.tpm))
			h.Set("x-ratelimit-remaining-tokens", strconv.Itoa(l.tokensLeft))
			h.Set("x-ratelimit-reset-tokens", l.tokensReset.Round(time.Millisecond).String())
		}
		h.Set("x-request-id", "req_"+x.id)
	}
}

// writeJSON sends a complete JSON response.
func (s *Server) writeJSON(x *exchange, status int, body string) {
	s.setLimitHeaders(x)
	h := x.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(status)
	_, _ = x.w.Write([]byte(body))
}

// openAIError is the OpenAI error body.
func openAIError(message, typ string, param, code any) string {
	return mustJSON(map[string]any{"error": struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Param   any    `json:"param"`
		Code    any    `json:"code"`
	}{message, typ, param, code}})
}

// azureError is the body Azure's gateway sends for its own errors.
func azureError(code, message string) string {
	return mustJSON(map[string]any{"error": map[string]string{"code": code, "message": message}})
}

// anthropicError is the Anthropic error body.
func anthropicError(typ, message string) string {
	return mustJSON(struct {
		Type  string `json:"type"`
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}{Type: "error", Error: struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}{typ, message}})
}

func (s *Server) notFound(x *exchange) {
	switch s.opts.Dialect {
	case Anthropic:
		s.writeJSON(x, http.StatusNotFound, anthropicError("not_found_error", "Not Found"))
	case Azure:
		s.writeJSON(x, http.StatusNotFound, azureError("404", "Resource not found"))
	default:
		s.writeJSON(x, http.StatusNotFound, openAIError(fmt.Sprintf("Invalid URL (%s %s)", x.r.Method, x.r.URL.Path), "invalid_request_error", nil, nil))
	}
}

func (s *Server) unauthorized(x *exchange, missing bool) {
	switch s.opts.Dialect {
	case Anthropic:
		msg := "invalid x-api-key"
		if missing {
			msg = "x-api-key header is required"
		}
		s.writeJSON(x, http.StatusUnauthorized, anthropicError("authentication_error", msg))
	case Azure:
		s.writeJSON(x, http.StatusUnauthorized, azureError("401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."))
	default:
		if missing {
			s.writeJSON(x, http.StatusUnauthorized, openAIError("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error", nil, nil))
			return
		}
		s.writeJSON(x, http.StatusUnauthorized, openAIError("Incorrect API key provided: "+maskKey(x.r.Header.Get("Authorization"))+". You can find your API key at https://platform.openai.com/account/api-keys.", "invalid_request_error", nil, "invalid_api_key"))
	}
}

// maskKey shows a key the way OpenAI's 401 message does: the first and
// last few characters only.
func maskKey(auth string) string {
	k, _ := strings.CutPrefix(auth, "Bearer ")
	if len(k) <= 8 {
		return "***"
	}
	return k[:3] + strings.Repeat("*", 10) + k[len(k)-4:]
}

func (s *Server) invalidJSON(x *exchange) {
	if s.anthropic() {
		s.writeJSON(x, http.StatusBadRequest, anthropicError("invalid_request_error", "There was an error parsing the body of your request."))
		return
	}
	s.writeJSON(x, http.StatusBadRequest, openAIError("We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)", "invalid_request_error", nil, nil))
}

// anthropicFields are the request fields the Messages API knows; it rejects
// any other with "Extra inputs are not permitted".
var anthropicFields = map[string]bool{
	"model": true, "messages": true, "max_tokens": true, "system": true, "temperature": true,
	"stream": true, "stop_sequences": true, "top_p": true, "top_k": true, "metadata": true,
	"tools": true, "tool_choice": true, "thinking": true, "service_tier": true,
}

// validate rejects requests the real service rejects, with its message.
func (s *Server) validate(x *exchange) bool {
	in := &x.in
	bad := func(msg string) bool {
		if s.anthropic() {
			s.writeJSON(x, http.StatusBadRequest, anthropicError("invalid_request_error", msg))
		} else {
			s.writeJSON(x, http.StatusBadRequest, openAIError(msg, "invalid_request_error", nil, nil))
		}
		return false
	}
	if s.anthropic() {
		if x.r.Header.Get("anthropic-version") == "" {
			return bad("anthropic-version: header is required")
		}
		var fields map[string]json.RawMessage
		_ = json.Unmarshal(x.body, &fields)
		for k := range fields {
			if !anthropicFields[k] {
				return bad(k + ": Extra inputs are not permitted")
			}
		}
		switch {
		case in.Model == "":
			return bad("model: Field required")
		case in.MaxTokens == nil:
			return bad("max_tokens: Field required")
		case len(in.Messages) == 0:
			return bad("messages: Field required")
		}
		for i, m := range in.Messages {
			if m.Role != "user" && m.Role != "assistant" {
				return bad(fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i))
			}
		}
		return true
	}
	if s.opts.Dialect != Azure && in.Model == "" {
		return bad("you must provide a model parameter")
	}
	if len(in.Messages) == 0 {
		return bad("[] is too short - 'messages'")
	}
	if in.StreamOptions != nil && !in.Stream {
		return bad("The 'stream_options' parameter is only allowed when 'stream' is enabled.")
	}
	return true
}

func (s *Server) contextTooLong(x *exchange, prompt int) {
	window := s.opts.ContextWindow
	if window <= 0 {
		window = max(prompt-1, 1)
		prompt = max(prompt, window+1)
	}
	if s.anthropic() {
		s.writeJSON(x, http.StatusBadRequest, anthropicError("invalid_request_error", fmt.Sprintf("prompt is too long: %d tokens > %d maximum", prompt, window)))
		return
	}
	s.writeJSON(x, http.StatusBadRequest, openAIError(fmt.Sprintf("This model's maximum context length is %d tokens. However, your messages resulted in %d tokens. Please reduce the length of the messages.", window, prompt), "invalid_request_error", "messages", "context_length_exceeded"))
}

func (s *Server) rateLimited(x *exchange, retry time.Duration, which string) {
	secs := int((retry + time.Second - 1) / time.Second)
	secs = max(secs, 1)
	h := x.w.Header()
	h.Set("retry-after", strconv.Itoa(secs))
	switch s.opts.Dialect {
	case Anthropic:
		limit, unit := s.opts.RPM, "requests"
		if which == "tokens" {
			limit, unit = s.opts.TPM, "input tokens"
		}
		s.writeJSON(x, http.StatusTooManyRequests, anthropicError("rate_limit_error", fmt.Sprintf("This request would exceed the rate limit for your organization of %d %s per minute. For details, refer to: https://docs.anthropic.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.", limit, unit)))
	case Azure:
		h.Set("retry-after-ms", strconv.FormatInt(retry.Milliseconds(), 10))
		kind := "call"
		if which == "tokens" {
			kind = "token"
		}
		s.writeJSON(x, http.StatusTooManyRequests, azureError("429", fmt.Sprintf("Requests to the ChatCompletions_Create Operation under Azure OpenAI API version %s have exceeded %s rate limit of your current OpenAI S0 pricing tier. Please retry after %d seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.", x.r.URL.Query().Get("api-version"), kind, secs)))
	default:
		limit, unit, short := s.opts.RPM, "requests", "RPM"
		if which == "tokens" {
			limit, unit, short = s.opts.TPM, "tokens", "TPM"
		}
		s.writeJSON(x, http.StatusTooManyRequests, openAIError(fmt.Sprintf("Rate limit reached for %s in organization org-test on %s per min (%s): Limit %d. Please try again in %s. Visit https://platform.openai.com/account/rate-limits to learn more.", x.model, unit, short, limit, retry.Round(time.Millisecond)), unit, nil, "rate_limit_exceeded"))
	}
}

func (s *Server) serverError(x *exchange) {
	switch s.opts.Dialect {
	case Anthropic:
		s.writeJSON(x, http.StatusInternalServerError, anthropicError("api_error", "Internal server error"))
	case Azure:
		s.writeJSON(x, http.StatusInternalServerError, azureError("InternalServerError", "The service is temporarily unable to process your request. Please try again later."))
	default:
		s.writeJSON(x, http.StatusInternalServerError, openAIError("The server had an error while processing your request. Sorry about that!", "server_error", nil, nil))
	}
}

func (s *Server) overloaded(x *exchange) {
	switch s.opts.Dialect {
	case Anthropic:
		s.writeJSON(x, 529, anthropicError("overloaded_error", "Overloaded"))
	case Azure:
		s.writeJSON(x, http.StatusServiceUnavailable, azureError("ServiceUnavailable", "The service is temporarily overloaded. Please try again later."))
	default:
		s.writeJSON(x, http.StatusServiceUnavailable, openAIError("The engine is currently overloaded, please try again later.", "server_error", nil, nil))
	}
}

// forever is a wait that only the client or Close ends.
const forever = time.Duration(1<<63 - 1)

// wait blocks for d, or until the client gives up or the server closes; it
// reports whether the full time passed.
func (s *Server) wait(x *exchange, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-x.r.Context().Done():
	case <-s.done:
	}
	return false
}

// behave answers an admitted request as scripted.
func (s *Server) behave(x *exchange, b Behavior) {
	switch b.kind {
	case kindHang:
		s.wait(x, forever)
		return
	case kindRateLimited:
		s.rateLimited(x, b.retryAfter, "requests")
		return
	case kindServerError:
		s.serverError(x)
		return
	case kindOverloaded:
		s.overloaded(x)
		return
	case kindContextTooLong:
		s.contextTooLong(x, x.in.promptTokens())
		return
	case kindRaw:
		s.setLimitHeaders(x)
		for k, v := range b.header {
			x.w.Header()[k] = v
		}
		x.w.WriteHeader(b.status)
		_, _ = x.w.Write([]byte(b.body))
		return
	case kindMalformed:
		if x.in.Stream {
			s.startStream(x)
			if s.anthropic() {
				s.event(x, "content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","te`)
			} else {
				s.event(x, "", `{"id":"`+x.id+`","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":`)
			}
			return
		}
		s.writeJSON(x, http.StatusOK, `{"id":"`+x.id+`","choices":[{"index":0,"message":{"role":"assistant","content":"unterminated`)
		return
	case kindErrorAfter:
		if !x.in.Stream {
			s.overloaded(x)
			return
		}
	case kindHangAfter:
		if !x.in.Stream {
			s.wait(x, forever)
			return
		}
	}
	if b.delay > 0 && !s.wait(x, b.delay) {
		return
	}
	text := b.text
	if b.echo || (b.kind == kindOK && text == "") {
		text = "echo: " + x.in.lastUser()
	}
	if !x.in.Stream {
		body := s.answer(x, text)
		if b.kind == kindCut {
			s.setLimitHeaders(x)
			x.w.Header().Set("Content-Type", "application/json")
			x.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			x.w.WriteHeader(http.StatusOK)
			_, _ = x.w.Write([]byte(body[:len(body)/2]))
			x.w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		s.writeJSON(x, http.StatusOK, body)
		return
	}
	s.stream(x, text, b)
}

// deltas splits text after each space.
func deltas(text string) []string {
	var out []string
	for _, p := range strings.SplitAfter(text, " ") {
		if p != "" {
			out = append(out, p)
		}
	}
	return out
}

// answer is the non-streamed body for text.
func (s *Server) answer(x *exchange, text string) string {
	prompt, completion := x.in.promptTokens(), EstimateTokens(text)
	var v any
	if s.anthropic() {
		v = map[string]any{
			"id": x.id, "type": "message", "role": "assistant", "model": x.model,
			"content":     []map[string]string{{"type": "text", "text": text}},
			"stop_reason": "end_turn", "stop_sequence": nil,
			"usage": map[string]int{"input_tokens": prompt, "output_tokens": completion},
		}
	} else {
		v = map[string]any{
			"id": x.id, "object": "chat.completion", "created": x.now.Unix(), "model": x.model,
			"choices": []map[string]any{{
				"index":         0,
				"message":       map[string]any{"role": "assistant", "content": text, "refusal": nil},
				"logprobs":      nil,
				"finish_reason": "stop",
			}},
			"usage":              map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
			"system_fingerprint": "fp_providertest",
		}
	}
	return mustJSON(v)
}

func (s *Server) startStream(x *exchange) {
	s.setLimitHeaders(x)
	h := x.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	x.w.WriteHeader(http.StatusOK)
	x.w.(http.Flusher).Flush()
}

// event writes one event; name "" sends a data-only event (OpenAI).
func (s *Server) event(x *exchange, name, data string) {
	var b strings.Builder
	if name != "" {
		b.WriteString("event: " + name + "\n")
	}
	b.WriteString("data: " + data + "\n\n")
	_, _ = x.w.Write([]byte(b.String()))
	x.w.(http.Flusher).Flush()
}

// mustJSON encodes v without HTML escaping, as the services do.
func mustJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// stream sends text as the dialect's event stream, applying b's cut or
// mid-stream error.
func (s *Server) stream(x *exchange, text string, b Behavior) {
	parts := deltas(text)
	limit := len(parts)
	if b.kind == kindCut || b.kind == kindErrorAfter || b.kind == kindHangAfter {
		limit = min(b.n, len(parts))
	}
	s.startStream(x)
	if s.anthropic() {
		s.streamAnthropic(x, parts[:limit], b)
		return
	}
	s.streamOpenAI(x, parts[:limit], b)
}

func (s *Server) streamOpenAI(x *exchange, parts []string, b Behavior) {
	chunk := func(choices any, usage any) string {
		return mustJSON(map[string]any{
			"id": x.id, "object": "chat.completion.chunk", "created": x.now.Unix(), "model": x.model,
			"system_fingerprint": "fp_providertest", "choices": choices, "usage": usage,
		})
	}
	choice := func(delta map[string]any, finish any) []map[string]any {
		return []map[string]any{{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}
	}
	if s.opts.Dialect == Azure {
		// Azure opens with the prompt's content-filter results.
		s.event(x, "", mustJSON(map[string]any{
			"id": "", "object": "", "created": 0, "model": "", "choices": []any{},
			"prompt_filter_results": []map[string]any{{"prompt_index": 0, "content_filter_results": map[string]any{}}},
		}))
	}
	s.event(x, "", chunk(choice(map[string]any{"role": "assistant", "content": "", "refusal": nil}, nil), nil))
	for _, p := range parts {
		if x.r.Context().Err() != nil {
			return
		}
		s.event(x, "", chunk(choice(map[string]any{"content": p}, nil), nil))
	}
	switch b.kind {
	case kindCut:
		panic(http.ErrAbortHandler)
	case kindHangAfter:
		s.wait(x, forever)
		return
	case kindErrorAfter:
		s.event(x, "", openAIError("The server had an error while processing your request. Sorry about that!", "server_error", nil, nil))
		return
	}
	s.event(x, "", chunk(choice(map[string]any{}, "stop"), nil))
	if x.in.StreamOptions != nil && x.in.StreamOptions.IncludeUsage {
		prompt, completion := x.in.promptTokens(), EstimateTokens(strings.Join(parts, ""))
		s.event(x, "", chunk([]any{}, map[string]int{"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}))
	}
	s.event(x, "", "[DONE]")
}

func (s *Server) streamAnthropic(x *exchange, parts []string, b Behavior) {
	s.event(x, "message_start", mustJSON(map[string]any{"type": "message_start", "message": map[string]any{
		"id": x.id, "type": "message", "role": "assistant", "content": []any{}, "model": x.model,
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]int{"input_tokens": x.in.promptTokens(), "output_tokens": 1},
	}}))
	s.event(x, "content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	s.event(x, "ping", `{"type": "ping"}`)
	for _, p := range parts {
		if x.r.Context().Err() != nil {
			return
		}
		s.event(x, "content_block_delta", mustJSON(map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]string{"type": "text_delta", "text": p}}))
	}
	switch b.kind {
	case kindCut:
		panic(http.ErrAbortHandler)
	case kindHangAfter:
		s.wait(x, forever)
		return
	case kindErrorAfter:
		s.event(x, "error", anthropicError("overloaded_error", "Overloaded"))
		return
	}
	s.event(x, "content_block_stop", `{"type":"content_block_stop","index":0}`)
	s.event(x, "message_delta", mustJSON(map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil},
		"usage": map[string]int{"output_tokens": EstimateTokens(strings.Join(parts, ""))}}))
	s.event(x, "message_stop", `{"type":"message_stop"}`)
}
