package limit

import (
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

// step is one operation on a limiter in a table test.
type step struct {
	at      time.Duration
	reserve int // tokens to reserve; -1 means no reservation
	commit  int // when >= 0, commit the last reservation with this many tokens
	release bool
	observe *Observation
	cool    time.Duration // cooldown for this long from at
	wantOK  bool          // for reserve
}

func TestLimiterReserve(t *testing.T) {
	tests := []struct {
		name     string
		rpm, tpm int
		steps    []step
		check    time.Duration
		want     Headroom
	}{
		{
			name: "empty", rpm: 10, tpm: 1000,
			want: Headroom{Requests: 10, Tokens: 1000, RPM: 10, TPM: 1000},
		},
		{
			name: "reserve counts tokens and requests", rpm: 10, tpm: 1000,
			steps: []step{{reserve: 300, commit: -1, wantOK: true}},
			want:  Headroom{Requests: 9, Tokens: 700, RPM: 10, TPM: 1000},
		},
		{
			name: "tokens above headroom rejected", rpm: 10, tpm: 1000,
			steps: []step{
				{reserve: 800, commit: -1, wantOK: true},
				{reserve: 201, commit: -1, wantOK: false},
			},
			want: Headroom{Requests: 9, Tokens: 200, RPM: 10, TPM: 1000},
		},
		{
			name: "rpm exhausted", rpm: 2, tpm: 0,
			steps: []step{
				{reserve: 1, commit: -1, wantOK: true},
				{reserve: 1, commit: -1, wantOK: true},
				{reserve: 1, commit: -1, wantOK: false},
			},
			want: Headroom{Requests: 0, Tokens: unlimited, RPM: 2},
		},
		{
			name: "commit reconciles estimate with usage", rpm: 10, tpm: 1000,
			steps: []step{{reserve: 800, commit: 150, wantOK: true}},
			want:  Headroom{Requests: 9, Tokens: 850, RPM: 10, TPM: 1000},
		},
		{
			name: "release frees tokens but not the request", rpm: 10, tpm: 1000,
			steps: []step{{reserve: 800, commit: -1, release: true, wantOK: true}},
			want:  Headroom{Requests: 9, Tokens: 1000, RPM: 10, TPM: 1000},
		},
		{
			name: "window rolls after a minute", rpm: 10, tpm: 1000,
			steps: []step{
				{at: 0, reserve: 600, commit: -1, wantOK: true},
				{at: 30 * time.Second, reserve: 300, commit: -1, wantOK: true},
			},
			check: 60 * time.Second,
			want:  Headroom{Requests: 9, Tokens: 700, RPM: 10, TPM: 1000},
		},
		{
			name: "headers project the provider bucket", rpm: 100, tpm: 10000,
			steps: []step{
				{reserve: -1, commit: -1, observe: &Observation{
					HasRequests: true, RequestsLimit: 100, RequestsRemaining: 5, RequestsReset: 10 * time.Second,
					HasTokens: true, TokensLimit: 10000, TokensRemaining: 2000, TokensReset: 20 * time.Second,
				}},
				{reserve: 500, commit: -1, wantOK: true},
			},
			// The buckets refill to full by their resets: 9.5 requests and
			// 400 tokens per second.
			check: 6 * time.Second,
			want:  Headroom{Requests: 61, Tokens: 3900, RPM: 100, TPM: 10000},
		},
		{
			name: "header view without any limit does not refill", rpm: 100, tpm: 0,
			steps: []step{
				{reserve: -1, commit: -1, observe: &Observation{HasTokens: true, TokensRemaining: 300, TokensReset: 20 * time.Second}},
				{reserve: 100, commit: -1, wantOK: true},
			},
			check: 10 * time.Second,
			want:  Headroom{Requests: 99, Tokens: 200, RPM: 100, TPM: 0},
		},
		{
			name: "configured limit sizes a bucket the provider did not", rpm: 100, tpm: 10000,
			steps: []step{
				// 9700 tokens come back in 20s: 485/s.
				{reserve: -1, commit: -1, observe: &Observation{HasTokens: true, TokensRemaining: 300, TokensReset: 20 * time.Second}},
				{reserve: 100, commit: -1, wantOK: true},
			},
			check: 10 * time.Second,
			want:  Headroom{Requests: 99, Tokens: 5050, RPM: 100, TPM: 10000},
		},
		{
			name: "remaining without a limit refills at the configured rate", rpm: 60, tpm: 6000,
			steps: []step{
				{reserve: -1, commit: -1, observe: &Observation{HasRequests: true, RequestsRemaining: 0, HasTokens: true, TokensRemaining: 1000}},
			},
			check: 10 * time.Second,
			want:  Headroom{Requests: 10, Tokens: 2000, RPM: 60, TPM: 6000},
		},
		{
			name: "header view expires at reset", rpm: 100, tpm: 10000,
			steps: []step{
				{reserve: -1, commit: -1, observe: &Observation{
					HasTokens: true, TokensLimit: 10000, TokensRemaining: 0, TokensReset: 5 * time.Second,
				}},
			},
			check: 5 * time.Second,
			want:  Headroom{Requests: 100, Tokens: 10000, RPM: 100, TPM: 10000},
		},
		{
			name: "lower header limit replaces configured", rpm: 100, tpm: 10000,
			steps: []step{
				{reserve: -1, commit: -1, observe: &Observation{
					HasTokens: true, TokensLimit: 4000, TokensRemaining: 4000, TokensReset: time.Second,
				}},
			},
			check: 2 * time.Second,
			want:  Headroom{Requests: 100, Tokens: 4000, RPM: 100, TPM: 4000},
		},
		{
			name: "higher header limit ignored", rpm: 100, tpm: 10000,
			steps: []step{
				{reserve: -1, commit: -1, observe: &Observation{
					HasTokens: true, TokensLimit: 90000, TokensRemaining: 90000, TokensReset: time.Second,
				}},
			},
			check: 2 * time.Second,
			want:  Headroom{Requests: 100, Tokens: 10000, RPM: 100, TPM: 10000},
		},
		{
			name: "cooldown blocks admission", rpm: 10, tpm: 1000,
			steps: []step{
				{reserve: -1, commit: -1, cool: 7 * time.Second},
				{at: time.Second, reserve: 1, commit: -1, wantOK: false},
			},
			check: 2 * time.Second,
			want:  Headroom{Requests: 10, Tokens: 1000, RPM: 10, TPM: 1000, CooldownUntil: at(7 * time.Second)},
		},
		{
			name: "cooldown ends", rpm: 10, tpm: 1000,
			steps: []step{
				{reserve: -1, commit: -1, cool: 7 * time.Second},
				{at: 7 * time.Second, reserve: 1, commit: -1, wantOK: true},
			},
			check: 7 * time.Second,
			want:  Headroom{Requests: 9, Tokens: 999, RPM: 10, TPM: 1000},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(tt.rpm, tt.tpm)
			var last *Reservation
			for i, s := range tt.steps {
				now := at(s.at)
				if s.observe != nil {
					l.Observe(now, *s.observe)
				}
				if s.cool > 0 {
					l.Cooldown(now.Add(s.cool))
				}
				if s.reserve >= 0 {
					r, ok := l.Reserve(now, s.reserve)
					if ok != s.wantOK {
						t.Fatalf("step %d: Reserve(%v, %d) ok = %v, want %v", i, s.at, s.reserve, ok, s.wantOK)
					}
					if ok {
						last = r
					}
				}
				if s.commit >= 0 {
					last.Commit(s.commit)
				}
				if s.release {
					last.Release()
				}
			}
			if got := l.Headroom(at(tt.check)); got != tt.want {
				t.Errorf("Headroom(%v) = %+v, want %+v", tt.check, got, tt.want)
			}
		})
	}
}

func TestReservationSettlesOnce(t *testing.T) {
	l := New(0, 1000)
	r, ok := l.Reserve(t0, 500)
	if !ok {
		t.Fatal("Reserve(500) failed on an empty limiter")
	}
	r.Commit(100)
	r.Release() // must not give back the committed 100
	r.Commit(900)
	if got, want := l.Headroom(t0).Tokens, 900; got != want {
		t.Errorf("Headroom().Tokens = %d, want %d", got, want)
	}
}

func TestReservationAfterWindow(t *testing.T) {
	// A reservation settled after its entry left the window changes nothing.
	l := New(0, 1000)
	r, _ := l.Reserve(t0, 500)
	if got := l.Headroom(at(61 * time.Second)).Tokens; got != 1000 {
		t.Fatalf("Headroom(61s).Tokens = %d, want 1000", got)
	}
	r.Commit(900)
	if got := l.Headroom(at(61 * time.Second)).Tokens; got != 1000 {
		t.Errorf("Headroom(61s).Tokens after late Commit = %d, want 1000", got)
	}
}

func TestEarliestFit(t *testing.T) {
	tests := []struct {
		name     string
		rpm, tpm int
		setup    func(l *Limiter)
		tokens   int
		want     time.Duration
		wantOK   bool
	}{
		{name: "fits now", rpm: 10, tpm: 1000, tokens: 1000, want: 0, wantOK: true},
		{name: "never fits", rpm: 10, tpm: 1000, tokens: 1001, wantOK: false},
		{
			name: "waits for oldest entries", rpm: 10, tpm: 1000, tokens: 600,
			setup: func(l *Limiter) {
				l.Reserve(at(0), 400)
				l.Reserve(at(10*time.Second), 400)
				l.Reserve(at(20*time.Second), 100)
			},
			want: 70 * time.Second, wantOK: true,
		},
		{
			name: "waits for a request slot", rpm: 2, tpm: 0, tokens: 1,
			setup: func(l *Limiter) {
				l.Reserve(at(5*time.Second), 1)
				l.Reserve(at(6*time.Second), 1)
			},
			want: 65 * time.Second, wantOK: true,
		},
		{
			name: "cooldown", rpm: 10, tpm: 1000, tokens: 1,
			setup: func(l *Limiter) { l.Cooldown(at(12 * time.Second)) },
			want:  12 * time.Second, wantOK: true,
		},
		{
			name: "provider says no tokens until reset", rpm: 10, tpm: 0, tokens: 10,
			setup: func(l *Limiter) {
				l.Observe(at(25*time.Second), Observation{HasTokens: true, TokensRemaining: 5, TokensReset: 8 * time.Second})
			},
			want: 33 * time.Second, wantOK: true,
		},
		{
			name: "provider bucket refills", rpm: 10, tpm: 6000, tokens: 1500,
			setup: func(l *Limiter) {
				// 500 left of 6000 at 30s; 100 tokens per second come back.
				l.Observe(at(30*time.Second), Observation{HasTokens: true, TokensLimit: 6000, TokensRemaining: 500, TokensReset: 55 * time.Second})
			},
			want: 40 * time.Second, wantOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(tt.rpm, tt.tpm)
			if tt.setup != nil {
				tt.setup(l)
			}
			got, ok := l.EarliestFit(at(30*time.Second), tt.tokens)
			if ok != tt.wantOK {
				t.Fatalf("EarliestFit(%d) ok = %v, want %v", tt.tokens, ok, tt.wantOK)
			}
			if !ok {
				return
			}
			want := at(max(tt.want, 30*time.Second))
			if !got.Equal(want) {
				t.Errorf("EarliestFit(%d) = %v, want %v", tt.tokens, got.Sub(t0), want.Sub(t0))
			}
			// The answer is consistent with Reserve.
			if _, ok := l.Reserve(got, tt.tokens); !ok {
				t.Errorf("Reserve(%v, %d) failed at the time EarliestFit returned", got.Sub(t0), tt.tokens)
			}
		})
	}
}

func TestLimiterConcurrent(t *testing.T) {
	l := New(0, 100000)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 100 {
				r, ok := l.Reserve(t0, 100)
				if !ok {
					t.Errorf("Reserve failed in goroutine %d step %d", i, j)
					return
				}
				r.Commit(50)
			}
		}()
	}
	wg.Wait()
	if got, want := l.Headroom(t0).Tokens, 100000-800*50; got != want {
		t.Errorf("Headroom().Tokens = %d, want %d", got, want)
	}
}

func BenchmarkReserve(b *testing.B) {
	l := New(0, 0)
	now := t0
	for b.Loop() {
		now = now.Add(time.Millisecond)
		r, _ := l.Reserve(now, 1000)
		r.Commit(500)
	}
}

func TestLearnsOthersUse(t *testing.T) {
	// The provider refills 100 tokens/s (6000 a minute) and its headers say
	// so, but another user of the key takes 50/s: every 10s the remaining
	// count rises by 500, not 1000. The projection must learn the net rate.
	tests := []struct {
		name    string
		drain   int // tokens per second others take
		wantMin int
		wantMax int
	}{
		{name: "alone", drain: 0, wantMin: 6000, wantMax: 6000},   // 5000 + 10s × 100/s
		{name: "shared", drain: 50, wantMin: 2995, wantMax: 3010}, // 2500 + 10s × 50/s
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(0, 6000)
			remaining := 0
			var now time.Time
			for i := range 6 {
				now = at(time.Duration(i) * 10 * time.Second)
				l.Observe(now, Observation{HasTokens: true, TokensLimit: 6000, TokensRemaining: remaining,
					TokensReset: time.Duration(6000-remaining) * time.Second / 100})
				remaining += 10 * (100 - tt.drain)
			}
			// 10s after the last observation the projection holds 10s of the
			// net refill more (the headers alone would say 100/s).
			got := l.Headroom(now.Add(10 * time.Second)).Tokens
			if got < tt.wantMin || got > tt.wantMax {
				t.Errorf("Headroom(+10s).Tokens = %d, want %d..%d", got, tt.wantMin, tt.wantMax)
			}
		})
	}
}
