package index

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/codemux/codemux/index/boltfile"
	"github.com/codemux/codemux/index/embed"
	"github.com/codemux/codemux/index/indextest"
	"github.com/codemux/codemux/index/store"
	"go.etcd.io/bbolt"
)

// smallFiles is the number of files of testdata/small.txtar the index
// holds: all but the two .gitignore'd ones.
const smallFiles = 7

type fixture struct {
	root, data string
	emb        *indextest.CountingEmbedder
	logs       *bytes.Buffer
	ix         *Index
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{
		root: indextest.Workspace(t, "testdata/small.txtar"),
		data: t.TempDir(),
		emb:  indextest.NewCountingEmbedder(),
		logs: &bytes.Buffer{},
	}
	f.open(t)
	t.Cleanup(func() { _ = f.ix.Close() })
	return f
}

func (f *fixture) open(t *testing.T) {
	t.Helper()
	ix, err := Open(context.Background(), f.root, &Options{
		DataDir:  f.data,
		Embedder: f.emb,
		Workers:  2,
		Logger:   slog.New(slog.NewTextHandler(f.logs, nil)),
	})
	if err != nil {
		t.Fatalf("Open(%s) = %v", f.root, err)
	}
	f.ix = ix
}

func (f *fixture) update(t *testing.T) Summary {
	t.Helper()
	sum, err := f.ix.Update(context.Background(), UpdateOptions{})
	if err != nil {
		t.Fatalf("Update() = %v", err)
	}
	if err := f.ix.st.Verify(context.Background()); err != nil {
		t.Fatalf("store after Update: %v", err)
	}
	return sum
}

func (f *fixture) search(t *testing.T, q Query) []Result {
	t.Helper()
	res, err := f.ix.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%q) = %v", q.Text, err)
	}
	return res
}

// paths returns "path:symbol" of each result.
func paths(res []Result) []string {
	out := make([]string, len(res))
	for i, r := range res {
		out[i] = r.Path + ":" + r.Symbol
	}
	return out
}

// fileChunks returns the chunk IDs stored per file.
func (f *fixture) fileChunks(t *testing.T) map[string][]uint32 {
	t.Helper()
	out := map[string][]uint32{}
	err := f.ix.st.Files(context.Background(), func(sf store.File) error {
		out[sf.Rel] = sf.ChunkIDs
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSearchFindsFunction(t *testing.T) {
	f := newFixture(t)
	if got := f.ix.Stats().State; got != StateEmpty {
		t.Errorf("Stats().State before Update = %q, want %q", got, StateEmpty)
	}
	sum := f.update(t)
	if sum.Files != smallFiles || sum.Indexed != smallFiles || sum.Chunks == 0 || sum.Embedded == 0 {
		t.Errorf("Update() = %+v, want %d files indexed with chunks and embeddings", sum, smallFiles)
	}
	if sum.SkippedReasons["ignored by .gitignore"] == 0 && sum.Skipped == 0 {
		t.Errorf("Update() skipped nothing; build/ and *.log are ignored: %+v", sum)
	}
	tests := []struct {
		query string
		mode  Mode
		want  string // path:symbol of the expected hit
		rank  int    // the most results before it
	}{
		{"read the json configuration file", Hybrid, "config/config.go:LoadConfig", 1},
		{"LoadConfig", Lexical, "config/config.go:LoadConfig", 0},
		{"load config", Vector, "config/config.go:LoadConfig", 1},
		{"standard deviation of values", Hybrid, "mathx/stats.py:standard_deviation", 0},
		{"retry with exponential backoff", Hybrid, "web/retry.js:retryWithBackoff", 0},
		{"accept connections listener", Lexical, "server/server.go:Server.Serve", 0},
		{"median", Hybrid, "mathx/stats.py:median", 0},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String()+"/"+tt.query, func(t *testing.T) {
			res := f.search(t, Query{Text: tt.query, K: 5, Mode: tt.mode})
			i := slices.Index(paths(res), tt.want)
			if i < 0 || i > tt.rank {
				t.Fatalf("Search(%q, %v) = %q, want %s within the first %d", tt.query, tt.mode, paths(res), tt.want, tt.rank+1)
			}
			r := res[i]
			if r.StartLine < 1 || r.EndLine < r.StartLine || r.Snippet == "" || r.Language == "" || r.Score <= 0 {
				t.Errorf("Search(%q) top result = %+v, want lines, language, score and snippet", tt.query, r)
			}
		})
	}
	for _, r := range f.search(t, Query{Text: "IgnoredBuildOutput ignored log line", K: 20, Mode: Lexical}) {
		if strings.HasPrefix(r.Path, "build/") || strings.HasSuffix(r.Path, ".log") {
			t.Errorf("Search found ignored file %s", r.Path)
		}
	}
	st := f.ix.Stats()
	if st.State != StateReady || st.Files != smallFiles || st.Chunks != sum.Chunks || st.DiskBytes <= 0 || st.MemoryBytes <= 0 {
		t.Errorf("Stats() = %+v, want ready with %d files and %d chunks", st, smallFiles, sum.Chunks)
	}
}

func TestSearchFilters(t *testing.T) {
	f := newFixture(t)
	f.update(t)
	tests := []struct {
		name string
		q    Query
		want func(Result) bool
	}{
		{"language", Query{Text: "values return", Languages: []string{"python"}}, func(r Result) bool { return r.Language == "python" }},
		{"directory", Query{Text: "server config", Paths: []string{"config"}}, func(r Result) bool { return strings.HasPrefix(r.Path, "config/") }},
		{"glob", Query{Text: "attempts delay", Paths: []string{"*.js"}}, func(r Result) bool { return strings.HasSuffix(r.Path, ".js") }},
		{"vector with filter", Query{Text: "connections", Mode: Vector, Paths: []string{"server/server.go"}}, func(r Result) bool { return r.Path == "server/server.go" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := f.search(t, tt.q)
			if len(res) == 0 {
				t.Fatalf("Search(%+v) found nothing", tt.q)
			}
			for _, r := range res {
				if !tt.want(r) {
					t.Errorf("Search(%+v) returned %s (%s), outside the filter", tt.q, r.Path, r.Language)
				}
			}
		})
	}
	if _, err := f.ix.Search(context.Background(), Query{Text: "  "}); err == nil {
		t.Errorf("Search(blank) = nil error, want one")
	}
}

func TestEditChangesOnlyThatFile(t *testing.T) {
	f := newFixture(t)
	f.update(t)
	before := f.fileChunks(t)
	f.emb.Texts()

	src, err := os.ReadFile(filepath.Join(f.root, "mathx", "stats.py"))
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), `"""Return the middle value of the sorted values."""`, `"""Return the median: the middle of the sorted values."""`, 1)
	indextest.WriteFile(t, f.root, "mathx/stats.py", edited)
	sum := f.update(t)
	if sum.Indexed != 1 || sum.Removed != 0 {
		t.Errorf("Update() after edit = %+v, want exactly 1 file indexed", sum)
	}
	if n := f.emb.Texts(); n != 1 {
		t.Errorf("embedded %d texts after editing one function, want 1", n)
	}
	after := f.fileChunks(t)
	for rel, ids := range before {
		if changed := !slices.Equal(ids, after[rel]); changed != (rel == "mathx/stats.py") {
			t.Errorf("chunk IDs of %s changed = %v after editing mathx/stats.py", rel, changed)
		}
	}
	res := f.search(t, Query{Text: "median middle sorted values", K: 1, Mode: Lexical})
	if len(res) == 0 || !strings.Contains(res[0].Snippet, "the median: the middle") {
		t.Errorf("Search after edit = %+v, want the new docstring in the snippet", res)
	}

	// Touching a file without changing it re-chunks nothing.
	now := f.ix.opts.Now()
	if err := os.Chtimes(filepath.Join(f.root, "web", "retry.js"), now, now); err != nil {
		t.Fatal(err)
	}
	sum = f.update(t)
	if sum.Indexed != 0 || f.emb.Texts() != 0 || !slices.Equal(f.fileChunks(t)["web/retry.js"], after["web/retry.js"]) {
		t.Errorf("Update() after touch = %+v; want nothing re-indexed", sum)
	}
}

func TestRenameEmbedsNothing(t *testing.T) {
	f := newFixture(t)
	f.update(t)
	f.emb.Texts()
	if err := os.Rename(filepath.Join(f.root, "config"), filepath.Join(f.root, "settings")); err != nil {
		t.Fatal(err)
	}
	sum := f.update(t)
	if n := f.emb.Texts(); n != 0 {
		t.Errorf("embedded %d texts after a rename, want 0", n)
	}
	if sum.Indexed != 1 || sum.Removed != 1 {
		t.Errorf("Update() after rename = %+v, want 1 indexed and 1 removed", sum)
	}
	res := f.search(t, Query{Text: "load config", K: 3, Mode: Vector})
	if len(res) == 0 || res[0].Path != "settings/config.go" {
		t.Errorf("Search after rename = %q, want settings/config.go first", paths(res))
	}
}

func TestDeleteLeavesNoTrace(t *testing.T) {
	f := newFixture(t)
	f.update(t)
	if err := os.Remove(filepath.Join(f.root, "web", "retry.js")); err != nil {
		t.Fatal(err)
	}
	sum := f.update(t)
	if sum.Removed != 1 || sum.Files != smallFiles-1 {
		t.Errorf("Update() after delete = %+v, want 1 removed, %d files", sum, smallFiles-1)
	}
	for _, mode := range []Mode{Hybrid, Lexical, Vector} {
		for _, r := range f.search(t, Query{Text: "retryWithBackoff attempts delay", K: 50, Mode: mode}) {
			if r.Path == "web/retry.js" {
				t.Errorf("Search(%v) still finds deleted %s", mode, r.Path)
			}
		}
	}
	if _, ok, err := f.ix.st.File("web/retry.js"); ok || err != nil {
		t.Errorf("store still has web/retry.js (%v)", err)
	}
	var leftovers int
	_ = f.ix.st.ForEachChunk(context.Background(), false, func(c store.Chunk) error {
		if c.Rel == "web/retry.js" {
			leftovers++
		}
		return nil
	})
	if leftovers != 0 {
		t.Errorf("%d chunks of the deleted file remain", leftovers)
	}
}

func TestReopenWithoutWalk(t *testing.T) {
	f := newFixture(t)
	f.update(t)
	queries := []Query{{Text: "json configuration"}, {Text: "accept connections", Mode: Vector}, {Text: "median", Mode: Lexical}}
	var before [][]Result
	for _, q := range queries {
		before = append(before, f.search(t, q))
	}
	stats := f.ix.Stats()
	if err := f.ix.Close(); err != nil {
		t.Fatal(err)
	}
	// Without a walk, a file deleted while closed is still in the index.
	if err := os.RemoveAll(filepath.Join(f.root, "server")); err != nil {
		t.Fatal(err)
	}
	f.emb.Texts()
	f.open(t)
	for i, q := range queries {
		got := f.search(t, q)
		if len(got) != len(before[i]) {
			t.Fatalf("Search(%q) after reopen = %q, want %q", q.Text, paths(got), paths(before[i]))
		}
		// Reopened vectors are the stored 4-bit ones: results ranked by
		// vectors alone may swap neighbours whose similarities differ by
		// less than the quantisation error, so past the first three only
		// the set of results must match.
		exact := len(got)
		if q.Mode != Lexical {
			exact = min(exact, 3)
			key := func(r Result) string { return fmt.Sprintf("%s:%d:%s", r.Path, r.StartLine, r.Snippet) }
			want := map[string]bool{}
			for _, w := range before[i] {
				want[key(w)] = true
			}
			for j, g := range got {
				if !want[key(g)] {
					t.Errorf("Search(%q)[%d] after reopen = %+v, not among the results before", q.Text, j, g)
				}
			}
		}
		for j := range got[:exact] {
			g, w := got[j], before[i][j]
			if g.Path != w.Path || g.StartLine != w.StartLine || g.Snippet != w.Snippet || (q.Mode == Lexical && g.Score != w.Score) {
				t.Errorf("Search(%q)[%d] after reopen = %+v, want %+v", q.Text, j, g, w)
			}
		}
	}
	if n := f.emb.Texts(); n != len(queries)-1 {
		t.Errorf("reopen embedded %d texts, want only the %d queries", n, len(queries)-1)
	}
	if got := f.ix.Stats(); got.Files != stats.Files || got.Chunks != stats.Chunks || got.State != StateReady {
		t.Errorf("Stats() after reopen = %+v, want %+v", got, stats)
	}
}

func TestCorruptIndexIsRebuilt(t *testing.T) {
	f := newFixture(t)
	f.update(t)
	path := f.ix.Path()
	if err := f.ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, bytes.Repeat([]byte("not a database "), 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	f.open(t)
	if !strings.Contains(f.logs.String(), "moving it aside") {
		t.Errorf("no warning logged about the corrupt file; logs:\n%s", f.logs)
	}
	if st := f.ix.Stats(); st.State != StateEmpty || st.Files != 0 {
		t.Errorf("Stats() after corrupt file = %+v, want empty", st)
	}
	matches, _ := filepath.Glob(path + ".corrupt-*")
	if len(matches) != 1 {
		t.Errorf("corrupt file moved to %v, want one .corrupt- file", matches)
	}
	f.update(t)
	if res := f.search(t, Query{Text: "LoadConfig", K: 1}); len(res) == 0 || res[0].Symbol != "LoadConfig" {
		t.Errorf("Search after rebuild = %q", paths(res))
	}
}

// TestOtherSchemaIsReplaced opens an index file another version wrote (a
// schema number this build does not read): it is rebuilt in place and not
// kept beside the new one, as a damaged file is.
func TestOtherSchemaIsReplaced(t *testing.T) {
	for _, delta := range []int{-1, +1} {
		t.Run(fmt.Sprintf("schema%+d", delta), func(t *testing.T) {
			f := newFixture(t)
			f.update(t)
			path := f.ix.Path()
			if err := f.ix.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bbolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bbolt.Tx) error {
				v := binary.BigEndian.AppendUint32(nil, uint32(store.SchemaVersion+delta))
				return tx.Bucket(boltfile.BucketMeta).Put(boltfile.KeySchema, v)
			})
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			f.open(t)
			if !strings.Contains(f.logs.String(), "another version") {
				t.Errorf("nothing logged about the old file; logs:\n%s", f.logs)
			}
			if st := f.ix.Stats(); st.State != StateEmpty || st.Files != 0 {
				t.Errorf("Stats() after another schema = %+v, want empty", st)
			}
			if matches, _ := filepath.Glob(path + ".*"); len(matches) != 0 {
				t.Errorf("old index file kept as %v, want it removed", matches)
			}
			f.update(t)
			if res := f.search(t, Query{Text: "LoadConfig", K: 1}); len(res) == 0 || res[0].Symbol != "LoadConfig" {
				t.Errorf("Search after rebuild = %q", paths(res))
			}
		})
	}
}

func TestCancelledUpdateIsConsistent(t *testing.T) {
	f := newFixture(t)
	for i := range 600 {
		indextest.WriteFile(t, f.root, fmt.Sprintf("gen/f%03d.go", i), fmt.Sprintf("package gen\n\n// F%d returns %d.\nfunc F%d() int { return %d }\n", i, i, i, i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := f.ix.Update(ctx, UpdateOptions{Progress: func(p Progress) {
		if p.Done == 300 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Update(cancelled) = %v, want context.Canceled", err)
	}
	if err := f.ix.st.Verify(context.Background()); err != nil {
		t.Fatalf("store after cancelled Update: %v", err)
	}
	kept := f.ix.Stats().Files
	const total = smallFiles + 600
	if kept == 0 || kept >= total {
		t.Errorf("after cancel %d files stored, want some completed batches but not all", kept)
	}
	sum := f.update(t)
	if sum.Files != total || sum.Indexed != total-kept {
		t.Errorf("Update() after cancel = %+v, want %d files with %d newly indexed", sum, total, total-kept)
	}
	if res := f.search(t, Query{Text: "F599", K: 1, Mode: Lexical}); len(res) == 0 || res[0].Path != "gen/f599.go" {
		t.Errorf("Search(F599) = %q", paths(res))
	}
}

func TestUpdateFiles(t *testing.T) {
	f := newFixture(t)
	f.update(t)
	ctx := context.Background()
	indextest.WriteFile(t, f.root, "config/config.go", "package config\n\n// ParseFlags reads the command line flags.\nfunc ParseFlags() {}\n")
	indextest.WriteFile(t, f.root, "new/added.go", "package added\n\n// Frobnicate twiddles the widget.\nfunc Frobnicate() {}\n")
	if err := os.Remove(filepath.Join(f.root, "README.md")); err != nil {
		t.Fatal(err)
	}
	err := f.ix.UpdateFiles(ctx, []string{"config/config.go", filepath.Join(f.root, "new", "added.go"), "README.md", "build/out.go", "missing.go"})
	if err != nil {
		t.Fatalf("UpdateFiles() = %v", err)
	}
	tests := []struct {
		query, want string
	}{{"ParseFlags", "config/config.go:ParseFlags"}, {"Frobnicate widget", "new/added.go:Frobnicate"}}
	for _, tt := range tests {
		if res := f.search(t, Query{Text: tt.query, K: 1}); len(res) == 0 || paths(res)[0] != tt.want {
			t.Errorf("Search(%q) after UpdateFiles = %q, want %s", tt.query, paths(res), tt.want)
		}
	}
	got := f.fileChunks(t)
	for _, rel := range []string{"README.md", "build/out.go"} {
		if _, ok := got[rel]; ok {
			t.Errorf("UpdateFiles left %s in the index", rel)
		}
	}
	if err := f.ix.UpdateFiles(ctx, []string{"../outside.go"}); err == nil {
		t.Errorf("UpdateFiles(../outside.go) = nil error, want one")
	}
	if err := f.ix.st.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAwkwardFiles(t *testing.T) {
	f := newFixture(t)
	var long strings.Builder
	for i := range 100000 {
		if i == 99990 {
			long.WriteString("needle_marker_unique\n")
		}
		fmt.Fprintf(&long, "%d\n", i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	keyChars := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	key := "sk-"
	for range 48 {
		key += string(keyChars[r.IntN(len(keyChars))])
	}
	files := map[string]string{
		"empty.go":        "",
		"invalid.go":      "package invalid\n\nfunc Broken\xff\xfe() { return \x80 }\n",
		"long.txt":        long.String(),
		"secret/creds.go": "package secret\n\nconst openaiKey = \"" + key + "\"\n\nfunc UseKey() string { return openaiKey }\n",
		"unparsable.go":   "package x\n\nfunc {{{{ this is not go\n",
		"generated.go":    "// Code generated by stringer. DO NOT EDIT.\n\npackage x\n\n" + strings.Repeat("func GeneratedThing() {}\n", 1000),
		"blob.txt":        "binary\x00data GeneratedThing\n",
	}
	for rel, data := range files {
		indextest.WriteFile(t, f.root, rel, data)
	}
	sum := f.update(t)
	for _, reason := range []string{"empty", "generated", "binary"} {
		if sum.SkippedReasons[reason] != 1 {
			t.Errorf("Update() skipped reasons %v, want one file skipped as %s", sum.SkippedReasons, reason)
		}
	}
	if res := f.search(t, Query{Text: "GeneratedThing", K: 5, Mode: Lexical}); len(res) != 0 {
		t.Errorf("Search(GeneratedThing) = %q, want nothing from skipped files", paths(res))
	}
	if res := f.search(t, Query{Text: "needle_marker_unique", K: 1, Mode: Lexical}); len(res) == 0 || res[0].Path != "long.txt" || res[0].StartLine > 99991 || res[0].EndLine < 99991 {
		t.Errorf("Search(needle_marker_unique) = %+v, want long.txt around line 99991", res)
	}
	for _, r := range f.search(t, Query{Text: key + " openaiKey UseKey", K: 10}) {
		if strings.Contains(r.Snippet, key) {
			t.Errorf("Search returned the secret in a snippet of %s", r.Path)
		}
	}
	if res := f.search(t, Query{Text: "Broken", K: 1, Mode: Lexical}); len(res) == 0 || res[0].Path != "invalid.go" {
		t.Errorf("Search(Broken) = %q, want invalid.go", paths(res))
	}
}

func TestEmbedderFailureThenRecovery(t *testing.T) {
	f := newFixture(t)
	f.emb.SetFailing(true)
	sum := f.update(t)
	if sum.Files != smallFiles || sum.Embedded != 0 {
		t.Errorf("Update() with failing embedder = %+v, want files indexed without vectors", sum)
	}
	if !strings.Contains(f.logs.String(), "embedding failed") {
		t.Errorf("embedder failure not logged:\n%s", f.logs)
	}
	if res := f.search(t, Query{Text: "LoadConfig", K: 1}); len(res) == 0 || res[0].Symbol != "LoadConfig" {
		t.Errorf("hybrid Search with failing embedder = %q, want lexical results", paths(res))
	}
	f.emb.SetFailing(false)
	sum = f.update(t)
	if sum.Embedded == 0 || sum.Indexed != 0 {
		t.Errorf("Update() after recovery = %+v, want missing vectors embedded, no file re-indexed", sum)
	}
	if res := f.search(t, Query{Text: "load config", K: 2, Mode: Vector}); !slices.Contains(paths(res), "config/config.go:LoadConfig") {
		t.Errorf("vector Search after recovery = %q, want LoadConfig in the first 2", paths(res))
	}
}

func TestSearchDuringUpdate(t *testing.T) {
	f := newFixture(t)
	f.update(t)
	for i := range 300 {
		indextest.WriteFile(t, f.root, fmt.Sprintf("more/m%03d.go", i), fmt.Sprintf("package more\n\nfunc M%d() string { return \"config %d\" }\n", i, i))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, mode := range []Mode{Hybrid, Lexical, Vector} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				res, err := f.ix.Search(context.Background(), Query{Text: "LoadConfig configuration", K: 5, Mode: mode})
				if err != nil {
					t.Errorf("Search during Update = %v", err)
					return
				}
				if mode != Vector && (len(res) == 0 || res[0].Symbol != "LoadConfig") {
					t.Errorf("Search(%v) during Update = %q, want LoadConfig first", mode, paths(res))
					return
				}
			}
		}()
	}
	f.update(t)
	close(stop)
	wg.Wait()
}

func TestCloseIsFinal(t *testing.T) {
	f := newFixture(t)
	if err := f.ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.ix.Close(); err != nil {
		t.Errorf("second Close() = %v", err)
	}
	if _, err := f.ix.Update(context.Background(), UpdateOptions{}); err == nil {
		t.Errorf("Update after Close = nil error")
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		root string
		opts *Options
	}{
		{"no options", dir, nil},
		{"no data dir", dir, &Options{}},
		{"missing root", filepath.Join(dir, "missing"), &Options{DataDir: dir}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ix, err := Open(context.Background(), tt.root, tt.opts); err == nil {
				_ = ix.Close()
				t.Errorf("Open(%s) = nil error, want one", tt.name)
			}
		})
	}
	// A second Open of the same index in this process is refused, not blocked.
	ix, err := Open(context.Background(), dir, &Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := Open(context.Background(), dir, &Options{DataDir: dir, LockTimeout: 1}); !errors.Is(err, store.ErrLocked) {
		t.Errorf("second Open = %v, want store.ErrLocked", err)
	}
}

func TestSnippet(t *testing.T) {
	var lines []string
	for i := range 30 {
		lines = append(lines, fmt.Sprintf("filler line %d", i))
	}
	lines[20] = "the parser reads config here"
	text := strings.Join(lines, "\n")
	tests := []struct {
		query, text, want string
	}{
		{"parse config", text, strings.Join(lines[18:26], "\n")},
		{"nothing matches", text, strings.Join(lines[:8], "\n")},
		{"short", "a\nb", "a\nb"},
		{"long line", strings.Repeat("é", 300), strings.Repeat("é", 120) + "…"},
	}
	for _, tt := range tests {
		if got := snippet(tt.text, queryTerms(tt.query)); got != tt.want {
			t.Errorf("snippet(%q) = %q, want %q", tt.query, got, tt.want)
		}
	}
}

func TestLexicalSnapshot(t *testing.T) {
	f := newFixture(t)
	f.update(t)
	ctx := context.Background()
	gen, err := f.ix.st.Generation()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := f.ix.st.Snapshot(lexicalSnapshot); !ok || err != nil {
		t.Fatalf("no current lexical snapshot after Update (generation %d, err %v)", gen, err)
	}
	indextest.WriteFile(t, f.root, "late/late.go", "package late\n\n// Zymurgy ferments things.\nfunc Zymurgy() {}\n")
	if err := f.ix.UpdateFiles(ctx, []string{"late/late.go"}); err != nil {
		t.Fatal(err)
	}
	// A crash: the store closes without the index saving its snapshot.
	if err := f.ix.st.Close(); err != nil {
		t.Fatal(err)
	}
	f.open(t)
	if f.ix.snapGen == gen+1 {
		t.Errorf("reopen used a stale lexical snapshot")
	}
	if res := f.search(t, Query{Text: "Zymurgy", K: 1, Mode: Lexical}); len(res) == 0 || res[0].Symbol != "Zymurgy" {
		t.Errorf("Search(Zymurgy) after reopen with stale snapshot = %q", paths(res))
	}
	// A clean Close saves a current snapshot, which the next Open uses.
	if err := f.ix.Close(); err != nil {
		t.Fatal(err)
	}
	f.open(t)
	if g, _ := f.ix.st.Generation(); f.ix.snapGen != g {
		t.Errorf("reopen after Close rebuilt the lexical index (snapshot generation %d, store %d)", f.ix.snapGen, g)
	}
	if res := f.search(t, Query{Text: "Zymurgy", K: 1, Mode: Lexical}); len(res) == 0 || res[0].Symbol != "Zymurgy" {
		t.Errorf("Search(Zymurgy) after reopen from snapshot = %q", paths(res))
	}
}

func TestEmbedderChangeReembeds(t *testing.T) {
	f := newFixture(t)
	sum := f.update(t)
	if err := f.ix.Close(); err != nil {
		t.Fatal(err)
	}
	other := &indextest.CountingEmbedder{Embedder: embed.NewBuiltin(&embed.BuiltinOptions{Dim: 128})}
	ix, err := Open(context.Background(), f.root, &Options{DataDir: f.data, Embedder: other})
	if err != nil {
		t.Fatal(err)
	}
	f.ix = ix
	if !ix.st.Info().VectorsDropped {
		t.Errorf("Open with another embedder kept the old vectors")
	}
	again := f.update(t)
	if again.Indexed != 0 || again.Embedded == 0 || again.Embedded > sum.Embedded {
		t.Errorf("Update() after embedder change = %+v, want every text re-embedded (%d) and no file re-indexed", again, sum.Embedded)
	}
	if res := f.search(t, Query{Text: "load config", K: 2, Mode: Vector}); !slices.Contains(paths(res), "config/config.go:LoadConfig") {
		t.Errorf("vector Search with the new embedder = %q, want LoadConfig in the first 2", paths(res))
	}
}

func TestFullDisk(t *testing.T) {
	root := indextest.Workspace(t, "testdata/small.txtar")
	ctx := context.Background()
	ix, err := Open(ctx, root, &Options{DataDir: t.TempDir(), MaxDiskBytes: 3 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if _, err := ix.Update(ctx, UpdateOptions{}); err != nil {
		t.Fatalf("Update() within the cap = %v", err)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 400 {
		var sb strings.Builder
		for j := range 3000 {
			fmt.Fprintf(&sb, "v%x ", r.Uint32())
			if j%8 == 7 {
				sb.WriteString("\n")
			}
		}
		indextest.WriteFile(t, root, fmt.Sprintf("bulk/b%03d.txt", i), sb.String())
	}
	_, err = ix.Update(ctx, UpdateOptions{})
	if !errors.Is(err, store.ErrFull) {
		t.Fatalf("Update() beyond the cap = %v, want store.ErrFull", err)
	}
	if err := ix.st.Verify(ctx); err != nil {
		t.Fatalf("store after a full disk: %v", err)
	}
	if res, err := ix.Search(ctx, Query{Text: "LoadConfig", K: 1}); err != nil || len(res) == 0 || res[0].Symbol != "LoadConfig" {
		t.Errorf("Search after a full disk = %v, %v", res, err)
	}
}
