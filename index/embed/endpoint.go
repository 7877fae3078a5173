package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// DefaultBatchSize is the number of texts sent per request unless
// EndpointOptions.BatchSize says otherwise.
const DefaultBatchSize = 64

// maxResponseBytes caps the size of one embeddings response.
const maxResponseBytes = 256 << 20

// EndpointOptions tunes an endpoint embedder. The zero value (or nil) means
// defaults.
type EndpointOptions struct {
	// BatchSize is the number of texts per request. Default DefaultBatchSize.
	BatchSize int
}

// endpoint is an embedder backed by an HTTP embeddings API; wire is the
// API's request/response translation.
type endpoint struct {
	kind, url, model string
	hc               *http.Client
	batch            int
	header           http.Header
	wire             wire
	dim              atomic.Int64
}

// wire translates one batch to a request body and a response body to vectors.
type wire interface {
	request(model string, texts []string) any
	decode(body []byte, n int) ([][]float32, error)
}

var _ Embedder = (*endpoint)(nil)

// NewOllama returns an embedder that calls an Ollama server's /api/embed
// (request {model, input:[...]}, response {embeddings:[[...]]}). hc nil
// means http.DefaultClient.
func NewOllama(baseURL, model string, hc *http.Client, opts *EndpointOptions) Embedder {
	return newEndpoint("ollama", strings.TrimRight(baseURL, "/")+"/api/embed", model, hc, opts, nil, ollamaWire{})
}

// NewOpenAICompatible returns an embedder that calls an OpenAI-compatible
// /v1/embeddings endpoint (request {model, input:[...]}, response
// {data:[{index, embedding}]}) with "Authorization: Bearer apiKey" when
// apiKey is not empty. baseURL is the server root, without /v1. hc nil
// means http.DefaultClient.
func NewOpenAICompatible(baseURL, model, apiKey string, hc *http.Client, opts *EndpointOptions) Embedder {
	h := http.Header{}
	if apiKey != "" {
		h.Set("Authorization", "Bearer "+apiKey)
	}
	return newEndpoint("openai-compatible", strings.TrimRight(baseURL, "/")+"/v1/embeddings", model, hc, opts, h, openAIWire{})
}

func newEndpoint(kind, url, model string, hc *http.Client, opts *EndpointOptions, h http.Header, w wire) *endpoint {
	if hc == nil {
		hc = http.DefaultClient
	}
	batch := DefaultBatchSize
	if opts != nil && opts.BatchSize > 0 {
		batch = opts.BatchSize
	}
	return &endpoint{kind: kind, url: url, model: model, hc: hc, batch: batch, header: h, wire: w}
}

// ID returns "<kind>/<model>". It does not include the dimension, which is
// unknown until the first response, so that it never changes; callers that
// persist vectors should also record Dim() and compare it after a call.
func (e *endpoint) ID() string { return e.kind + "/" + e.model }

// Dim returns the dimension seen in the first response, or 0 before it.
func (e *endpoint) Dim() int { return int(e.dim.Load()) }

// Embed sends texts in batches and returns their normalised vectors. Every
// vector must have the dimension of the first one this embedder received.
func (e *endpoint) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += e.batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+e.batch, len(texts))
		vecs, err := e.post(ctx, texts[start:end])
		if err != nil {
			return nil, fmt.Errorf("embedding texts %d-%d with %s model %s: %w", start, end-1, e.kind, e.model, err)
		}
		for _, v := range vecs {
			if len(v) == 0 {
				return nil, errors.New("server returned an empty vector")
			}
			e.dim.CompareAndSwap(0, int64(len(v)))
			if d := e.dim.Load(); int64(len(v)) != d {
				return nil, fmt.Errorf("embedding with %s model %s: got a %d-dimensional vector, want %d", e.kind, e.model, len(v), d)
			}
			normalize(v)
			out = append(out, v)
		}
	}
	return out, nil
}

func (e *endpoint) post(ctx context.Context, texts []string) ([][]float32, error) {
	body, err := json.Marshal(e.wire.request(e.model, texts))
	if err != nil {
		return nil, fmt.Errorf("encoding request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	for k, v := range e.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", e.url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return nil, fmt.Errorf("reading response from %s: %w", e.url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s: %s", e.url, resp.Status, snippet(data))
	}
	vecs, err := e.wire.decode(data, len(texts))
	if err != nil {
		return nil, fmt.Errorf("decoding response from %s: %w", e.url, err)
	}
	return vecs, nil
}

// snippet returns the start of an error body, on one line.
func snippet(b []byte) string {
	const max = 200
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}

type ollamaWire struct{}

func (ollamaWire) request(model string, texts []string) any {
	return struct {
		Model string   `json:"model"`
		Input []string `json:"input"`
	}{model, texts}
}

func (ollamaWire) decode(body []byte, n int) ([][]float32, error) {
	var r struct {
		Embeddings [][]float32 `json:"embeddings"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	if len(r.Embeddings) != n {
		return nil, fmt.Errorf("got %d embeddings for %d inputs", len(r.Embeddings), n)
	}
	return r.Embeddings, nil
}

type openAIWire struct{}

func (openAIWire) request(model string, texts []string) any {
	return struct {
		Model          string   `json:"model"`
		Input          []string `json:"input"`
		EncodingFormat string   `json:"encoding_format"`
	}{model, texts, "float"}
}

func (openAIWire) decode(body []byte, n int) ([][]float32, error) {
	var r struct {
		Data []struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	if len(r.Data) != n {
		return nil, fmt.Errorf("got %d embeddings for %d inputs", len(r.Data), n)
	}
	out := make([][]float32, n)
	for _, d := range r.Data {
		if d.Index < 0 || d.Index >= n || out[d.Index] != nil {
			return nil, fmt.Errorf("bad or repeated embedding index %d for %d inputs", d.Index, n)
		}
		out[d.Index] = d.Embedding
	}
	return out, nil
}
