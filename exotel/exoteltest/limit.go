package exoteltest

import (
	"math"
	"time"
)

// limiter is the account's rate limit. It is guarded by the Fake's mutex and
// reads the fake's clock, so tests can step time instead of sleeping.
type limiter struct {
	cfg Limit // normalized; Rate <= 0 means unlimited

	// TokenBucket, as GCRA: tat is the theoretical arrival time of the next
	// request if the bucket were empty. Durations keep it exact.
	tat time.Time

	// FixedWindow.
	windowStart time.Time
	used        int
}

// quota is what a request learned from the limiter.
type quota struct {
	limit, remaining int
	reset            time.Time     // see Limit.Headers
	wait             time.Duration // for a refused request: until it could pass
}

func newLimiter(l Limit) *limiter { return &limiter{cfg: l.normalized()} }

func (l *limiter) unlimited() bool { return l.cfg.Rate <= 0 }

// take spends one request at now; ok is false when over the limit, in which
// case nothing is spent.
func (l *limiter) take(now time.Time) (ok bool, q quota) {
	if l.cfg.Mode == FixedWindow {
		return l.takeWindow(now)
	}
	return l.takeBucket(now)
}

func (l *limiter) interval() time.Duration {
	iv := time.Duration(float64(l.cfg.Window) / l.cfg.Rate)
	if iv <= 0 {
		iv = 1
	}
	return iv
}

func (l *limiter) takeBucket(now time.Time) (bool, quota) {
	iv := l.interval()
	burst := l.cfg.Burst
	tolerance := time.Duration(burst-1) * iv
	tat := l.tat
	if tat.Before(now) {
		tat = now
	}
	q := quota{limit: burst}
	if tat.Sub(now) > tolerance {
		// Over the limit: the next request may pass once tat-tolerance is reached.
		q.wait = tat.Add(-tolerance).Sub(now)
		q.reset = now.Add(q.wait)
		return false, q
	}
	l.tat = tat.Add(iv)
	// Tokens left now: how many more intervals fit under the tolerance.
	q.remaining = int((time.Duration(burst)*iv - l.tat.Sub(now)) / iv)
	q.remaining = max(0, min(burst, q.remaining))
	q.reset = now
	if q.remaining == 0 {
		q.reset = l.tat.Add(-tolerance)
	}
	return true, q
}

func (l *limiter) takeWindow(now time.Time) (bool, quota) {
	n := max(1, int(math.Floor(l.cfg.Rate)))
	w := int64(l.cfg.Window)
	start := time.Unix(0, now.UnixNano()-mod(now.UnixNano(), w))
	if !start.Equal(l.windowStart) {
		l.windowStart, l.used = start, 0
	}
	q := quota{limit: n, reset: start.Add(l.cfg.Window)}
	if l.used >= n {
		q.wait = q.reset.Sub(now)
		return false, q
	}
	l.used++
	q.remaining = n - l.used
	return true, q
}

// mod is a modulo that stays non-negative for clocks before 1970.
func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// ceilUnix is t in epoch seconds, rounded up so a client that waits until
// then is never early.
func ceilUnix(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// ceilSeconds is d in whole seconds, rounded up, at least 1.
func ceilSeconds(d time.Duration) int64 {
	s := int64((d + time.Second - 1) / time.Second)
	return max(1, s)
}
