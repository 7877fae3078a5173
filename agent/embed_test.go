package agent_test

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/codemux/codemux/agent/agenttest"
	"github.com/codemux/codemux/rpc"
)

// TestEmbeddingsEndpointFromConfig: with `embeddings: provider: ollama`
// the daemon embeds through the configured server's /api/embed.
func TestEmbeddingsEndpointFromConfig(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/embed" || r.Method != http.MethodPost {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "nomic-embed-text" {
			http.Error(w, `{"error":"bad request"}`, http.StatusBadRequest)
			return
		}
		calls.Add(1)
		out := struct {
			Embeddings [][]float32 `json:"embeddings"`
		}{}
		for _, in := range req.Input {
			h := fnv.New64a()
			h.Write([]byte(in))
			v := h.Sum64()
			vec := make([]float32, 16)
			for i := range vec {
				vec[i] = float32((v>>(i*4))&15) + 1
			}
			out.Embeddings = append(out.Embeddings, vec)
		}
		json.NewEncoder(w).Encode(out)
	}))
	defer srv.Close()
	for _, mode := range agenttest.Modes {
		t.Run(string(mode), func(t *testing.T) {
			calls.Store(0)
			ctx := ctxT(t)
			home := agenttest.Home(t)
			writeConfig(t, home, fmt.Sprintf("embeddings:\n  provider: ollama\n  base_url: %s\n  model: nomic-embed-text\n", srv.URL))
			ws := t.TempDir()
			writeFiles(t, ws, workspace)
			ed := agenttest.NewEditor(t, agenttest.Connect(t, mode, home, nil))
			if _, err := ed.Initialize(ctx, "embed-test", ws); err != nil {
				t.Fatal(err)
			}
			var res rpc.SearchResult
			if err := ed.Call(ctx, rpc.MethodSearch, rpc.SearchParams{Query: "load config"}, &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Results) == 0 {
				t.Fatal("no results")
			}
			if calls.Load() == 0 {
				t.Fatal("the configured embeddings server was never called")
			}
		})
	}
}
