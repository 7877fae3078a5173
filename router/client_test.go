package router

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/codemux/codemux/router/provider"
)

// reply is one scripted answer of a fakeClient.
type reply struct {
	fail   provider.ErrorKind // KindUnknown with ok set means success
	ok     bool
	text   string
	deltas int // stream the text in this many deltas (default 1)
	cut    int // with fail KindStreamCut: deliver this many deltas first
	limits provider.Limits
	usage  provider.Usage
	delay  time.Duration // time the call takes (virtual under synctest)
	hang   bool          // block until the context ends (a timeout)
}

func ok(text string) reply { return reply{ok: true, text: text} }

func fail(k provider.ErrorKind) reply { return reply{fail: k} }

// fakeClient is a scripted provider.Client: it plays its script in order and
// then repeats the last reply.
type fakeClient struct {
	mu     sync.Mutex
	name   string
	script []reply
	calls  []*provider.Request
}

func (f *fakeClient) Complete(ctx context.Context, req *provider.Request, onDelta func(string)) (*provider.Response, error) {
	f.mu.Lock()
	i := len(f.calls)
	f.calls = append(f.calls, req)
	rp := reply{ok: true, text: "answer from " + f.name}
	if len(f.script) > 0 {
		rp = f.script[min(i, len(f.script)-1)]
	}
	f.mu.Unlock()

	if rp.hang {
		<-ctx.Done()
		return nil, &provider.Error{Kind: provider.KindTimeout, Message: "timed out", Err: ctx.Err()}
	}
	if rp.delay > 0 {
		select {
		case <-time.After(rp.delay):
		case <-ctx.Done():
			return nil, &provider.Error{Kind: provider.KindTimeout, Message: "timed out", Err: ctx.Err()}
		}
	}
	if rp.fail == provider.KindStreamCut && onDelta != nil {
		words := strings.SplitAfter(rp.text, " ")
		var sent strings.Builder
		for _, w := range words[:min(rp.cut, len(words))] {
			onDelta(w)
			sent.WriteString(w)
		}
		return nil, &provider.Error{Kind: provider.KindStreamCut, Message: "stream ended early", Partial: sent.String(), Started: sent.Len() > 0}
	}
	if !rp.ok {
		status := map[provider.ErrorKind]int{
			provider.KindRateLimited: 429, provider.KindServer: 500, provider.KindOverloaded: 529,
			provider.KindAuth: 401, provider.KindBadRequest: 400, provider.KindContextTooLong: 400,
		}[rp.fail]
		return nil, &provider.Error{Kind: rp.fail, Status: status, Message: fmt.Sprintf("scripted %s", rp.fail), Limits: rp.limits}
	}
	if onDelta != nil {
		n := max(rp.deltas, 1)
		words := strings.SplitAfter(rp.text, " ")
		per := max(len(words)/n, 1)
		for j := 0; j < len(words); j += per {
			onDelta(strings.Join(words[j:min(j+per, len(words))], ""))
		}
	}
	usage := rp.usage
	if usage == (provider.Usage{}) {
		usage = provider.Usage{PromptTokens: 100, CompletionTokens: 20}
	}
	return &provider.Response{Text: rp.text, Model: req.Model, FinishReason: "stop", Usage: usage, Limits: rp.limits}, nil
}

func (f *fakeClient) requests() []*provider.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*provider.Request(nil), f.calls...)
}

// fleet builds a router over fake clients, one per account.
type fleet struct {
	clients map[string]*fakeClient
}

func newFleet(scripts map[string][]reply) *fleet {
	f := &fleet{clients: make(map[string]*fakeClient)}
	for name, s := range scripts {
		f.clients[name] = &fakeClient{name: name, script: s}
	}
	return f
}

func (f *fleet) newClient(a AccountConfig) (provider.Client, error) {
	c, ok := f.clients[a.Name]
	if !ok {
		c = &fakeClient{name: a.Name}
		f.clients[a.Name] = c
	}
	return c, nil
}

// half is a deterministic jitter source.
func half() float64 { return 0.5 }
