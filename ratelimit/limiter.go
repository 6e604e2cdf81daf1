// Package ratelimit paces every request of a run through one shared limiter.
//
// Exotel documents about 50 user-management requests a minute per account;
// enterprise accounts may have other limits, stated in X-RateLimit-*
// headers. The Limiter owns all waiting, in the manner of rclone's pacer: a
// token bucket (golang.org/x/time/rate) at the pace; under Auto, a pace
// that follows the limit the headers state (X-RateLimit-Limit per window,
// the window's length learned from successive X-RateLimit-Reset values),
// starting at the documented 50/min; a hold that stops every worker when
// the server says the window is used up (X-RateLimit-Remaining: 0 until
// X-RateLimit-Reset) or when it answers 429 (Retry-After, else exponential
// backoff with jitter); and an adaptive pace that drops when 429s arrive
// without quota headers and climbs back once they stop. Workers call Wait
// before each request and the function it returns after; they never sleep
// on their own. With Burst 1, a request also leaves no sooner than one
// interval after the previous one was written (Departure), not only after
// it was let go.
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

// Auto, as Config.Rate, paces at the limit the server states in its
// X-RateLimit headers, starting at Documented until they say.
const Auto = 0

// Documented is Exotel's documented limit for the user-management APIs,
// 50 requests a minute per account, in requests per second.
const Documented = 50.0 / 60

// Source says where the limit a run paces under came from.
type Source string

const (
	// SourceConfigured: an explicit rate, the pace never exceeded.
	SourceConfigured Source = "the configured rate"
	// SourceDocumented: Auto, and no answer has stated a limit yet.
	SourceDocumented Source = "Exotel's documented limit"
	// SourceHeaders: Auto, paced at what X-RateLimit-Limit and the
	// window's length (learned from successive X-RateLimit-Reset values)
	// state.
	SourceHeaders Source = "the server's X-RateLimit headers"
)

// Config sets up a Limiter.
type Config struct {
	// Rate is the most requests per second across all workers; the
	// limiter paces a little under it (see headroom). Auto (zero) follows
	// the server's X-RateLimit headers, starting at Documented.
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

// Adaptive-rate tuning. Requests go out at (1-headroom) of the limit: a
// server that allows exactly that rate refuses a request that arrives a few
// milliseconds early, and each refusal costs a Retry-After (30 s on
// Exotel). The first 429 that the headers did not warn about widens the
// headroom to jitterHeadroom for the rest of the run: re-probing to the
// narrow one would only draw the next.
//
// A 429 that the headers did not warn about lowers the pace, once per
// episode (only requests sent after the last cut can cause another). How
// far depends on what it says:
//   - an isolated 429 after a clean stretch is jitter (a request delayed on
//     its way, then one on time), not a new limit: a gentle cut;
//   - 429s that repeat within a short stretch: a firm cut, or a blind one
//     before anything could be measured.
//
// While a quarter or more of the latest answers (a sliding window, not
// "since the last cut") were refused, we were sending faster than the
// server accepts all along, and what it accepted in that window, hold time
// excluded, is its rate: a cut goes no lower. Otherwise the accepted rate
// is only our own pace (on the climb back after a cut, say), and taking it
// for the server's would ratchet the run down.
//
// Successes then raise the pace by recoverStep each, up to a share of the
// rate that drew the 429 (the ceiling), so the run settles under the
// server's limit instead of sawing across it; after reprobeAfter clean
// answers the ceiling is forgotten and the pace climbs back towards the
// limit (less the wider headroom), in case the 429s were a passing fault.
const (
	headroom = 0.03
	// jitterHeadroom replaces headroom after the first 429 that no
	// X-RateLimit header explains, for the rest of the run: 3% leaves
	// 1.5 ms between requests to a server allowing 20/s, less than the
	// jitter of a loaded machine (or a network) on the way, and every 429
	// holds every worker for its Retry-After.
	jitterHeadroom = 0.06

	gentleCut     = 0.97 // isolated 429
	gentleCeiling = 0.98 // recovery stops at this share of the rate that drew it
	firmCut       = 0.85 // repeated 429s
	firmCeiling   = 0.95
	blindCut      = 0.75 // repeated 429s before anything could be measured

	// cleanStretch successes since the previous 429 make a 429 isolated.
	cleanStretch = 50
	reprobeAfter = 100
	recoverStep  = 0.02

	minRateFraction = 1.0 / 64
	// answerWindow answers make the sliding window the accepted rate is
	// measured over; it needs minAcceptedSamples successes to mean
	// anything.
	answerWindow       = 32
	minAcceptedSamples = 6

	// resetMargin is added to a quota's reset time: the header has whole
	// seconds, the server's window may not.
	resetMargin = 25 * time.Millisecond
	// minWindow is the shortest rate-limit window the limiter believes a
	// pair of X-RateLimit-Reset values that state one.
	minWindow = 500 * time.Millisecond
	// minBaseBackoff keeps a very high --rate from turning 429s into a
	// tight loop.
	minBaseBackoff = 20 * time.Millisecond
)

// Stats counts what the limiter saw and says what it settled at.
type Stats struct {
	Requests  int           // answers and failures reported through done
	Throttled int           // 429 answers
	Held      time.Duration // total time the shared hold was in force
	Rate      float64       // current pace, requests/second
	// Limit is what the pace is kept under, requests/second: the
	// configured rate, Exotel's documented limit, or the limit the
	// server's X-RateLimit headers state (Source says which).
	Limit  float64
	Source Source
	// Stated is the rate the server's headers state (X-RateLimit-Limit
	// over the window's length), requests/second; 0 until learned. With
	// an explicit rate it is only reported, never followed.
	Stated float64
	// Provisional: under Auto the headers state an allowance but the run
	// has not yet seen the window's length, so Limit is only what was left
	// of the first window spread over the time left of it (it can read
	// 186133/min in a run that ended 6 ms before a reset), not a limit.
	Provisional bool
}

// Describe says in a few words the rate a run went at and why, for the end
// of a run: "600/min, from the server's X-RateLimit headers".
func (s Stats) Describe() string {
	if s.Provisional {
		return "as the server's X-RateLimit headers allow; the run ended within their first window, " +
			"before its length (and so a limit per minute) was learned"
	}
	out := PerMinute(s.Limit) + ", from " + string(s.Source)
	if s.Limit > 0 && s.Rate < s.Limit*(1-headroom)*0.99 {
		out += "; paced at " + PerMinute(s.Rate) + " after the server's 429s"
	}
	return out
}

// PerMinute writes requests per second as "600/min".
func PerMinute(perSecond float64) string {
	m := perSecond * 60
	if m < 10 && math.Round(m) != m {
		return strconv.FormatFloat(m, 'f', 1, 64) + "/min"
	}
	return strconv.FormatFloat(math.Round(m), 'f', 0, 64) + "/min"
}

// Limiter is safe for concurrent use. Create one per run and share it.
type Limiter struct {
	cfg    Config
	log    *slog.Logger
	bucket *rate.Limiter

	line    chan struct{} // capacity 1: the caller at the head of the line
	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever waiters should look again

	auto   bool    // follow the server's stated limit
	limit  float64 // what the pace stays under, requests/second
	source Source
	target float64 // limit less headroom
	// headroom is the share of the limit left unused: the headroom
	// constant, jitterHeadroom after a 429 no header explained.
	headroom float64
	current  float64 // adaptive pace, ≤ target
	// ceiling is the rate that drew the last 429 (0 when forgotten) and
	// share how much of it recovery climbs back to.
	ceiling, share float64
	clean          int // successes since the last 429
	lastCut        time.Time
	armed          bool // a success since the last cut: the next 429 may cut
	answers        answerLog

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
	stated        statedLimit

	// departedAt is the latest departure (see Departure): the next request
	// leaves no sooner than one interval at the pace after it.
	departedAt time.Time

	inFlight int
	stopped  bool
	stats    Stats
}

// stoppedError is what Wait returns once Stop has been called.
type stoppedError struct{}

func (stoppedError) Error() string { return "run stopped: no new requests" }

// ErrStopped reports whether err says the limiter was stopped.
func ErrStopped(err error) bool { return errors.As(err, &stoppedError{}) }

// New returns a Limiter for cfg. Rate must be Auto or positive.
func New(cfg Config) (*Limiter, error) {
	if cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) {
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
	l := &Limiter{
		cfg:     cfg,
		log:     log,
		changed: make(chan struct{}),
		line:    make(chan struct{}, 1),
		limit:   cfg.Rate,
		source:  SourceConfigured,
		armed:   true, // the first 429 may cut at once
	}
	if cfg.Rate == Auto {
		l.auto, l.limit, l.source = true, Documented, SourceDocumented
	}
	l.headroom = headroom
	l.target = l.limit * (1 - l.headroom)
	l.current = l.target
	l.bucket = rate.NewLimiter(rate.Limit(l.target), cfg.Burst)
	return l, nil
}

// Stats returns a snapshot of the counters.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Held = l.heldAt(time.Now())
	s.Rate, s.Limit, s.Source = l.current, l.limit, l.source
	s.Stated = l.stated.rate()
	s.Provisional = l.learning()
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
// When ctx carries a Departure (WithDeparture), the request's departure
// spaces the next one as well.
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
				if d, ok := ctx.Value(departureKey{}).(*Departure); ok {
					d.arm(l)
				}
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

// Departure tells the Limiter that let a request go when it really left:
// a request admitted on time but written a few milliseconds late (the
// machine busy) would otherwise reach a server that allows exactly the
// pace just before the next one, on time, and that one draws a 429. With
// Burst 1, the next request then leaves no sooner than one interval after
// the latest departure. It rides on the request's context, as an
// httptrace.ClientTrace does, so that whatever wraps the Limiter's Wait
// passes it on unchanged.
type Departure struct {
	mu sync.Mutex
	l  *Limiter // set by Wait once the request is let go; nil after Left
}

type departureKey struct{}

// WithDeparture returns ctx carrying a new Departure: pass the ctx to Wait,
// and call Left when the request has been written.
func WithDeparture(ctx context.Context) (context.Context, *Departure) {
	d := &Departure{}
	return context.WithValue(ctx, departureKey{}, d), d
}

func (d *Departure) arm(l *Limiter) {
	d.mu.Lock()
	d.l = l
	d.mu.Unlock()
}

// Left reports that the request was written just now. Only the first call
// counts; without a Wait that let the request go, it does nothing.
func (d *Departure) Left() {
	d.mu.Lock()
	l := d.l
	d.l = nil
	d.mu.Unlock()
	if l != nil {
		l.departed(time.Now())
	}
}

// departed takes in a request's departure at: the next may not leave
// sooner than one interval at the pace after it. With a Burst above 1
// requests may leave back to back, and departures are not spaced.
func (l *Limiter) departed(at time.Time) {
	if l.cfg.Burst > 1 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if at.After(l.departedAt) {
		l.departedAt = at
	}
}

// notBefore is the earliest the next request may leave by the latest
// departure: one interval at the pace as it is now, not as it was then, so
// a pace raised meanwhile (the server's stated limit learned from the first
// answer) is not held to the documented 50/min's 1.2 s. Called with mu.
func (l *Limiter) notBefore() time.Time {
	if l.departedAt.IsZero() {
		return time.Time{}
	}
	return l.departedAt.Add(time.Duration(float64(time.Second) / l.current))
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
	if next := l.notBefore(); now.Before(next) {
		return next.Sub(now), l.changed
	}
	if !l.quotaKnown {
		return 0, nil
	}
	if !now.Before(l.quotaReset) {
		if l.budget > 0 && !l.learning() {
			// The window ended with quota to spare: nothing to learn.
			l.quotaKnown = false
			return 0, nil
		}
		// We stopped because the window was used up, or the pace is
		// provisional until the window's length is known. Send one
		// probe and let its answer describe the new window before the
		// other workers follow.
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
	if haveQuota && !stale {
		l.learn(q, now)
	}
	l.answers.add(now, l.heldAt(now), resp.StatusCode != http.StatusTooManyRequests)

	if resp.StatusCode != http.StatusTooManyRequests {
		l.consecutive = 0
		l.succeeded(now)
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
	// fault. Otherwise our pace is too high: cut it, once per episode
	// (only a request sent after the last cut counts) and only after a
	// success since then: a server whose window is used up refuses
	// everything until it resets, however slowly we ask, and cutting at
	// every refusal would leave the rate far below its limit.
	if !haveQuota {
		l.widen()
	}
	if !haveQuota && start.After(l.lastCut) && l.armed {
		l.cut(now)
	}
	if l.current > l.target {
		l.current = l.target
		l.bucket.SetLimitAt(now, rate.Limit(l.current))
	}
	l.clean = 0
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

// heldAt is the total time held up to now, the hold in force included:
// the clock the accepted rate subtracts, since no request could go then.
func (l *Limiter) heldAt(now time.Time) time.Duration {
	h := l.stats.Held
	if !l.holdFrom.IsZero() {
		end := now
		if l.holdUntil.Before(end) {
			end = l.holdUntil
		}
		h += end.Sub(l.holdFrom)
	}
	return h
}

// endHold adds a finished hold to the stats.
func (l *Limiter) endHold(now time.Time) {
	if l.holdFrom.IsZero() || now.Before(l.holdUntil) {
		return
	}
	l.stats.Held += l.holdUntil.Sub(l.holdFrom)
	l.holdFrom = time.Time{}
}

// widen leaves jitterHeadroom under the limit from now on, after a 429 no
// X-RateLimit header explained. It moves the target only: the cut that
// follows lowers the pace, from the rate that drew the 429. Called with mu.
func (l *Limiter) widen() {
	if l.headroom >= jitterHeadroom {
		return
	}
	l.headroom = jitterHeadroom
	l.target = l.limit * (1 - l.headroom)
	l.log.Debug("headroom widened after a 429", "headroom", l.headroom, "target_per_min", math.Round(l.target*60))
}

// cut lowers the pace after a 429 (see the tuning notes above).
func (l *Limiter) cut(now time.Time) {
	r := l.current
	next, share, how := r*firmCut, firmCeiling, "firm"
	est, refused, measured := l.answers.accepted()
	switch {
	case l.clean >= cleanStretch:
		next, share, how = r*gentleCut, gentleCeiling, "gentle"
	case !measured:
		next, how = r*blindCut, "blind"
	case refused*4 >= l.answers.n:
		// A quarter or more of the recent answers were refused: we
		// were sending faster than the server accepts all along, so
		// what it accepted is its limit and the pace goes no lower.
		next = max(next, min(est*(1-headroom), r))
	}
	l.ceiling, l.share = r, share
	l.current = max(next, l.target*minRateFraction)
	l.lastCut, l.armed = now, false
	l.bucket.SetLimitAt(now, rate.Limit(l.current))
	l.log.Debug("rate lowered after 429", "how", how, "rate_per_min", math.Round(l.current*60),
		"accepted_per_min", math.Round(est*60), "refused", refused, "clean_before", l.clean)
}

// succeeded takes in a success: it raises the pace again, up to the
// ceiling the last 429 left, and forgets that ceiling after a clean
// stretch.
func (l *Limiter) succeeded(now time.Time) {
	l.clean++
	l.armed = true
	if l.ceiling > 0 && l.clean >= reprobeAfter {
		l.ceiling = 0
		l.log.Debug("probing towards the limit again", "clean", l.clean)
	}
	upTo := l.target
	if l.ceiling > 0 {
		upTo = min(upTo, l.ceiling*l.share)
	}
	if l.current >= upTo {
		return
	}
	l.current = min(upTo, l.current*(1+recoverStep))
	l.bucket.SetLimitAt(now, rate.Limit(l.current))
}

// setLimit makes limit what the pace stays under. A pace that no 429 has
// cut follows it at once, up or down; a cut pace only has its cap moved.
func (l *Limiter) setLimit(now time.Time, limit float64, from Source) {
	if limit == l.limit && from == l.source {
		return
	}
	uncut := l.ceiling == 0 && l.current >= l.target*(1-1e-9)
	if from != l.source {
		l.log.Debug("rate limit", "per_min", math.Round(limit*60), "from", string(from))
	}
	l.limit, l.source = limit, from
	l.target = limit * (1 - l.headroom)
	if uncut || l.current > l.target {
		l.current = l.target
		l.bucket.SetLimitAt(now, rate.Limit(l.current))
	}
}

// learning reports whether the pace is provisional: Auto, a limit stated,
// but not yet the length of its window.
func (l *Limiter) learning() bool {
	return l.auto && l.stated.limit > 0 && l.stated.window == 0
}

// learn reads what an answer's X-RateLimit headers state about the
// server's limit and, under Auto, paces at it.
func (l *Limiter) learn(q Quota, now time.Time) {
	if !l.stated.observe(q) || !l.auto {
		return
	}
	if r := l.stated.rate(); r > 0 {
		if r != l.limit {
			l.log.Debug("rate limit stated by the server", "per_min", math.Round(r*60),
				"limit", l.stated.limit, "window", l.stated.window)
		}
		l.setLimit(now, r, SourceHeaders)
		return
	}
	// The window's length is not known yet, but what is left of it is:
	// spread the remaining allowance over it. The budget keeps this from
	// overspending, and the window's end sends a single probe whose
	// answer gives the length.
	if left := q.Reset.Sub(now).Seconds(); left > 0 && l.budget > 0 {
		l.setLimit(now, max(Documented, float64(l.budget)/left), SourceHeaders)
	}
}

// statedLimit is the limit X-RateLimit headers state: Limit requests per
// window, the window's length learned from successive Reset values.
type statedLimit struct {
	limit int
	// reset and remaining: the newest window seen. A later reset with
	// the allowance back is the next window, and the gap between the two
	// resets its length (the shortest seen: windows with no request in
	// them make longer gaps).
	reset     time.Time
	remaining int
	window    time.Duration
}

// observe takes in one answer's quota and reports whether it was usable.
func (s *statedLimit) observe(q Quota) bool {
	if q.Limit <= 0 {
		return false
	}
	s.limit = q.Limit
	switch {
	case s.reset.IsZero():
	case q.Reset.Before(s.reset.Add(-minWindow / 2)):
		return true // from an older window, answered late
	case q.Reset.Before(s.reset.Add(minWindow)):
		// The same window (its reset may wobble by rounding): answers
		// arrive out of order, so keep the least remaining.
		s.remaining = min(s.remaining, q.Remaining)
		return true
	case q.Remaining > s.remaining || q.Remaining == s.remaining && q.Remaining > 0:
		// The allowance came back (or nothing was spent since): a new
		// window. A reset that moves on while nothing is left is a
		// bucket's next token, not a window.
		if w := q.Reset.Sub(s.reset); s.window == 0 || w < s.window {
			s.window = w
		}
	}
	s.reset, s.remaining = q.Reset, q.Remaining
	return true
}

// rate is Limit over the window, requests/second; 0 until both are known.
func (s *statedLimit) rate() float64 {
	if s.limit <= 0 || s.window <= 0 {
		return 0
	}
	return float64(s.limit) / s.window.Seconds()
}

// answerLog is a sliding window of the latest answers, for the rate the
// server accepted recently: not "since the last cut", which would count
// the slow climb back after it.
type answerLog struct {
	at   [answerWindow]time.Time
	held [answerWindow]time.Duration // the limiter's hold clock at each
	ok   [answerWindow]bool          // false: a 429
	n    int                         // entries filled, up to answerWindow
	next int
}

func (a *answerLog) add(now time.Time, held time.Duration, ok bool) {
	a.at[a.next], a.held[a.next], a.ok[a.next] = now, held, ok
	a.next = (a.next + 1) % answerWindow
	a.n = min(a.n+1, answerWindow)
}

// accepted is the successes per second of the time between the oldest and
// newest answer in the window, less the time every worker was held
// (nothing could be accepted then), and the 429s among them. measured is
// false with too few successes to mean anything.
func (a *answerLog) accepted() (perSecond float64, refused int, measured bool) {
	successes := 0
	for i := range a.n {
		if a.ok[i] {
			successes++
		}
	}
	refused = a.n - successes
	if successes < minAcceptedSamples {
		return 0, refused, false
	}
	newest := (a.next + answerWindow - 1) % answerWindow
	oldest := (a.next + answerWindow - a.n) % answerWindow
	span := a.at[newest].Sub(a.at[oldest]) - (a.held[newest] - a.held[oldest])
	if span <= 0 {
		return 0, refused, false
	}
	return float64(successes) / span.Seconds(), refused, true
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
// number of requests per second, and returns requests per second; "auto"
// returns Auto.
func ParseRate(s string) (float64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "auto" {
		return Auto, nil
	}
	num, unit, hasUnit := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || !(n > 0) || math.IsInf(n, 0) {
		return 0, fmt.Errorf("rate %q: want auto or a positive number like 50/min, 2/s or 0.5", s)
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
