package prompt

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/codemux/codemux/router"
	"github.com/codemux/codemux/router/provider"
)

// Binding is one question bound to a Repo, ready for the router: Request
// builds the router.Request whose Render renders the prompt for whichever
// model the router picks, from the pieces it kept, and Last tells which
// template answered. A Binding is safe for concurrent use.
type Binding struct {
	repo   *Repo
	task   string
	in     Input
	byID   map[string]int // piece ID → index in in.Pieces
	pieces []router.Piece

	mu   sync.Mutex
	last *Rendered
	err  error
}

// Bind resolves task (see Task) and binds in to r. Pieces without an ID are
// numbered by position ("0", "1", …); IDs must be unique.
func (r *Repo) Bind(task string, in Input) (*Binding, error) {
	task, err := Task(task, &in)
	if err != nil {
		return nil, fmt.Errorf("binding prompt: %w", err)
	}
	b := &Binding{repo: r, task: task, byID: make(map[string]int, len(in.Pieces))}
	in.Pieces = append([]Piece(nil), in.Pieces...)
	for i := range in.Pieces {
		p := &in.Pieces[i]
		if p.ID == "" {
			p.ID = strconv.Itoa(i)
		}
		if _, dup := b.byID[p.ID]; dup {
			return nil, fmt.Errorf("binding prompt: two pieces have ID %q", p.ID)
		}
		b.byID[p.ID] = i
		b.pieces = append(b.pieces, router.Piece{ID: p.ID, Text: pieceText(p), Rank: i})
	}
	b.in = in
	return b, nil
}

// pieceText is a piece as the router counts it: its text with a header about
// the size of the largest per-family framing.
func pieceText(p *Piece) string {
	return fmt.Sprintf("<code path=%q lines=%q symbol=%q language=%q>\n%s\n</code>",
		p.Path, p.Lines(), p.Symbol, p.Language, strings.TrimRight(p.Text, " \t\r\n"))
}

// Task returns the resolved task, which is also the router request kind.
func (b *Binding) Task() string { return b.task }

// Request returns a router request for the bound question: Kind is the task,
// Context the pieces in rank order, Render b.Render. System and Messages
// are only what the router measures before adding pieces: the longest
// rendering without context over the families. The caller sets Stream and
// MaxTokens.
func (b *Binding) Request() (*router.Request, error) {
	req := &router.Request{Kind: b.task, Context: append([]router.Piece(nil), b.pieces...), Render: b.Render}
	size := -1
	bare := b.in
	bare.Pieces = nil
	for _, fam := range Families() {
		rd, err := b.repo.renderFamily(b.task, fam, "", bare)
		if err != nil {
			return nil, fmt.Errorf("building router request: %w", err)
		}
		n := len(rd.System)
		for _, m := range rd.Messages {
			n += len(m.Content)
		}
		if n > size {
			size, req.System, req.Messages = n, rd.System, rd.Messages
		}
	}
	return req, nil
}

// Render is a router.Request.Render: it renders the bound question for
// model m with the kept pieces, in the order given. Pieces the router
// passes that were not bound are ignored. A rendering error (only possible
// for a defective embedded template) yields an empty prompt, which the
// provider rejects; Err then returns the cause.
func (b *Binding) Render(m router.ModelInfo, kept []router.Piece) (string, []provider.Message) {
	in := b.in
	in.Pieces = make([]Piece, 0, len(kept))
	for _, k := range kept {
		if i, ok := b.byID[k.ID]; ok {
			in.Pieces = append(in.Pieces, b.in.Pieces[i])
		}
	}
	rd, err := b.repo.Render(b.task, m.Name, in)
	b.mu.Lock()
	defer b.mu.Unlock()
	if err != nil {
		b.err = err
		return "", nil
	}
	b.last = &rd
	return rd.System, rd.Messages
}

// Last returns the most recent rendering: after router.Router.Do returns
// an answer, the one the answering model received. Record its Version with
// the answer and pass its Family to Postprocess.
func (b *Binding) Last() (Rendered, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last == nil {
		return Rendered{}, false
	}
	return *b.last, true
}

// Err returns the last rendering error, if any.
func (b *Binding) Err() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}
