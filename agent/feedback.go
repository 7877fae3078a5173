package agent

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"

	"github.com/codemux/codemux/agent/feedback"
	"github.com/codemux/codemux/rpc"
)

// feedbackStore opens the feedback file on first use; a damaged file is
// moved aside and a new one started.
func (s *Server) feedbackStore() (*feedback.Store, error) {
	s.fbMu.Lock()
	defer s.fbMu.Unlock()
	if s.fb != nil {
		return s.fb, nil
	}
	if s.opts.DataDir == "" {
		return nil, errors.New("no data directory for feedback")
	}
	path := filepath.Join(s.opts.DataDir, "feedback.db")
	fb, err := feedback.Open(path, nil)
	if errors.Is(err, feedback.ErrCorrupt) || errors.Is(err, feedback.ErrSchema) {
		var moved string
		fb, moved, err = feedback.Recreate(path, nil)
		s.log.Warn("feedback file unusable; moved aside", "to", moved)
	}
	if err != nil {
		return nil, err
	}
	s.fb = fb
	return fb, nil
}

// remember saves an answer so a rating can attach to it later. Failing to
// save is logged, never a failed ask.
func (s *Server) remember(question, task string, res rpc.AskResult) {
	fb, err := s.feedbackStore()
	if err != nil {
		s.log.Warn("feedback store unavailable", "error", err)
		return
	}
	rec := feedback.Record{
		ID: res.ID, Question: question, Kind: task, PromptVersion: res.PromptVersion,
		Model: res.Model, Account: res.Account, Answer: res.Answer, Redactions: res.Redacted,
		Usage: feedback.Usage{PromptTokens: res.Usage.PromptTokens, CompletionTokens: res.Usage.CompletionTokens},
	}
	for _, c := range res.Context {
		rec.Context = append(rec.Context, feedback.Citation{Folder: c.Folder, Path: c.Path, StartLine: c.StartLine, EndLine: c.EndLine, Symbol: c.Symbol})
	}
	if err := fb.Save(rec); err != nil {
		s.log.Warn("saving answer for feedback", "error", err)
	}
}

func (ss *session) feedback(r *rpc.Request) (any, error) {
	var p rpc.FeedbackParams
	if err := r.Decode(&p); err != nil {
		return nil, err
	}
	if p.Rating != "up" && p.Rating != "down" {
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "rating must be \"up\" or \"down\", not %q", p.Rating)
	}
	fb, err := ss.srv.feedbackStore()
	if err != nil {
		return nil, rpc.Errorf(CodeRequestFailed, "feedback store: %v", err)
	}
	switch err := fb.Rate(p.ID, p.Rating, p.Comment); {
	case errors.Is(err, feedback.ErrNotFound):
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "no answer with id %q (ids are printed after each answer)", p.ID)
	case err != nil:
		return nil, rpc.Errorf(CodeRequestFailed, "recording feedback: %v", err)
	}
	return struct{}{}, nil
}

func (ss *session) feedbackExport(ctx context.Context, r *rpc.Request) (any, error) {
	var p rpc.FeedbackExportParams
	if err := r.Decode(&p); err != nil {
		return nil, err
	}
	fb, err := ss.srv.feedbackStore()
	if err != nil {
		return nil, rpc.Errorf(CodeRequestFailed, "feedback store: %v", err)
	}
	var buf bytes.Buffer
	n, err := fb.Export(ctx, &buf, feedback.Filter{All: p.All, Rating: p.Rating})
	if err != nil {
		return nil, rpc.Errorf(CodeRequestFailed, "exporting feedback: %v", err)
	}
	return rpc.FeedbackExportResult{Lines: buf.String(), Count: n}, nil
}
