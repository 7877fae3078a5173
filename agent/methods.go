package agent

import (
	"context"
	"fmt"
	"strings"

	"github.com/codemux/codemux/index"
	"github.com/codemux/codemux/rpc"
)

// requestFolder resolves a request's folder parameter: the given folder
// (registered for this session if new), else the session's only folder.
func (ss *session) requestFolder(ref string) (*folder, error) {
	s := ss.srv
	if ref != "" {
		path, err := folderPath(ref)
		if err != nil {
			return nil, rpc.Errorf(rpc.CodeInvalidParams, "%v", err)
		}
		if err := ss.addFolder(path); err != nil {
			return nil, rpc.Errorf(rpc.CodeInvalidParams, "%v", err)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.folders[path], nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch len(ss.folders) {
	case 0:
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "no workspace folder: pass \"folder\" or open one in initialize")
	case 1:
		for _, f := range ss.folders {
			return f, nil
		}
	}
	names := make([]string, 0, len(ss.folders))
	for p := range ss.folders {
		names = append(names, p)
	}
	return nil, rpc.Errorf(rpc.CodeInvalidParams, "%d workspace folders are open (%s): pass \"folder\"", len(names), strings.Join(names, ", "))
}

func (ss *session) search(ctx context.Context, r *rpc.Request) (any, error) {
	var p rpc.SearchParams
	if err := r.Decode(&p); err != nil {
		return nil, err
	}
	if strings.TrimSpace(p.Query) == "" {
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "search needs a non-empty \"query\"")
	}
	if p.K < 0 || p.K > index.MaxK {
		return nil, rpc.Errorf(rpc.CodeInvalidParams, "\"k\" must be between 1 and %d", index.MaxK)
	}
	mode, err := searchMode(p.Mode)
	if err != nil {
		return nil, err
	}
	f, err := ss.requestFolder(p.Folder)
	if err != nil {
		return nil, err
	}
	progress := rpc.StartProgress(ctx, r.Conn, p.WorkDoneToken, "Indexing "+f.path, true)
	ix, err := ss.srv.ready(ctx, f, progress)
	progress.End(ctx, "")
	if err != nil {
		return nil, err
	}
	hits, err := ix.Search(ctx, index.Query{Text: p.Query, K: p.K, Languages: p.Languages, Paths: p.Paths, Mode: mode})
	if err != nil {
		return nil, fmt.Errorf("searching %s: %w", f.path, err)
	}
	res := rpc.SearchResult{Results: make([]rpc.SearchHit, 0, len(hits))}
	for _, h := range hits {
		res.Results = append(res.Results, rpc.SearchHit{
			Folder: f.uri, Path: h.Path, StartLine: h.StartLine, EndLine: h.EndLine,
			Symbol: h.Symbol, Kind: h.Kind, Language: h.Language, Score: h.Score, Snippet: h.Snippet,
		})
	}
	return res, nil
}

func searchMode(m string) (index.Mode, error) {
	switch m {
	case "", "hybrid":
		return index.Hybrid, nil
	case "lexical":
		return index.Lexical, nil
	case "vector":
		return index.Vector, nil
	}
	return 0, rpc.Errorf(rpc.CodeInvalidParams, "unknown search mode %q: use hybrid, lexical or vector", m)
}

func (ss *session) index(ctx context.Context, r *rpc.Request) (any, error) {
	var p rpc.IndexParams
	if err := r.Decode(&p); err != nil {
		return nil, err
	}
	f, err := ss.requestFolder(p.Folder)
	if err != nil {
		return nil, err
	}
	ix, err := ss.srv.index(ctx, f)
	if err != nil {
		return nil, err
	}
	progress := rpc.StartProgress(ctx, r.Conn, p.WorkDoneToken, "Indexing "+f.path, true)
	sum, err := ss.srv.update(ctx, f, ix, index.UpdateOptions{Full: p.Full}, progress)
	progress.End(ctx, "")
	if err != nil {
		return nil, err
	}
	return rpc.IndexSummary{
		Folder: f.uri, Files: sum.Files, Chunks: sum.Chunks, Bytes: sum.Bytes,
		Skipped: sum.Skipped, Reasons: sum.SkippedReasons, Ms: sum.Ms,
	}, nil
}

func (ss *session) didSave(r *rpc.Request) error {
	var p rpc.DidSaveParams
	if err := r.Decode(&p); err != nil {
		return err
	}
	path, err := parseFolderRef(p.TextDocument.URI)
	if err != nil {
		return rpc.InvalidParams(r.Method, err)
	}
	f, rel := ss.srv.folderOf(path)
	if f == nil {
		return nil // a file outside every workspace folder
	}
	ss.srv.saved(f, rel)
	return nil
}
