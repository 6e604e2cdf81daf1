package ratelimit

import (
	"context"
	"errors"
)

// Verdict says what to do after a failed attempt.
type Verdict int

const (
	// Stop: the error is final.
	Stop Verdict = iota
	// Again: retry at once; the limiter's shared hold already paces it
	// (a 429).
	Again
	// Backoff: retry after this caller's own jittered backoff (a 5xx, a
	// lost connection).
	Backoff
)

// NotSentError is the error of a call that never left the machine: its
// pacer refused it, because the limiter was stopped or the context ended
// while it waited. A client wraps its pacer's refusal in it (see NotSent),
// so that nobody counts the call as an attempt.
type NotSentError struct{ Err error }

func (e *NotSentError) Error() string { return e.Err.Error() }
func (e *NotSentError) Unwrap() error { return e.Err }

// NotSent wraps err, a pacer's refusal, as a NotSentError; nil stays nil.
func NotSent(err error) error {
	if err == nil {
		return nil
	}
	return &NotSentError{Err: err}
}

// WasNotSent reports whether err says the call never left the machine: a
// NotSentError, or the limiter's own stopped error however it travelled.
func WasNotSent(err error) bool {
	var ns *NotSentError
	return errors.As(err, &ns) || ErrStopped(err)
}

// Retry calls fn until it succeeds, classify says Stop, or maxAttempts
// requests have left, and returns how many left and the last error. A call
// the pacer refused (WasNotSent) is not an attempt: it ends the loop, since
// the run is stopping, and is not counted, so callers never correct the
// count. Use Retry for requests that are safe to repeat; a create needs more
// care.
func (l *Limiter) Retry(ctx context.Context, maxAttempts int, classify func(error) Verdict, fn func() error) (int, error) {
	maxAttempts = max(maxAttempts, 1)
	sent := 0
	for {
		err := fn()
		if err != nil && WasNotSent(err) {
			return sent, err
		}
		sent++
		if err == nil || sent >= maxAttempts {
			return sent, err
		}
		switch classify(err) {
		case Stop:
			return sent, err
		case Backoff:
			if serr := l.Backoff(ctx, sent); serr != nil {
				return sent, err
			}
		}
	}
}
