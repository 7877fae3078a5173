package agent_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/codemux/codemux/agent/agenttest"
	"github.com/codemux/codemux/router/provider"
	"github.com/codemux/codemux/router/providertest"
	"github.com/codemux/codemux/rpc"
)

// BenchmarkStatusRoundTrip measures one codemux/status round trip, in
// process and through a real forwarder subprocess to the daemon. It reports
// the median and p99 besides ns/op.
//
//	go test -run XXX -bench StatusRoundTrip ./agent/
func BenchmarkStatusRoundTrip(b *testing.B) {
	for _, mode := range agenttest.Modes {
		b.Run(string(mode), func(b *testing.B) {
			ctx := context.Background()
			home := agenttest.Home(b)
			ed := agenttest.NewEditor(b, agenttest.Connect(b, mode, home, nil))
			if _, err := ed.Initialize(ctx, "bench"); err != nil {
				b.Fatal(err)
			}
			lat := make([]time.Duration, 0, b.N)
			var st rpc.StatusResult
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				if err := ed.Call(ctx, rpc.MethodStatus, nil, &st); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkIdleDaemonRSS starts a real daemon, lets one client connect and
// leave, and reports the daemon's resident memory while idle.
//
//	go test -run XXX -bench IdleDaemonRSS -benchtime 1x ./agent/
func BenchmarkIdleDaemonRSS(b *testing.B) {
	for i := 0; i < b.N; i++ {
		home := agenttest.Home(b)
		d := agenttest.Command(b, home, "daemon", "--idle-timeout", "0")
		stderr, _ := d.StderrPipe()
		if err := d.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		for sc.Scan() && !strings.Contains(sc.Text(), "daemon listening") {
		}
		if out, err := agenttest.Command(b, home, "status", "--json").CombinedOutput(); err != nil {
			b.Fatalf("status: %v: %s", err, out)
		}
		time.Sleep(500 * time.Millisecond)
		rss := vmRSS(b, d.Process.Pid)
		d.Process.Kill()
		d.Wait()
		b.ReportMetric(float64(rss)/(1<<20), "idle-RSS-MiB")
	}
}

func vmRSS(b *testing.B, pid int) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			var kb int64
			fmt.Sscanf(strings.TrimPrefix(l, "VmRSS:"), "%d", &kb)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

// BenchmarkAskFirstToken measures what codemux adds before the first
// streamed token of an answer — retrieval over a GOROOT/src index, prompt
// assembly, redaction and routing — against a local provider that answers
// at once. It reports p50/p99 of request → first askDelta, and the same
// provider's own time to first token measured directly, for subtraction.
//
//	go test -run XXX -bench AskFirstToken -benchtime 200x -timeout 30m ./agent/
func BenchmarkAskFirstToken(b *testing.B) {
	ctx := context.Background()
	key := "sk-bench" + strings.Repeat("x", 24)
	b.Setenv("CMXBENCH_KEY", key)
	home := agenttest.Home(b)
	srv := providertest.NewServer(b, providertest.Options{Dialect: providertest.OpenAI, APIKey: key,
		Default: providertest.OK("The first token arrives here and the rest follows.")})
	cfg := fmt.Sprintf("accounts:\n  - name: bench\n    provider: openai\n    base_url: %s\n    api_key_env: CMXBENCH_KEY\n    models:\n      - {model: gpt-4o-mini, rpm: 1000000, tpm: 1000000000}\n", srv.URL)
	if err := os.WriteFile(filepath.Join(home, "config.yaml"), []byte(cfg), 0o600); err != nil {
		b.Fatal(err)
	}
	out, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Skip(err)
	}
	root := filepath.Join(strings.TrimSpace(string(out)), "src")

	var mu sync.Mutex
	first := map[string]time.Time{}
	conn := agenttest.Connect(b, agenttest.InProcess, home, nil)
	c := rpc.NewClient(ctx, conn, &rpc.ClientOptions{OnNotify: func(m string, p json.RawMessage) {
		if m != rpc.MethodAskDelta {
			return
		}
		var d rpc.AskDelta
		if json.Unmarshal(p, &d) == nil {
			mu.Lock()
			if _, ok := first[d.ID]; !ok {
				first[d.ID] = time.Now()
			}
			mu.Unlock()
		}
	}})
	defer c.Close()
	pid := os.Getpid()
	if err := c.Call(ctx, rpc.MethodInitialize, rpc.InitializeParams{ProcessID: &pid, WorkspaceFolders: []rpc.WorkspaceFolder{{URI: "file://" + root}}}, nil); err != nil {
		b.Fatal(err)
	}
	var sum rpc.IndexSummary
	if err := c.Call(ctx, rpc.MethodIndex, rpc.IndexParams{}, &sum); err != nil {
		b.Fatal(err)
	}
	b.Logf("index: %d files, %d chunks", sum.Files, sum.Chunks)

	// The provider's own time to first token, measured directly.
	direct := make([]time.Duration, 0, 50)
	cl, _ := provider.New(provider.Config{Provider: provider.OpenAI, BaseURL: srv.URL, APIKey: key})
	for i := 0; i < 50; i++ {
		t0 := time.Now()
		var ttft time.Duration
		_, err := cl.Complete(ctx, &provider.Request{Model: "gpt-4o-mini", Messages: []provider.Message{{Role: "user", Content: "hi"}}, MaxTokens: 64},
			func(string) {
				if ttft == 0 {
					ttft = time.Since(t0)
				}
			})
		if err != nil {
			b.Fatal(err)
		}
		direct = append(direct, ttft)
	}

	questions := []string{"how does the http client follow redirects", "where is the json decoder's token buffer grown",
		"how are goroutines parked on a channel", "what does strconv do with underscores in numbers",
		"how is a tls handshake resumed", "where are timers stopped", "how does sort pick a pivot"}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		var res rpc.AskResult
		if err := c.Call(ctx, rpc.MethodAsk, rpc.AskParams{Question: questions[i%len(questions)], Stream: true}, &res); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		ft, ok := first[res.ID]
		mu.Unlock()
		if !ok {
			b.Fatalf("no delta for ask %s", res.ID)
		}
		lat = append(lat, ft.Sub(t0))
	}
	b.StopTimer()
	pct := func(d []time.Duration, p int) float64 {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return float64(d[(len(d)-1)*p/100].Microseconds()) / 1000
	}
	b.ReportMetric(pct(lat, 50), "p50-first-token-ms")
	b.ReportMetric(pct(lat, 99), "p99-first-token-ms")
	b.ReportMetric(pct(direct, 50), "p50-provider-only-ms")
	b.ReportMetric(pct(direct, 99), "p99-provider-only-ms")
}
