package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/codemux/codemux/agent/config"
	"github.com/codemux/codemux/index"
	"github.com/codemux/codemux/index/embed"
	"github.com/codemux/codemux/router"
	"github.com/codemux/codemux/router/provider"
	"github.com/codemux/codemux/rpc"
)

// llmState is the loaded config and the router built from it. A config
// file that changes is reloaded on the next status or ask; a broken file
// keeps the last good router and is reported in status.
type llmState struct {
	cfg    *config.File
	cfgErr error
	router *router.Router
}

// llm returns the current router and config, reloading the config file
// when it changed on disk.
func (s *Server) llm() (*router.Router, *config.File, error) {
	s.llmMu.Lock()
	defer s.llmMu.Unlock()
	st := &s.llmState
	path := s.opts.ConfigPath
	if st.router != nil && st.cfg != nil && config.StampOf(path) == st.cfg.Stamp && st.cfgErr == nil {
		return st.router, st.cfg, nil
	}
	var f *config.File
	var err error
	if path == "" {
		f = config.Default()
	} else {
		f, err = config.Load(path, s.opts.Env)
	}
	if err != nil {
		st.cfgErr = err
		if st.cfg == nil {
			st.cfg = config.Default()
		}
		st.cfg.Stamp = config.StampOf(path)
	} else {
		st.cfg, st.cfgErr = f, nil
	}
	if st.router == nil {
		r, rerr := router.New(st.cfg.Router, &router.Options{Logger: s.log.With("component", "router")})
		if rerr != nil {
			st.cfgErr = errors.Join(st.cfgErr, rerr)
			return nil, st.cfg, st.cfgErr
		}
		st.router = r
	} else if err == nil {
		if rerr := st.router.Reload(st.cfg.Router); rerr != nil {
			st.cfgErr = rerr
		}
	}
	return st.router, st.cfg, st.cfgErr
}

// accountStatus maps the router's view for codemux/status.
func accountStatus(r *router.Router) []rpc.AccountStatus {
	out := []rpc.AccountStatus{}
	if r == nil {
		return out
	}
	for _, a := range r.Status() {
		as := rpc.AccountStatus{Name: a.Name, Provider: a.Provider, Models: []rpc.ModelStatus{}}
		for _, m := range a.Models {
			ms := rpc.ModelStatus{Model: m.Model, RPMLimit: m.RPMLimit, RPMLeft: m.RPMLeft, TPMLimit: m.TPMLimit, TPMLeft: m.TPMLeft, Health: m.Health}
			if !m.CooldownUntil.IsZero() {
				ms.CooldownUntil = m.CooldownUntil.UTC().Format(time.RFC3339)
			}
			as.Models = append(as.Models, ms)
		}
		out = append(out, as)
	}
	return out
}

// defaultContextK is how many chunks an ask retrieves by default.
const defaultContextK = 8

const askSystem = "You are codemux, a coding assistant that answers questions about the user's code. " +
	"When code from the workspace is provided, answer from it and cite files as path:line. " +
	"If the provided code does not contain the answer, say so."

func (ss *session) ask(ctx context.Context, r *rpc.Request) (any, error) {
	var p rpc.AskParams
	if err := r.Decode(&p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Question) == "" {
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "ask needs a non-empty \"question\"")
	}
	s := ss.srv
	rt, cfg, err := s.llm()
	if rt == nil {
		return nil, rpc.Errorf(CodeRequestFailed, "the LLM router is unavailable: %v", err)
	}
	if len(cfg.Router.Accounts) == 0 {
		where := s.opts.ConfigPath
		if where == "" {
			where = "the config file"
		}
		msg := fmt.Sprintf("no LLM accounts configured: add one under accounts: in %s (provider, api_key_env, models)", where)
		if err != nil {
			msg += fmt.Sprintf("; the config file has an error: %v", err)
		}
		return nil, rpc.Errorf(CodeRequestFailed, "%s", msg)
	}

	var refs []rpc.ContextRef
	var pieces []router.Piece
	if !p.NoContext {
		refs, pieces, err = ss.retrieve(ctx, r, p)
		if err != nil {
			return nil, err
		}
	}
	id := newAskID()
	req := &router.Request{
		Kind:     p.Kind,
		System:   askSystem,
		Messages: []provider.Message{{Role: "user", Content: p.Question}},
		Context:  pieces,
		Stream:   p.Stream,
	}
	var onDelta func(string)
	if p.Stream {
		onDelta = func(text string) {
			_ = r.Conn.Notify(context.WithoutCancel(ctx), rpc.MethodAskDelta, rpc.AskDelta{ID: id, Text: text})
		}
	}
	res, err := rt.Do(ctx, req, onDelta)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, rpc.Errorf(CodeRequestFailed, "%v", err)
	}
	out := rpc.AskResult{
		ID: id, Answer: res.Text, Model: res.Model, Account: res.Account,
		Usage:    rpc.Usage{PromptTokens: res.Usage.PromptTokens, CompletionTokens: res.Usage.CompletionTokens},
		Context:  usedRefs(refs, res.ContextUsed),
		Attempts: make([]rpc.AttemptInfo, 0, len(res.Attempts)),
	}
	for _, a := range res.Attempts {
		out.Attempts = append(out.Attempts, rpc.AttemptInfo{Account: a.Account, Model: a.Model, Outcome: a.Outcome, Ms: a.Ms})
	}
	return out, nil
}

// retrieve finds the chunks to send with a question, as ranked pieces.
func (ss *session) retrieve(ctx context.Context, r *rpc.Request, p rpc.AskParams) ([]rpc.ContextRef, []router.Piece, error) {
	k := defaultContextK
	if p.ContextK != nil {
		k = *p.ContextK
	}
	if k <= 0 {
		return nil, nil, nil
	}
	if k > index.MaxK {
		return nil, nil, rpc.Errorf(rpc.CodeInvalidParams, "\"contextK\" must be at most %d", index.MaxK)
	}
	f, err := ss.requestFolder(p.Folder)
	if err != nil {
		return nil, nil, err
	}
	progress := rpc.StartProgress(ctx, r.Conn, p.WorkDoneToken, "Indexing "+f.path, true)
	ix, err := ss.srv.ready(ctx, f, progress)
	progress.End(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	hits, err := ix.Search(ctx, index.Query{Text: p.Question, K: k, WithText: true})
	if err != nil {
		return nil, nil, fmt.Errorf("retrieving context from %s: %w", f.path, err)
	}
	refs := make([]rpc.ContextRef, 0, len(hits))
	pieces := make([]router.Piece, 0, len(hits))
	for i, h := range hits {
		refs = append(refs, rpc.ContextRef{Folder: f.uri, Path: h.Path, StartLine: h.StartLine, EndLine: h.EndLine, Symbol: h.Symbol})
		text := fmt.Sprintf("%s:%d-%d\n```%s\n%s\n```", h.Path, h.StartLine, h.EndLine, h.Language, strings.TrimRight(h.Text, "\n"))
		pieces = append(pieces, router.Piece{ID: strconv.Itoa(i), Text: text, Rank: i})
	}
	return refs, pieces, nil
}

// usedRefs keeps the citations of the pieces the router actually sent.
func usedRefs(refs []rpc.ContextRef, used []string) []rpc.ContextRef {
	out := make([]rpc.ContextRef, 0, len(used))
	for _, id := range used {
		if i, err := strconv.Atoi(id); err == nil && i >= 0 && i < len(refs) {
			out = append(out, refs[i])
		}
	}
	return out
}

func newAskID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// embedder returns the embedder the config asks for; nil means the
// built-in one. Changing it makes each index re-embed (vectors of two
// embedders are never mixed).
func (s *Server) embedder() embed.Embedder {
	_, cfg, _ := s.llm()
	if cfg == nil {
		return nil
	}
	e := cfg.Embeddings
	switch e.Provider {
	case config.EmbedOllama:
		base := e.BaseURL
		if base == "" {
			base = "http://127.0.0.1:11434"
		}
		return embed.NewOllama(base, e.Model, nil, nil)
	case config.EmbedOpenAICompatible:
		return embed.NewOpenAICompatible(e.BaseURL, e.Model, e.APIKey.Reveal(), nil, nil)
	}
	return nil
}
