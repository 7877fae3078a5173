package secrets

import (
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

var (
	gorootReport = flag.Bool("goroot", false, "scan all of GOROOT/src and log findings by rule for false-positive review")
	reportDir    = flag.String("dir", "", "with -goroot: scan this directory instead of GOROOT/src")
)

// gorootFiles returns the paths of the regular files under GOROOT/src whose
// names SkipName accepts, in walk order, stopping once limit bytes are
// collected (limit <= 0: all).
func gorootFiles(tb testing.TB, limit int64) []string {
	tb.Helper()
	src := filepath.Join(runtime.GOROOT(), "src")
	if *reportDir != "" {
		src = *reportDir
	}
	if _, err := os.Stat(src); err != nil {
		tb.Skipf("GOROOT/src not available: %v", err)
	}
	var paths []string
	var total int64
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		if skip, _ := SkipName(p); skip {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if limit > 0 && total >= limit {
			return filepath.SkipAll
		}
		total += info.Size()
		paths = append(paths, p)
		return nil
	})
	if err != nil {
		tb.Fatalf("walking %s: %v", src, err)
	}
	return paths
}

// TestGorootFindings scans GOROOT/src and logs the number of findings by
// rule with a sample of each, so the rules' false positives on a large body
// of ordinary code can be reviewed: go test -run TestGorootFindings -goroot -v
func TestGorootFindings(t *testing.T) {
	if !*gorootReport {
		t.Skip("run with -goroot to scan GOROOT/src")
	}
	byRule := map[string]int{}
	samples := map[string][]string{}
	var files, bytes int
	for _, p := range gorootFiles(t, 0) {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		files++
		bytes += len(data)
		text := string(data)
		for _, f := range Scan(text) {
			byRule[f.Rule]++
			if len(samples[f.Rule]) < 15 {
				samples[f.Rule] = append(samples[f.Rule], findingSample(p, text, f))
			}
		}
	}
	rules := make([]string, 0, len(byRule))
	for r := range byRule {
		rules = append(rules, r)
	}
	sort.Strings(rules)
	t.Logf("scanned %d files, %d bytes", files, bytes)
	for _, r := range rules {
		t.Logf("%-18s %d", r, byRule[r])
		for _, s := range samples[r] {
			t.Logf("    %s", s)
		}
	}
}

// BenchmarkMask measures Mask over about 32 MB of GOROOT/src.
func BenchmarkMask(b *testing.B) {
	benchGoroot(b, 32<<20, func(text string) { Mask(text) })
}

// benchGoroot runs fn over the texts of gorootFiles(b, limit), reporting
// their bytes.
func benchGoroot(b *testing.B, limit int64, fn func(text string)) {
	var texts []string
	var total int64
	for _, p := range gorootFiles(b, limit) {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		texts = append(texts, string(data))
		total += int64(len(data))
	}
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		for _, text := range texts {
			fn(text)
		}
	}
}

// findingSample shows a finding for review: the file relative to
// GOROOT/src and the matched text, shortened to one line.
func findingSample(path, text string, f Finding) string {
	v := text[f.Start:f.End]
	if len(v) > 60 {
		v = v[:60] + "…"
	}
	rel := strings.TrimPrefix(path, filepath.Join(runtime.GOROOT(), "src")+"/")
	return rel + ": " + strings.ReplaceAll(v, "\n", `\n`)
}
