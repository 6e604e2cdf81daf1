// Package engine runs a row command: it owns the lifecycle that import,
// offboard, update (and sync) share, so each of them supplies only what is
// its own.
//
// A run feeds rows to a pool of workers and writes every row's outcome,
// exactly once, through one writer of the results file:
//
//	Produce ──jobs──▶ N × Work ──lines──▶ one writer ──▶ results file, Progress, Summary
//	   └───────────────── final lines ─────────▲
//
// Produce reads the input and decides each row: a row it can settle without
// a request (invalid, unchanged, a dry run) it records at once with
// Feed.Line; the others it hands to the workers with Feed.Send. Work does
// one job's requests and returns its line. Skip says what a job that never
// reached a worker records.
//
// Stopping is the run's halt.Switch, made once by the caller. When it flips
// (the first Ctrl-C, credentials refused, a results file that cannot be
// written, an input that turned out unreadable) no new job starts: jobs not
// yet begun are recorded with Skip, while jobs in flight finish their
// requests. Cancelling ctx (the second Ctrl-C) ends those requests too.
package engine

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/results"
)

// Defaults for every row command.
const (
	DefaultWorkers     = 4  // concurrent requests
	DefaultMaxAttempts = 10 // requests per row (or per write), 429s included
)

// Workers returns n, or DefaultWorkers when n is not positive.
func Workers(n int) int {
	if n < 1 {
		return DefaultWorkers
	}
	return n
}

// MaxAttempts returns n, or DefaultMaxAttempts when n is not positive.
func MaxAttempts(n int) int {
	if n < 1 {
		return DefaultMaxAttempts
	}
	return n
}

// Progress hears about each row as its line is written.
type Progress interface {
	Start(total int)
	Row(status results.Status)
	Finish()
}

// NoProgress reports nothing.
type NoProgress struct{}

func (NoProgress) Start(int)          {}
func (NoProgress) Row(results.Status) {}
func (NoProgress) Finish()            {}

// Sink takes the results lines; *results.Writer is one.
type Sink interface {
	Write(results.Line) error
}

// Spec is what a command supplies for one run.
type Spec[J any] struct {
	// Workers is how many jobs run at once; default DefaultWorkers.
	Workers int
	// Total is the number of lines this run will write, for Progress.
	Total int
	// Settled counts, by status, rows an earlier run settled for good (a
	// resume keeps their lines): they are in the Summary but not written.
	Settled map[results.Status]int
	// OK lists the statuses that need no attention: Summary.OK is true
	// when every row ended in one of them.
	OK       []results.Status
	Progress Progress

	// Produce feeds the run. Its ctx ends when the switch flips: use it
	// for requests that are safe to abandon (lookups). Its error is a
	// run-level failure (the input became unreadable, or belongs to another
	// run); the switch is flipped as it returns, so no further request
	// leaves.
	Produce func(ctx context.Context, feed *Feed[J]) error
	// Work does one job and returns its line. ctx is the caller's: it ends
	// only when the run is cancelled outright, so a request already sent
	// can finish after the switch flips. No job starts once the switch
	// has flipped; one whose start races the flip meets the stopped
	// limiter, and Work records that refusal as it records a skip.
	Work func(ctx context.Context, job J) results.Line
	// Skip is the line of a job that never started.
	Skip func(job J) results.Line
}

// Summary is the outcome of a run.
type Summary struct {
	Rows    int // lines, including rows an earlier run settled
	Counts  map[results.Status]int
	Elapsed time.Duration
	// Lookups counts the GETs the command spent finding users before
	// acting on them, when it reports them.
	Lookups     int
	Interrupted bool  // stopped by the user
	Aborted     error // stopped by the API (credentials) or a refused guard; the run-level cause
	// Examples holds, by status, the first ExamplesKept lines this run
	// wrote whose status needs attention (row, status and message only),
	// so the end-of-run report can name them.
	Examples map[results.Status][]results.Line

	ok []results.Status
}

// ExamplesKept is how many lines of each status needing attention a
// Summary keeps.
const ExamplesKept = 5

// newSummary returns an empty summary whose OK accepts the statuses ok.
func newSummary(ok ...results.Status) *Summary {
	return &Summary{Counts: map[results.Status]int{}, ok: ok}
}

// add counts one row, and keeps it as an example if it needs attention.
func (s *Summary) add(l results.Line) {
	s.Rows++
	s.Counts[l.Status]++
	if slices.Contains(s.ok, l.Status) || len(s.Examples[l.Status]) >= ExamplesKept {
		return
	}
	if s.Examples == nil {
		s.Examples = map[results.Status][]results.Line{}
	}
	s.Examples[l.Status] = append(s.Examples[l.Status], results.Line{Row: l.Row, Status: l.Status, Message: l.Message})
}

// OK reports whether the run ended by itself and every row ended in a
// status that needs no attention.
func (s *Summary) OK() bool {
	return results.Only(s.Counts, s.ok...) && s.Aborted == nil && !s.Interrupted
}

// finish records how the run ended, from its switch.
func (s *Summary) finish(start time.Time, sw *halt.Switch) {
	s.Elapsed = time.Since(start)
	s.Aborted = sw.Cause()
	s.Interrupted = sw.Interrupted()
}

// Feed is how Produce hands rows on. It is used from Produce's goroutine
// only. Lines given to Line are written in the order given, and before the
// line of any job sent after them.
type Feed[J any] struct {
	jobs  chan<- J
	lines chan<- results.Line
	sw    *halt.Switch
	skip  func(J) results.Line
}

// Send hands job to a worker, or, once the switch has flipped, records
// its Skip line instead. It reports whether a worker took the job.
func (f *Feed[J]) Send(job J) bool {
	if !f.sw.Stopping() {
		select {
		case f.jobs <- job:
			return true
		case <-f.sw.Done():
		}
	}
	f.lines <- f.skip(job)
	return false
}

// Line records a row's final line without a worker.
func (f *Feed[J]) Line(l results.Line) { f.lines <- l }

// Run runs spec to the end and writes every line to out. It returns once
// every job has its line. The error is run-level only: Produce's, or the
// first write that failed (which flips the switch: no outcome may go
// unrecorded); refused credentials and interruptions are in the Summary.
func Run[J any](ctx context.Context, sw *halt.Switch, out Sink, spec Spec[J]) (*Summary, error) {
	start := time.Now()
	workers := Workers(spec.Workers)
	prog := spec.Progress
	if prog == nil {
		prog = NoProgress{}
	}
	sum := newSummary(spec.OK...)
	for st, n := range spec.Settled {
		sum.Rows += n
		sum.Counts[st] += n
	}
	prog.Start(spec.Total)
	defer prog.Finish()

	jobs := make(chan J)
	lines := make(chan results.Line, 2*workers)
	feed := &Feed[J]{jobs: jobs, lines: lines, sw: sw, skip: spec.Skip}
	var senders sync.WaitGroup // Produce and the workers: whoever sends lines
	var produceErr error
	senders.Go(func() {
		defer close(jobs)
		if err := spec.Produce(sw.Context(), feed); err != nil {
			produceErr = err
			sw.Stop() // a failing run sends nothing more
		}
	})
	for range workers {
		senders.Go(func() {
			for j := range jobs {
				if sw.Stopping() {
					lines <- spec.Skip(j)
					continue
				}
				lines <- spec.Work(ctx, j)
			}
		})
	}
	go func() {
		senders.Wait()
		close(lines)
	}()

	var writeErr error
	for l := range lines {
		if writeErr == nil {
			if writeErr = out.Write(l); writeErr != nil {
				sw.Stop()
			}
		}
		sum.add(l)
		prog.Row(l.Status)
	}
	sum.finish(start, sw)
	return sum, errors.Join(produceErr, writeErr)
}
