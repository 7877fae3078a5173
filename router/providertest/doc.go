// Package providertest runs local HTTP servers that speak the providers' real
// wire formats, for tests.
//
// A Server speaks one dialect — OpenAI Chat Completions, Azure OpenAI,
// Anthropic Messages or an OpenAI-compatible server — on the real paths,
// checks credentials the way the real service does (401 with the service's
// error body), sends the service's rate-limit headers on every response and
// answers 429 with retry-after once its own RPM or TPM limit is used up over
// a rolling minute. Each request can be scripted: a normal answer, a 429, a
// 500, an overload, a hang, a stream cut after N deltas, an error event
// mid-stream, a context-length error, a malformed body, a slow first token or
// any raw response.
//
// Rate-limit accounting follows the injected clock (Options.Now), so tests
// about limits are deterministic. Reset headers say when the next unit of the
// window frees up: the moment the oldest request (or token use) still in the
// window leaves it; 0 when the window is empty.
//
// Token counts are estimates (one token per four bytes of text, rounded up):
// the server needs consistent numbers, not a tokenizer.
//
// # Usage
//
//	srv := providertest.NewServer(t, providertest.Options{
//		Dialect: providertest.Anthropic,
//		APIKey:  key,
//		RPM:     2,
//	})
//	srv.Enqueue(providertest.Overloaded(), providertest.OK("hello there"))
//	// point the client at srv.URL with key, send requests, then:
//	for _, r := range srv.Requests() {
//		if bytes.Contains(r.Body, secret) { t.Errorf(...) }
//	}
//
// When the script queue is empty the server answers with Options.Default,
// or echoes the last user message when that is the zero Behavior.
//
// # Concurrency
//
// A Server serves each request on its own goroutine (net/http). All methods
// are safe for concurrent use. Close (also registered with tb.Cleanup)
// releases hanging handlers and waits for every handler to return.
// Recorded headers hold the credentials the client sent: assert on them,
// never print them (Request.String omits them).
package providertest
