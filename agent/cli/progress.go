package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/codemux/codemux/rpc"
)

// progressBar draws the server's WorkDone progress on a terminal's stderr.
// It is silent when stderr is not a terminal or output is JSON.
type progressBar struct {
	w      io.Writer
	on     bool
	mu     sync.Mutex
	drawn  bool
	closed bool
}

const progressToken = `"codemux-cli"`

func newProgressBar(w io.Writer, enabled bool) *progressBar {
	return &progressBar{w: w, on: enabled && isTerminal(w)}
}

func (b *progressBar) token() json.RawMessage {
	if !b.on {
		return nil
	}
	return json.RawMessage(progressToken)
}

func (b *progressBar) onNotify(method string, raw json.RawMessage) {
	if !b.on || method != rpc.MethodProgress {
		return
	}
	var p struct {
		Token json.RawMessage      `json:"token"`
		Value rpc.WorkDoneProgress `json:"value"`
	}
	if json.Unmarshal(raw, &p) != nil || string(p.Token) != progressToken {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	switch p.Value.Kind {
	case "begin", "report":
		pct := 0
		if p.Value.Percentage != nil {
			pct = *p.Value.Percentage
		}
		const width = 30
		fill := width * pct / 100
		msg := p.Value.Message
		if len(msg) > 50 {
			msg = "…" + msg[len(msg)-49:]
		}
		fmt.Fprintf(b.w, "\r\033[K[%s%s] %3d%% %s", strings.Repeat("█", fill), strings.Repeat(" ", width-fill), pct, msg)
		b.drawn = true
	case "end":
		b.clearLocked()
	}
}

func (b *progressBar) clearLocked() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\033[K")
		b.drawn = false
	}
}

// finish clears the bar; later notifications are ignored.
func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.clearLocked()
	b.closed = true
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
