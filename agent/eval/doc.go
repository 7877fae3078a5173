// Package eval runs prompt regression cases with deterministic checks.
//
// An eval file lists questions, the context to answer them from and checks
// the answer must pass; no model judges another model's answer. Every case
// runs against every listed model × prompt version, and the report's pass
// rates are compared with a saved baseline: a pass rate that dropped, or a
// case that passed before and fails now, is a regression.
//
// # File format
//
// YAML, parsed strictly (an unknown key is an error naming its line):
//
//	models: [gpt-4o-mini, claude-3-5-haiku-latest]  # optional: default = the router's choice
//	prompt_versions: [default]                       # optional: default = [default]
//	cases:
//	  - name: explains-retry                # unique
//	    question: "How does the client retry failed requests?"
//	    kind: explain                       # optional ask kind
//	    workspace: ./fixtures/retry         # relative to this file; indexed and retrieved from
//	    checks:
//	      - contains: "backoff"             # substring, ignoring case
//	      - not_contains: "I don't know"    # substring, ignoring case
//	      - regex: "(?i)retr(y|ies)"        # Go RE2, must match somewhere
//	  - name: summary-json
//	    question: "Summarise client.go as JSON with a summary field."
//	    context:                            # inline context instead of a workspace
//	      - path: client.go
//	        text: |
//	          func (c *Client) Do(req *Request) (*Response, error) { … }
//	    checks:
//	      - json_schema: {type: object, required: [summary]}
//
// A case has a name, a question, at least one check, and either a
// workspace, inline context or neither (no context). Each check has exactly
// one kind. json_schema validates the whole answer when it is JSON, else the
// first ```json fenced block in it; the schema language is the subset
// described at Schema (it may also be written as a string of JSON).
//
// # Usage
//
//	f, err := eval.Load("evals/ask.yaml")
//	rep, err := eval.Run(ctx, f, asker, &eval.Options{Parallel: 2})
//	rep.Table(os.Stdout)
//	base, err := eval.LoadBaseline(eval.BaselinePath("evals/ask.yaml")) // fs.ErrNotExist on the first run
//	regs := eval.Compare(base, rep) // exit non-zero if len(regs) > 0
//	err = rep.Save(eval.BaselinePath("evals/ask.yaml"))
//
// The Asker is the product's ask pipeline: it indexes the case's workspace
// or takes its inline context, renders the prompt version and asks the
// model through the router (Request.Models pins the model).
//
// # Concurrency
//
// Run asks up to Options.Parallel questions at once, from goroutines it
// starts and waits for before returning; the Asker must be safe for
// concurrent use when Parallel > 1. Options.Progress is called one result
// at a time. When ctx ends, Run stops handing out questions, waits for those
// being asked and returns ctx's error. Files, reports and schemas are not
// modified after they are built and may be shared.
package eval
