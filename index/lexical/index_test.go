package lexical

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
)

func ids(hits []Hit) []uint32 {
	var out []uint32
	for _, h := range hits {
		out = append(out, h.ID)
	}
	return out
}

func newTestIndex() *Index {
	x := New(nil)
	x.Add(1, "func readConfig(path string) { os.ReadFile(path); yaml.Unmarshal(data, &cfg) }", "readConfig")
	x.Add(2, "func writeConfig(cfg Config) error { return os.WriteFile(path, data, 0o644) }", "writeConfig")
	x.Add(3, "func startHTTPServer(addr string) { http.ListenAndServe(addr, mux) }", "startHTTPServer")
	x.Add(4, "func parseFlags(args []string) { flag.Parse() } // parses command-line flags", "parseFlags")
	x.Add(5, "func config() {}", "unrelatedName")
	return x
}

func TestSearch(t *testing.T) {
	x := newTestIndex()
	tests := []struct {
		query  string
		k      int
		filter func(uint32) bool
		want   []uint32
	}{
		{"http server", 10, nil, []uint32{3}},
		{"HTTPServer", 10, nil, []uint32{3}},
		{"parsing flags", 10, nil, []uint32{4}},
		{"read config file", 10, nil, []uint32{1, 2, 5}},
		{"read config file", 1, nil, []uint32{1}},
		{"read config file", 10, func(id uint32) bool { return id != 1 }, []uint32{2, 5}},
		{"config", 0, nil, nil},
		{"the of and", 10, nil, nil},
		{"nothingmatches", 10, nil, nil},
	}
	for _, tt := range tests {
		got := ids(x.Search(tt.query, tt.k, tt.filter))
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Search(%q, %d) = %v, want %v", tt.query, tt.k, got, tt.want)
		}
	}
}

func TestSymbolBoost(t *testing.T) {
	x := New(nil)
	x.Add(1, "decode decode the payload", "handle")
	x.Add(2, "handle the payload", "decode")
	if got := ids(x.Search("decode", 2, nil)); !reflect.DeepEqual(got, []uint32{2, 1}) {
		t.Errorf("Search(decode) with SymbolWeight 3 = %v, want [2 1]", got)
	}
	y := New(&Params{SymbolWeight: 1})
	y.Add(1, "decode decode the payload", "handle")
	y.Add(2, "handle the payload", "decode")
	if got := ids(y.Search("decode", 2, nil)); !reflect.DeepEqual(got, []uint32{1, 2}) {
		t.Errorf("Search(decode) with SymbolWeight 1 = %v, want [1 2]", got)
	}
}

func TestRemoveAndReplace(t *testing.T) {
	x := newTestIndex()
	x.Remove(3)
	x.Remove(42) // absent: no effect
	if got := x.Search("http server", 10, nil); len(got) != 0 {
		t.Errorf("Search after Remove(3) = %v, want none", got)
	}
	if x.Len() != 4 {
		t.Errorf("Len() = %d, want 4", x.Len())
	}
	x.Add(1, "func startHTTPServer() {}", "start")
	if got := ids(x.Search("http server", 10, nil)); !reflect.DeepEqual(got, []uint32{1}) {
		t.Errorf("Search after replacing 1 = %v, want [1]", got)
	}
	if got := ids(x.Search("yaml unmarshal", 10, nil)); len(got) != 0 {
		t.Errorf("Search(old text of 1) = %v, want none", got)
	}
}

func TestCompaction(t *testing.T) {
	x := New(nil)
	const n = 5000
	for i := range uint32(n) {
		x.Add(i, fmt.Sprintf("alpha word%d common", i%50), fmt.Sprintf("sym%d", i))
	}
	before := x.MemoryBytes()
	for i := range uint32(n) {
		if i%5 != 0 {
			x.Remove(i)
		}
	}
	if x.Len() != n/5 {
		t.Fatalf("Len() = %d, want %d", x.Len(), n/5)
	}
	if after := x.MemoryBytes(); after >= before {
		t.Errorf("MemoryBytes() after removing 80%% = %d, want < %d", after, before)
	}
	x.mu.RLock()
	slots, dead := len(x.slotID), x.nDead
	x.mu.RUnlock()
	if slots-dead != n/5 || dead*4 >= slots && dead >= 1024 {
		t.Errorf("after removals: %d slots, %d dead, want compacted", slots, dead)
	}
	if got := ids(x.Search("sym1235", 5, nil)); len(got) == 0 || got[0] != 1235 {
		t.Errorf("Search(sym1235) = %v, want 1235 first", got)
	}
	if got := ids(x.Search("sym1236", 5, nil)); len(got) > 0 && got[0] == 1236 {
		t.Errorf("Search(sym1236) = %v, want 1236 gone (removed)", got)
	}
	hits := x.Search("word10 alpha", n, nil)
	for _, h := range hits {
		if h.ID%5 != 0 {
			t.Fatalf("Search returned removed id %d", h.ID)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	x := newTestIndex()
	x.Remove(2)
	data, err := x.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	y := New(nil)
	if err := y.UnmarshalBinary(data); err != nil {
		t.Fatalf("UnmarshalBinary error: %v", err)
	}
	for i := range data {
		data[i] = 0 // y must not alias data
	}
	for _, q := range []string{"http server", "read config file", "parsing flags", "write config"} {
		want, got := x.Search(q, 10, nil), y.Search(q, 10, nil)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Search(%q) after round trip = %v, want %v", q, got, want)
		}
	}
	if x.Len() != y.Len() {
		t.Errorf("Len() after round trip = %d, want %d", y.Len(), x.Len())
	}
	y.Add(9, "brand new document", "fresh")
	if got := ids(y.Search("fresh document", 10, nil)); !reflect.DeepEqual(got, []uint32{9}) {
		t.Errorf("Search after Add on decoded index = %v, want [9]", got)
	}
}

func TestUnmarshalErrors(t *testing.T) {
	x := newTestIndex()
	good, _ := x.MarshalBinary()
	badVersion := append([]byte(magic), 99)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"bad magic", []byte("XXXX\x01")},
		{"version", badVersion},
		{"truncated", good[:len(good)/2]},
		{"trailing", append(append([]byte{}, good...), 1, 2, 3)},
		{"corrupt postings", corruptLastByte(good)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			y := newTestIndex()
			err := y.UnmarshalBinary(tt.data)
			if err == nil {
				t.Fatalf("UnmarshalBinary(%s) error = nil, want error", tt.name)
			}
			if tt.name == "version" && !errors.Is(err, ErrVersion) {
				t.Errorf("UnmarshalBinary(version) error = %v, want ErrVersion", err)
			}
			if y.Len() != 5 {
				t.Errorf("after failed UnmarshalBinary Len() = %d, want 5 (unchanged)", y.Len())
			}
		})
	}
}

func TestConcurrentSearch(t *testing.T) {
	x := newTestIndex()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				if g == 0 {
					x.Add(uint32(100+i), "extra http handler", "extra")
					continue
				}
				if got := x.Search("read config", 3, nil); len(got) == 0 || got[0].ID != 1 {
					t.Errorf("concurrent Search(read config) = %v, want 1 first", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestFuse(t *testing.T) {
	tests := []struct {
		name    string
		lists   [][]uint32
		weights []float64
		k       int
		want    []uint32
	}{
		{"agree", [][]uint32{{1, 2, 3}, {1, 2, 3}}, nil, 60, []uint32{1, 2, 3}},
		{"union", [][]uint32{{1, 2}, {3, 1}}, nil, 60, []uint32{1, 3, 2}},
		{"tie by id", [][]uint32{{5}, {4}}, nil, 0, []uint32{4, 5}},
		{"weighted", [][]uint32{{1, 2}, {2, 1}}, []float64{1, 2}, 60, []uint32{2, 1}},
		{"duplicate in list", [][]uint32{{1, 1, 2}}, nil, 60, []uint32{1, 2}},
		{"empty", nil, nil, 60, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint32
			for _, f := range Fuse(tt.lists, tt.weights, tt.k) {
				got = append(got, f.ID)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Fuse(%v, %v, %d) = %v, want %v", tt.lists, tt.weights, tt.k, got, tt.want)
			}
		})
	}
	f := Fuse([][]uint32{{7}}, nil, 60)
	if want := 1.0 / 61; f[0].Score != want {
		t.Errorf("Fuse([[7]]) score = %v, want %v", f[0].Score, want)
	}
}

// corruptLastByte returns a copy of an encoded index whose final postings
// byte (a tf or slot delta of the last term) is replaced by a varint
// continuation byte.
func corruptLastByte(data []byte) []byte {
	c := append([]byte{}, data...)
	c[len(c)-1] = 0x80
	return c
}

// TestAddMatchesFreshIndex checks that documents added to an index that was
// decoded or compacted (whose term dictionary Add's scratch space did not
// grow with) rank exactly as in an index built in one go.
func TestAddMatchesFreshIndex(t *testing.T) {
	docs := []struct {
		text, symbol string
	}{
		{"func readConfig(path string) { os.ReadFile(path); yaml.Unmarshal(data, &cfg) }", "readConfig"},
		{"func writeConfig(cfg Config) error { return os.WriteFile(path, data, 0o644) }", "writeConfig"},
		{"func startHTTPServer(addr string) { http.ListenAndServe(addr, mux) }", "startHTTPServer"},
		{"config config config server", "configServer"},
		{"brand new words: quaternion frobnicate quaternion", "frobnicateQuaternion"},
	}
	queries := []string{"read config", "http server", "quaternion", "config server write"}
	fresh := New(nil)
	for i, d := range docs {
		fresh.Add(uint32(i+1), d.text, d.symbol)
	}
	tests := []struct {
		name  string
		build func() *Index
	}{
		{"decoded", func() *Index {
			x := New(nil)
			for i, d := range docs[:2] {
				x.Add(uint32(i+1), d.text, d.symbol)
			}
			data, err := x.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			y := New(nil)
			if err := y.UnmarshalBinary(data); err != nil {
				t.Fatal(err)
			}
			for i, d := range docs[2:] {
				y.Add(uint32(i+3), d.text, d.symbol)
			}
			return y
		}},
		{"compacted", func() *Index {
			x := New(nil)
			for i := range 2000 {
				x.Add(uint32(1000+i), fmt.Sprintf("filler%d words", i), "")
			}
			for i := range 2000 {
				x.Remove(uint32(1000 + i))
			}
			for i, d := range docs {
				x.Add(uint32(i+1), d.text, d.symbol)
			}
			return x
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := tt.build()
			for _, q := range queries {
				if got, want := x.Search(q, 10, nil), fresh.Search(q, 10, nil); !reflect.DeepEqual(got, want) {
					t.Errorf("Search(%q) = %v, want %v", q, got, want)
				}
			}
		})
	}
}
