package evalset

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestQuery(t *testing.T) {
	tests := []struct {
		name, comment, want string
	}{
		{"ParseConfig", "ParseConfig reads a file.\nIt fails on unknown keys.\n", "reads a file."},
		{"Serve", "The Serve method accepts connections.\n", "method accepts connections."},
		{"Reader", "A Reader's buffer is read\nin chunks.\n\nSecond paragraph.", "buffer is read in chunks."},
		{"Close", "Close closes, e.g. the file. Then more.", "closes, e.g. the file."},
		{"Process", "Process runs the job.", "runs the job."},
		{"Other", "Something else entirely here.", "Something else entirely here."},
		{"Empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Query(tt.name, tt.comment); got != tt.want {
				t.Errorf("Query(%q, %q) = %q, want %q", tt.name, tt.comment, got, tt.want)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	set, err := Load(context.Background(), "testdata/tree", &Options{MaxCases: -1})
	if err != nil {
		t.Fatalf("Load(testdata/tree) error: %v", err)
	}
	var ids []string
	for _, d := range set.Docs {
		ids = append(ids, d.ID+" "+d.Symbol)
		if strings.Contains(d.Text, "//") {
			t.Errorf("Doc %s text contains a comment: %q", d.ID, d.Text)
		}
		if !strings.HasPrefix(d.Text, "func") {
			t.Errorf("Doc %s text = %q, want it to start with func", d.ID, d.Text)
		}
	}
	wantIDs := []string{
		"pkg/conf.go:5 ParseConfig",
		"pkg/conf.go:10 short",
		"pkg/conf.go:15 Server.Serve",
		"pkg/conf.go:19 undocumented",
		"pkg/sub/list.go:6 List.Push",
	}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Errorf("Load docs = %q, want %q", ids, wantIDs)
	}
	got := map[string]string{}
	for _, c := range set.Cases {
		got[c.ID()] = c.Query
	}
	want := map[string]string{
		"pkg/conf.go:5":     "reads a configuration file and returns the settings it holds.",
		"pkg/conf.go:15":    "method accepts incoming connections on the listener forever.",
		"pkg/sub/list.go:6": "appends an item to the end of the list, growing it as needed.",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Load cases = %q, want %q", got, want)
	}
	if d := set.Docs[0]; d.EndLine != 7 {
		t.Errorf("Doc %s EndLine = %d, want 7", d.ID, d.EndLine)
	}
}

func TestLoadTestsAndSampling(t *testing.T) {
	ctx := context.Background()
	all, err := Load(ctx, "testdata/tree", &Options{MaxCases: -1, Tests: true})
	if err != nil {
		t.Fatalf("Load(Tests) error: %v", err)
	}
	if len(all.Docs) != 6 || len(all.Cases) != 4 {
		t.Fatalf("Load(Tests) = %d docs, %d cases, want 6, 4", len(all.Docs), len(all.Cases))
	}
	a, _ := Load(ctx, "testdata/tree", &Options{MaxCases: 2, Seed: 7, Tests: true})
	b, _ := Load(ctx, "testdata/tree", &Options{MaxCases: 2, Seed: 7, Tests: true})
	if len(a.Cases) != 2 || !reflect.DeepEqual(a.Cases, b.Cases) {
		t.Errorf("Load(MaxCases=2, Seed=7) twice = %v and %v, want the same 2 cases", a.Cases, b.Cases)
	}
}

func TestLoadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Load(ctx, "testdata/tree", nil); err == nil {
		t.Errorf("Load(cancelled) error = nil, want context.Canceled")
	}
}

func TestSubset(t *testing.T) {
	set, err := Load(context.Background(), "testdata/tree", &Options{MaxCases: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 100} {
		sub := set.Subset(n, 1)
		want := min(max(n, 1), len(set.Docs))
		if len(sub.Docs) != want {
			t.Errorf("Subset(%d) has %d docs, want %d", n, len(sub.Docs), want)
		}
		if _, ok := sub.Lookup()[set.Cases[0].ID()]; !ok {
			t.Errorf("Subset(%d) lost the answer %s", n, set.Cases[0].ID())
		}
	}
}

func TestScore(t *testing.T) {
	cases := []Case{{Rel: "a.go", StartLine: 1}, {Rel: "b.go", StartLine: 2}, {Rel: "c.go", StartLine: 3}, {Rel: "d.go", StartLine: 4}}
	tests := []struct {
		name   string
		ranked [][]string
		want   Metrics
	}{
		{"all first", [][]string{{"a.go:1"}, {"b.go:2"}, {"c.go:3"}, {"d.go:4"}}, Metrics{1, 1, 1, 1, 4}},
		{"mixed", [][]string{
			{"a.go:1", "x"},
			{"x", "b.go:2"},
			{"1", "2", "3", "4", "5", "6", "c.go:3"},
			{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "d.go:4"},
		}, Metrics{(1 + 0.5 + 1.0/7) / 4, 0.25, 0.5, 0.75, 4}},
		{"missing lists", [][]string{{"a.go:1"}}, Metrics{0.25, 0.25, 0.25, 0.25, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Score(tt.ranked, cases)
			if d := got.MRR10 - tt.want.MRR10; d > 1e-12 || d < -1e-12 || got.Recall1 != tt.want.Recall1 || got.Recall5 != tt.want.Recall5 || got.Recall10 != tt.want.Recall10 || got.N != tt.want.N {
				t.Errorf("Score(%v) = %v, want %v", tt.ranked, got, tt.want)
			}
		})
	}
}

func TestGoroot(t *testing.T) {
	if testing.Short() {
		t.Skip("parses GOROOT/src")
	}
	ctx := context.Background()
	root, err := GorootSrc(ctx)
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	set, err := Load(ctx, root+"/strings", nil)
	if err != nil {
		t.Fatalf("Load(%s) error: %v", root, err)
	}
	if len(set.Docs) < 100 || len(set.Cases) < 50 {
		t.Errorf("Load(GOROOT/src/strings) = %d docs, %d cases, want >= 100, >= 50", len(set.Docs), len(set.Cases))
	}
	for _, c := range set.Cases {
		if strings.HasPrefix(c.Query, c.Symbol+" ") {
			t.Errorf("case %s query %q starts with its symbol", c.ID(), c.Query)
		}
	}
}

func TestLoadSkipsBrokenFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"ok.go":     "package p\n\n// Fine does a perfectly ordinary thing for the test.\nfunc Fine() {}\n",
		"broken.go": "package p\n\n// Broken does not parse so it must be skipped entirely.\nfunc Broken( {\n",
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set, err := Load(context.Background(), dir, nil)
	if err != nil {
		t.Fatalf("Load error: %v", err)
	}
	if len(set.Docs) != 1 || set.Docs[0].Symbol != "Fine" || len(set.Cases) != 1 {
		t.Errorf("Load = %+v, want only Fine", set)
	}
}

func TestStripDocComments(t *testing.T) {
	src := "package p\n\n// Keep is a type comment and stays.\ntype Keep int\n\n// Frob turns\n// the widget.\n//\n//go:noinline\nfunc Frob() {\n\t// body comment stays\n}\n"
	blank := func(s string) string { return strings.Repeat(" ", len(s)) }
	want := "package p\n\n// Keep is a type comment and stays.\ntype Keep int\n\n" +
		blank("// Frob turns") + "\n" + blank("// the widget.") + "\n" + blank("//") +
		"\n//go:noinline\nfunc Frob() {\n\t// body comment stays\n}\n"
	got, err := StripDocComments([]byte(src))
	if err != nil || string(got) != want {
		t.Errorf("StripDocComments(%q) = %q, %v, want %q", src, got, err, want)
	}
	if _, err := StripDocComments([]byte("package p\nfunc (")); err == nil {
		t.Errorf("StripDocComments(broken) error = nil, want a parse error")
	}
}

func TestWriteStripped(t *testing.T) {
	ctx := context.Background()
	dst := t.TempDir()
	if err := WriteStripped(ctx, "testdata/tree", dst, nil); err != nil {
		t.Fatalf("WriteStripped error: %v", err)
	}
	orig, err := Load(ctx, "testdata/tree", &Options{MaxCases: -1})
	if err != nil {
		t.Fatal(err)
	}
	stripped, err := Load(ctx, dst, &Options{MaxCases: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(stripped.Cases) != 0 {
		t.Errorf("Load(stripped) has %d cases, want 0 (no doc comments left)", len(stripped.Cases))
	}
	if !reflect.DeepEqual(orig.Docs, stripped.Docs) {
		t.Errorf("Load(stripped).Docs = %+v, want %+v (same IDs and text)", stripped.Docs, orig.Docs)
	}
	if _, err := os.Stat(filepath.Join(dst, "pkg/conf_test.go")); !os.IsNotExist(err) {
		t.Errorf("WriteStripped copied a test file (stat error %v)", err)
	}
}
