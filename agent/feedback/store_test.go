package feedback

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/codemux/codemux/index/boltfile"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

// clock returns a Now that starts at t0 and advances a second per call.
func clock() func() time.Time {
	now := t0
	return func() time.Time {
		now = now.Add(time.Second)
		return now
	}
}

func open(t *testing.T, path string, opts *Options) *Store {
	t.Helper()
	if opts == nil {
		opts = &Options{}
	}
	if opts.Now == nil {
		opts.Now = clock()
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return s
}

// fakeToken returns a GitHub-token-shaped string built at run time.
func fakeToken(seed uint64) string {
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, 36)
	for i := range b {
		b[i] = alnum[r.IntN(len(alnum))]
	}
	return "gh" + "p_" + string(b)
}

func fullRecord(id string) Record {
	return Record{
		ID: id, Time: t0, Question: "how does retry work?", Kind: "explain", PromptVersion: "v2",
		Model: "gpt-4o-mini", Account: "openai-a",
		Context: []Citation{{Folder: "/w", Path: "client.go", StartLine: 10, EndLine: 42, Symbol: "Client.Do"}},
		Answer:  "It retries with <backoff> & jitter.", Usage: Usage{PromptTokens: 1200, CompletionTokens: 80}, Redactions: 1,
	}
}

func TestSaveGet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedback.db")
	s := open(t, path, nil)
	want := fullRecord("a1")
	if err := s.Save(want); err != nil {
		t.Fatalf("Save() = %v", err)
	}
	got, err := s.Get("a1")
	if err != nil {
		t.Fatalf("Get(a1) = %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Get(a1) = %+v, want %+v", got, want)
	}
	if _, err := s.Get("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(nope) = %v, want ErrNotFound", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("file mode = %v, want 0600", m)
	}
}

func TestSave(t *testing.T) {
	tok := fakeToken(1)
	tests := []struct {
		name    string
		recs    []Record
		getID   string
		want    func(r Record) bool
		wantErr error
		wantLen int
	}{
		{"zero time is now", []Record{{ID: "x", Question: "q"}}, "x",
			func(r Record) bool { return r.Time.Equal(t0.Add(time.Second)) }, nil, 1},
		{"same id replaces in place", []Record{{ID: "x", Question: "old"}, {ID: "y"}, {ID: "x", Question: "new"}}, "x",
			func(r Record) bool { return r.Question == "new" }, nil, 2},
		{"question and answer redacted", []Record{{ID: "x", Question: "why is " + tok + " refused?", Answer: "the token " + tok + " expired"}}, "x",
			func(r Record) bool {
				return !strings.Contains(r.Question+r.Answer, tok) && strings.Contains(r.Question, "[REDACTED:github-token#1]")
			}, nil, 1},
		{"no id", []Record{{Question: "q"}}, "", nil, nil, 0},
		{"bad rating", []Record{{ID: "x", Rating: "meh"}}, "", nil, ErrRating, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, filepath.Join(t.TempDir(), "feedback.db"), nil)
			var err error
			for _, r := range tt.recs {
				if err = s.Save(r); err != nil {
					break
				}
			}
			if tt.getID == "" {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("Save(%+v) = %v, want an error (%v)", tt.recs, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Save() = %v", err)
			}
			got, err := s.Get(tt.getID)
			if err != nil {
				t.Fatalf("Get(%s) = %v", tt.getID, err)
			}
			if !tt.want(got) {
				t.Errorf("Get(%s) = %+v, not what %q wants", tt.getID, got, tt.name)
			}
			if n, err := s.Len(); err != nil || n != tt.wantLen {
				t.Errorf("Len() = %d, %v, want %d", n, err, tt.wantLen)
			}
		})
	}
}

func TestRate(t *testing.T) {
	tok := fakeToken(2)
	tests := []struct {
		name        string
		id, rating  string
		comment     string
		wantErr     error
		wantRating  string
		wantComment string
	}{
		{"up", "a1", "up", "", nil, "up", ""},
		{"down with comment", "a1", "down", "missed the retry loop", nil, "down", "missed the retry loop"},
		{"comment redacted", "a1", "down", "it printed " + tok, nil, "down", "it printed [REDACTED:github-token#1]"},
		{"unknown id", "zz", "up", "", ErrNotFound, "", ""},
		{"bad rating", "a1", "meh", "", ErrRating, "", ""},
		{"empty rating", "a1", "", "", ErrRating, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t, filepath.Join(t.TempDir(), "feedback.db"), &Options{Now: func() time.Time { return t0.Add(time.Hour) }})
			if err := s.Save(fullRecord("a1")); err != nil {
				t.Fatalf("Save() = %v", err)
			}
			err := s.Rate(tt.id, tt.rating, tt.comment)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Rate(%q, %q) = %v, want %v", tt.id, tt.rating, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Rate(%q, %q) = %v", tt.id, tt.rating, err)
			}
			got, err := s.Get(tt.id)
			if err != nil {
				t.Fatalf("Get(%s) = %v", tt.id, err)
			}
			want := fullRecord("a1")
			want.Rating, want.Comment, want.RatedAt = tt.wantRating, tt.wantComment, t0.Add(time.Hour)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Get(%s) after Rate = %+v, want %+v", tt.id, got, want)
			}
		})
	}
}

func TestRateAgainReplaces(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "feedback.db"), nil)
	if err := s.Save(fullRecord("a1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Rate("a1", RatingDown, "wrong"); err != nil {
		t.Fatal(err)
	}
	if err := s.Rate("a1", RatingUp, ""); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get("a1")
	if err != nil || got.Rating != RatingUp || got.Comment != "" {
		t.Errorf("Get(a1) = %q %q, %v, want up with no comment", got.Rating, got.Comment, err)
	}
}

func TestRetention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedback.db")
	s := open(t, path, &Options{MaxRecords: 3})
	for i := range 5 {
		if err := s.Save(Record{ID: fmt.Sprintf("r%d", i), Question: "q"}); err != nil {
			t.Fatalf("Save(r%d) = %v", i, err)
		}
	}
	if n, err := s.Len(); err != nil || n != 3 {
		t.Errorf("Len() = %d, %v, want 3", n, err)
	}
	for _, id := range []string{"r0", "r1"} {
		if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%s) = %v, want ErrNotFound (dropped by retention)", id, err)
		}
		if err := s.Rate(id, RatingUp, ""); !errors.Is(err, ErrNotFound) {
			t.Errorf("Rate(%s) = %v, want ErrNotFound", id, err)
		}
	}
	if got := exportIDs(t, s, Filter{All: true}); !slices.Equal(got, []string{"r2", "r3", "r4"}) {
		t.Errorf("Export(all) = %v, want [r2 r3 r4]", got)
	}
}

func TestRetentionLowered(t *testing.T) {
	// Reopening with a smaller limit trims at the next save.
	path := filepath.Join(t.TempDir(), "feedback.db")
	s, err := Open(path, &Options{Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		if err := s.Save(Record{ID: fmt.Sprintf("r%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, &Options{MaxRecords: 2})
	if err := s.Save(Record{ID: "r6"}); err != nil {
		t.Fatal(err)
	}
	if got := exportIDs(t, s, Filter{All: true}); !slices.Equal(got, []string{"r5", "r6"}) {
		t.Errorf("Export(all) = %v, want [r5 r6]", got)
	}
}

func exportIDs(t *testing.T, s *Store, f Filter) []string {
	t.Helper()
	var buf bytes.Buffer
	n, err := s.Export(context.Background(), &buf, f)
	if err != nil {
		t.Fatalf("Export(%+v) = %v", f, err)
	}
	var ids []string
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var r Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("Export line %q: %v", sc.Text(), err)
		}
		ids = append(ids, r.ID)
	}
	if n != len(ids) {
		t.Errorf("Export(%+v) n = %d, wrote %d lines", f, n, len(ids))
	}
	return ids
}

func TestExport(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "feedback.db"), nil)
	for i, rating := range []string{"up", "", "down", "", "up"} {
		id := fmt.Sprintf("r%d", i)
		r := fullRecord(id)
		r.Time = t0.Add(time.Duration(i) * time.Hour)
		if err := s.Save(r); err != nil {
			t.Fatal(err)
		}
		if rating != "" {
			if err := s.Rate(id, rating, ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"default rated only", Filter{}, []string{"r0", "r2", "r4"}},
		{"all", Filter{All: true}, []string{"r0", "r1", "r2", "r3", "r4"}},
		{"down", Filter{Rating: RatingDown}, []string{"r2"}},
		{"up since", Filter{Rating: RatingUp, Since: t0.Add(time.Hour)}, []string{"r4"}},
		{"all since", Filter{All: true, Since: t0.Add(3 * time.Hour)}, []string{"r3", "r4"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exportIDs(t, s, tt.f); !slices.Equal(got, tt.want) {
				t.Errorf("Export(%+v) = %v, want %v", tt.f, got, tt.want)
			}
		})
	}
}

func TestExportLine(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "feedback.db"), &Options{Now: func() time.Time { return t0 }})
	if err := s.Save(fullRecord("a1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Rate("a1", RatingDown, "too vague"); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := s.Export(context.Background(), &buf, Filter{}); err != nil {
		t.Fatal(err)
	}
	want := `{"id":"a1","time":"2026-05-06T07:08:09Z","question":"how does retry work?","kind":"explain","promptVersion":"v2",` +
		`"model":"gpt-4o-mini","account":"openai-a","context":[{"folder":"/w","path":"client.go","startLine":10,"endLine":42,"symbol":"Client.Do"}],` +
		`"answer":"It retries with <backoff> & jitter.","usage":{"promptTokens":1200,"completionTokens":80},"redactions":1,` +
		`"rating":"down","comment":"too vague","ratedAt":"2026-05-06T07:08:09Z"}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("Export() = %s, want %s", got, want)
	}
}

func TestExportErrors(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "feedback.db"), nil)
	for i := range 3 {
		if err := s.Save(Record{ID: fmt.Sprintf("r%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Export(ctx, &bytes.Buffer{}, Filter{All: true}); !errors.Is(err, context.Canceled) {
		t.Errorf("Export(canceled) = %v, want context.Canceled", err)
	}
	if _, err := s.Export(context.Background(), &bytes.Buffer{}, Filter{Rating: "sideways"}); !errors.Is(err, ErrRating) {
		t.Errorf("Export(rating sideways) = %v, want ErrRating", err)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "feedback.db")
	s, err := Open(path, &Options{Now: clock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(fullRecord("a1")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t, path, nil)
	if err := s.Rate("a1", RatingUp, ""); err != nil {
		t.Errorf("Rate(a1) after reopen = %v", err)
	}
	if err := s.Save(Record{ID: "a2"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Len(); err != nil || n != 2 {
		t.Errorf("Len() = %d, %v, want 2", n, err)
	}
}

func TestOpenBadFiles(t *testing.T) {
	tests := []struct {
		name    string
		write   func(t *testing.T, path string)
		wantErr error
	}{
		{"garbage", func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.Repeat([]byte("not a bbolt file "), 1000), 0o600); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt},
		{"other bbolt file", func(t *testing.T, path string) {
			rawBolt(t, path, func(tx *bbolt.Tx) error {
				_, err := tx.CreateBucket([]byte("files"))
				return err
			})
		}, ErrCorrupt},
		{"newer schema", func(t *testing.T, path string) {
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			rawBolt(t, path, func(tx *bbolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(boltfile.KeySchema, binary.BigEndian.AppendUint32(nil, SchemaVersion+1))
			})
		}, ErrSchema},
		{"truncated", func(t *testing.T, path string) {
			s, err := Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, 100); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "feedback.db")
			tt.write(t, path)
			if s, err := Open(path, nil); !errors.Is(err, tt.wantErr) {
				if err == nil {
					s.Close()
				}
				t.Fatalf("Open(%s) = %v, want %v", tt.name, err, tt.wantErr)
			}
			s, moved, err := Recreate(path, &Options{Now: func() time.Time { return t0 }})
			if err != nil {
				t.Fatalf("Recreate() = %v", err)
			}
			defer s.Close()
			if want := path + ".corrupt-20260506T070809.000000000Z"; moved != want {
				t.Errorf("Recreate() moved to %q, want %q", moved, want)
			}
			if _, err := os.Stat(moved); err != nil {
				t.Errorf("moved file: %v", err)
			}
			if err := s.Save(Record{ID: "a"}); err != nil {
				t.Errorf("Save() after Recreate = %v", err)
			}
		})
	}
}

func rawBolt(t *testing.T, path string, fn func(tx *bbolt.Tx) error) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feedback.db")
	open(t, path, nil)
	if s2, err := Open(path, &Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		if err == nil {
			s2.Close()
		}
		t.Fatalf("second Open() = %v, want ErrLocked", err)
	}
	if _, _, err := Recreate(path, nil); !errors.Is(err, ErrLocked) {
		t.Errorf("Recreate() of an open file = %v, want ErrLocked", err)
	}
}

func BenchmarkSave(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "feedback.db"), &Options{MaxRecords: 1000})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	r := fullRecord("")
	r.Answer = strings.Repeat("The client retries with exponential backoff. ", 40)
	i := 0
	for b.Loop() {
		r.ID = fmt.Sprintf("r%d", i)
		i++
		if err := s.Save(r); err != nil {
			b.Fatal(err)
		}
	}
}
