package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/codemux/codemux/agent/eval"
	"github.com/codemux/codemux/rpc"
)

// evalAsker answers eval cases through the daemon's ask pipeline.
type evalAsker struct {
	c   *rpc.Client
	dir string // the eval file's directory, for prompt version paths
}

// Ask implements eval.Asker. A prompt version other than "default" names a
// directory of template overrides, relative to the eval file.
func (a *evalAsker) Ask(ctx context.Context, c eval.Case, model, version string) (eval.Answer, error) {
	p := rpc.AskParams{Question: c.Question, Kind: c.Kind}
	switch {
	case len(c.Context) > 0:
		for _, f := range c.Context {
			p.Context = append(p.Context, rpc.InlineContext{Path: f.Path, Text: f.Text})
		}
	case c.Workspace != "":
		p.Folder = c.Workspace
	default:
		p.NoContext = true
	}
	if model != "" {
		p.Models = []string{model}
	}
	if version != "" && version != eval.DefaultPromptVersion {
		dir := version
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(a.dir, dir)
		}
		p.PromptDir = dir
	}
	var res rpc.AskResult
	if err := a.c.Call(ctx, rpc.MethodAsk, p, &res); err != nil {
		return eval.Answer{}, errors.New(oneLine(err))
	}
	return eval.Answer{Text: res.Answer, Model: res.Model, PromptVersion: res.PromptVersion}, nil
}

func cmdEval(ctx context.Context, e *env, args []string) error {
	fset := flag.NewFlagSet("eval", flag.ContinueOnError)
	asJSON := fset.Bool("json", false, "print the report as JSON")
	update := fset.Bool("update", false, "save this run as the baseline even if it regressed")
	baseline := fset.String("baseline", "", "baseline file (default: FILE with .baseline.json)")
	pos, err := parseFlags(fset, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: codemux eval FILE.yaml")
	}
	f, err := eval.Load(pos[0])
	if err != nil {
		return err
	}
	c, err := e.connect(ctx, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	rep, err := eval.Run(ctx, f, &evalAsker{c: c, dir: filepath.Dir(f.Path)}, nil)
	if err != nil {
		return err
	}
	bpath := *baseline
	if bpath == "" {
		bpath = eval.BaselinePath(f.Path)
	}
	base, err := eval.LoadBaseline(bpath)
	var regs []eval.Regression
	switch {
	case errors.Is(err, fs.ErrNotExist):
		base = nil
	case err != nil:
		return err
	default:
		regs = eval.Compare(base, rep)
	}
	if *asJSON {
		if err := printJSON(e.stdout, rep); err != nil {
			return err
		}
	} else if err := rep.Table(e.stdout); err != nil {
		return err
	}
	if len(regs) == 0 || *update {
		if err := rep.Save(bpath); err != nil {
			return err
		}
		if !*asJSON {
			fmt.Fprintf(e.stdout, "saved as the baseline: %s\n", bpath)
		}
	}
	if base == nil {
		// No baseline yet: every case must pass.
		failed := 0
		for _, rt := range rep.Rates() {
			failed += rt.Total - rt.Passed
		}
		if failed > 0 {
			return &exitError{code: 1, msg: fmt.Sprintf("%d case run(s) failed their checks (no baseline yet; saved this run as %s)", failed, bpath)}
		}
	}
	if len(regs) > 0 {
		var lines []string
		for _, r := range regs {
			lines = append(lines, r.String())
		}
		fmt.Fprintf(e.stderr, "%s\n", strings.Join(lines, "\n"))
		return &exitError{code: 1, msg: fmt.Sprintf("%d regression(s) against %s", len(regs), bpath)}
	}
	return nil
}
