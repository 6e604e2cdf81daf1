package main

import (
	"os"
	"slices"
	"sync"
	"testing"
)

// The first signal stops gracefully, the second cancels, and the signals
// are handed back before that, so a third ends the process.
func TestRelaySignals(t *testing.T) {
	signals := make(chan os.Signal)
	interrupt := make(chan struct{})
	var mu sync.Mutex
	var events []string
	note := func(e string) func() {
		return func() { mu.Lock(); events = append(events, e); mu.Unlock() }
	}
	done := make(chan struct{})
	go func() {
		relaySignals(signals, interrupt, note("cancel"), note("release"))
		close(done)
	}()

	signals <- os.Interrupt
	<-interrupt
	mu.Lock()
	if len(events) != 0 {
		t.Errorf("after the first signal: %v, want only the interrupt", events)
	}
	mu.Unlock()
	signals <- os.Interrupt
	<-done
	if want := []string{"release", "cancel"}; !slices.Equal(events, want) {
		t.Errorf("after the second signal: %v, want %v", events, want)
	}
	select {
	case signals <- os.Interrupt:
		t.Error("a third signal was taken: it must reach the default handler")
	default:
	}
}
