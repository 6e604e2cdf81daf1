package exotel

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/exoroster/exoroster/ratelimit"
)

// watch is what a Client notices across all its requests: whether any was
// answered yet (before that, a refused connection or a TLS failure is a
// misconfiguration that stops the run; after it, an outage to wait out), the
// outage in progress, and which odd record shapes it has reported.
type watch struct {
	base *url.URL
	log  *slog.Logger

	answered atomic.Bool

	mu       sync.Mutex
	failures int             // transport failures since the last answer
	reported int             // highest attempt number reported in this outage
	odd      map[string]bool // field names already reported
}

func newWatch(base *url.URL, log *slog.Logger) *watch {
	return &watch{base: base, log: log, odd: map[string]bool{}}
}

// answer notes that a request got an HTTP answer, whatever its status: the
// server is reachable, and an outage in progress is over.
func (w *watch) answer() {
	w.answered.Store(true)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.reported > 0 {
		w.log.Warn("the API answers again", "host", w.base.Host, "failed_requests", w.failures)
	}
	w.failures, w.reported = 0, 0
}

// failed takes in a request that got no answer and fills in te's
// Misconfiguration when no request has been answered yet and waiting cannot
// help.
func (w *watch) failed(te *TransportError) {
	w.mu.Lock()
	w.failures++
	w.mu.Unlock()
	if !w.answered.Load() {
		te.Misconfiguration = diagnose(te.Err, w.base)
	}
}

// retrying reports attempt n of max of a request that failed without an
// answer and will be tried again. Workers failing together report each
// attempt number once per outage, so the log says what is happening without
// repeating itself.
func (w *watch) retrying(err error, n, max int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if n <= w.reported {
		return
	}
	w.reported = n
	w.log.Warn("no answer from the API; retrying after a backoff", "host", w.base.Host,
		"cause", w.cause(err), "attempt", fmt.Sprintf("%d of %d", n, max))
}

// cause says in a few words why a request got no answer.
func (w *watch) cause(err error) string {
	var te *TransportError
	if !errors.As(err, &te) {
		return err.Error()
	}
	if m := diagnose(te.Err, w.base); m != nil {
		return m.Cause
	}
	return te.Err.Error()
}

// noteOdd logs, once per field name and client, that a user record had a
// value of an unexpected shape.
func (w *watch) noteOdd(u *User) {
	fields := u.OddFields()
	if len(fields) == 0 {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range fields {
		if w.odd[f] {
			continue
		}
		w.odd[f] = true
		w.log.Warn("a user record has a field of an unexpected shape; its value is kept as it came",
			"field", f, "user", u.ID, "value", oddValue(u, f))
	}
}

// oddValue is the raw value of field f of u, cut short for a log line.
func oddValue(u *User, f string) string {
	raw := u.Odd[f]
	if key, ok := strings.CutPrefix(f, "devices."); ok && raw == nil {
		for _, d := range u.Devices {
			if r, ok := d.Odd[key]; ok {
				raw = r
				break
			}
		}
	}
	s := compactText(raw)
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return s
}

// Answered reports whether any request of c has had an HTTP answer.
func (c *Client) Answered() bool { return c.watch.answered.Load() }

// Retrying returns the classify function for one ratelimit.Retry call of
// up to maxAttempts: RetryVerdict's verdict, and for a failure without an
// answer that will be tried again, a warning on the client's log with its
// cause and "attempt n of max", once per attempt number and outage, so that
// a long outage is never silent. Use a new one for each Retry call.
func (c *Client) Retrying(maxAttempts int) func(error) ratelimit.Verdict {
	attempt := 0
	return func(err error) ratelimit.Verdict {
		attempt++
		v := RetryVerdict(err)
		if v == ratelimit.Backoff && KindOf(err) == KindTransport {
			c.watch.retrying(err, attempt, maxAttempts)
		}
		return v
	}
}
