// Package halt winds a bulk run down gracefully.
//
// A Switch is flipped by the user (the first Ctrl-C closes the interrupt
// channel), by the API (credentials refused: Abort) or by the run itself (a
// results file that cannot be written). From then on no new row or request
// starts, waits between requests end, requests already in flight finish, and
// the first run-level cause is kept for the summary.
package halt

import (
	"context"
	"sync"
)

// Switch is safe for concurrent use. Create one per run with New and Close
// it when the run ends.
type Switch struct {
	done   chan struct{}
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	onStop func()
	quit   chan struct{} // ends the watcher

	mu          sync.Mutex
	cause       error
	interrupted bool
}

// New returns a Switch that flips when interrupt is closed (an
// interruption) or parent ends. onStop, when not nil, runs once as it flips:
// a limiter's Stop, so that no new request leaves. A closed interrupt flips
// the switch before New returns, so a run interrupted before it began sends
// nothing.
func New(parent context.Context, interrupt <-chan struct{}, onStop func()) *Switch {
	s := &Switch{done: make(chan struct{}), onStop: onStop, quit: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(parent)
	select {
	case <-interrupt:
		s.interrupt()
		return s
	default:
	}
	go func() {
		select {
		case <-interrupt:
			s.interrupt()
		case <-parent.Done():
			s.Stop()
		case <-s.quit:
		}
	}()
	return s
}

func (s *Switch) interrupt() {
	s.mu.Lock()
	s.interrupted = true
	s.mu.Unlock()
	s.Stop()
}

// Stop flips the switch. Calling it again does nothing.
func (s *Switch) Stop() {
	s.once.Do(func() {
		close(s.done)
		s.cancel()
		if s.onStop != nil {
			s.onStop()
		}
	})
}

// Abort records cause, if it is the first, and flips the switch.
func (s *Switch) Abort(cause error) {
	s.mu.Lock()
	if s.cause == nil {
		s.cause = cause
	}
	s.mu.Unlock()
	s.Stop()
}

// Stopping reports whether the switch has flipped.
func (s *Switch) Stopping() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Done is closed when the switch flips.
func (s *Switch) Done() <-chan struct{} { return s.done }

// Context ends when the switch flips (or its parent ends). Use it for waits
// between requests, not for requests that should be allowed to finish.
func (s *Switch) Context() context.Context { return s.ctx }

// Cause is the first cause given to Abort, or nil.
func (s *Switch) Cause() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cause
}

// Interrupted reports whether the user stopped the run, and nothing else
// (an Abort) explains the stop.
func (s *Switch) Interrupted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.interrupted && s.cause == nil
}

// Close releases the switch's watcher and context. The switch still reads
// as it did.
func (s *Switch) Close() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	s.cancel()
}
