// Package prompt renders versioned prompt templates per task and model family, and cleans up model output.
//
// # Templates
//
// Prompts are text/template files, one per task and model family, at
// templates/<task>/<family>.tmpl: tasks explain, generate, tests, chat and
// reason (Tasks); families gpt, claude and small (Families, Family). The
// defaults are embedded in the binary. The claude variants put the context
// in XML tags (<code path="…" lines="…">) and the question last; the gpt
// variants use markdown sections and fenced code under path headers; the
// small variants are short, numbered and explicit and ask for the answer
// between <answer> markers, which Postprocess extracts. Every variant
// carries the same guardrails: answer from the provided code when the
// question is about the workspace, cite files as path:line, say so when
// the code does not contain the answer, and explain tool results
// (diagnostics, tool output) as facts rather than re-derive them.
//
// A template file starts with a version header on its first line, a
// template comment so the file stays a valid template:
//
//	{{/* version: 3 */}}
//
// and defines two templates, "system" and "user":
//
//	{{define "system"}}You are …{{end}}
//	{{define "user"}}{{range .Pieces}}…{{end}}{{.Question}}{{end}}
//
// Both execute on a *Data (the Input plus Task, Family and Model) with the
// functions fence (a backtick fence longer than any run in its argument),
// attr (XML attribute escaping), lang (canonical fence language) and trim.
// Rendering trims both parts; the user part follows Input.History as the
// last message. Format versions this contract.
//
// # Overrides
//
// A user overrides a template by placing a file at the same relative path
// under Options.UserDir (e.g. ~/.config/codemux/prompts/explain/claude.tmpl)
// or Options.WorkspaceDir (<workspace>/.codemux/prompts/…). Lookup is per
// file: workspace, then user, then embedded. The version string recorded
// with each answer names the template and its source: "explain/claude@3",
// "explain/claude@7+user", "explain/claude@1+workspace".
//
// Overrides are checked when New loads them: parsing, the version header,
// both defines, the task/family path, and a trial execution on sample
// inputs. Any failure makes New return an error naming the file and line,
// so a broken override is noticed instead of silently ignored (a caller
// that must answer anyway can use New(nil)). An override that passes
// those checks but still fails on a real input is logged and replaced by
// the embedded template for that rendering; its version string then shows
// the embedded version.
//
// # Usage
//
//	repo, err := prompt.New(&prompt.Options{UserDir: u, WorkspaceDir: w, Logger: log})
//	b, err := repo.Bind(kind, prompt.Input{Question: q, Pieces: pieces})
//	req, err := b.Request() // Kind, Context and Render for the router
//	req.Stream = stream
//	res, err := rt.Do(ctx, req, onDelta)
//	rd, _ := b.Last()       // what the answering model received
//	answer := prompt.Postprocess(rd.Family, res.Text)
//	version := rd.Version
//
// Repo.Render renders directly from a task, a model name and an Input.
//
// # Concurrency
//
// A Repo is immutable after New; a Binding guards what it records. Both are
// safe for concurrent use.
package prompt
