package rpc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/sourcegraph/jsonrpc2"
)

// DefaultMaxMessageBytes caps the body of one incoming message.
const DefaultMaxMessageBytes = 16 << 20

const (
	maxHeaderLine  = 4 << 10 // one header line
	maxHeaderLines = 32      // header lines in one frame
)

// StreamOptions configures a Stream. The zero value means defaults.
type StreamOptions struct {
	// MaxMessageBytes caps an incoming message body; larger messages are
	// answered with an error and skipped. 0 means DefaultMaxMessageBytes.
	MaxMessageBytes int64
	Logger          *slog.Logger
}

// Stream is a jsonrpc2.ObjectStream speaking LSP framing
// ("Content-Length: N\r\n\r\n" + N bytes of JSON). Unlike
// jsonrpc2.VSCodeObjectCodec it does not give up on the connection when one
// message is bad: a body that is not JSON, a message that is not a JSON-RPC
// request or response, a missing or garbled Content-Length and an oversize
// body are each answered with an error response and skipped, and reading
// resumes at the next frame. Only I/O errors end the stream.
type Stream struct {
	r   *bufio.Reader
	c   io.Closer
	max int64
	log *slog.Logger

	wmu sync.Mutex
	w   io.Writer

	pending string // a header line found while resynchronising
}

var _ jsonrpc2.ObjectStream = (*Stream)(nil)

// NewStream returns a Stream over rwc. Closing the stream closes rwc.
func NewStream(rwc io.ReadWriteCloser, opts *StreamOptions) *Stream {
	s := &Stream{r: bufio.NewReaderSize(rwc, 64<<10), w: rwc, c: rwc, max: DefaultMaxMessageBytes, log: slog.New(slog.DiscardHandler)}
	if opts != nil {
		if opts.MaxMessageBytes > 0 {
			s.max = opts.MaxMessageBytes
		}
		if opts.Logger != nil {
			s.log = opts.Logger
		}
	}
	return s
}

// WriteObject encodes obj as one framed message.
func (s *Stream) WriteObject(obj any) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encoding message: %w", err)
	}
	return s.writeFrame(data)
}

func (s *Stream) writeFrame(data []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	var buf bytes.Buffer
	buf.Grow(len(data) + 32)
	fmt.Fprintf(&buf, "Content-Length: %d\r\n\r\n", len(data))
	buf.Write(data)
	_, err := s.w.Write(buf.Bytes())
	return err
}

// Close closes the underlying connection.
func (s *Stream) Close() error { return s.c.Close() }

// frameError is a problem with one incoming message that the peer is told
// about; the stream goes on.
type frameError struct {
	code int64
	msg  string
	id   json.RawMessage // request id when it could be recovered
}

func (e *frameError) Error() string { return e.msg }

// ReadObject reads the next well-formed message into v, answering and
// skipping malformed ones.
func (s *Stream) ReadObject(v any) error {
	for {
		body, err := s.readFrame()
		if err == nil {
			err = decodeMessage(body, v)
		}
		var fe *frameError
		if !errors.As(err, &fe) {
			return err
		}
		s.log.Warn("rejected incoming message", "code", fe.code, "error", fe.msg)
		if werr := s.replyError(fe); werr != nil {
			return werr
		}
	}
}

func (s *Stream) replyError(fe *frameError) error {
	id := fe.id
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	msg := struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   jsonrpc2.Error  `json:"error"`
	}{"2.0", id, jsonrpc2.Error{Code: fe.code, Message: fe.msg}}
	data, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return s.writeFrame(data)
}

// readFrame reads one frame's body. Header problems are frameErrors; the
// reader is left positioned where the next frame can be looked for.
func (s *Stream) readFrame() ([]byte, error) {
	length := int64(-1)
	var badLength string
	garbage := false
	lines := 0
	for {
		line, err := s.readLine()
		if err != nil {
			if garbage && errors.Is(err, io.EOF) {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if line == "" {
			if lines == 0 {
				continue // stray blank line between frames
			}
			break
		}
		lines++
		name, value, ok := strings.Cut(line, ":")
		if !ok || !isHeaderName(name) || lines > maxHeaderLines {
			// Not a header. Look for the start of the next frame in it, so
			// that a body longer than its Content-Length or plain noise
			// costs one error reply, not the connection.
			if i := strings.Index(strings.ToLower(line), "content-length:"); i > 0 {
				s.pending = line[i:]
			}
			if !garbage {
				garbage = true
				if err := s.replyError(&frameError{code: CodeParseError, msg: "malformed message header: expected \"Content-Length: N\""}); err != nil {
					return nil, err
				}
			}
			length, badLength, lines = -1, "", 0
			continue
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil || n < 0 {
				badLength = strings.TrimSpace(value)
				continue
			}
			length = n
		}
	}
	if badLength != "" && length < 0 {
		return nil, &frameError{code: CodeParseError, msg: fmt.Sprintf("invalid Content-Length %q", badLength)}
	}
	if length < 0 {
		return nil, &frameError{code: CodeParseError, msg: "missing Content-Length header"}
	}
	if length > s.max {
		if _, err := io.CopyN(io.Discard, s.r, length); err != nil {
			return nil, err
		}
		return nil, &frameError{code: CodeInvalidRequest, msg: fmt.Sprintf("message of %d bytes exceeds the limit of %d bytes", length, s.max)}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(s.r, body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return body, nil
}

// readLine returns one header line without its line ending; "\r\n" and a
// bare "\n" both end a line. Overlong lines are cut and reported as noise.
func (s *Stream) readLine() (string, error) {
	if s.pending != "" {
		l := s.pending
		s.pending = ""
		return l, nil
	}
	var b []byte
	for {
		frag, err := s.r.ReadSlice('\n')
		if len(b)+len(frag) <= maxHeaderLine {
			b = append(b, frag...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		break
	}
	if len(b) > maxHeaderLine || (len(b) == maxHeaderLine && b[len(b)-1] != '\n') {
		return "\x00overlong header line", nil
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

// decodeMessage decodes a body into jsonrpc2's message type, classifying
// failures as parse errors (not JSON) or invalid requests (JSON, but not a
// JSON-RPC message we accept).
func decodeMessage(body []byte, v any) error {
	if !json.Valid(body) {
		return &frameError{code: CodeParseError, msg: "message body is not valid JSON"}
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return &frameError{code: CodeInvalidRequest, msg: "batch messages are not supported; send one request per frame"}
	}
	var probe struct {
		ID      json.RawMessage `json:"id"`
		JSONRPC string          `json:"jsonrpc"`
		Method  json.RawMessage `json:"method"`
	}
	if err := json.Unmarshal(trimmed, &probe); err != nil {
		return &frameError{code: CodeInvalidRequest, msg: "message must be a JSON object"}
	}
	if probe.JSONRPC != "2.0" {
		return &frameError{code: CodeInvalidRequest, msg: `message must have "jsonrpc": "2.0"`, id: probe.ID}
	}
	if len(probe.Method) > 0 && probe.Method[0] != '"' {
		return &frameError{code: CodeInvalidRequest, msg: `"method" must be a string`, id: probe.ID}
	}
	if err := json.Unmarshal(trimmed, v); err != nil {
		return &frameError{code: CodeInvalidRequest, msg: fmt.Sprintf("invalid JSON-RPC message: %v", err), id: probe.ID}
	}
	return nil
}

// isHeaderName reports whether s is an HTTP-style header field name.
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
