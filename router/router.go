package router

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/codemux/codemux/router/limit"
	"github.com/codemux/codemux/router/provider"
	"github.com/codemux/codemux/router/tokens"
)

// Options tunes a Router. The zero value (or nil) means defaults.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// After is the timer used while queued; nil means time.After. It must
	// agree with Now.
	After func(d time.Duration) <-chan time.Time
	// Rand returns a uniform float in [0, 1) for backoff jitter; nil means
	// math/rand/v2. It must be safe for concurrent use.
	Rand func() float64
	// Logger receives one debug record per attempt; nil discards. Keys and
	// prompt text are never logged.
	Logger *slog.Logger
	// NewClient builds the client of an account; nil means provider.New
	// with the account's provider, base URL, key and API version.
	NewClient func(account AccountConfig) (provider.Client, error)
	// Counter counts prompt tokens; nil means a new tokens.Counter.
	Counter *tokens.Counter
	// QueueDeadline bounds how long a request whose context has no deadline
	// waits for capacity; 0 means 30s.
	QueueDeadline time.Duration
	// MaxAttempts bounds provider calls per request; 0 means 8.
	MaxAttempts int
	// BreakerThreshold is the consecutive failures that open a circuit; 0
	// means 5. BreakerCooldown is the first open period; 0 means 30s.
	BreakerThreshold int
	BreakerCooldown  time.Duration
}

// Router routes requests across accounts. Create it with New.
type Router struct {
	now       func() time.Time
	after     func(time.Duration) <-chan time.Time
	rand      func() float64
	log       *slog.Logger
	newClient func(AccountConfig) (provider.Client, error)
	counter   *tokens.Counter
	deadline  time.Duration
	attempts  int
	threshold int
	cooldown  time.Duration

	mu       sync.Mutex
	accounts []*account
	targets  []*target // all targets of all accounts, in config order
	kinds    map[string]KindPolicy
	encs     []string // encodings used by the targets
	queue    []*waiter
}

// account is one configured account and its client.
type account struct {
	cfg        AccountConfig
	client     provider.Client
	authFailed bool
	targets    []*target
}

// target is one (account, model) pair: the unit of selection.
type target struct {
	acct  *account
	model ModelLimit
	info  ModelInfo
	enc   string // tokens encoding of the model
	lim   *limit.Limiter
	h     *health // guarded by Router.mu; shared across reloads
}

func (t *target) String() string { return t.acct.cfg.Name + "/" + t.model.Model }

// New validates cfg and returns a Router for it.
func New(cfg Config, opts *Options) (*Router, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	r := &Router{
		now: o.Now, after: o.After, rand: o.Rand, log: o.Logger, newClient: o.NewClient,
		counter: o.Counter, deadline: o.QueueDeadline, attempts: o.MaxAttempts,
		threshold: o.BreakerThreshold, cooldown: o.BreakerCooldown,
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.after == nil {
		r.after = time.After
	}
	if r.rand == nil {
		r.rand = rand.Float64
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.newClient == nil {
		r.newClient = func(a AccountConfig) (provider.Client, error) {
			return provider.New(provider.Config{
				Provider: a.Provider, BaseURL: a.BaseURL, APIKey: a.APIKey.Reveal(), APIVersion: a.APIVersion,
				Logger: r.log, Now: r.now,
			})
		}
	}
	if r.counter == nil {
		r.counter = tokens.New()
	}
	if r.deadline <= 0 {
		r.deadline = 30 * time.Second
	}
	if r.attempts <= 0 {
		r.attempts = 8
	}
	if r.threshold <= 0 {
		r.threshold = defaultBreakerThreshold
	}
	if r.cooldown <= 0 {
		r.cooldown = defaultBreakerCooldown
	}
	if err := r.Reload(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload replaces the configuration. Accounts whose name and endpoint (provider,
// base URL, API version, key) are unchanged keep their client, and their
// models keep limiter state, health and latency; limits take the new values.
// Requests in flight finish on the accounts they started on.
func (r *Router) Reload(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("loading router config: %w", err)
	}
	cfg = cfg.withDefaults()

	r.mu.Lock()
	old := make(map[string]*account, len(r.accounts))
	for _, a := range r.accounts {
		old[a.cfg.Name] = a
	}
	r.mu.Unlock()

	// Build clients outside the lock; reuse those of unchanged accounts.
	accounts := make([]*account, 0, len(cfg.Accounts))
	var errs []error
	for _, ac := range cfg.Accounts {
		a := &account{cfg: ac}
		if prev := old[ac.Name]; prev != nil && sameEndpoint(prev.cfg, ac) {
			a.client = prev.client
			a.authFailed = prev.authFailed
		} else {
			c, err := r.newClient(ac)
			if err != nil {
				errs = append(errs, fmt.Errorf("account %q: %w", ac.Name, err))
				continue
			}
			a.client = c
		}
		accounts = append(accounts, a)
	}
	if len(errs) > 0 {
		return fmt.Errorf("loading router config: %w", errors.Join(errs...))
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	// Index the current targets again: a concurrent Reload may have run.
	prevTargets := make(map[[2]string]*target)
	for _, a := range r.accounts {
		for _, t := range a.targets {
			prevTargets[[2]string{a.cfg.Name, t.model.Model}] = t
		}
	}
	var targets []*target
	encs := make(map[string]bool)
	for _, a := range accounts {
		keep := old[a.cfg.Name] != nil && sameEndpoint(old[a.cfg.Name].cfg, a.cfg)
		for _, m := range a.cfg.Models {
			t := &target{acct: a, model: m, info: cfg.Models[m.CatalogName()], enc: tokens.EncodingFor(m.CatalogName())}
			if prev := prevTargets[[2]string{a.cfg.Name, m.Model}]; keep && prev != nil {
				t.lim, t.h = prev.lim, prev.h
				t.lim.SetLimits(m.RPM, m.TPM)
			} else {
				t.lim, t.h = limit.New(m.RPM, m.TPM), &health{}
			}
			a.targets = append(a.targets, t)
			targets = append(targets, t)
			encs[t.enc] = true
		}
	}
	r.accounts, r.targets, r.kinds = accounts, targets, cfg.Kinds
	r.encs = r.encs[:0]
	for _, e := range []string{tokens.O200K, tokens.CL100K, tokens.Estimate} {
		if encs[e] {
			r.encs = append(r.encs, e)
		}
	}
	r.wakeLocked()
	return nil
}

// AccountStatus is the state of one account, for codemux/status.
type AccountStatus struct {
	Name     string        `json:"name"`
	Provider string        `json:"provider"`
	Models   []ModelStatus `json:"models"`
}

// ModelStatus is the state of one model of an account.
type ModelStatus struct {
	Model         string    `json:"model"`
	RPMLimit      int       `json:"rpmLimit"`
	RPMLeft       int       `json:"rpmLeft"`
	TPMLimit      int       `json:"tpmLimit"`
	TPMLeft       int       `json:"tpmLeft"`
	Health        string    `json:"health"`
	CooldownUntil time.Time `json:"cooldownUntil,omitzero"`
	LatencyMs     float64   `json:"latencyMs,omitempty"`
	TTFTMs        float64   `json:"ttftMs,omitempty"`
	LastError     string    `json:"lastError,omitempty"`
}

// Status reports every account's limits, headroom, health and cooldown. A
// limit of 0 means not limited (its Left is then -1).
func (r *Router) Status() []AccountStatus {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]AccountStatus, 0, len(r.accounts))
	for _, a := range r.accounts {
		as := AccountStatus{Name: a.cfg.Name, Provider: a.cfg.Provider}
		for _, t := range a.targets {
			hr := t.lim.Headroom(now)
			ms := ModelStatus{
				Model: t.model.Model, RPMLimit: hr.RPM, RPMLeft: hr.Requests, TPMLimit: hr.TPM, TPMLeft: hr.Tokens,
				Health: t.h.status(now), LastError: t.h.lastErr,
			}
			if hr.RPM == 0 {
				ms.RPMLeft = -1
			}
			if hr.TPM == 0 {
				ms.TPMLeft = -1
			}
			if a.authFailed {
				ms.Health = HealthAuthFailed
			}
			cool := hr.CooldownUntil
			if ra := t.h.readyAt(); ra.After(now) && ra.After(cool) {
				cool = ra
			}
			ms.CooldownUntil = cool
			if t.h.latency.ok {
				ms.LatencyMs = t.h.latency.v
			}
			if t.h.ttft.ok {
				ms.TTFTMs = t.h.ttft.v
			}
			as.Models = append(as.Models, ms)
		}
		out = append(out, as)
	}
	return out
}
