// Command codemux is a local code index and LLM router for editors and the
// terminal. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/codemux/codemux/agent/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
