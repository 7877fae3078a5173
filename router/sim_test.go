package router

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/codemux/codemux/router/provider"
	"github.com/codemux/codemux/router/tokens"
)

// The simulation runs the real router against scripted providers in a
// synctest bubble, so minutes of traffic run in virtual time. The providers
// keep token buckets the way OpenAI and Anthropic do (capacity = the per-
// minute limit, refilled continuously; prompt + max_tokens charged at
// admission and the unused part refunded at completion) and answer 429 with
// real-shaped headers when a bucket is short.

// simAccount is one scripted account.
type simAccount struct {
	name, prov, model, catalog string
	rpm, tpm                   int
	latency                    time.Duration // base latency; plus 8ms per output token
	bytesPerToken              float64       // the provider's true tokenizer, for estimated families
}

func simAccounts() []simAccount {
	return []simAccount{
		{name: "openai-a", prov: provider.OpenAI, model: "gpt-4o-mini", rpm: 300, tpm: 150000, latency: 300 * time.Millisecond},
		{name: "openai-b", prov: provider.OpenAI, model: "gpt-4o-mini", rpm: 100, tpm: 60000, latency: 300 * time.Millisecond},
		{name: "azure-eu", prov: provider.Azure, model: "mini-eu", catalog: "gpt-4o-mini", rpm: 60, tpm: 40000, latency: 400 * time.Millisecond},
		{name: "anthropic-a", prov: provider.Anthropic, model: "claude-haiku-4-5", rpm: 100, tpm: 80000, latency: 500 * time.Millisecond, bytesPerToken: 3.0},
	}
}

// simStats collects what happened in one run.
type simStats struct {
	mu       sync.Mutex
	start    time.Time
	from     time.Duration // capacity is measured over [from, horizon)
	horizon  time.Duration
	sends    int
	limited  int // provider-side 429s
	failed   int // injected 500s
	tokens   int // tokens of successful calls admitted before the horizon
	okStart  map[int]time.Time
	arrivals map[int]time.Time
	errors   int
	timeouts int // calls cut by the caller's deadline: capacity spent for nothing
	firstErr string
}

// bucket is a provider's token bucket. drain is what another user of the
// same key takes per minute, unseen by the router except through headers.
type bucket struct {
	size  float64
	level float64
	drain float64
	at    time.Time
}

func (b *bucket) refill(now time.Time) {
	b.level = math.Max(0, math.Min(b.size, b.level+(b.size-b.drain)*now.Sub(b.at).Seconds()/60))
	b.at = now
}

// wait is how long until the bucket holds n.
func (b *bucket) wait(n float64) time.Duration {
	if b.level >= n {
		return 0
	}
	return time.Duration((n - b.level) / b.size * float64(time.Minute))
}

// simProvider is a scripted provider.Client for one account.
type simProvider struct {
	acc      simAccount
	stats    *simStats
	counter  *tokens.Counter
	failRate float64

	mu        sync.Mutex
	rnd       *rand.Rand
	reqs, tok bucket
}

func newSimProvider(acc simAccount, stats *simStats, counter *tokens.Counter, failRate float64, seed uint64) *simProvider {
	now := time.Now()
	return &simProvider{
		acc: acc, stats: stats, counter: counter, failRate: failRate,
		rnd:  rand.New(rand.NewPCG(seed, uint64(len(acc.name)))),
		reqs: bucket{size: float64(acc.rpm), level: float64(acc.rpm), at: now},
		tok:  bucket{size: float64(acc.tpm), level: float64(acc.tpm), at: now},
	}
}

// promptTokens is the provider's own count of the prompt.
func (s *simProvider) promptTokens(req *provider.Request) int {
	n := 3
	count := func(text string) int {
		if s.acc.bytesPerToken > 0 {
			return int(math.Ceil(float64(len(text)) / s.acc.bytesPerToken))
		}
		return s.counter.Count(cmpOr(s.acc.catalog, s.acc.model), text)
	}
	n += count(req.System) + 4
	for _, m := range req.Messages {
		n += count(m.Content) + 4
	}
	return n
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// requestID reads the "#id " prefix the simulation puts on each question.
func requestID(req *provider.Request) int {
	last := req.Messages[len(req.Messages)-1].Content
	i := strings.LastIndex(last, "#")
	j := strings.IndexByte(last[i:], ' ')
	id, _ := strconv.Atoi(last[i+1 : i+j])
	return id
}

func (s *simProvider) limits(now time.Time) provider.Limits {
	return provider.Limits{
		HasRequests: true, RequestsLimit: s.acc.rpm, RequestsRemaining: int(s.reqs.level), RequestsReset: s.reqs.wait(s.reqs.size),
		HasTokens: true, TokensLimit: s.acc.tpm, TokensRemaining: int(s.tok.level), TokensReset: s.tok.wait(s.tok.size),
	}
}

func (s *simProvider) Complete(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
	start := time.Now()
	prompt := s.promptTokens(req)
	charge := float64(prompt + req.MaxTokens)
	s.mu.Lock()
	s.reqs.refill(start)
	s.tok.refill(start)
	s.stats.mu.Lock()
	s.stats.sends++
	s.stats.mu.Unlock()
	if s.reqs.level < 1 || s.tok.level < charge {
		l := s.limits(start)
		l.RetryAfter = max(s.reqs.wait(1), s.tok.wait(charge)).Round(time.Second) + time.Second
		s.mu.Unlock()
		s.stats.mu.Lock()
		s.stats.limited++
		s.stats.mu.Unlock()
		return nil, &provider.Error{Kind: provider.KindRateLimited, Status: 429, Message: "rate limit reached", Limits: l}
	}
	if s.rnd.Float64() < s.failRate {
		s.mu.Unlock()
		s.stats.mu.Lock()
		s.stats.failed++
		s.stats.mu.Unlock()
		return nil, &provider.Error{Kind: provider.KindServer, Status: 500, Message: "internal error"}
	}
	s.reqs.level--
	s.tok.level -= charge
	completion := 100 + s.rnd.IntN(500)
	s.mu.Unlock()

	select {
	case <-time.After(s.acc.latency + time.Duration(completion)*8*time.Millisecond):
	case <-ctx.Done():
		s.stats.mu.Lock()
		s.stats.timeouts++
		s.stats.mu.Unlock()
		return nil, &provider.Error{Kind: provider.KindTimeout, Message: "timed out", Err: ctx.Err()}
	}

	end := time.Now()
	s.mu.Lock()
	s.tok.refill(end)
	s.tok.level = math.Min(s.tok.size, s.tok.level+float64(req.MaxTokens-completion))
	l := s.limits(end)
	s.mu.Unlock()

	s.stats.mu.Lock()
	if since := start.Sub(s.stats.start); since >= s.stats.from && since < s.stats.horizon {
		s.stats.tokens += prompt + completion
	}
	s.stats.okStart[requestID(req)] = start
	s.stats.mu.Unlock()
	if onDelta != nil {
		onDelta("answer")
	}
	return &provider.Response{Text: "answer", Model: req.Model, FinishReason: "stop",
		Usage: provider.Usage{PromptTokens: prompt, CompletionTokens: completion}, Limits: l}, nil
}

// simWorkload is a traffic pattern.
type simWorkload struct {
	name     string
	load     float64       // arrival rate as a fraction of aggregate TPM capacity
	burst    int           // requests arriving together at the start
	duration time.Duration // arrivals stop after this
	failing  string        // account answering 30% of calls with 500s
	shared   string        // account whose key another user drains by a third
}

// simStrategy sends one request; it reports whether the user got an answer.
type simStrategy struct {
	name string
	run  func(t *testing.T, w simWorkload, stats *simStats, providers []*simProvider) func(ctx context.Context, id int, req *Request) error
}

// Request shape: ~1,500 prompt tokens (a system prompt, a question and eight
// context pieces from a pool of 64), max_tokens 800, 100-600 output tokens.
const (
	simMaxTokens = 800
	simMeanUsage = 1500 + 350
	simDeadline  = 30 * time.Second
)

func simRequest(id int, rnd *rand.Rand, pool []Piece) *Request {
	pieces := make([]Piece, 8)
	for i := range pieces {
		pieces[i] = pool[rnd.IntN(len(pool))]
		pieces[i].Rank = i
	}
	return &Request{
		System:    "You are a careful assistant for a Go code base. Answer briefly.",
		Messages:  []provider.Message{{Role: "user", Content: fmt.Sprintf("#%d how does the router pick an account?", id)}},
		Context:   pieces,
		MaxTokens: simMaxTokens,
	}
}

func simPool() []Piece {
	rnd := rand.New(rand.NewPCG(7, 7))
	words := strings.Fields("func return err nil ctx context time limit reserve commit tokens account model provider request response headroom window queue deadline select")
	pool := make([]Piece, 64)
	for i := range pool {
		var b strings.Builder
		for b.Len() < 660 {
			b.WriteString(words[rnd.IntN(len(words))])
			b.WriteString(" ")
		}
		pool[i] = Piece{ID: fmt.Sprintf("chunk-%d", i), Text: b.String()}
	}
	return pool
}

func simRouterConfig(accs []simAccount) Config {
	var cfg Config
	for _, a := range accs {
		cfg.Accounts = append(cfg.Accounts, AccountConfig{
			Name: a.name, Provider: a.prov, APIKey: NewSecret("sim"), Models: []ModelLimit{{Model: a.model, Catalog: a.catalog, RPM: a.rpm, TPM: a.tpm}},
		})
	}
	return cfg
}

// lockedRand is a concurrency-safe jitter source.
func lockedRand(seed uint64) func() float64 {
	var mu sync.Mutex
	r := rand.New(rand.NewPCG(seed, seed))
	return func() float64 {
		mu.Lock()
		defer mu.Unlock()
		return r.Float64()
	}
}

func routerStrategy(name string, only string) simStrategy {
	return simStrategy{name: name, run: func(t *testing.T, w simWorkload, stats *simStats, providers []*simProvider) func(context.Context, int, *Request) error {
		byName := make(map[string]provider.Client)
		var accs []simAccount
		for _, p := range providers {
			if only == "" || p.acc.name == only {
				byName[p.acc.name] = p
				accs = append(accs, p.acc)
			}
		}
		r, err := New(simRouterConfig(accs), &Options{
			NewClient: func(a AccountConfig) (provider.Client, error) { return byName[a.Name], nil },
			Rand:      lockedRand(1),
			Counter:   providers[0].counter,
		})
		if err != nil {
			t.Fatal(err)
		}
		return func(ctx context.Context, id int, req *Request) error {
			_, err := r.Do(ctx, req, nil)
			return err
		}
	}}
}

// naiveStrategy rotates over the accounts, moves to the next on a 429 or
// 5xx, and after a full round of failures sleeps a second and goes on until
// the deadline.
func naiveStrategy() simStrategy {
	return simStrategy{name: "naive round-robin", run: func(t *testing.T, w simWorkload, stats *simStats, providers []*simProvider) func(context.Context, int, *Request) error {
		var mu sync.Mutex
		next := 0
		return func(ctx context.Context, id int, req *Request) error {
			_, msgs := renderDefault(req, req.Context)
			for {
				for range providers {
					mu.Lock()
					p := providers[next%len(providers)]
					next++
					mu.Unlock()
					preq := &provider.Request{Model: p.acc.model, System: req.System, Messages: msgs, MaxTokens: req.MaxTokens}
					_, err := p.Complete(ctx, preq, nil)
					if err == nil {
						return nil
					}
					if ctx.Err() != nil {
						return ctx.Err()
					}
				}
				select {
				case <-time.After(time.Second):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}}
}

// simResult is one row of the comparison table.
type simResult struct {
	strategy, workload string
	requests           int
	capacityShare      float64 // successful tokens / aggregate TPM over the run
	failures           int
	timeouts           int
	limitedPerSend     float64
	p50, p99           time.Duration
	firstErr           string
}

func runSim(t *testing.T, s simStrategy, w simWorkload) simResult {
	var out simResult
	synctest.Test(t, func(t *testing.T) {
		accs := simAccounts()
		stats := &simStats{start: time.Now(), horizon: w.duration, okStart: make(map[int]time.Time), arrivals: make(map[int]time.Time)}
		if w.duration >= 4*time.Minute {
			// Buckets start full: the first minutes drain that reserve, so
			// capacity use is measured in the steady state after them.
			stats.from = 2 * time.Minute
		}
		counter := tokens.New()
		aggregate := 0 // TPM available to us
		for _, a := range accs {
			aggregate += a.tpm
		}
		var providers []*simProvider
		for i, a := range accs {
			fr := 0.0
			if a.name == w.failing {
				fr = 0.3
			}
			p := newSimProvider(a, stats, counter, fr, uint64(i+1))
			if a.name == w.shared {
				p.tok.drain = float64(a.tpm) / 3
				aggregate -= a.tpm / 3
			}
			providers = append(providers, p)
		}
		send := s.run(t, w, stats, providers)
		pool := simPool()
		rnd := rand.New(rand.NewPCG(42, 42))
		var wg sync.WaitGroup
		id := 0
		fire := func() {
			id++
			req, myID := simRequest(id, rnd, pool), id
			stats.mu.Lock()
			stats.arrivals[myID] = time.Now()
			stats.mu.Unlock()
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), simDeadline)
				defer cancel()
				if err := send(ctx, myID, req); err != nil {
					stats.mu.Lock()
					stats.errors++
					if stats.firstErr == "" {
						stats.firstErr = err.Error()
					}
					stats.mu.Unlock()
				}
			})
		}
		for range w.burst {
			fire()
		}
		if w.load > 0 {
			perMin := w.load * float64(aggregate) / simMeanUsage
			gap := time.Duration(float64(time.Minute) / perMin)
			for time.Since(stats.start) < w.duration {
				time.Sleep(time.Duration(rnd.ExpFloat64() * float64(gap)))
				fire()
			}
		}
		wg.Wait()

		var waits []time.Duration
		for id, at := range stats.arrivals {
			if s, ok := stats.okStart[id]; ok {
				waits = append(waits, s.Sub(at))
			}
		}
		slices.Sort(waits)
		pct := func(p float64) time.Duration {
			if len(waits) == 0 {
				return 0
			}
			return waits[min(int(p*float64(len(waits))), len(waits)-1)]
		}
		out = simResult{
			strategy: s.name, workload: w.name, requests: len(stats.arrivals),
			capacityShare:  float64(stats.tokens) / (float64(aggregate) * (w.duration - stats.from).Minutes()),
			failures:       stats.errors,
			timeouts:       stats.timeouts,
			limitedPerSend: float64(stats.limited) / float64(max(stats.sends, 1)),
			p50:            pct(0.50), p99: pct(0.99),
			firstErr: stats.firstErr,
		}
	})
	return out
}

// TestSimulation compares one account, naive round-robin and the router on
// four workloads and prints the table. It asserts the router's targets on
// the workloads where they apply. Run it with:
//
//	go test ./router -run TestSimulation -v
func TestSimulation(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("simulation skipped in -short mode and under the race detector")
	}
	workloads := []simWorkload{
		{name: "steady 60%", load: 0.6, duration: 5 * time.Minute},
		{name: "burst of 50", burst: 50, duration: time.Minute},
		{name: "2x overload", load: 2, duration: 5 * time.Minute},
		{name: "30% 500s on openai-a", load: 0.6, duration: 5 * time.Minute, failing: "openai-a"},
		{name: "2x, shared openai-a", load: 2, duration: 5 * time.Minute, shared: "openai-a"},
	}
	strategies := []simStrategy{
		routerStrategy("one account (openai-a)", "openai-a"),
		naiveStrategy(),
		routerStrategy("codemux", ""),
	}
	var rows []simResult
	for _, w := range workloads {
		for _, s := range strategies {
			rows = append(rows, runSim(t, s, w))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-22s %-22s %5s %9s %8s %8s %10s %9s %9s\n", "workload", "strategy", "reqs", "capacity", "failures", "cut", "429s/send", "p50 wait", "p99 wait")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-22s %-22s %5d %8.1f%% %8d %8d %9.1f%% %9s %9s\n", r.workload, r.strategy, r.requests,
			100*r.capacityShare, r.failures, r.timeouts, 100*r.limitedPerSend, r.p50.Round(time.Millisecond), r.p99.Round(time.Millisecond))
	}
	t.Log(b.String())
	for _, r := range rows {
		if r.strategy != "codemux" {
			continue
		}
		if r.limitedPerSend > 0.02 {
			t.Errorf("%s: codemux provider 429s = %.1f%% of sends, want ≤ 2%%", r.workload, 100*r.limitedPerSend)
		}
		if r.workload[:2] != "2x" && r.failures > 0 {
			t.Errorf("%s: codemux had %d user-visible failures with capacity to spare; first: %s", r.workload, r.failures, r.firstErr)
		}
		if r.workload[:2] == "2x" && r.capacityShare < 0.95 {
			t.Errorf("%s: codemux used %.1f%% of capacity, want ≥ 95%%", r.workload, 100*r.capacityShare)
		}
	}
}
