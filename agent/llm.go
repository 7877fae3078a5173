package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/codemux/codemux/agent/config"
	"github.com/codemux/codemux/agent/prompt"
	"github.com/codemux/codemux/index"
	"github.com/codemux/codemux/index/chunk"
	"github.com/codemux/codemux/index/embed"
	"github.com/codemux/codemux/index/secrets"
	"github.com/codemux/codemux/router"
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

// dryRunModel is the model a dry run renders for when no account is
// configured.
const dryRunModel = "gpt-4o-mini"

func (ss *session) ask(ctx context.Context, r *rpc.Request) (any, error) {
	var p rpc.AskParams
	if err := r.Decode(&p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Question) == "" {
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "ask needs a non-empty \"question\"")
	}
	s := ss.srv
	rt, cfg, cfgErr := s.llm()
	if !p.DryRun {
		if rt == nil {
			return nil, rpc.Errorf(CodeRequestFailed, "the LLM router is unavailable: %v", cfgErr)
		}
		if len(cfg.Router.Accounts) == 0 {
			return nil, noAccountsError(s.opts.ConfigPath, cfgErr)
		}
	}

	// Everything that leaves the machine is redacted first, with one
	// redactor so a secret mentioned twice gets one placeholder.
	var red secrets.Redactor
	redacted := 0
	redact := func(text string) string {
		out, n := red.Redact(text)
		redacted += n
		return out
	}
	in := prompt.Input{Question: redact(p.Question), ToolOutput: redact(p.ToolOutput)}
	for _, d := range p.Diagnostics {
		in.Diagnostics = append(in.Diagnostics, prompt.Diagnostic{Source: d.Source, Path: d.Path, Line: d.Line, Severity: d.Severity, Code: d.Code, Message: redact(d.Message)})
	}
	var refs []rpc.ContextRef
	var f *folder
	switch {
	case len(p.Context) > 0:
		refs, in.Pieces = inlinePieces(p.Context)
	case !p.NoContext:
		var err error
		f, refs, in.Pieces, err = ss.retrieve(ctx, r, p)
		if err != nil {
			return nil, err
		}
	}
	for i := range in.Pieces {
		in.Pieces[i].Text = redact(in.Pieces[i].Text)
	}
	if f != nil {
		in.Workspace = filepath.Base(f.path)
	}
	repo, err := s.prompts(f, p.PromptDir)
	if err != nil {
		return nil, err
	}
	b, err := repo.Bind(p.Kind, in)
	if err != nil {
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "%v", err)
	}
	req, err := b.Request()
	if err != nil {
		return nil, rpc.Errorf(CodeRequestFailed, "building the prompt: %v", err)
	}
	req.Stream = p.Stream
	req.Models = p.Models
	id := newAskID()

	if p.DryRun {
		model := dryRunModel
		if m := firstModel(cfg, req.Kind); m != "" {
			model = m
		}
		rd, err := repo.Render(b.Task(), model, in)
		if err != nil {
			return nil, rpc.Errorf(CodeRequestFailed, "rendering the prompt: %v", err)
		}
		preview := &rpc.AskPreview{Model: model, Family: rd.Family, PromptVersion: rd.Version, System: rd.System}
		for _, m := range rd.Messages {
			preview.Messages = append(preview.Messages, rpc.ChatMessage{Role: m.Role, Content: m.Content})
		}
		return rpc.AskResult{ID: id, Model: model, PromptVersion: rd.Version, Redacted: redacted,
			Context: refs, Attempts: []rpc.AttemptInfo{}, Request: preview}, nil
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
		if berr := b.Err(); berr != nil {
			err = berr
		}
		return nil, rpc.Errorf(CodeRequestFailed, "%v", err)
	}
	rd, _ := b.Last()
	out := rpc.AskResult{
		ID: id, Answer: prompt.Postprocess(rd.Family, res.Text), Model: res.Model, Account: res.Account,
		Usage:         rpc.Usage{PromptTokens: res.Usage.PromptTokens, CompletionTokens: res.Usage.CompletionTokens},
		Context:       usedRefs(refs, res.ContextUsed),
		Attempts:      make([]rpc.AttemptInfo, 0, len(res.Attempts)),
		PromptVersion: rd.Version,
		Redacted:      redacted,
	}
	for _, a := range res.Attempts {
		out.Attempts = append(out.Attempts, rpc.AttemptInfo{Account: a.Account, Model: a.Model, Outcome: a.Outcome, Ms: a.Ms})
	}
	s.remember(in.Question, b.Task(), out)
	return out, nil
}

// inlinePieces turns context passed with a question into pieces.
func inlinePieces(ctx []rpc.InlineContext) ([]rpc.ContextRef, []prompt.Piece) {
	refs := make([]rpc.ContextRef, 0, len(ctx))
	pieces := make([]prompt.Piece, 0, len(ctx))
	for i, c := range ctx {
		start := max(c.StartLine, 1)
		end := start + strings.Count(strings.TrimRight(c.Text, "\n"), "\n")
		lang := c.Language
		if lang == "" {
			lang = chunk.LanguageOf(c.Path)
		}
		refs = append(refs, rpc.ContextRef{Path: c.Path, StartLine: start, EndLine: end})
		pieces = append(pieces, prompt.Piece{ID: strconv.Itoa(i), Path: c.Path, StartLine: start, EndLine: end, Language: lang, Text: c.Text})
	}
	return refs, pieces
}

func noAccountsError(configPath string, cfgErr error) error {
	where := configPath
	if where == "" {
		where = "the config file"
	}
	msg := fmt.Sprintf("no LLM accounts configured: add one under accounts: in %s (provider, api_key_env, models)", where)
	if cfgErr != nil {
		msg += fmt.Sprintf("; the config file has an error: %v", cfgErr)
	}
	return rpc.Errorf(CodeRequestFailed, "%s", msg)
}

// firstModel is the first configured model a request of kind may use, for
// a dry run's rendering ("" if none).
func firstModel(cfg *config.File, kind string) string {
	if cfg == nil {
		return ""
	}
	minTier := 0
	if k, ok := cfg.Router.Kinds[kind]; ok {
		minTier = k.MinTier
	}
	var first string
	for _, a := range cfg.Router.Accounts {
		for _, m := range a.Models {
			name := m.Model
			if m.Catalog != "" {
				name = m.Catalog
			}
			if first == "" {
				first = name
			}
			if info, ok := cfg.Router.Models[name]; ok && info.Tier >= minTier {
				return name
			}
		}
	}
	return first
}

// prompts returns the prompt repository for an ask in folder f (nil: no
// workspace): embedded templates, overridden by the user's config dir and
// the workspace's .codemux/prompts.
func (s *Server) prompts(f *folder, dir string) (*prompt.Repo, error) {
	opts := &prompt.Options{Logger: s.log}
	if s.opts.ConfigPath != "" {
		opts.UserDir = filepath.Join(filepath.Dir(s.opts.ConfigPath), "prompts")
	}
	switch {
	case dir != "":
		if !filepath.IsAbs(dir) {
			return nil, rpc.Errorf(rpc.CodeInvalidParams, "\"promptDir\" must be an absolute path")
		}
		opts.WorkspaceDir = dir
	case f != nil:
		opts.WorkspaceDir = filepath.Join(f.path, ".codemux", "prompts")
	}
	repo, err := prompt.New(opts)
	if err != nil {
		return nil, rpc.Errorf(CodeRequestFailed, "prompt templates: %v", err)
	}
	return repo, nil
}

// retrieve finds the chunks to send with a question, as ranked pieces.
func (ss *session) retrieve(ctx context.Context, r *rpc.Request, p rpc.AskParams) (*folder, []rpc.ContextRef, []prompt.Piece, error) {
	k := defaultContextK
	if p.ContextK != nil {
		k = *p.ContextK
	}
	if k < 0 || k > index.MaxK {
		return nil, nil, nil, rpc.Errorf(rpc.CodeInvalidParams, "\"contextK\" must be between 0 and %d", index.MaxK)
	}
	f, err := ss.requestFolder(p.Folder)
	if err != nil {
		return nil, nil, nil, err
	}
	if k == 0 {
		return f, nil, nil, nil
	}
	progress := rpc.StartProgress(ctx, r.Conn, p.WorkDoneToken, "Indexing "+f.path, true)
	ix, err := ss.srv.ready(ctx, f, progress)
	progress.End(ctx, "")
	if err != nil {
		return nil, nil, nil, err
	}
	hits, err := ix.Search(ctx, index.Query{Text: p.Question, K: k, WithText: true})
	if err != nil {
		return nil, nil, nil, fmt.Errorf("retrieving context from %s: %w", f.path, err)
	}
	refs := make([]rpc.ContextRef, 0, len(hits))
	pieces := make([]prompt.Piece, 0, len(hits))
	for i, h := range hits {
		refs = append(refs, rpc.ContextRef{Folder: f.uri, Path: h.Path, StartLine: h.StartLine, EndLine: h.EndLine, Symbol: h.Symbol})
		pieces = append(pieces, prompt.Piece{ID: strconv.Itoa(i), Path: h.Path, StartLine: h.StartLine, EndLine: h.EndLine,
			Language: h.Language, Symbol: h.Symbol, Text: h.Text})
	}
	return f, refs, pieces, nil
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
