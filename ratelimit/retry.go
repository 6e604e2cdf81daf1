package ratelimit

import "context"

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

// Retry calls fn until it succeeds, classify says Stop, or maxAttempts calls
// have been made, and returns the number of calls and the last error. Use it
// for requests that are safe to repeat; a create needs more care.
func (l *Limiter) Retry(ctx context.Context, maxAttempts int, classify func(error) Verdict, fn func() error) (int, error) {
	maxAttempts = max(maxAttempts, 1)
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil {
			return attempt, nil
		}
		if attempt >= maxAttempts {
			return attempt, err
		}
		switch classify(err) {
		case Stop:
			return attempt, err
		case Backoff:
			if serr := l.Backoff(ctx, attempt); serr != nil {
				return attempt, err
			}
		}
	}
}
