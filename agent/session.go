package agent

import (
	"context"
	"sync"
	"time"

	"github.com/codemux/codemux/rpc"
)

type sessionState int

const (
	stateNew sessionState = iota
	stateRunning
	stateShutdown
)

// session is one client connection.
type session struct {
	srv         *Server
	id          int
	connectedAt time.Time

	mu         sync.Mutex
	state      sessionState
	exited     bool
	clientInfo rpc.NameVersion
	processID  int
	folders    map[string]*folder // guarded by srv.mu
}

func (ss *session) result() ConnResult {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ConnResult{Shutdown: ss.state == stateShutdown, Exited: ss.exited}
}

func (ss *session) statusLocked() rpc.ClientStatus {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return rpc.ClientStatus{
		ID:          ss.id,
		Name:        ss.clientInfo.Name,
		Version:     ss.clientInfo.Version,
		ProcessID:   ss.processID,
		ConnectedAt: ss.connectedAt.UTC().Format(time.RFC3339),
	}
}

// handle dispatches one request or notification. Handlers stay thin: decode,
// delegate, map.
func (ss *session) handle(ctx context.Context, r *rpc.Request) (any, error) {
	if r.Method == rpc.MethodExit {
		ss.mu.Lock()
		ss.exited = true
		ss.mu.Unlock()
		r.Conn.Close()
		return nil, nil
	}
	ss.mu.Lock()
	state := ss.state
	ss.mu.Unlock()
	switch {
	case r.Method == rpc.MethodInitialize:
		return ss.initialize(r)
	case state == stateNew:
		if r.Notif {
			return nil, nil // LSP: notifications before initialize are dropped
		}
		return nil, rpc.Errorf(rpc.CodeServerNotInitialized, "server not initialized: send initialize before %s", r.Method)
	case state == stateShutdown && !r.Notif:
		return nil, rpc.Errorf(rpc.CodeInvalidRequest, "server is shutting down: only exit is allowed after shutdown")
	}
	switch r.Method {
	case rpc.MethodInitialized:
		return nil, nil
	case rpc.MethodShutdown:
		ss.mu.Lock()
		ss.state = stateShutdown
		ss.mu.Unlock()
		return nil, nil
	case rpc.MethodStatus:
		st := ss.srv.status()
		rt, _, err := ss.srv.llm()
		st.Accounts = accountStatus(rt)
		if err != nil {
			st.ConfigError = err.Error()
		}
		return st, nil
	case rpc.MethodAsk:
		return ss.ask(ctx, r)
	case rpc.MethodDidChangeFolders:
		return nil, ss.didChangeFolders(r)
	case rpc.MethodDidSave:
		return nil, ss.didSave(r)
	case rpc.MethodSearch:
		return ss.search(ctx, r)
	case rpc.MethodIndex:
		return ss.index(ctx, r)
	case rpc.MethodFeedback:
		return ss.feedback(r)
	case rpc.MethodFeedbackExport:
		return ss.feedbackExport(ctx, r)
	}
	if r.Notif {
		return nil, nil // unknown notifications are ignored, as in LSP
	}
	return nil, rpc.Errorf(rpc.CodeMethodNotFound, "unknown method %q", r.Method)
}

func (ss *session) initialize(r *rpc.Request) (any, error) {
	var p rpc.InitializeParams
	if err := r.Decode(&p); err != nil {
		return nil, err
	}
	ss.mu.Lock()
	if ss.state != stateNew {
		ss.mu.Unlock()
		return nil, rpc.Errorf(rpc.CodeInvalidRequest, "initialize may only be sent once per connection")
	}
	ss.state = stateRunning
	if p.ClientInfo != nil {
		ss.clientInfo = *p.ClientInfo
	}
	if p.ProcessID != nil {
		ss.processID = *p.ProcessID
	}
	ss.mu.Unlock()

	refs := make([]string, 0, len(p.WorkspaceFolders)+1)
	for _, f := range p.WorkspaceFolders {
		refs = append(refs, f.URI)
	}
	if len(refs) == 0 && p.RootURI != "" {
		refs = append(refs, p.RootURI)
	}
	for _, ref := range refs {
		if err := ss.addFolder(ref); err != nil {
			ss.srv.log.Warn("workspace folder not added", "folder", ref, "error", err)
		}
	}
	return rpc.InitializeResult{
		ServerInfo: rpc.NameVersion{Name: "codemux", Version: ss.srv.opts.Version},
		Capabilities: rpc.ServerCapabilities{
			TextDocumentSync: rpc.TextDocumentSyncOptions{Save: rpc.SaveOptions{}},
			Workspace: rpc.WorkspaceCapabilities{WorkspaceFolders: rpc.WorkspaceFoldersCapabilities{
				Supported: true, ChangeNotifications: true,
			}},
			Experimental: rpc.CodemuxCapabilities{Methods: []string{rpc.MethodStatus, rpc.MethodSearch, rpc.MethodIndex, rpc.MethodAsk, rpc.MethodFeedback, rpc.MethodFeedbackExport}},
		},
	}, nil
}

func (ss *session) addFolder(ref string) error {
	path, err := folderPath(ref)
	if err != nil {
		return err
	}
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if ss.folders == nil {
		ss.folders = make(map[string]*folder)
	}
	if _, ok := ss.folders[path]; ok {
		return nil
	}
	ss.folders[path] = s.acquireFolderLocked(path)
	return nil
}

func (ss *session) removeFolder(ref string) error {
	path, err := parseFolderRef(ref)
	if err != nil {
		return err
	}
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := ss.folders[path]; ok {
		delete(ss.folders, path)
		s.releaseFolderLocked(f)
	}
	return nil
}

func (ss *session) didChangeFolders(r *rpc.Request) error {
	var p rpc.DidChangeWorkspaceFoldersParams
	if err := r.Decode(&p); err != nil {
		return err
	}
	for _, f := range p.Event.Removed {
		if err := ss.removeFolder(f.URI); err != nil {
			ss.srv.log.Warn("workspace folder not removed", "folder", f.URI, "error", err)
		}
	}
	for _, f := range p.Event.Added {
		if err := ss.addFolder(f.URI); err != nil {
			ss.srv.log.Warn("workspace folder not added", "folder", f.URI, "error", err)
		}
	}
	return nil
}
