package agent_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/codemux/codemux/agent/agenttest"
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
