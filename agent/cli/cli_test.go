package cli_test

import (
	"encoding/json"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/codemux/codemux/agent"
	"github.com/codemux/codemux/agent/agenttest"
	"github.com/codemux/codemux/rpc"
)

func run(t *testing.T, home string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := agenttest.Command(t, home, args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running codemux %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

func TestStatusJSONIsTheProtocolResult(t *testing.T) {
	home := agenttest.Home(t)
	out, errOut, code := run(t, home, "status", "--json")
	if code != 0 {
		t.Fatalf("status --json: exit %d, stderr %q", code, errOut)
	}
	var st rpc.StatusResult
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		t.Fatalf("status --json printed %q: %v", out, err)
	}
	if st.Version != agent.Version || st.PID == 0 || st.Socket == "" {
		t.Fatalf("status = %+v", st)
	}
	// A second command reaches the same daemon.
	out2, _, _ := run(t, home, "status", "--json")
	var st2 rpc.StatusResult
	json.Unmarshal([]byte(out2), &st2)
	if st2.PID != st.PID {
		t.Fatalf("second status reached pid %d, want %d", st2.PID, st.PID)
	}
	human, _, code := run(t, home, "status")
	if code != 0 || !strings.Contains(human, "daemon pid") || !strings.Contains(human, "accounts") {
		t.Fatalf("status for a person = %q (exit %d)", human, code)
	}
}

func TestCommandErrors(t *testing.T) {
	home := agenttest.Home(t)
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"search"}, 2, "search needs a QUERY"},
		{[]string{"search", "-k", "0", "x"}, 2, "-k must be at least 1"},
		{[]string{"search", "--dir", "/nonexistent/dir", "x"}, 1, "/nonexistent/dir"},
		{[]string{"serve"}, 2, "serve needs --stdio"},
		{[]string{"status", "--bogus"}, 2, "bogus"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, errOut, code := run(t, home, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.wantCode, errOut)
			}
			if out != "" {
				t.Errorf("stdout = %q, want nothing on failure", out)
			}
			first := strings.SplitN(errOut, "\n", 2)[0]
			if !strings.HasPrefix(first, "codemux: ") || !strings.Contains(first, tt.wantErr) {
				t.Errorf("stderr first line = %q, want 'codemux: …%s…'", first, tt.wantErr)
			}
		})
	}
}

func TestVersionJSON(t *testing.T) {
	out, _, code := run(t, agenttest.Home(t), "version", "--json")
	var v struct{ Version, Build string }
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Version != agent.Version || v.Build == "" {
		t.Fatalf("version --json = %q (exit %d)", out, code)
	}
}
