package provider

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxSSELine bounds one line of an event stream. Provider events are a few
// kilobytes at most; a longer line means the body is not an event stream.
const maxSSELine = 1 << 20

// errSSELineTooLong reports a line longer than maxSSELine.
var errSSELineTooLong = errors.New("event stream line exceeds 1 MiB")

// sseEvent is one dispatched Server-Sent Event.
type sseEvent struct {
	Type string // "message" when the stream gave no event: field
	Data string // data: lines joined by "\n"
	ID   string // last event ID seen so far
}

// sseReader parses a text/event-stream body as the WHATWG HTML standard
// ("Server-sent events", section 9.2.6 "Interpreting an event stream")
// describes it: lines end in CRLF, LF or CR; a line starting with ':' is a
// comment; "field: value" loses exactly one space after the colon; data
// lines are joined with "\n"; an empty line dispatches the event unless its
// data is empty; an event left incomplete at end of stream is discarded.
type sseReader struct {
	br       *bufio.Reader
	line     []byte
	skipLF   bool // previous line ended in CR: a leading LF belongs to it
	started  bool // the optional leading BOM has been handled
	pending  bool // bytes of an undispatched event have been read
	lastID   string
	data     bytes.Buffer
	evType   string
	hasData  bool
	maxBytes int
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{br: bufio.NewReaderSize(r, 16<<10), maxBytes: maxSSELine}
}

// Next returns the next event. At a clean end of stream it returns io.EOF;
// when the stream ends inside an event (bytes read but not dispatched) it
// returns io.ErrUnexpectedEOF. Other errors come from the underlying reader.
func (s *sseReader) Next() (sseEvent, error) {
	for {
		line, err := s.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) {
				if s.pending {
					return sseEvent{}, io.ErrUnexpectedEOF
				}
				return sseEvent{}, io.EOF
			}
			return sseEvent{}, err
		}
		if len(line) == 0 {
			s.pending = false
			if !s.hasData {
				s.evType = ""
				continue
			}
			ev := sseEvent{Type: s.evType, Data: s.data.String(), ID: s.lastID}
			if ev.Type == "" {
				ev.Type = "message"
			}
			s.data.Reset()
			s.hasData = false
			s.evType = ""
			return ev, nil
		}
		if line[0] == ':' {
			continue
		}
		s.pending = true
		name, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			name, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(name) {
		case "data":
			if s.hasData {
				s.data.WriteByte('\n')
			}
			s.data.Write(value)
			s.hasData = true
		case "event":
			s.evType = string(value)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				s.lastID = string(value)
			}
		}
		// "retry" and unknown fields are ignored: reconnection is the
		// caller's policy, not the parser's.
	}
}

// readLine returns the next line without its terminator. The slice is valid
// until the next call. A final line without a terminator is not a line: it
// yields io.EOF (with s.pending set so Next can report the cut).
func (s *sseReader) readLine() ([]byte, error) {
	s.line = s.line[:0]
	if !s.started {
		s.started = true
		if b, _ := s.br.Peek(3); bytes.Equal(b, []byte("\xef\xbb\xbf")) {
			_, _ = s.br.Discard(3)
		}
	}
	for {
		if _, err := s.br.Peek(1); err != nil {
			if len(s.line) > 0 && s.line[0] != ':' {
				s.pending = true
			}
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, fmt.Errorf("reading event stream: %w", err)
		}
		avail, _ := s.br.Peek(s.br.Buffered())
		if s.skipLF {
			s.skipLF = false
			if avail[0] == '\n' {
				_, _ = s.br.Discard(1)
				continue
			}
		}
		i := bytes.IndexAny(avail, "\r\n")
		if i < 0 {
			s.line = append(s.line, avail...)
			_, _ = s.br.Discard(len(avail))
			if len(s.line) > s.maxBytes {
				return nil, errSSELineTooLong
			}
			continue
		}
		s.line = append(s.line, avail[:i]...)
		if avail[i] == '\r' {
			s.skipLF = true
		}
		_, _ = s.br.Discard(i + 1)
		if len(s.line) > s.maxBytes {
			return nil, errSSELineTooLong
		}
		return s.line, nil
	}
}
