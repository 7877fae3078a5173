// Package router sends chat requests to the best account that can take them
// now, falling back and trimming context so rate limits never reach the user.
//
// A team's capacity is the sum of many accounts' requests and tokens per
// minute across providers. The router keeps, per (account, model), a
// rolling-minute limiter kept in sync with the provider's rate-limit headers
// (package limit), a circuit breaker with a half-open probe, backoff with
// full jitter, and EWMA latency and time to first token. For each request it:
//
//  1. counts the prompt offline (package tokens) and reserves prompt +
//     max_tokens on the chosen candidate;
//  2. chooses among candidates whose tier meets the request kind and whose
//     context window fits, dropping those with an open circuit, a cooldown or
//     no headroom, ordered by account priority, estimated cost, headroom
//     (spreading load across equal accounts) and latency;
//  3. when nothing fits now: degrades to a lower tier if the kind allows,
//     then trims the caller's ranked context pieces to fit a smaller window,
//     then waits in a fair FIFO queue for the earliest reset up to a
//     deadline, and only then fails with a *NoCandidateError that says why
//     each candidate was rejected;
//  4. on a 429, 5xx, timeout or network error before the first streamed
//     token moves to the next candidate at once; a stream cut mid-answer
//     continues on another candidate from the partial answer.
//
// Providers are only reached through provider.Client; the router makes every
// decision and the clients only translate and send.
//
// # Usage
//
//	r, err := router.New(cfg, &router.Options{Logger: log})
//	res, err := r.Do(ctx, &router.Request{Kind: "explain", Messages: msgs, Context: pieces}, nil)
//	for _, a := range r.Status() { … }
//	err = r.Reload(newCfg) // keeps the limiter state of unchanged accounts
//
// # Concurrency
//
// A Router is safe for concurrent use. Do runs on the caller's goroutine and
// starts none of its own; waiting requests block in Do until their turn in
// the queue, their context ends or the deadline passes. One mutex guards the
// accounts and the queue; token counting and provider calls happen outside
// it.
package router
