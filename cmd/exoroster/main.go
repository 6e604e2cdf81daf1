// Command exoroster moves people in and out of Exotel contact-center
// accounts in bulk: import, export, offboard and update users from CSV files,
// under Exotel's rate limit, with a results line for every row.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// The first Ctrl-C stops the run gracefully: no new requests, in-flight
	// ones finish, results are written. A second one cancels everything.
	interrupt := make(chan struct{})
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		close(interrupt)
		<-signals
		cancel()
	}()

	stderrTTY := term.IsTerminal(int(os.Stderr.Fd()))
	code := run(ctx, os.Args[1:], Env{
		Stdin:       os.Stdin,
		Stdout:      os.Stdout,
		Stderr:      os.Stderr,
		Getenv:      os.Getenv,
		Interrupt:   interrupt,
		IsTerminal:  stderrTTY,
		Interactive: stderrTTY && term.IsTerminal(int(os.Stdin.Fd())),
	})
	os.Exit(int(code))
}
