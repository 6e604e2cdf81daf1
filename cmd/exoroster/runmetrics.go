package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/metrics"
	"github.com/exoroster/exoroster/results"
)

// registerMetricsFile adds --metrics-file to a command that runs against
// the API (and to diff).
func registerMetricsFile(fs *pflag.FlagSet, path *string) {
	fs.StringVar(path, "metrics-file", "", "also write the run's metrics in Prometheus text format to `FILE`, for node_exporter's textfile collector (other commands' series in it are kept)")
}

// countingPacer is the Pacer cmd hands the API clients: the run's shared
// limiter, with every request counted by the HTTP status of its answer
// (0 when none came) for --metrics-file. It sits here rather than in the
// limiter so that what the limiter decides stays its own business.
type countingPacer struct {
	next exotel.Pacer

	mu       sync.Mutex
	byStatus map[int]int
}

func newCountingPacer(next exotel.Pacer) *countingPacer {
	return &countingPacer{next: next, byStatus: map[int]int{}}
}

// Wait waits for the limiter; the function it returns hands the answer on
// first (the limiter's decisions wait for nothing of ours), then counts it.
// A request the limiter never let go is not counted.
func (p *countingPacer) Wait(ctx context.Context) (func(*http.Response), error) {
	done, err := p.next.Wait(ctx)
	if err != nil {
		return done, err
	}
	return func(resp *http.Response) {
		done(resp)
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		p.mu.Lock()
		p.byStatus[status]++
		p.mu.Unlock()
	}, nil
}

// counts returns requests by status so far; nil for a nil pacer (a
// connection built without one counts nothing rather than zero).
func (p *countingPacer) counts() map[int]int {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int]int, len(p.byStatus))
	for s, n := range p.byStatus {
		out[s] = n
	}
	return out
}

// runMetrics says where a run's metrics go and what they are labelled.
type runMetrics struct {
	path    string // --metrics-file; "" writes none
	command string // the series' command label: "import", "offboard-dry-run"
	// setup is the connection whose requests, 429s and limiter hold are
	// counted; nil for a run that sent nothing.
	setup *apiSetup
}

// metricsFor labels a row command's series: a dry run gets its own, so it
// never stands in for the real run's last success.
func metricsFor(path, command string, dryRun bool, setup *apiSetup) runMetrics {
	if dryRun {
		command += "-dry-run"
	}
	return runMetrics{path: path, command: command, setup: setup}
}

// rowCounts turns a run's counts by results status into metric labels.
func rowCounts(counts map[results.Status]int) map[string]int {
	out := make(map[string]int, len(counts))
	for st, n := range counts {
		out[string(st)] = n
	}
	return out
}

// recordRun writes a finished run's metrics when --metrics-file asks for
// them, and returns the run's outcome err. A metrics file that cannot be
// written fails a run that otherwise succeeded (exit 1, after the run's own
// message); a run that failed keeps its own exit, with a warning.
func (a *app) recordRun(m runMetrics, rows map[string]int, aud *metrics.Audit, err error) error {
	if m.path == "" {
		return err
	}
	now := time.Now()
	run := metrics.Run{Command: m.command, Rows: rows, Duration: now.Sub(a.started), Finished: now, Success: runSucceeded(err), Audit: aud}
	if m.setup != nil {
		s := m.setup.limiter.Stats()
		run.Throttled, run.Held = s.Throttled, s.Held
		run.Requests = m.setup.requests.counts()
	}
	werr := metrics.Write(m.path, run)
	switch {
	case werr == nil:
		return err
	case !run.Success:
		a.warn(sentence(werr))
		return err
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.err != nil {
		fmt.Fprintf(a.env.Stderr, "exoroster: %s\n", sentence(ee.err))
	}
	return abortErr(werr)
}

// runSucceeded: the run did all it was asked. Rows left to do (3), changes
// pending (4) and findings that fail it through --fail-on (5) are outcomes
// of a complete run, not failures of it.
func runSucceeded(err error) bool {
	if err == nil {
		return true
	}
	var ee *exitError
	if !errors.As(err, &ee) {
		return false
	}
	switch ee.code {
	case ExitOK, ExitRowsNotDone, ExitChangesPending, ExitFindings:
		return true
	}
	return false
}
