package halt

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func waitFor(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("the switch did not flip")
	}
}

func TestInterruptFlipsAndCallsOnStopOnce(t *testing.T) {
	var stops atomic.Int32
	interrupt := make(chan struct{})
	s := New(context.Background(), interrupt, func() { stops.Add(1) })
	defer s.Close()
	if s.Stopping() || s.Interrupted() || s.Context().Err() != nil {
		t.Fatal("a fresh switch is already flipped")
	}
	close(interrupt)
	waitFor(t, s.Done())
	s.Stop()
	if !s.Stopping() || !s.Interrupted() || s.Context().Err() == nil || s.Cause() != nil {
		t.Errorf("after the interrupt: stopping %v interrupted %v ctx %v cause %v",
			s.Stopping(), s.Interrupted(), s.Context().Err(), s.Cause())
	}
	if n := stops.Load(); n != 1 {
		t.Errorf("onStop ran %d times, want once", n)
	}
}

func TestAlreadyInterruptedFlipsBeforeNewReturns(t *testing.T) {
	interrupt := make(chan struct{})
	close(interrupt)
	s := New(context.Background(), interrupt, nil)
	defer s.Close()
	if !s.Stopping() || !s.Interrupted() {
		t.Error("a run interrupted before it began must not start")
	}
}

func TestAbortKeepsTheFirstCause(t *testing.T) {
	s := New(context.Background(), nil, nil)
	defer s.Close()
	first, second := errors.New("401"), errors.New("later")
	s.Abort(first)
	s.Abort(second)
	if s.Cause() != first || !s.Stopping() || s.Interrupted() {
		t.Errorf("cause %v stopping %v interrupted %v", s.Cause(), s.Stopping(), s.Interrupted())
	}
}

// An abort explains a stop better than an interrupt that came with it.
func TestAbortOverridesInterrupted(t *testing.T) {
	interrupt := make(chan struct{})
	s := New(context.Background(), interrupt, nil)
	defer s.Close()
	close(interrupt)
	waitFor(t, s.Done())
	s.Abort(errors.New("401"))
	if s.Interrupted() {
		t.Error("Interrupted() is true although an Abort explains the stop")
	}
}

func TestParentEndFlips(t *testing.T) {
	parent, cancel := context.WithCancel(context.Background())
	s := New(parent, nil, nil)
	defer s.Close()
	cancel()
	waitFor(t, s.Done())
	if s.Interrupted() {
		t.Error("a cancelled parent is not a user interrupt")
	}
}

func TestCloseTwiceAndAfterStop(t *testing.T) {
	s := New(context.Background(), make(chan struct{}), nil)
	s.Stop()
	s.Close()
	s.Close()
	if !s.Stopping() {
		t.Error("Close changed the switch's state")
	}
}
