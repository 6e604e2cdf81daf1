package ratelimit

import "time"

// NotBefore is, for the package's external tests, the earliest the next
// request may leave by the latest departure (see Departure).
func (l *Limiter) NotBefore() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.notBefore()
}
