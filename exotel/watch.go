package exotel

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
)

// watch is what a Sender notices across all its requests: whether any was
// answered yet (before that, a refused connection or a TLS failure is a
// misconfiguration that stops the run; after it, an outage to wait out), and
// the outage in progress.
type watch struct {
	base   *url.URL
	origin Origin
	log    *slog.Logger

	answered atomic.Bool

	mu       sync.Mutex
	failures int // transport failures since the last answer
	reported int // highest attempt number reported in this outage
}

func newWatch(base *url.URL, origin Origin, log *slog.Logger) *watch {
	return &watch{base: base, origin: origin, log: log}
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
		te.Misconfiguration = diagnose(te.Err, w.base, w.origin)
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
	if m := diagnose(te.Err, w.base, w.origin); m != nil {
		return m.Cause
	}
	return te.Err.Error()
}
