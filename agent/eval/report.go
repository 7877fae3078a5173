package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// ReportVersion is the layout of a saved report (Report.Save). A baseline
// of another version is refused by LoadBaseline with ErrReportVersion; run
// the evals again to save a new one.
//
// History:
//
//	1: initial layout: version, file, time, results[{case, model,
//	   promptVersion, answeredBy, pass, failures}].
const ReportVersion = 1

// ErrReportVersion reports a baseline saved in a layout this build does not
// read.
var ErrReportVersion = errors.New("baseline was saved by an incompatible version of codemux")

// Report is the outcome of one Run.
type Report struct {
	Version int       `json:"version"`
	File    string    `json:"file,omitempty"`
	Time    time.Time `json:"time"`
	// Results has one entry per model × prompt version × case, in that
	// nesting order.
	Results []Result `json:"results"`
}

// Result is one case asked of one model with one prompt version.
type Result struct {
	Case          string `json:"case"`
	Model         string `json:"model"` // as requested; AutoModel when the router chose
	PromptVersion string `json:"promptVersion"`
	// AnsweredBy is the model that answered, as the asker reported it.
	AnsweredBy string `json:"answeredBy,omitempty"`
	Pass       bool   `json:"pass"`
	// Failures says why each failed check failed, or why the question
	// could not be asked.
	Failures []string `json:"failures,omitempty"`
}

// Rate is the pass rate of one model × prompt version.
type Rate struct {
	Model, PromptVersion string
	Passed, Total        int
}

// Percent returns the pass rate in percent.
func (r Rate) Percent() float64 {
	if r.Total == 0 {
		return 0
	}
	return 100 * float64(r.Passed) / float64(r.Total)
}

type pair struct{ model, version string }

// Rates returns the pass rate of every model × prompt version, in the order
// they were run.
func (r *Report) Rates() []Rate {
	var out []Rate
	idx := make(map[pair]int)
	for _, res := range r.Results {
		k := pair{res.Model, res.PromptVersion}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Rate{Model: res.Model, PromptVersion: res.PromptVersion})
		}
		out[i].Total++
		if res.Pass {
			out[i].Passed++
		}
	}
	return out
}

// Table writes the pass-rate table and the failed runs with their reasons,
// for a person to read.
func (r *Report) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tPROMPT\tPASSED\tRATE")
	for _, rt := range r.Rates() {
		fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%.0f%%\n", rt.Model, rt.PromptVersion, rt.Passed, rt.Total, rt.Percent())
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing eval table: %w", err)
	}
	var b strings.Builder
	for _, res := range r.Results {
		if res.Pass {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("\nfailed:\n")
		}
		fmt.Fprintf(&b, "  %s  %s/%s\n", res.Case, res.Model, res.PromptVersion)
		for _, f := range res.Failures {
			fmt.Fprintf(&b, "    - %s\n", f)
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("writing eval table: %w", err)
	}
	return nil
}

// Save writes the report as JSON to path, replacing it atomically.
func (r *Report) Save(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("saving eval report: %w", err)
	}
	data = append(data, '\n')
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("saving eval report: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("saving eval report %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("saving eval report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("saving eval report %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("saving eval report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("saving eval report %s: %w", path, err)
	}
	return nil
}

// BaselinePath returns where the baseline of an eval file is kept by
// convention: beside it, with .baseline.json instead of its extension
// (evals/ask.yaml → evals/ask.baseline.json).
func BaselinePath(evalFile string) string {
	return strings.TrimSuffix(evalFile, filepath.Ext(evalFile)) + ".baseline.json"
}

// LoadBaseline reads a report saved by Save. A missing file is an error
// that matches fs.ErrNotExist (the first run has no baseline).
func LoadBaseline(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("loading eval baseline: %w", err)
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("loading eval baseline %s: %w", path, err)
	}
	if r.Version != ReportVersion {
		return nil, fmt.Errorf("loading eval baseline %s: %w (version %d, this build reads %d)", path, ErrReportVersion, r.Version, ReportVersion)
	}
	return &r, nil
}

// Regression is a way the report is worse than its baseline: a model ×
// prompt version whose pass rate dropped (Case is ""), or a case that
// passed in the baseline and fails now.
type Regression struct {
	Model, PromptVersion string
	Case                 string
	// Was and Now are the pass rates (for a rate drop).
	Was, Now Rate
	// Failures are the case's failure reasons now.
	Failures []string
}

func (g Regression) String() string {
	if g.Case == "" {
		return fmt.Sprintf("%s/%s: pass rate fell from %d/%d (%.0f%%) to %d/%d (%.0f%%)",
			g.Model, g.PromptVersion, g.Was.Passed, g.Was.Total, g.Was.Percent(), g.Now.Passed, g.Now.Total, g.Now.Percent())
	}
	return fmt.Sprintf("%s %s/%s: passed in the baseline, fails now: %s", g.Case, g.Model, g.PromptVersion, strings.Join(g.Failures, "; "))
}

// Compare returns the regressions of report against baseline: every model ×
// prompt version in both whose pass rate dropped, then every case that
// passed in the baseline and fails now, in the report's order. Models,
// versions and cases in only one of them are not compared.
func Compare(baseline, report *Report) []Regression {
	var out []Regression
	was := make(map[pair]Rate)
	for _, rt := range baseline.Rates() {
		was[pair{rt.Model, rt.PromptVersion}] = rt
	}
	for _, now := range report.Rates() {
		b, ok := was[pair{now.Model, now.PromptVersion}]
		// now.Passed/now.Total < b.Passed/b.Total, without division.
		if ok && b.Total > 0 && now.Passed*b.Total < b.Passed*now.Total {
			out = append(out, Regression{Model: now.Model, PromptVersion: now.PromptVersion, Was: b, Now: now})
		}
	}
	type key struct{ c, m, v string }
	passed := make(map[key]bool)
	for _, res := range baseline.Results {
		passed[key{res.Case, res.Model, res.PromptVersion}] = res.Pass
	}
	for _, res := range report.Results {
		if !res.Pass && passed[key{res.Case, res.Model, res.PromptVersion}] {
			out = append(out, Regression{Model: res.Model, PromptVersion: res.PromptVersion, Case: res.Case, Failures: res.Failures})
		}
	}
	return out
}
