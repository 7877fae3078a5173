// Package agent is the codemux server: it speaks the codemux protocol to
// each connected client and translates between protocol types and those of
// the index and the router. One Server is shared by every client of a
// daemon (or serves a single client in-process with --standalone).
//
// # Usage
//
//	srv := agent.NewServer(agent.Options{Version: v, Logger: log})
//	defer srv.Close()
//	srv.ServeConn(ctx, conn) // once per client connection
//
// RunDaemon adds the per-user socket, the single-daemon lock and the idle
// exit around a Server.
//
// # Concurrency
//
// ServeConn may be called from many goroutines at once, one per client.
// Each connection runs its notifications and lifecycle methods in order and
// its other requests concurrently (bounded per connection, see package
// rpc). Shared state (sessions, workspace folders) is guarded by the
// Server's mutex; Close waits for nothing but releases what the Server
// holds.
package agent
