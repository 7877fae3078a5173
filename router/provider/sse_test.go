package provider

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll drains r and returns its events and the error that ended it.
func readAll(r *sseReader) ([]sseEvent, error) {
	var evs []sseEvent
	for {
		ev, err := r.Next()
		if err != nil {
			return evs, err
		}
		evs = append(evs, ev)
	}
}

func msg(data string) sseEvent { return sseEvent{Type: "message", Data: data} }

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []sseEvent
		wantErr error
	}{
		{"empty stream", "", nil, io.EOF},
		{"lf", "data: a\n\n", []sseEvent{msg("a")}, io.EOF},
		{"crlf", "data: a\r\n\r\ndata: b\r\n\r\n", []sseEvent{msg("a"), msg("b")}, io.EOF},
		{"cr", "data: a\r\rdata: b\r\r", []sseEvent{msg("a"), msg("b")}, io.EOF},
		{"mixed line endings", "data: a\r\ndata: b\rdata: c\n\n", []sseEvent{msg("a\nb\nc")}, io.EOF},
		{"multi-line data joined with lf", "data: {\"a\":\ndata: 1}\n\n", []sseEvent{msg("{\"a\":\n1}")}, io.EOF},
		{"event type", "event: ping\ndata: {}\n\n", []sseEvent{{Type: "ping", Data: "{}"}}, io.EOF},
		{"event type resets after dispatch", "event: a\ndata: 1\n\ndata: 2\n\n", []sseEvent{{Type: "a", Data: "1"}, msg("2")}, io.EOF},
		{"event without data is not dispatched and resets type", "event: x\n\ndata: y\n\n", []sseEvent{msg("y")}, io.EOF},
		{"comments ignored", ": keep-alive\n\ndata: x\n: inside\n\n", []sseEvent{msg("x")}, io.EOF},
		{"only comments", ": a\n: b\n\n", nil, io.EOF},
		{"no space after colon", "data:a\n\n", []sseEvent{msg("a")}, io.EOF},
		{"only one space removed", "data:  a\n\n", []sseEvent{msg(" a")}, io.EOF},
		{"colon in value kept", "data: a: b\n\n", []sseEvent{msg("a: b")}, io.EOF},
		{"field without colon is empty data", "data\n\n", []sseEvent{msg("")}, io.EOF},
		{"empty data lines", "data:\ndata:\n\n", []sseEvent{msg("\n")}, io.EOF},
		{"unknown field and retry ignored", "foo: bar\nretry: 10\ndata: a\n\n", []sseEvent{msg("a")}, io.EOF},
		{"id kept across events", "id: 7\ndata: a\n\ndata: b\n\n", []sseEvent{{Type: "message", Data: "a", ID: "7"}, {Type: "message", Data: "b", ID: "7"}}, io.EOF},
		{"id with nul ignored", "id: 1\x002\ndata: a\n\n", []sseEvent{msg("a")}, io.EOF},
		{"bom stripped", "\xef\xbb\xbfdata: a\n\n", []sseEvent{msg("a")}, io.EOF},
		{"done sentinel is plain data", "data: [DONE]\n\n", []sseEvent{msg("[DONE]")}, io.EOF},
		{"several blank lines", "\n\n\ndata: a\n\n\n\n", []sseEvent{msg("a")}, io.EOF},
		{"unterminated event discarded", "data: a\n\ndata: b\n", []sseEvent{msg("a")}, io.ErrUnexpectedEOF},
		{"unterminated line discarded", "data: a\n\ndata: b", []sseEvent{msg("a")}, io.ErrUnexpectedEOF},
		{"unterminated comment is clean", "data: a\n\n: bye", []sseEvent{msg("a")}, io.EOF},
		{
			"anthropic stream",
			"event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
			[]sseEvent{{Type: "message_start", Data: `{"type":"message_start"}`}, {Type: "ping", Data: `{"type": "ping"}`}, {Type: "message_stop", Data: `{"type":"message_stop"}`}},
			io.EOF,
		},
	}
	readers := map[string]func(string) io.Reader{
		"whole":    func(s string) io.Reader { return strings.NewReader(s) },
		"one byte": func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"half":     func(s string) io.Reader { return iotest.HalfReader(strings.NewReader(s)) },
	}
	for _, tt := range tests {
		for rname, mk := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				got, err := readAll(newSSEReader(mk(tt.in)))
				if !reflect.DeepEqual(got, tt.want) || !errors.Is(err, tt.wantErr) {
					t.Errorf("events(%q) = %v, %v; want %v, %v", tt.in, got, err, tt.want, tt.wantErr)
				}
			})
		}
	}
}

func TestSSEReaderLineTooLong(t *testing.T) {
	r := newSSEReader(strings.NewReader("data: " + strings.Repeat("x", 100) + "\n\n"))
	r.maxBytes = 50
	if _, err := r.Next(); !errors.Is(err, errSSELineTooLong) {
		t.Errorf("Next() on a 106-byte line with a 50-byte cap = %v, want %v", err, errSSELineTooLong)
	}
}

func TestSSEReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := newSSEReader(io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom)))
	got, err := readAll(r)
	if want := []sseEvent{msg("a")}; !reflect.DeepEqual(got, want) || !errors.Is(err, boom) {
		t.Errorf("events = %v, %v; want %v, %v", got, err, want, boom)
	}
}

// TestSSEReaderDoesNotReadAhead checks that an event is dispatched as soon as
// its blank line arrives, even when that line ends in CR and the parser
// cannot yet know whether LF follows. The writer sends the next part only
// after the reader has returned the previous event, so a parser that waits
// for more input deadlocks here.
func TestSSEReaderDoesNotReadAhead(t *testing.T) {
	parts := []string{"data: a\r\r", "\ndata: b\r\n\r\n", "data: c\n\n"}
	want := []string{"a", "b", "c"}
	pr, pw := io.Pipe()
	next := make(chan struct{})
	go func() {
		defer pw.Close()
		for _, p := range parts {
			if _, err := io.WriteString(pw, p); err != nil {
				return
			}
			if _, ok := <-next; !ok {
				return
			}
		}
	}()
	defer close(next)
	r := newSSEReader(pr)
	for i, w := range want {
		ev, err := r.Next()
		if err != nil || ev.Data != w {
			t.Fatalf("event %d = %v, %v; want data %q", i, ev, err, w)
		}
		next <- struct{}{}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next() after the last event = %v, want io.EOF", err)
	}
}

func BenchmarkSSEReader(b *testing.B) {
	var sb strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&sb, "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"word%d \"},\"finish_reason\":null}]}\n\n", i)
	}
	sb.WriteString("data: [DONE]\n\n")
	in := sb.String()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := newSSEReader(strings.NewReader(in))
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
	}
}
