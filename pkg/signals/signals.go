// Package signals turns SIGTERM and SIGINT into context cancellation: the first signal starts a
// graceful shutdown, a second one exits at once.
package signals

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// ErrSignalled is the cancellation cause after a shutdown signal.
var ErrSignalled = errors.New("received shutdown signal")

// Context returns a context cancelled (with cause ErrSignalled) on the first SIGTERM or SIGINT.
// A second signal exits the process with status 1.
func Context(parent context.Context) context.Context {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-ch
		cancel(ErrSignalled)
		<-ch
		os.Exit(1)
	}()
	return ctx
}
