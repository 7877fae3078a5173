package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/codemux/codemux/rpc/remote"
)

// DaemonOptions configures RunDaemon.
type DaemonOptions struct {
	Endpoint remote.Endpoint
	// IdleTimeout ends the daemon after this long with no clients
	// (0: never).
	IdleTimeout time.Duration
	// Ready, if set, is called once the socket is listening.
	Ready func()
}

// RunDaemon listens on the endpoint and serves every client with srv until
// ctx ends or the daemon has been idle for IdleTimeout. A second daemon for
// the same user and build fails at once with remote.ErrAlreadyRunning.
func RunDaemon(ctx context.Context, srv *Server, opts DaemonOptions) error {
	ln, release, err := remote.Listen(opts.Endpoint)
	if err != nil {
		return err
	}
	defer release()
	srv.opts.Socket = opts.Endpoint.Socket
	if srv.opts.ReleaseIndexes == nil {
		srv.opts.ReleaseIndexes = func(ctx context.Context) bool {
			return remote.RetireOthers(ctx, opts.Endpoint, 5*time.Second)
		}
	}
	log := srv.log
	log.Info("daemon listening", "socket", opts.Endpoint.Socket, "idleTimeout", opts.IdleTimeout)
	if opts.Ready != nil {
		opts.Ready()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	go idleWatch(ctx, srv, opts.IdleTimeout, func() {
		log.Info("no clients for the idle timeout; exiting", "idleTimeout", opts.IdleTimeout)
		cancel()
	})

	var tempDelay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			return fmt.Errorf("accepting connections on %s: %w", opts.Endpoint.Socket, err)
		}
		tempDelay = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer conn.Close()
			srv.ServeConn(ctx, conn)
		}()
	}
}

// idleWatch calls idle once the server has had no clients for d.
func idleWatch(ctx context.Context, srv *Server, d time.Duration, idle func()) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-srv.Changed():
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
			if srv.Clients() == 0 {
				t.Reset(d)
			}
		case <-t.C:
			if srv.Clients() == 0 {
				idle()
				return
			}
		}
	}
}
