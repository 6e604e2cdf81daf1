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
	"errors"
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
	// Rate is the most requests per second across all workers; the
	// limiter paces a little under it (see headroom).
	Rate float64
	// Burst is how many requests may start back to back (default 1: evenly
	// spaced, which never overshoots a server's own bucket).
	Burst int
	// BaseBackoff is the first hold after a 429 that names no wait; it
	// doubles with each further 429 in a row, up to MaxBackoff. By
	// default it is two request intervals at the current (adapted) rate,
	// at least 20ms: enough for a token bucket at that rate to refill,
	// while a window-based server draws more 429s in a row and the
	// doubling meets it. MaxBackoff defaults to a minute.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	Logger      *slog.Logger
}

// Adaptive-rate tuning. Requests go out at (1-headroom) of the configured
// rate: a server that allows exactly that rate refuses a request that
// arrives a few milliseconds early, and each refusal costs a Retry-After
// (30 s on Exotel). A 429 that the headers did not warn about cuts the rate
// by decreaseFactor, once per episode (only requests sent after the last cut
// can cause another); successes then raise it by recoverStep each, up to
// ceilingShare of the rate that drew the 429, so the rate settles under the
// server's limit instead of sawing across it.
const (
	headroom        = 0.03
	decreaseFactor  = 0.75
	recoverStep     = 0.02
	ceilingShare    = 0.95
	minRateFraction = 1.0 / 64
	// forgetCeiling: after this many successes without a 429 the ceiling is
	// forgotten, in case the 429 was a passing fault, and the rate climbs
	// back towards the target.
	forgetCeiling = 1000
	// The accepted-rate estimate needs a few successes to be worth more
	// than a fixed step.
	minAcceptedSamples = 6
	// resetMargin is added to a quota's reset time: the header has whole
	// seconds, the server's window may not.
	resetMargin = 25 * time.Millisecond
	// minBaseBackoff keeps a very high --rate from turning 429s into a
	// tight loop.
	minBaseBackoff = 20 * time.Millisecond
)

// Stats counts what the limiter saw.
type Stats struct {
	Requests  int           // answers and failures reported through done
	Throttled int           // 429 answers
	Held      time.Duration // total time the shared hold was in force
	Rate      float64       // current pace, requests/second
}

// Limiter is safe for concurrent use. Create one per run and share it.
type Limiter struct {
	cfg    Config
	log    *slog.Logger
	bucket *rate.Limiter

	line    chan struct{} // capacity 1: the caller at the head of the line
	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever waiters should look again

	target   float64 // configured rate
	current  float64 // adaptive rate, ≤ target
	ceiling  float64 // rate that last drew a 429; 0 when forgotten
	sinceCut int     // successes since the last cut
	lastCut  time.Time
	armed    bool // a success since the last cut: the next 429 may cut
	// created: when the limiter was made, the start of the first
	// stretch over which the accepted rate is measured.
	created time.Time

	holdUntil   time.Time
	holdFrom    time.Time // start of the hold in force, for Stats.Held
	lastHold    time.Time // when the latest hold began
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
	stopped  bool
	stats    Stats
}

// stoppedError is what Wait returns once Stop has been called.
type stoppedError struct{}

func (stoppedError) Error() string { return "run stopped: no new requests" }

// ErrStopped reports whether err says the limiter was stopped.
func ErrStopped(err error) bool { return errors.As(err, &stoppedError{}) }

// New returns a Limiter for cfg. Rate must be positive.
func New(cfg Config) (*Limiter, error) {
	if !(cfg.Rate > 0) || math.IsInf(cfg.Rate, 0) {
		return nil, fmt.Errorf("rate must be a positive number of requests, got %v", cfg.Rate)
	}
	if cfg.Burst < 1 {
		cfg.Burst = 1
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Minute
	}
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.BaseBackoff)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	target := cfg.Rate * (1 - headroom)
	return &Limiter{
		cfg:     cfg,
		log:     log,
		bucket:  rate.NewLimiter(rate.Limit(target), cfg.Burst),
		changed: make(chan struct{}),
		line:    make(chan struct{}, 1),
		target:  target,
		current: target,
		created: time.Now(),
		armed:   true, // the first 429 may cut at once
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
//
// One caller at a time waits at the head of the line and takes its token at
// the moment it really leaves, so a worker that wakes a few milliseconds
// late delays the next request instead of crowding it: against a server
// that allows exactly our rate, crowding is a 429.
func (l *Limiter) Wait(ctx context.Context) (func(*http.Response), error) {
	select {
	case l.line <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-l.line }()
	for {
		l.mu.Lock()
		if l.stopped {
			l.mu.Unlock()
			return nil, stoppedError{}
		}
		now := time.Now()
		pause, notify := l.gate(now)
		if pause == 0 && notify == nil {
			if l.bucket.AllowN(now, 1) {
				probe := l.admit()
				l.mu.Unlock()
				var once sync.Once
				return func(resp *http.Response) {
					once.Do(func() { l.done(now, probe, resp) })
				}, nil
			}
			// The token comes at the bucket's rate; a hold, a cut or a
			// Stop wakes us sooner.
			missing := 1 - l.bucket.TokensAt(now)
			pause = time.Duration(missing / float64(l.bucket.Limit()) * float64(time.Second))
			pause = max(pause, time.Microsecond)
			notify = l.changed
		}
		l.mu.Unlock()
		if err := sleep(ctx, pause, notify); err != nil {
			return nil, err
		}
	}
}

// Stop lets no further request start: waiting and future calls to Wait
// return an error that ErrStopped recognises. Requests already sent finish.
// This is how a run winds down after Ctrl-C or a failed authentication.
func (l *Limiter) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.stopped = true
		l.broadcast()
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
	// Only a request sent after the latest hold began says the hold was
	// too short; those already in flight when it began do not.
	if start.After(l.lastHold) || l.consecutive == 0 {
		l.consecutive++
	}
	// The server's own counters explain this 429 (a request that was
	// already in flight when the window ran out); the bucket is not at
	// fault. Otherwise our rate is too high: cut it, once per episode
	// (only a request sent after the last cut counts) and only after a
	// success since then: a server whose window is used up refuses
	// everything until it resets, however slowly we ask, and cutting at
	// every refusal would leave the rate far below its limit.
	if !haveQuota && start.After(l.lastCut) && l.armed {
		l.cut(now)
	}
	wait, named := ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	switch {
	case named:
	case l.quotaKnown && l.budget <= 0:
		wait = l.quotaReset.Sub(now)
	default:
		wait = l.backoff(l.consecutive)
	}
	l.hold(now, wait)
}

// hold stops every worker until now+d (extending, never shortening).
func (l *Limiter) hold(now time.Time, d time.Duration) {
	until := now.Add(d)
	if !until.After(l.holdUntil) {
		return
	}
	l.lastHold = now
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

// cut lowers the rate after a 429. The successes since the last cut, over
// the time since it, are what the server really allowed (a token bucket's
// rate, or a window's allowance over its length): when there are enough of
// them, the rate jumps just under that instead of stepping down.
func (l *Limiter) cut(now time.Time) {
	l.ceiling = l.current
	next := l.current * decreaseFactor
	if est, ok := l.acceptedRate(now); ok && est < l.ceiling {
		l.ceiling = est
		next = min(next, est*ceilingShare)
	}
	l.current = max(next, l.target*minRateFraction)
	l.lastCut, l.sinceCut, l.armed = now, 0, false
	l.bucket.SetLimitAt(now, rate.Limit(l.current))
	l.log.Debug("rate lowered after 429", "rate_per_min", math.Round(l.current*60))
}

// acceptedRate is the rate of successes since the last cut, when there are
// enough of them to mean something.
func (l *Limiter) acceptedRate(now time.Time) (float64, bool) {
	since := l.lastCut
	if since.IsZero() {
		since = l.created
	}
	span := now.Sub(since)
	if l.sinceCut < minAcceptedSamples || span <= 0 {
		return 0, false
	}
	return float64(l.sinceCut) / span.Seconds(), true
}

func (l *Limiter) recover() {
	l.sinceCut++
	l.armed = true
	if l.ceiling > 0 && l.sinceCut >= forgetCeiling {
		l.ceiling = 0
	}
	limit := l.target
	if l.ceiling > 0 {
		limit = min(limit, l.ceiling*ceilingShare)
	}
	if l.current >= limit {
		return
	}
	l.current = min(limit, l.current*(1+recoverStep))
	l.bucket.SetLimit(rate.Limit(l.current))
}

// backoff is the n-th hold for 429s that name no wait: exponential, with
// "equal jitter" (half fixed, half random) so workers do not return in step.
// Called with mu.
func (l *Limiter) backoff(n int) time.Duration {
	base := l.cfg.BaseBackoff
	if base <= 0 {
		base = max(minBaseBackoff, time.Duration(2*float64(time.Second)/l.current))
	}
	d := base << min(n-1, 16)
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
	// The default base follows the adaptive rate, which a 429 may be
	// cutting at this moment: read it under the lock.
	l.mu.Lock()
	d := l.backoff(max(attempt, 1))
	l.mu.Unlock()
	return sleep(ctx, d, nil)
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
