package embed

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeVector is what the test servers return for a text: a deterministic,
// unnormalised vector of dim values.
func fakeVector(text string, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(len(text)+i) + 1
	}
	return v
}

type recorder struct {
	mu      sync.Mutex
	batches [][]string
	auth    []string
}

func (r *recorder) record(req *http.Request, input []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, input)
	r.auth = append(r.auth, req.Header.Get("Authorization"))
}

func ollamaServer(t *testing.T, dim int, rec *recorder) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/embed" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model == "" {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		rec.record(r, req.Input)
		resp := struct {
			Model      string      `json:"model"`
			Embeddings [][]float32 `json:"embeddings"`
		}{Model: req.Model}
		for _, in := range req.Input {
			resp.Embeddings = append(resp.Embeddings, fakeVector(in, dim))
		}
		json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func openAIServer(t *testing.T, dim int, rec *recorder) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
			return
		}
		rec.record(r, req.Input)
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		resp := struct {
			Object string `json:"object"`
			Data   []item `json:"data"`
			Model  string `json:"model"`
		}{Object: "list", Model: req.Model}
		// Answer in reverse order: clients must use the index field.
		for i := len(req.Input) - 1; i >= 0; i-- {
			resp.Data = append(resp.Data, item{"embedding", i, fakeVector(req.Input[i], dim)})
		}
		json.NewEncoder(w).Encode(resp)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func checkVectors(t *testing.T, name string, got [][]float32, texts []string, dim int) {
	t.Helper()
	if len(got) != len(texts) {
		t.Fatalf("%s: Embed returned %d vectors, want %d", name, len(got), len(texts))
	}
	for i, v := range got {
		want := fakeVector(texts[i], dim)
		normalize(want)
		if len(v) != dim {
			t.Fatalf("%s: vector %d has %d dims, want %d", name, i, len(v), dim)
		}
		for j := range v {
			if math.Abs(float64(v[j]-want[j])) > 1e-6 {
				t.Fatalf("%s: vector %d = %v, want %v", name, i, v, want)
			}
		}
	}
}

func TestEndpoints(t *testing.T) {
	texts := []string{"a", "bb", "ccc", "dddd", "eeeee"}
	key := strings.Join([]string{"sk", "test", "0123456789"}, "-")
	tests := []struct {
		name     string
		make     func(url string) Embedder
		server   func(*testing.T, int, *recorder) *httptest.Server
		wantID   string
		wantAuth string
	}{
		{"ollama", func(u string) Embedder { return NewOllama(u, "nomic-embed-text", nil, &EndpointOptions{BatchSize: 2}) }, ollamaServer, "ollama/nomic-embed-text", ""},
		{"openai", func(u string) Embedder {
			return NewOpenAICompatible(u+"/", "text-embedding-3-small", key, nil, &EndpointOptions{BatchSize: 2})
		}, openAIServer, "openai-compatible/text-embedding-3-small", "Bearer " + key},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			srv := tt.server(t, 3, rec)
			e := tt.make(srv.URL)
			if e.Dim() != 0 {
				t.Errorf("Dim() before first call = %d, want 0", e.Dim())
			}
			got, err := e.Embed(context.Background(), texts)
			if err != nil {
				t.Fatalf("Embed error: %v", err)
			}
			checkVectors(t, tt.name, got, texts, 3)
			if e.Dim() != 3 || e.ID() != tt.wantID {
				t.Errorf("after Embed: Dim() = %d, ID() = %q, want 3, %q", e.Dim(), e.ID(), tt.wantID)
			}
			wantBatches := [][]string{{"a", "bb"}, {"ccc", "dddd"}, {"eeeee"}}
			if len(rec.batches) != len(wantBatches) {
				t.Fatalf("server saw batches %q, want %q", rec.batches, wantBatches)
			}
			for i := range wantBatches {
				if strings.Join(rec.batches[i], ",") != strings.Join(wantBatches[i], ",") {
					t.Errorf("batch %d = %q, want %q", i, rec.batches[i], wantBatches[i])
				}
				if rec.auth[i] != tt.wantAuth {
					t.Errorf("batch %d Authorization = %q, want %q", i, rec.auth[i], tt.wantAuth)
				}
			}
			if got, err := e.Embed(context.Background(), nil); err != nil || len(got) != 0 {
				t.Errorf("Embed(nil) = %v, %v, want no vectors, no error", got, err)
			}
		})
	}
}

func TestEndpointErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"500", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, `{"error":"model crashed"}`, http.StatusInternalServerError)
		}, "500 Internal Server Error"},
		{"malformed json", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"embeddings": [[1, 2`))
		}, "decoding response"},
		{"wrong count", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"embeddings": [[1, 2]]}`))
		}, "got 1 embeddings for 2 inputs"},
		{"mixed dims", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"embeddings": [[1, 2], [1, 2, 3]]}`))
		}, "got a 3-dimensional vector, want 2"},
		{"empty vector", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"embeddings": [[], []]}`))
		}, "empty vector"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			e := NewOllama(srv.URL, "m", srv.Client(), nil)
			_, err := e.Embed(context.Background(), []string{"x", "y"})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Embed error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestOpenAIBadIndex(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"data": [{"index": 0, "embedding": [1]}, {"index": 0, "embedding": [2]}]}`))
	}))
	defer srv.Close()
	_, err := NewOpenAICompatible(srv.URL, "m", "", nil, nil).Embed(context.Background(), []string{"x", "y"})
	if err == nil || !strings.Contains(err.Error(), "repeated embedding index 0") {
		t.Errorf("Embed error = %v, want repeated index error", err)
	}
}

func TestEndpointCancel(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	e := NewOllama(srv.URL, "m", nil, nil)
	done := make(chan error, 1)
	go func() {
		_, err := e.Embed(ctx, []string{"x"})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Embed after cancel error = %v, want context.Canceled", err)
	}
	if _, err := e.Embed(ctx, []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("Embed with cancelled ctx error = %v, want context.Canceled", err)
	}
}
