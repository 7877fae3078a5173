package provider

import (
	"context"
	"net/http"
	"net/url"
)

var _ Client = (*azure)(nil)

// azure speaks Azure OpenAI's Chat Completions:
//
//	POST {base}/openai/deployments/{deployment}/chat/completions?api-version={v}
//	api-key: {key}
//
// The body and the answers are OpenAI's, minus "model": the deployment in the
// path names it. Request.Model is the deployment name. Azure still takes
// max_tokens for chat models, so that is the field sent.
type azure struct {
	t          transport
	base       string
	apiVersion string
}

func newAzure(t transport, base, apiVersion string) *azure {
	return &azure{t: t, base: base, apiVersion: apiVersion}
}

// Complete implements Client.
func (c *azure) Complete(ctx context.Context, req *Request, onDelta func(string)) (*Response, error) {
	if req.Model == "" {
		return nil, &Error{Kind: KindBadRequest, Message: "azure request has no deployment (Request.Model is empty)"}
	}
	h := http.Header{}
	h.Set("api-key", c.t.key)
	u := c.base + "/openai/deployments/" + url.PathEscape(req.Model) +
		"/chat/completions?api-version=" + url.QueryEscape(c.apiVersion)
	return completeChat(ctx, &c.t, &call{
		url:        u,
		header:     h,
		body:       chatBody(req, onDelta != nil, "max_tokens", false),
		model:      req.Model,
		limits:     openAILimits,
		parseError: parseOpenAIError,
	}, onDelta)
}
