// Package ratelimit paces every request of a run through one shared limiter.
//
// Exotel allows about 50 user-management requests a minute per account. The
// Limiter owns all waiting, in the manner of rclone's pacer: a token bucket
// (golang.org/x/time/rate) at the configured rate; a hold that stops every
// worker when the server says the window is used up (X-RateLimit-Remaining:
// 0 until X-RateLimit-Reset) or when it answers 429 (Retry-After, else
// exponential backoff with jitter); and an adaptive rate that drops when 429s
// arrive without quota headers and climbs back gradually once they stop.
// Workers call Wait before each request and the function it returns after;
// they never sleep on their own.
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Config sets up a Limiter.
type Config struct {
	// Rate is the target in requests per second across all workers.
	Rate float64
	// Burst is how many requests may start back to back (default 1: evenly
	// spaced, which never overshoots a server's own bucket).
	Burst int
	// BaseBackoff is the first hold after a 429 that names no wait; it
	// doubles with each further 429 in a row, up to MaxBackoff. Defaults:
	// the larger of 250ms and two request intervals; one minute.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	Logger      *slog.Logger
}

// Adaptive-rate tuning. A 429 that the headers did not warn about cuts the
// rate by decreaseFactor (once per episode: only requests sent after the last
// cut can cause another); each success then adds recoverStep of the current
// rate, slowed to nearCeilingStep just below the rate that last drew a 429,
// so the rate settles under the server's limit instead of sawing across it.
const (
	decreaseFactor  = 0.75
	recoverStep     = 0.02
	nearCeilingStep = 0.002
	nearCeiling     = 0.97
	minRateFraction = 1.0 / 64
	// forgetCeiling: after this many successes without a 429 the old
	// ceiling is forgotten and recovery runs at full speed again.
	forgetCeiling = 200
	// resetMargin is added to a quota's reset time: the header has whole
	// seconds, the server's window may not.
	resetMargin = 25 * time.Millisecond
)

// Stats counts what the limiter saw.
type Stats struct {
	Requests  int           // answers and failures reported through done
	Throttled int           // 429 answers
	Held      time.Duration // total time the shared hold was in force
	Rate      float64       // current rate, requests/second
}

// Limiter is safe for concurrent use. Create one per run and share it.
type Limiter struct {
	cfg    Config
	log    *slog.Logger
	bucket *rate.Limiter

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever waiters should look again

	target   float64 // configured rate
	current  float64 // adaptive rate, ≤ target
	ceiling  float64 // rate that last drew a 429; 0 when forgotten
	sinceCut int     // successes since the last 429
	lastCut  time.Time

	holdUntil   time.Time
	holdFrom    time.Time // start of the hold in force, for Stats.Held
	consecutive int       // 429s in a row, for the backoff exponent

	// Quota from X-RateLimit-* headers: the server's own count is better
	// than any guess. budget is how many more requests may start before
	// quotaReset; once the reset passes a single probe goes out to learn
	// the new window before the others follow.
	quotaKnown    bool
	budget        int
	quotaReset    time.Time
	probing       bool
	probeInFlight bool

	inFlight int
	stats    Stats
}

// New returns a Limiter for cfg. Rate must be positive.
func New(cfg Config) (*Limiter, error) {
	if !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 0) {
		return nil, fmt.Errorf("rate must be a positive number of requests, got %v", cfg.Rate)
	}
	if cfg.Burst < 1 {
		cfg.Burst = 1
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = max(250*time.Millisecond, time.Duration(2*float64(time.Second)/cfg.Rate))
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.BaseBackoff)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{
		cfg:     cfg,
		log:     log,
		bucket:  rate.NewLimiter(rate.Limit(cfg.Rate), cfg.Burst),
		changed: make(chan struct{}),
		target:  cfg.Rate,
		current: cfg.Rate,
	}, nil
}

// Stats returns a snapshot of the counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	if !l.holdFrom.IsZero() {
		end := time.Now()
		if l.holdUntil.Before(end) {
			end = l.holdUntil
		}
		s.Held += end.Sub(l.holdFrom)
	}
	s.Rate = l.current
	return s
}

// Wait blocks until a request may start: no hold in force, quota left, and
// a token from the bucket. It returns the function to call with the answer
// (nil when no answer came). It returns ctx's error if ctx ends first.
func (l *Limiter) Wait(ctx context.Context) (func(*http.Response), error) {
	for {
		l.mu.Lock()
		now := time.Now()
		pause, notify := l.gate(now)
		if pause == 0 && notify == nil {
			// Admitted: take a token and count the request before
			// letting go of the lock, so other waiters see the budget.
			res := l.bucket.ReserveN(now, 1)
			delay := res.DelayFrom(now)
			probe := l.admit()
			changed := l.changed
			l.mu.Unlock()
			if delay > 0 {
				if err := sleep(ctx, delay, nil); err != nil {
					res.Cancel()
					l.release(probe)
					return nil, err
				}
				// A 429 elsewhere may have started a hold while this
				// request waited for its token: honour it.
				select {
				case <-changed:
					l.mu.Lock()
					held := l.holdUntil.After(time.Now())
					l.mu.Unlock()
					if held {
						l.release(probe)
						continue
					}
				default:
				}
			}
			start := time.Now()
			var once sync.Once
			return func(resp *http.Response) {
				once.Do(func() { l.done(start, probe, resp) })
			}, nil
		}
		l.mu.Unlock()
		if err := sleep(ctx, pause, notify); err != nil {
			return nil, err
		}
	}
}

// gate says how long to pause before trying again (and/or a channel that
// announces a change). Both zero means the request may go. Called with mu.
func (l *Limiter) gate(now time.Time) (time.Duration, <-chan struct{}) {
	if now.Before(l.holdUntil) {
		return l.holdUntil.Sub(now), l.changed
	}
	l.endHold(now)
	if !l.quotaKnown {
		return 0, nil
	}
	if !now.Before(l.quotaReset) {
		if l.budget > 0 {
			// The window ended with quota to spare: nothing to learn.
			l.quotaKnown = false
			return 0, nil
		}
		// We stopped because the window was used up. Send one probe
		// and let its answer describe the new window before the other
		// workers follow.
		l.probing = true
		if l.probeInFlight {
			return 0, l.changed
		}
		return 0, nil
	}
	if l.budget <= 0 {
		return l.quotaReset.Sub(now), l.changed
	}
	return 0, nil
}

// admit records a request that is about to start and reports whether it is
// the probe of a new window. Called with mu.
func (l *Limiter) admit() (probe bool) {
	l.inFlight++
	switch {
	case l.probing:
		l.probeInFlight = true
		return true
	case l.quotaKnown:
		l.budget--
	}
	return false
}

// release undoes admit for a request that never went out.
func (l *Limiter) release(probe bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.broadcast()
	l.inFlight--
	switch {
	case probe:
		l.probeInFlight = false
	case l.quotaKnown && !l.probing:
		l.budget++
	}
}

// done takes in the answer to a request that started at start.
func (l *Limiter) done(start time.Time, probe bool, resp *http.Response) {
	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.broadcast()
	now := time.Now()
	l.inFlight--
	l.stats.Requests++
	if probe {
		l.probeInFlight = false
	}
	if resp == nil {
		return // no answer: nothing learned about the server's limits
	}
	q, haveQuota := ParseQuota(resp.Header, now)
	stale := haveQuota && l.quotaKnown && !l.probing && q.Reset.Add(resetMargin).Before(l.quotaReset)
	switch {
	case stale:
		// An answer from a window that is already over.
	case haveQuota && q.Reset.After(now):
		// Requests still in flight will spend from what is left. Answers
		// can arrive out of order, so within one window only ever lower
		// the budget.
		reset := q.Reset.Add(resetMargin)
		budget := q.Remaining - l.inFlight
		if l.quotaKnown && !l.probing && reset.Equal(l.quotaReset) {
			budget = min(budget, l.budget)
		}
		l.quotaKnown, l.probing = true, false
		l.budget, l.quotaReset = budget, reset
	case haveQuota && resp.StatusCode == http.StatusTooManyRequests:
		// The reset the server named has passed yet it still refuses
		// (its clock or rounding differs): after the backoff below,
		// keep sending one probe at a time until a window opens.
		l.quotaKnown, l.probing = true, false
		l.budget, l.quotaReset = 0, now
	case probe || haveQuota:
		// No usable quota (absent, or a reset already past): the bucket
		// alone governs until an answer says otherwise.
		l.quotaKnown, l.probing = false, false
	}

	if resp.StatusCode != http.StatusTooManyRequests {
		l.consecutive = 0
		l.recover()
		return
	}
	l.stats.Throttled++
	l.consecutive++
	wait, named := ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	switch {
	case named:
	case l.quotaKnown && l.budget <= 0:
		wait = l.quotaReset.Sub(now)
	default:
		wait = l.backoff(l.consecutive)
	}
	l.hold(now, wait)
	// The server's own counters explain this 429 (a request that was
	// already in flight when the window ran out); the bucket is not at
	// fault. Otherwise our rate is too high: cut it, once per episode.
	if !haveQuota && start.After(l.lastCut) {
		l.cut(now)
	}
}

// hold stops every worker until now+d (extending, never shortening).
func (l *Limiter) hold(now time.Time, d time.Duration) {
	until := now.Add(d)
	if !until.After(l.holdUntil) {
		return
	}
	if l.holdFrom.IsZero() || !now.Before(l.holdUntil) {
		l.endHold(now)
		l.holdFrom = now
	}
	l.holdUntil = until
	l.log.Debug("rate limit hold", "for", d.Round(time.Millisecond), "throttled", l.stats.Throttled)
}

// endHold adds a finished hold to the stats.
func (l *Limiter) endHold(now time.Time) {
	if l.holdFrom.IsZero() || now.Before(l.holdUntil) {
		return
	}
	l.stats.Held += l.holdUntil.Sub(l.holdFrom)
	l.holdFrom = time.Time{}
}

func (l *Limiter) cut(now time.Time) {
	l.ceiling = l.current
	l.current = max(l.current*decreaseFactor, l.target*minRateFraction)
	l.lastCut, l.sinceCut = now, 0
	l.bucket.SetLimitAt(now, rate.Limit(l.current))
	l.log.Debug("rate lowered after 429", "rate_per_min", math.Round(l.current*60))
}

func (l *Limiter) recover() {
	l.sinceCut++
	if l.ceiling > 0 && l.sinceCut >= forgetCeiling {
		l.ceiling = 0
	}
	if l.current >= l.target {
		return
	}
	step := recoverStep
	if l.ceiling > 0 && l.current >= l.ceiling*nearCeiling && l.current < l.ceiling {
		step = nearCeilingStep
	}
	l.current = min(l.target, l.current*(1+step))
	l.bucket.SetLimit(rate.Limit(l.current))
}

// backoff is the n-th hold for 429s that name no wait: exponential, with
// "equal jitter" (half fixed, half random) so workers do not return in step.
func (l *Limiter) backoff(n int) time.Duration {
	d := l.cfg.BaseBackoff << min(n-1, 16)
	if d <= 0 || d > l.cfg.MaxBackoff {
		d = l.cfg.MaxBackoff
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// Backoff sleeps before retry number attempt (1 for the first retry) of a
// request that failed without a throttle: a 5xx or a lost connection. It is
// the worker's own wait, not shared: one server error says nothing about the
// rate.
func (l *Limiter) Backoff(ctx context.Context, attempt int) error {
	return sleep(ctx, l.backoff(max(attempt, 1)), nil)
}

func (l *Limiter) broadcast() {
	close(l.changed)
	l.changed = make(chan struct{})
}

// sleep waits for d, a close of notify, or the end of ctx.
func sleep(ctx context.Context, d time.Duration, notify <-chan struct{}) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var timer <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	} else if notify == nil {
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer:
	case <-notify:
	}
	return nil
}

// ParseRate reads a rate written as "50/min", "2/s", "3000/h" or a plain
// number of requests per second, and returns requests per second.
func ParseRate(s string) (float64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	num, unit, hasUnit := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || !(n > 0) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("rate %q: want a positive number like 50/min, 2/s or 0.5", s)
	}
	if !hasUnit {
		return n, nil
	}
	switch strings.TrimSpace(unit) {
	case "s", "sec", "second":
		return n, nil
	case "m", "min", "minute":
		return n / 60, nil
	case "h", "hr", "hour":
		return n / 3600, nil
	}
	return 0, fmt.Errorf("rate %q: unit must be s, min or h", s)
}
