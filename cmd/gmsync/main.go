// Command gmsync gives offline mail clients Gmail through the Gmail REST API:
// a sendmail replacement with a durable outbox, and a label-per-folder Maildir
// mirror kept current through the history API.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, newStreams(os.Stdin, os.Stdout, os.Stderr))
	stop()
	os.Exit(code)
}
