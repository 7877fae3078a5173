package provider

import (
	"net/http"
	"testing"
	"time"
)

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func TestOpenAILimits(t *testing.T) {
	now := time.Date(2025, 5, 26, 5, 0, 4, 0, time.UTC)
	tests := []struct {
		name string
		h    http.Header
		want Limits
	}{
		{
			"openai chat completion",
			header(
				"date", "Mon, 26 May 2025 05:00:04 GMT",
				"x-ratelimit-limit-requests", "5000",
				"x-ratelimit-limit-tokens", "160000",
				"x-ratelimit-remaining-requests", "4999",
				"x-ratelimit-remaining-tokens", "159976",
				"x-ratelimit-reset-requests", "12ms",
				"x-ratelimit-reset-tokens", "9ms",
			),
			Limits{HasRequests: true, RequestsLimit: 5000, RequestsRemaining: 4999, RequestsReset: 12 * time.Millisecond,
				HasTokens: true, TokensLimit: 160000, TokensRemaining: 159976, TokensReset: 9 * time.Millisecond},
		},
		{
			"openai minutes and seconds",
			header(
				"x-ratelimit-limit-requests", "3",
				"x-ratelimit-remaining-requests", "0",
				"x-ratelimit-reset-requests", "6m0s",
				"x-ratelimit-limit-tokens", "40000",
				"x-ratelimit-remaining-tokens", "0",
				"x-ratelimit-reset-tokens", "1m30.5s",
				"retry-after", "20",
			),
			Limits{HasRequests: true, RequestsLimit: 3, RequestsReset: 6 * time.Minute,
				HasTokens: true, TokensLimit: 40000, TokensReset: 90*time.Second + 500*time.Millisecond,
				RetryAfter: 20 * time.Second},
		},
		{
			"azure remaining only, retry-after-ms preferred",
			header(
				"x-ratelimit-remaining-requests", "119",
				"x-ratelimit-remaining-tokens", "119000",
				"retry-after", "2",
				"retry-after-ms", "1500",
			),
			Limits{HasRequests: true, RequestsRemaining: 119, HasTokens: true, TokensRemaining: 119000, RetryAfter: 1500 * time.Millisecond},
		},
		{
			"retry-after as http date against the date header",
			header(
				"date", "Wed, 21 Oct 2015 07:28:00 GMT",
				"retry-after", "Wed, 21 Oct 2015 07:28:30 GMT",
			),
			Limits{RetryAfter: 30 * time.Second},
		},
		{
			"retry-after date in the past",
			header("retry-after", "Wed, 21 Oct 2015 07:28:30 GMT"),
			Limits{},
		},
		{
			"garbage ignored",
			header(
				"x-ratelimit-limit-requests", "lots",
				"x-ratelimit-remaining-requests", "-1",
				"x-ratelimit-reset-requests", "soon",
				"retry-after", "later",
				"retry-after-ms", "NaN",
			),
			Limits{},
		},
		{"nothing", http.Header{}, Limits{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := openAILimits(tt.h, now); got != tt.want {
				t.Errorf("openAILimits(%v) = %+v, want %+v", tt.h, got, tt.want)
			}
		})
	}
}

func TestAnthropicLimits(t *testing.T) {
	now := time.Date(2025, 8, 21, 12, 40, 30, 0, time.UTC)
	tests := []struct {
		name string
		h    http.Header
		want Limits
	}{
		{
			"real response, resets already passed by the date header",
			header(
				"date", "Thu, 21 Aug 2025 12:41:00 GMT",
				"anthropic-ratelimit-input-tokens-limit", "80000",
				"anthropic-ratelimit-input-tokens-remaining", "80000",
				"anthropic-ratelimit-input-tokens-reset", "2025-08-21T12:40:59Z",
				"anthropic-ratelimit-output-tokens-limit", "16000",
				"anthropic-ratelimit-output-tokens-remaining", "16000",
				"anthropic-ratelimit-output-tokens-reset", "2025-08-21T12:41:00Z",
				"anthropic-ratelimit-requests-limit", "1000",
				"anthropic-ratelimit-requests-remaining", "999",
				"anthropic-ratelimit-requests-reset", "2025-08-21T12:40:59Z",
				"anthropic-ratelimit-tokens-limit", "96000",
				"anthropic-ratelimit-tokens-remaining", "96000",
				"anthropic-ratelimit-tokens-reset", "2025-08-21T12:40:59Z",
			),
			Limits{HasRequests: true, RequestsLimit: 1000, RequestsRemaining: 999,
				HasTokens: true, TokensLimit: 96000, TokensRemaining: 96000},
		},
		{
			"tightest token window wins",
			header(
				"date", "Thu, 21 Aug 2025 12:41:00 GMT",
				"anthropic-ratelimit-input-tokens-limit", "80000",
				"anthropic-ratelimit-input-tokens-remaining", "40000",
				"anthropic-ratelimit-input-tokens-reset", "2025-08-21T12:41:10Z",
				"anthropic-ratelimit-output-tokens-limit", "16000",
				"anthropic-ratelimit-output-tokens-remaining", "1600",
				"anthropic-ratelimit-output-tokens-reset", "2025-08-21T12:41:30Z",
				"anthropic-ratelimit-tokens-limit", "96000",
				"anthropic-ratelimit-tokens-remaining", "41600",
				"anthropic-ratelimit-tokens-reset", "2025-08-21T12:41:10Z",
			),
			Limits{HasTokens: true, TokensLimit: 16000, TokensRemaining: 1600, TokensReset: 30 * time.Second},
		},
		{
			"no date header: relative to now",
			header(
				"anthropic-ratelimit-requests-limit", "50",
				"anthropic-ratelimit-requests-remaining", "0",
				"anthropic-ratelimit-requests-reset", "2025-08-21T12:40:42Z",
				"retry-after", "12",
			),
			Limits{HasRequests: true, RequestsLimit: 50, RequestsReset: 12 * time.Second, RetryAfter: 12 * time.Second},
		},
		{
			"fractional seconds in reset",
			header(
				"anthropic-ratelimit-requests-limit", "50",
				"anthropic-ratelimit-requests-remaining", "49",
				"anthropic-ratelimit-requests-reset", "2025-08-21T12:40:31.5Z",
			),
			Limits{HasRequests: true, RequestsLimit: 50, RequestsRemaining: 49, RequestsReset: 1500 * time.Millisecond},
		},
		{
			"bad reset ignored",
			header(
				"anthropic-ratelimit-tokens-limit", "1000",
				"anthropic-ratelimit-tokens-remaining", "10",
				"anthropic-ratelimit-tokens-reset", "in a bit",
			),
			Limits{HasTokens: true, TokensLimit: 1000, TokensRemaining: 10},
		},
		{"nothing", http.Header{}, Limits{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := anthropicLimits(tt.h, now); got != tt.want {
				t.Errorf("anthropicLimits(%v) = %+v, want %+v", tt.h, got, tt.want)
			}
		})
	}
}

func TestParseResetDuration(t *testing.T) {
	tests := []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"1s", time.Second, true},
		{"6m0s", 6 * time.Minute, true},
		{"20ms", 20 * time.Millisecond, true},
		{"7.66s", 7660 * time.Millisecond, true},
		{"2h4m", 2*time.Hour + 4*time.Minute, true},
		{"0s", 0, true},
		{"3", 3 * time.Second, true},
		{"", 0, false},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseResetDuration(tt.in)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseResetDuration(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
