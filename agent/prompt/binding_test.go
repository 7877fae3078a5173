package prompt

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/codemux/codemux/router"
	"github.com/codemux/codemux/router/provider"
	"github.com/codemux/codemux/router/providertest"
)

// threePieces are pieces of a question about handleSearch.
func threePieces() []Piece {
	return []Piece{
		{Path: "server/handler.go", StartLine: 40, EndLine: 45, Language: "go", Symbol: "Server.handleSearch", Text: "func (s *Server) handleSearch() {}"},
		{Path: "index/search.go", StartLine: 10, EndLine: 20, Language: "go", Symbol: "Index.Search", Text: "func (ix *Index) Search() {}"},
		{Path: "docs/search.md", StartLine: 1, EndLine: 3, Language: "markdown", Text: "# Search"},
	}
}

// bindRequest binds in to task with the built-in prompts and returns the
// binding and its first request.
func bindRequest(t *testing.T, task string, in Input) (*Binding, *router.Request) {
	t.Helper()
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Bind(task, in)
	if err != nil {
		t.Fatalf("Bind(%q) = %v", task, err)
	}
	req, err := b.Request()
	if err != nil {
		t.Fatalf("Request() = %v", err)
	}
	return b, req
}

func TestBind(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := r.Bind("", Input{Question: "How does search work?", Pieces: threePieces()})
	if err != nil {
		t.Fatalf("Bind() = %v", err)
	}
	if b.Task() != TaskChat {
		t.Errorf("Bind(\"\").Task() = %q, want %q", b.Task(), TaskChat)
	}
	if _, ok := b.Last(); ok {
		t.Errorf("Last() before any rendering reports a rendering")
	}
	req, err := b.Request()
	if err != nil {
		t.Fatalf("Request() = %v", err)
	}
	if req.Kind != TaskChat || req.Render == nil || req.System == "" || len(req.Messages) != 1 {
		t.Errorf("Request() = kind %q, render set %v, system %d bytes, %d messages; want chat, a renderer, a system prompt and one message",
			req.Kind, req.Render != nil, len(req.System), len(req.Messages))
	}
	for i, p := range req.Context {
		if want := []string{"0", "1", "2"}[i]; p.ID != want || p.Rank != i || !strings.Contains(p.Text, threePieces()[i].Text) {
			t.Errorf("Request().Context[%d] = %+v, want ID %q, rank %d and the piece text", i, p, want, i)
		}
	}

	tests := []struct {
		model   string
		kept    []router.Piece
		want    []string // piece texts present, in order
		absent  []string
		version string
	}{
		{"claude-haiku-4-5", req.Context, []string{"handleSearch", "Index) Search", "# Search"}, nil, "chat/claude@1"},
		{"gpt-4o-mini", []router.Piece{req.Context[2], req.Context[0]}, []string{"# Search", "handleSearch"}, []string{"Index) Search"}, "chat/gpt@1"},
		{"llama3.1:8b", nil, nil, []string{"handleSearch", "Index) Search", "# Search"}, "chat/small@1"},
		{"phi-4", []router.Piece{{ID: "unknown"}, req.Context[1]}, []string{"Index) Search"}, []string{"handleSearch"}, "chat/small@1"},
	}
	for _, tt := range tests {
		t.Run(tt.model, func(t *testing.T) {
			system, msgs := b.Render(router.ModelInfo{Name: tt.model}, tt.kept)
			if system == "" || len(msgs) != 1 {
				t.Fatalf("Render(%q) = %q, %v; want a system prompt and one message", tt.model, system, msgs)
			}
			user, at := msgs[0].Content, 0
			for _, w := range tt.want {
				i := strings.Index(user[at:], w)
				if i < 0 {
					t.Fatalf("Render(%q) user message lacks %q after offset %d:\n%s", tt.model, w, at, user)
				}
				at += i
			}
			for _, a := range tt.absent {
				if strings.Contains(user, a) {
					t.Errorf("Render(%q) user message contains dropped piece %q:\n%s", tt.model, a, user)
				}
			}
			rd, ok := b.Last()
			if !ok || rd.Version != tt.version || rd.Family != Family(tt.model) || rd.System != system {
				t.Errorf("Last() = %+v, %v; want version %q for what Render returned", rd, ok, tt.version)
			}
		})
	}
	if err := b.Err(); err != nil {
		t.Errorf("Err() = %v", err)
	}
}

func TestBindErrors(t *testing.T) {
	r, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, task string
		in         Input
		want       string
	}{
		{"unknown task", "summarise", Input{Question: "q"}, `unknown task "summarise"`},
		{"duplicate IDs", "chat", Input{Question: "q", Pieces: []Piece{{ID: "a"}, {ID: "a"}}}, `two pieces have ID "a"`},
		{"numbered ID collides", "chat", Input{Question: "q", Pieces: []Piece{{ID: "1"}, {}}}, `two pieces have ID "1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.Bind(tt.task, tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Bind(%q) = %v, want an error saying %q", tt.task, err, tt.want)
			}
		})
	}
}

// wireKey builds an obviously fake key at run time.
func wireKey(name string) string {
	return strings.Join([]string{"sk", "test", name, "0123456789abcdef"}, "-")
}

// TestBindingWithRouter routes a bound question through the real router
// and provider clients to local servers speaking the OpenAI and Anthropic
// wire formats: the first account is rate limited, so the answer comes
// from Claude, rendered with the claude template, and each server received
// its own family's prompt.
func TestBindingWithRouter(t *testing.T) {
	oa := providertest.NewServer(t, providertest.Options{Dialect: providertest.OpenAI, APIKey: wireKey("oa")})
	an := providertest.NewServer(t, providertest.Options{Dialect: providertest.Anthropic, APIKey: wireKey("an")})
	oa.Enqueue(providertest.RateLimited(20 * time.Second))
	an.Enqueue(providertest.OK("<thinking>\nhandleSearch calls Index.Search.\n</thinking>\n<answer>\nSure! `handleSearch` delegates to `Index.Search` (index/search.go:10).\n</answer>"))
	rt, err := router.New(router.Config{Accounts: []router.AccountConfig{
		{Name: "openai-a", Provider: provider.OpenAI, BaseURL: oa.URL, APIKey: router.NewSecret(wireKey("oa")), Priority: -1,
			Models: []router.ModelLimit{{Model: "gpt-5", RPM: 100, TPM: 1000000}}},
		{Name: "claude-b", Provider: provider.Anthropic, BaseURL: an.URL, APIKey: router.NewSecret(wireKey("an")),
			Models: []router.ModelLimit{{Model: "claude-sonnet-4-5", RPM: 100, TPM: 1000000}}},
	}}, &router.Options{Rand: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatalf("router.New() = %v", err)
	}
	b, req := bindRequest(t, TaskReason, Input{Question: "Why is search slow?", Pieces: threePieces()})
	res, err := rt.Do(context.Background(), req, nil)
	if err != nil {
		t.Fatalf("Do() = %v", err)
	}
	rd, ok := b.Last()
	if !ok || rd.Version != "reason/claude@1" || res.Model == "" || Family(res.Model) != FamilyClaude {
		t.Errorf("after Do: Last() = %q (%v), answered by %q; want reason/claude@1 from a claude model", rd.Version, ok, res.Model)
	}
	if got, want := Postprocess(rd.Family, res.Text), "`handleSearch` delegates to `Index.Search` (index/search.go:10)."; got != want {
		t.Errorf("Postprocess(answer) = %q, want %q", got, want)
	}

	// sent returns every string in the one request body srv received.
	sent := func(srv *providertest.Server) string {
		t.Helper()
		reqs := srv.Requests()
		if len(reqs) != 1 {
			t.Fatalf("server got %d requests, want 1", len(reqs))
		}
		var body any
		if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
			t.Fatalf("decoding request body: %v", err)
		}
		var all strings.Builder
		var walk func(v any)
		walk = func(v any) {
			switch v := v.(type) {
			case string:
				all.WriteString(v + "\n")
			case []any:
				for _, e := range v {
					walk(e)
				}
			case map[string]any:
				for _, e := range v {
					walk(e)
				}
			}
		}
		walk(body)
		return all.String()
	}
	tests := []struct {
		name    string
		srv     *providertest.Server
		want    []string
		notWant []string
	}{
		{"openai got the gpt prompt", oa, []string{"## server/handler.go:40-45", "# Question"}, []string{"<code path="}},
		{"anthropic got the claude prompt", an, []string{`<code path="server/handler.go" lines="40-45"`, "<thinking>"}, []string{"# Question"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := sent(tt.srv)
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("request body lacks %s:\n%s", w, body)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(body, w) {
					t.Errorf("request body contains %s:\n%s", w, body)
				}
			}
		})
	}
}

// TestBindingTrimmed routes to a small-window model: the router drops the
// lowest-ranked pieces and the prompt the server receives holds exactly
// the pieces the result reports as used.
func TestBindingTrimmed(t *testing.T) {
	srv := providertest.NewServer(t, providertest.Options{Dialect: providertest.OpenAICompatible})
	srv.Enqueue(providertest.OK("<answer>\nThe first piece answers it (a.go:1).\n</answer>"))
	catalog := router.DefaultCatalog()
	catalog["llama3.1:8b"] = router.ModelInfo{Name: "llama3.1:8b", ContextWindow: 2600, MaxOutputTokens: 200, Tier: 1}
	rt, err := router.New(router.Config{Models: catalog, Accounts: []router.AccountConfig{
		{Name: "local", Provider: provider.OpenAICompatible, BaseURL: srv.URL, Models: []router.ModelLimit{{Model: "llama3.1:8b"}}},
	}}, &router.Options{Rand: func() float64 { return 0.5 }})
	if err != nil {
		t.Fatalf("router.New() = %v", err)
	}
	words := []string{"alpha", "bravo", "charlie"}
	var pieces []Piece
	for i, w := range words {
		pieces = append(pieces, Piece{Path: string(rune('a'+i)) + ".go", StartLine: 1, EndLine: 60, Language: "go", Text: strings.Repeat(w+" ", 500)})
	}
	b, req := bindRequest(t, TaskExplain, Input{Question: "Which piece answers it?", Pieces: pieces})
	res, err := rt.Do(context.Background(), req, nil)
	if err != nil {
		t.Fatalf("Do() = %v", err)
	}
	if res.Trimmed == 0 || len(res.ContextUsed) == 0 {
		t.Fatalf("Do() trimmed %d pieces and used %v; want some trimmed and some kept", res.Trimmed, res.ContextUsed)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	body := string(reqs[0].Body)
	for i, w := range words {
		used := i < len(res.ContextUsed)
		if got := strings.Contains(body, w+" "+w); got != used {
			t.Errorf("request body holds piece %d (%s) = %v, want %v (used %v)", i, w, got, used, res.ContextUsed)
		}
	}
	if rd, ok := b.Last(); !ok || rd.Version != "explain/small@1" {
		t.Errorf("Last() = %q, %v, want explain/small@1", rd.Version, ok)
	}
}

func TestBindingConcurrentRender(t *testing.T) {
	b, req := bindRequest(t, TaskGenerate, Input{Question: "Add a limit flag.", Pieces: threePieces()})
	models := []string{"gpt-4o", "claude-haiku-4-5", "qwen3:8b", "o3"}
	done := make(chan struct{})
	for _, m := range models {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 20 {
				if system, _ := b.Render(router.ModelInfo{Name: m}, req.Context); system == "" {
					t.Errorf("Render(%q) returned an empty system prompt", m)
					return
				}
			}
		}()
	}
	for range models {
		<-done
	}
	rd, ok := b.Last()
	if !ok || !strings.HasPrefix(rd.Version, "generate/") {
		t.Errorf("Last() = %q, %v, want a generate template", rd.Version, ok)
	}
}
