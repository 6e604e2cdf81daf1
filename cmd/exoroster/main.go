// Command exoroster moves people in and out of Exotel contact-center
// accounts in bulk: import, export, offboard and update users from CSV files,
// under Exotel's rate limit, with a results line for every row.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	interrupt := make(chan struct{})
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go relaySignals(signals, interrupt, cancel, func() { signal.Stop(signals) })

	stderrTTY := term.IsTerminal(int(os.Stderr.Fd()))
	interactive := stderrTTY && term.IsTerminal(int(os.Stdin.Fd()))
	var stdin io.Reader = os.Stdin
	if interactive {
		// The terminal opened anew is polled by the runtime, so a prompt
		// that is interrupted can end its read; a read of os.Stdin, a
		// blocking file, could only be abandoned.
		if tty, err := os.Open(os.Stdin.Name()); err == nil {
			stdin = tty
		}
	}
	code := run(ctx, os.Args[1:], Env{
		Stdin:       stdin,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		Getenv:      os.Getenv,
		Interrupt:   interrupt,
		IsTerminal:  stderrTTY,
		Interactive: interactive,
	})
	os.Exit(int(code))
}

// relaySignals turns the first Ctrl-C (or SIGTERM) into a graceful stop:
// interrupt closes, no new requests start, in-flight ones finish, results
// are written. The second cancels the requests in flight. Before that it
// calls release, which hands the signals back to their default action, so
// a third is not swallowed: it ends the process.
func relaySignals(signals <-chan os.Signal, interrupt chan<- struct{}, cancel, release func()) {
	<-signals
	close(interrupt)
	<-signals
	release()
	cancel()
}
