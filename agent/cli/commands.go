package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/codemux/codemux/rpc"
)

func cmdIndex(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("index", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the protocol result as JSON")
	full := fs.Bool("full", false, "re-read every file instead of only changed ones")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usageError("index takes at most one directory")
	}
	dir := ""
	if len(pos) == 1 {
		dir = pos[0]
	}
	folder, err := folderArg(dir)
	if err != nil {
		return err
	}
	var sum rpc.IndexSummary
	err = e.callWithProgress(ctx, !*asJSON, rpc.MethodIndex, func(token json.RawMessage) any {
		p := rpc.IndexParams{Folder: folder, Full: *full}
		p.WorkDoneToken = token
		return p
	}, &sum)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, sum)
	}
	fmt.Fprintf(e.stdout, "indexed %s: %d files, %d chunks, %s in %.1fs", folder, sum.Files, sum.Chunks, humanBytes(sum.Bytes), float64(sum.Ms)/1000)
	if sum.Skipped > 0 {
		fmt.Fprintf(e.stdout, " (%d skipped%s)", sum.Skipped, reasons(sum.Reasons))
	}
	fmt.Fprintln(e.stdout)
	return nil
}

func reasons(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	type reason struct {
		what string
		n    int
	}
	rs := make([]reason, 0, len(m))
	for r, n := range m {
		rs = append(rs, reason{r, n})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n || rs[i].n == rs[j].n && rs[i].what < rs[j].what })
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = fmt.Sprintf("%d %s", r.n, r.what)
	}
	return ": " + strings.Join(parts, ", ")
}

func cmdSearch(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("search", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the protocol result as JSON")
	k := fs.Int("k", 10, "number of results")
	dir := fs.String("dir", "", "workspace folder (default: the current directory)")
	mode := fs.String("mode", "", "hybrid (default), lexical or vector")
	var langs, paths stringList
	fs.Var(&langs, "lang", "only this language (repeatable)")
	fs.Var(&paths, "path", "only paths under this prefix or matching this glob (repeatable)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	query := strings.TrimSpace(strings.Join(pos, " "))
	if query == "" {
		return usageError("search needs a QUERY")
	}
	if *k <= 0 {
		return usageError("-k must be at least 1")
	}
	folder, err := folderArg(*dir)
	if err != nil {
		return err
	}
	var res rpc.SearchResult
	err = e.callWithProgress(ctx, !*asJSON, rpc.MethodSearch, func(token json.RawMessage) any {
		p := rpc.SearchParams{Query: query, K: *k, Folder: folder, Languages: langs, Paths: paths, Mode: *mode}
		p.WorkDoneToken = token
		return p
	}, &res)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, res)
	}
	if len(res.Results) == 0 {
		fmt.Fprintf(e.stdout, "no results for %q in %s\n", query, folder)
		return nil
	}
	for i, h := range res.Results {
		sym := h.Symbol
		if sym == "" {
			sym = h.Kind
		}
		fmt.Fprintf(e.stdout, "%2d. %s:%d-%d  %s  [%s %s] %.3f\n", i+1, h.Path, h.StartLine, h.EndLine, sym, h.Language, h.Kind, h.Score)
		for _, l := range strings.Split(strings.TrimRight(h.Snippet, "\n"), "\n") {
			fmt.Fprintf(e.stdout, "      %s\n", l)
		}
	}
	return nil
}

func cmdAsk(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("ask", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the protocol result as JSON")
	dir := fs.String("dir", "", "workspace folder (default: the current directory)")
	noContext := fs.Bool("no-context", false, "ask without retrieving code from the workspace")
	kind := fs.String("kind", "", "request kind: chat, explain, generate, tests, reason")
	dryRun := fs.Bool("dry-run", false, "print exactly what would be sent (after redaction) and send nothing")
	contextK := fs.Int("context", -1, "number of code chunks to send (default 8)")
	toolOutput := fs.String("tool-output", "", "file with linter/test/scanner output the answer must explain ('-' for stdin)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	q := strings.TrimSpace(strings.Join(pos, " "))
	if q == "" {
		return usageError("ask needs a QUESTION")
	}
	params := rpc.AskParams{Question: q, Kind: *kind, NoContext: *noContext, Stream: !*asJSON && !*dryRun, DryRun: *dryRun}
	if *contextK >= 0 {
		params.ContextK = contextK
	}
	if *toolOutput != "" {
		var data []byte
		if *toolOutput == "-" {
			data, err = io.ReadAll(io.LimitReader(e.stdin, 1<<20))
		} else {
			data, err = os.ReadFile(*toolOutput)
		}
		if err != nil {
			return fmt.Errorf("reading tool output: %w", err)
		}
		params.ToolOutput = string(data)
	}
	if !*noContext {
		folder, err := folderArg(*dir)
		if err != nil {
			return err
		}
		params.Folder = folder
	}
	streamed := false
	c, err := e.connect(ctx, func(method string, raw json.RawMessage) {
		if method != rpc.MethodAskDelta || *asJSON {
			return
		}
		var d rpc.AskDelta
		if json.Unmarshal(raw, &d) == nil {
			streamed = true
			fmt.Fprint(e.stdout, d.Text)
		}
	})
	if err != nil {
		return err
	}
	defer c.Close()
	var res rpc.AskResult
	if err := c.Call(ctx, rpc.MethodAsk, params, &res); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, res)
	}
	if res.Request != nil {
		printPreview(e, res)
		return nil
	}
	if !streamed {
		fmt.Fprint(e.stdout, res.Answer)
	}
	fmt.Fprintln(e.stdout)
	for _, r := range res.Context {
		fmt.Fprintf(e.stderr, "  cited %s:%d-%d\n", r.Path, r.StartLine, r.EndLine)
	}
	fmt.Fprintf(e.stderr, "— %s via %s, %d+%d tokens, prompt %s, id %s\n", res.Model, res.Account, res.Usage.PromptTokens, res.Usage.CompletionTokens, res.PromptVersion, res.ID)
	if res.Redacted > 0 {
		fmt.Fprintf(e.stderr, "  %d secret(s) were replaced by placeholders before sending\n", res.Redacted)
	}
	return nil
}

// printPreview shows a dry run: exactly the prompt that would be sent.
func printPreview(e *env, res rpc.AskResult) {
	p := res.Request
	fmt.Fprintf(e.stdout, "# dry run: nothing was sent\n# model %s (%s prompts), prompt %s, %d secret(s) redacted\n\n", p.Model, p.Family, p.PromptVersion, res.Redacted)
	fmt.Fprintf(e.stdout, "## system\n%s\n", p.System)
	for _, m := range p.Messages {
		fmt.Fprintf(e.stdout, "\n## %s\n%s\n", m.Role, m.Content)
	}
}

func cmdFeedback(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("feedback", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the protocol result as JSON")
	all := fs.Bool("all", false, "export: include answers that were never rated")
	rating := fs.String("rating", "", "export: only answers rated up or down")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 1 && pos[0] == "export" {
		return feedbackExport(ctx, e, rpc.FeedbackExportParams{All: *all, Rating: *rating}, *asJSON)
	}
	if len(pos) < 2 || (pos[1] != "up" && pos[1] != "down") {
		return usageError("usage: codemux feedback ID up|down [COMMENT], or codemux feedback export [--all]")
	}
	c, err := e.connect(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	var res struct{}
	p := rpc.FeedbackParams{ID: pos[0], Rating: pos[1], Comment: strings.Join(pos[2:], " ")}
	if err := c.Call(ctx, rpc.MethodFeedback, p, &res); err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, res)
	}
	fmt.Fprintf(e.stdout, "recorded %s for %s\n", p.Rating, p.ID)
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// feedbackExport prints the stored answers as JSON lines.
func feedbackExport(ctx context.Context, e *env, p rpc.FeedbackExportParams, asJSON bool) error {
	c, err := e.connect(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	var res rpc.FeedbackExportResult
	if err := c.Call(ctx, rpc.MethodFeedbackExport, p, &res); err != nil {
		return err
	}
	if asJSON {
		return printJSON(e.stdout, res)
	}
	_, err = io.WriteString(e.stdout, res.Lines)
	return err
}

// callWithProgress makes one request on a new session, drawing the
// server's progress for it on stderr when show is set and stderr is a
// terminal. params receives the progress token to put in the request.
func (e *env) callWithProgress(ctx context.Context, show bool, method string, params func(token json.RawMessage) any, result any) error {
	bar := newProgressBar(e.stderr, show)
	defer bar.finish()
	c, err := e.connect(ctx, bar.onNotify)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Call(ctx, method, params(bar.token()), result)
}
