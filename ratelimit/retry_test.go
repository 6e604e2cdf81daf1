package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Retry counts what left the machine: a call the pacer refused is not an
// attempt, wherever in the loop it comes.
func TestRetryCountsOnlyCallsThatLeft(t *testing.T) {
	errServer := errors.New("500")
	refusedCtx := NotSent(context.Canceled)
	classify := func(err error) Verdict {
		if err == errServer {
			return Backoff
		}
		return Stop
	}
	tests := []struct {
		name         string
		errs         []error
		wantAttempts int
		wantRefused  bool
	}{
		{"refused at once", []error{stoppedError{}}, 0, true},
		{"refused after a 5xx", []error{errServer, stoppedError{}}, 1, true},
		{"refused after two 5xx", []error{errServer, errServer, stoppedError{}}, 2, true},
		{"context ended while waiting", []error{errServer, refusedCtx}, 1, true},
		{"refusal wrapped by the client", []error{fmt.Errorf("listing: %w", NotSent(stoppedError{}))}, 0, true},
		{"requests that left and failed count", []error{errServer, errServer, nil}, 3, false},
	}
	l := mustNew(t, Config{Rate: 1000, BaseBackoff: time.Millisecond})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			n, err := l.Retry(context.Background(), 10, classify, func() error {
				calls++
				if calls > len(tc.errs) {
					return nil
				}
				return tc.errs[calls-1]
			})
			if n != tc.wantAttempts || WasNotSent(err) != tc.wantRefused {
				t.Errorf("Retry = %d, %v; want %d attempts, refused %v", n, err, tc.wantAttempts, tc.wantRefused)
			}
			if tc.wantRefused && calls != len(tc.errs) {
				t.Errorf("%d calls; a refusal must end the loop after %d", calls, len(tc.errs))
			}
		})
	}
}

// A stopped limiter refuses through Wait, and Retry reports no attempt.
func TestRetryOnAStoppedLimiterSendsNothing(t *testing.T) {
	l := mustNew(t, Config{Rate: 1000})
	l.Stop()
	n, err := l.Retry(context.Background(), 5, func(error) Verdict { return Again }, func() error {
		_, err := l.Wait(context.Background())
		return err
	})
	if n != 0 || !ErrStopped(err) {
		t.Errorf("Retry on a stopped limiter = %d, %v; want 0 attempts and the stopped error", n, err)
	}
	if got := l.Stats().Requests; got != 0 {
		t.Errorf("limiter counted %d requests", got)
	}
}

func TestNotSentKeepsTheCause(t *testing.T) {
	err := NotSent(context.Canceled)
	if !errors.Is(err, context.Canceled) || !WasNotSent(err) || err.Error() != context.Canceled.Error() {
		t.Errorf("NotSent(context.Canceled) = %v", err)
	}
	if NotSent(nil) != nil || WasNotSent(nil) || WasNotSent(errors.New("500")) {
		t.Error("NotSent/WasNotSent on other errors")
	}
}
