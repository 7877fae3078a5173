package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/codemux/codemux/agent/feedback"
	"github.com/codemux/codemux/rpc"
)

// Version is codemux's version.
const Version = "0.1.0"

// Options configures a Server. Zero values mean defaults.
type Options struct {
	Version string // reported in serverInfo and status; default Version
	Socket  string // the daemon's socket, for status; empty when standalone
	// DataDir holds the indexes (DataDir/indexes); empty disables indexing.
	DataDir string
	// ConfigPath is the YAML config file (reloaded when it changes); empty
	// means defaults with no LLM accounts.
	ConfigPath string
	// Env looks up environment variables named by the config (API keys);
	// nil means none are set.
	Env func(string) (string, bool)
	// ReleaseIndexes, when an index file is held by another process, asks
	// the processes that may hold it to let go and reports whether it
	// asked any (RunDaemon retires daemons of other builds).
	ReleaseIndexes func(ctx context.Context) bool
	// MaxConcurrent bounds the concurrently running requests of one
	// connection (default 16); MaxMessageBytes caps one incoming message
	// (default rpc.DefaultMaxMessageBytes).
	MaxConcurrent   int
	MaxMessageBytes int64
	Logger          *slog.Logger
	Now             func() time.Time
}

// Server is the state shared by all clients of one daemon.
type Server struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	started time.Time

	mu       sync.Mutex
	nextID   int
	sessions map[int]*session
	folders  map[string]*folder // by absolute path
	changed  chan struct{}      // signalled when the session count changes

	llmMu    sync.Mutex
	llmState llmState

	fbMu sync.Mutex
	fb   *feedback.Store

	bgCtx    context.Context // cancelled by Close
	bgCancel context.CancelFunc
	bg       sync.WaitGroup
	closed   bool
}

// NewServer returns a Server.
func NewServer(opts Options) *Server {
	if opts.Version == "" {
		opts.Version = Version
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	bgCtx, bgCancel := context.WithCancel(context.Background())
	return &Server{
		bgCtx:    bgCtx,
		bgCancel: bgCancel,
		opts:     opts,
		log:      opts.Logger,
		now:      opts.Now,
		started:  opts.Now(),
		sessions: make(map[int]*session),
		folders:  make(map[string]*folder),
		changed:  make(chan struct{}, 1),
	}
}

// ConnResult says how a client left.
type ConnResult struct {
	Shutdown bool // the client sent shutdown
	Exited   bool // the client sent exit (rather than just disconnecting)
}

// ServeConn serves one client until it disconnects, sends exit, or ctx
// ends. As in LSP, a standalone server's exit status depends on whether
// shutdown came before exit.
func (s *Server) ServeConn(ctx context.Context, rwc io.ReadWriteCloser) ConnResult {
	ss := s.addSession()
	defer s.removeSession(ss)
	rpc.Serve(ctx, rwc, ss.handle, &rpc.ServeOptions{
		Handler: rpc.HandlerOptions{
			MaxConcurrent: s.opts.MaxConcurrent,
			Ordered:       orderedMethod,
			Logger:        s.log.With("client", ss.id),
		},
		Stream: rpc.StreamOptions{MaxMessageBytes: s.opts.MaxMessageBytes},
	})
	return ss.result()
}

// Clients is the number of connected clients.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Changed is signalled (without blocking) whenever a client connects or
// disconnects.
func (s *Server) Changed() <-chan struct{} { return s.changed }

// background runs fn on its own goroutine with a context that Close
// cancels; Close waits for it.
func (s *Server) background(fn func(ctx context.Context)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		fn(s.bgCtx)
	}()
}

// Close stops background work and closes every open index.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	folders := make([]*folder, 0, len(s.folders))
	for _, f := range s.folders {
		folders = append(folders, f)
	}
	s.mu.Unlock()
	s.bgCancel()
	s.bg.Wait()
	var errs []error
	s.fbMu.Lock()
	if s.fb != nil {
		errs = append(errs, s.fb.Close())
		s.fb = nil
	}
	s.fbMu.Unlock()
	for _, f := range folders {
		f.mu.Lock()
		if f.ix != nil {
			if err := f.ix.Close(); err != nil {
				errs = append(errs, err)
			}
			f.ix = nil
		}
		f.mu.Unlock()
	}
	return errors.Join(errs...)
}

func (s *Server) addSession() *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	ss := &session{srv: s, id: s.nextID, connectedAt: s.now()}
	s.sessions[ss.id] = ss
	s.signal()
	return ss
}

func (s *Server) removeSession(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, ss.id)
	for _, f := range ss.folders {
		s.releaseFolderLocked(f)
	}
	ss.folders = nil
	s.signal()
}

func (s *Server) signal() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// status assembles codemux/status.
func (s *Server) status() rpc.StatusResult {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	res := rpc.StatusResult{
		Version:       s.opts.Version,
		PID:           os.Getpid(),
		Socket:        s.opts.Socket,
		StartedAt:     s.started.UTC().Format(time.RFC3339),
		UptimeSeconds: now.Sub(s.started).Seconds(),
		Clients:       []rpc.ClientStatus{},
		Folders:       []rpc.FolderStatus{},
		Accounts:      []rpc.AccountStatus{},
	}
	for _, ss := range s.sessions {
		res.Clients = append(res.Clients, ss.statusLocked())
	}
	sort.Slice(res.Clients, func(i, j int) bool { return res.Clients[i].ID < res.Clients[j].ID })
	for _, f := range s.folders {
		res.Folders = append(res.Folders, f.status())
	}
	res.ConfigPath = s.opts.ConfigPath
	sort.Slice(res.Folders, func(i, j int) bool { return res.Folders[i].URI < res.Folders[j].URI })
	return res
}

func orderedMethod(m string) bool {
	switch m {
	case rpc.MethodInitialize, rpc.MethodShutdown:
		return true
	}
	return false
}
