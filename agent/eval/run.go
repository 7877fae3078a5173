package eval

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Answer is what an Asker got for one case.
type Answer struct {
	Text string
	// Model is the model that answered (useful when the file names none);
	// PromptVersion the prompt variant used.
	Model         string
	PromptVersion string
}

// Asker answers an eval case the way the product would: index or take the
// case's context, build the prompt of promptVersion and ask model ("" means
// the router's choice).
type Asker interface {
	Ask(ctx context.Context, c Case, model, promptVersion string) (Answer, error)
}

// AutoModel labels runs of a file that names no models: the router chose.
const AutoModel = "auto"

// Options tunes Run. Nil or the zero value means defaults.
type Options struct {
	// Parallel is how many questions are asked at once; 0 means 1.
	Parallel int
	// Now stamps the report; nil means time.Now.
	Now func() time.Time
	// Progress, when set, is called with each result as it completes, one
	// call at a time.
	Progress func(Result)
}

// Run asks every case of f for every model × prompt version and checks the
// answers. An error from the asker fails that run with the error as its
// reason; Run itself fails only when ctx ends.
func Run(ctx context.Context, f *File, asker Asker, opts *Options) (*Report, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Parallel <= 0 {
		o.Parallel = 1
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	models := f.Models
	if len(models) == 0 {
		models = []string{""}
	}
	versions := f.PromptVersions
	if len(versions) == 0 {
		versions = []string{DefaultPromptVersion}
	}
	type job struct {
		c              *Case
		model, version string
	}
	var jobs []job
	for _, m := range models {
		for _, v := range versions {
			for i := range f.Cases {
				jobs = append(jobs, job{&f.Cases[i], m, v})
			}
		}
	}
	rep := &Report{Version: ReportVersion, File: f.Path, Time: o.Now().UTC(), Results: make([]Result, len(jobs))}

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex // serialises Progress
		next = make(chan int)
	)
	for range min(o.Parallel, len(jobs)) {
		wg.Go(func() {
			for i := range next {
				if ctx.Err() != nil {
					continue // drain: the run is abandoned
				}
				j := jobs[i]
				res := runOne(ctx, j.c, asker, j.model, j.version)
				rep.Results[i] = res
				if o.Progress != nil {
					mu.Lock()
					o.Progress(res)
					mu.Unlock()
				}
			}
		})
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("running evals: %w", err)
	}
	return rep, nil
}

// runOne asks one case and applies its checks.
func runOne(ctx context.Context, c *Case, asker Asker, model, version string) Result {
	res := Result{Case: c.Name, Model: model, PromptVersion: version}
	if model == "" {
		res.Model = AutoModel
	}
	ans, err := asker.Ask(ctx, *c, model, version)
	if err != nil {
		res.Failures = []string{"ask failed: " + err.Error()}
		return res
	}
	res.AnsweredBy = ans.Model
	for i := range c.Checks {
		if why := c.Checks[i].Apply(ans.Text); why != "" {
			res.Failures = append(res.Failures, why)
		}
	}
	res.Pass = len(res.Failures) == 0
	return res
}
