package router

import (
	"strings"

	"github.com/codemux/codemux/router/provider"
)

// Piece is one droppable piece of context, such as a retrieved code chunk.
type Piece struct {
	ID   string
	Text string
	// Rank orders pieces by importance: 0 is the most important; pieces are
	// trimmed highest rank first.
	Rank int
}

// Request is a chat request to route.
type Request struct {
	// Kind selects the tier policy: chat, explain, generate, tests, reason
	// or any kind the config defines; "" means chat.
	Kind     string
	System   string
	Messages []provider.Message
	// Context is the caller's ranked context; the router drops pieces from
	// the end of the ranking when a model's window is too small.
	Context []Piece
	// MaxTokens bounds the answer; 0 means the smaller of the model's output
	// limit and DefaultMaxTokens.
	MaxTokens int
	// Stream asks for the answer as deltas (onDelta in Do).
	Stream bool
	// Render builds the prompt from the pieces kept for model m. Nil means
	// the pieces are prepended to the last user message.
	Render func(m ModelInfo, pieces []Piece) (system string, msgs []provider.Message)
	// Models, when not empty, restricts the candidates to these model names
	// on any account: a name matches a configured model (the name sent to
	// the provider, an Azure deployment) or its catalog entry. Naming models
	// is choosing them, so the kind's minimum tier and degrading do not
	// apply. When no configured model matches, Do fails at once with a
	// *NoCandidateError saying so.
	Models []string
}

// DefaultMaxTokens bounds the answer when the request does not.
const DefaultMaxTokens = 4096

// continuePrompt asks a model to carry on an answer cut mid-stream.
const continuePrompt = "Your previous answer was cut off. Continue it exactly where it stopped, without repeating anything."

// Attempt is one call to a provider made for a request.
type Attempt struct {
	Account string `json:"account"`
	Model   string `json:"model"`
	// Outcome is "ok" or the provider error kind (rate_limited,
	// server_error, timeout, stream_cut, …) or "canceled".
	Outcome string `json:"outcome"`
	Ms      int64  `json:"ms"`
}

// Result is a completed answer and how it was obtained.
type Result struct {
	Text     string
	Model    string
	Account  string
	Usage    provider.Usage // summed over the attempts that reported usage
	Attempts []Attempt
	// ContextUsed lists the IDs of the pieces actually sent, in rank order.
	ContextUsed []string
	// Trimmed is how many pieces were dropped to fit the model's window.
	Trimmed int
	// Continued reports that a stream was cut and another candidate
	// finished the answer from the partial text.
	Continued bool
	// Degraded reports that a model below the kind's minimum tier answered.
	Degraded bool
}

// renderDefault prepends the pieces to the last user message.
func renderDefault(req *Request, pieces []Piece) (string, []provider.Message) {
	msgs := append([]provider.Message(nil), req.Messages...)
	if len(pieces) == 0 {
		return req.System, msgs
	}
	var b strings.Builder
	b.WriteString("Context:\n")
	for _, p := range pieces {
		b.WriteString("\n--- ")
		b.WriteString(p.ID)
		b.WriteString(" ---\n")
		b.WriteString(p.Text)
		b.WriteString("\n")
	}
	b.WriteString("\n---\n\n")
	last := -1
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == "user" {
			last = i
			break
		}
	}
	if last < 0 {
		msgs = append(msgs, provider.Message{Role: "user", Content: strings.TrimSuffix(b.String(), "\n---\n\n")})
		return req.System, msgs
	}
	msgs[last].Content = b.String() + msgs[last].Content
	return req.System, msgs
}

// render builds the provider request for one attempt.
func render(req *Request, info ModelInfo, model string, pieces []Piece, maxTokens int, partial string) *provider.Request {
	var system string
	var msgs []provider.Message
	if req.Render != nil {
		system, msgs = req.Render(info, pieces)
	} else {
		system, msgs = renderDefault(req, pieces)
	}
	if partial != "" {
		msgs = append(msgs[:len(msgs):len(msgs)],
			provider.Message{Role: "assistant", Content: partial},
			provider.Message{Role: "user", Content: continuePrompt})
	}
	return &provider.Request{Model: model, System: system, Messages: msgs, MaxTokens: maxTokens}
}
