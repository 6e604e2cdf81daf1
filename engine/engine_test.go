package engine_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/results"
)

// sink keeps the lines written, in order; failAt > 0 makes that write (and
// every later one) fail.
type sink struct {
	lines  []results.Line
	failAt int
	writes int
}

var errDiskFull = errors.New("disk full")

func (s *sink) Write(l results.Line) error {
	s.writes++
	if s.failAt > 0 && s.writes >= s.failAt {
		return errDiskFull
	}
	s.lines = append(s.lines, l)
	return nil
}

// byRow counts each row's lines.
func (s *sink) byRow() map[int]int {
	m := map[int]int{}
	for _, l := range s.lines {
		m[l.Row]++
	}
	return m
}

// job is a row on its way to a worker.
type job struct{ row int }

func created(j job) results.Line {
	return results.Line{Row: j.row, Status: results.Created, Attempts: 1}
}
func skipped(j job) results.Line { return results.Line{Row: j.row, Status: results.Skipped} }

// rows feeds rows 1..n: every third row is invalid and recorded at once,
// the others go to the workers.
func rows(n int) func(context.Context, *engine.Feed[job]) error {
	return func(_ context.Context, f *engine.Feed[job]) error {
		for row := 1; row <= n; row++ {
			if row%3 == 0 {
				f.Line(results.Line{Row: row, Status: results.Invalid})
				continue
			}
			f.Send(job{row})
		}
		return nil
	}
}

func newSwitch(ctx context.Context, interrupt <-chan struct{}) *halt.Switch {
	return halt.New(ctx, interrupt, nil)
}

func TestEveryRowGetsExactlyOneLine(t *testing.T) {
	for _, workers := range []int{1, 4, 16} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			const n = 300
			sw := newSwitch(context.Background(), nil)
			defer sw.Close()
			out := &sink{}
			var calls atomic.Int32
			sum, err := engine.Run(context.Background(), sw, out, engine.Spec[job]{
				Workers: workers, Total: n, OK: []results.Status{results.Created},
				Produce: rows(n),
				Work: func(_ context.Context, j job) results.Line {
					calls.Add(1)
					return created(j)
				},
				Skip: skipped,
			})
			if err != nil {
				t.Fatal(err)
			}
			counts := out.byRow()
			for row := 1; row <= n; row++ {
				if counts[row] != 1 {
					t.Errorf("row %d has %d lines", row, counts[row])
				}
			}
			if len(out.lines) != n || sum.Rows != n || sum.Counts[results.Invalid] != n/3 ||
				sum.Counts[results.Created] != n-n/3 || int(calls.Load()) != n-n/3 {
				t.Errorf("%d lines, summary %+v, %d jobs worked", len(out.lines), sum, calls.Load())
			}
			if sum.OK() || sum.Interrupted || sum.Aborted != nil {
				t.Errorf("summary %+v: invalid rows need attention", sum)
			}
		})
	}
}

// Lines recorded by Produce keep their order, and come before the line of
// any job sent after them.
func TestLineOrder(t *testing.T) {
	for _, workers := range []int{1, 8} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			const n = 400
			sw := newSwitch(context.Background(), nil)
			defer sw.Close()
			out := &sink{}
			_, err := engine.Run(context.Background(), sw, out, engine.Spec[job]{
				Workers: workers, Total: n, Produce: rows(n),
				Work: func(_ context.Context, j job) results.Line { return created(j) },
				Skip: skipped,
			})
			if err != nil {
				t.Fatal(err)
			}
			direct := 0 // direct lines written so far: rows 3, 6, 9, ...
			for _, l := range out.lines {
				switch {
				case l.Status == results.Invalid && l.Row != 3*(direct+1):
					t.Fatalf("direct line of row %d after %d direct lines: out of order", l.Row, direct)
				case l.Status == results.Invalid:
					direct++
				case direct < (l.Row-1)/3:
					t.Fatalf("job row %d written before a direct line recorded ahead of it (only %d of %d written)",
						l.Row, direct, (l.Row-1)/3)
				}
			}
		})
	}
}

func TestSettledRowsCountButAreNotWritten(t *testing.T) {
	sw := newSwitch(context.Background(), nil)
	defer sw.Close()
	out := &sink{}
	sum, err := engine.Run(context.Background(), sw, out, engine.Spec[job]{
		Settled: map[results.Status]int{results.Created: 5, results.Exists: 2},
		OK:      []results.Status{results.Created, results.Exists},
		Produce: func(_ context.Context, f *engine.Feed[job]) error { f.Send(job{8}); return nil },
		Work:    func(_ context.Context, j job) results.Line { return created(j) },
		Skip:    skipped,
	})
	if err != nil || len(out.lines) != 1 || sum.Rows != 8 || sum.Counts[results.Created] != 6 || !sum.OK() {
		t.Errorf("err %v, %d lines, summary %+v", err, len(out.lines), sum)
	}
}

// A run interrupted before it began starts no job: every job is skipped,
// and rows settled without a request are still recorded.
func TestInterruptBeforeStartSendsNothing(t *testing.T) {
	interrupt := make(chan struct{})
	close(interrupt)
	sw := newSwitch(context.Background(), interrupt)
	defer sw.Close()
	out := &sink{}
	var calls atomic.Int32
	sum, err := engine.Run(context.Background(), sw, out, engine.Spec[job]{
		Workers: 4, Produce: rows(30),
		Work: func(_ context.Context, j job) results.Line { calls.Add(1); return created(j) },
		Skip: skipped,
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 0 || sum.Counts[results.Skipped] != 20 || sum.Counts[results.Invalid] != 10 || !sum.Interrupted {
		t.Errorf("%d jobs worked, summary %+v", calls.Load(), sum)
	}
}

// gate holds every job in Work until released, and says when some have
// started.
type gate struct {
	started chan int
	release chan struct{}
	calls   atomic.Int32
}

func newGate() *gate { return &gate{started: make(chan int, 100), release: make(chan struct{})} }

// The first stop lets the jobs in flight finish (their requests use the
// caller's ctx, which is still alive) and records the rest as skipped.
func TestFirstStopLetsInFlightJobsFinish(t *testing.T) {
	const n, workers = 40, 3
	interrupt := make(chan struct{})
	sw := newSwitch(context.Background(), interrupt)
	defer sw.Close()
	g := newGate()
	out := &sink{}
	var ctxAlive atomic.Int32
	go func() {
		for range workers {
			<-g.started
		}
		close(interrupt)
		<-sw.Done()
		close(g.release)
	}()
	sum, err := engine.Run(context.Background(), sw, out, engine.Spec[job]{
		Workers: workers,
		Produce: func(_ context.Context, f *engine.Feed[job]) error {
			for row := 1; row <= n; row++ {
				f.Send(job{row})
			}
			return nil
		},
		Work: func(ctx context.Context, j job) results.Line {
			g.calls.Add(1)
			g.started <- j.row
			<-g.release
			if ctx.Err() == nil {
				ctxAlive.Add(1)
			}
			return created(j)
		},
		Skip: skipped,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := g.calls.Load(); got != workers {
		t.Errorf("%d jobs started, want the %d in flight only", got, workers)
	}
	if ctxAlive.Load() != workers {
		t.Errorf("%d of %d in-flight jobs saw a live context", ctxAlive.Load(), workers)
	}
	if sum.Counts[results.Created] != workers || sum.Counts[results.Skipped] != n-workers || len(out.lines) != n || !sum.Interrupted {
		t.Errorf("summary %+v, %d lines", sum, len(out.lines))
	}
}

// The second stop (ctx cancelled) ends the requests in flight.
func TestSecondStopCancelsInFlightJobs(t *testing.T) {
	const n, workers = 20, 2
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	interrupt := make(chan struct{})
	sw := newSwitch(ctx, interrupt)
	defer sw.Close()
	g := newGate()
	go func() {
		for range workers {
			<-g.started
		}
		close(interrupt) // first: nothing new starts
		<-sw.Done()
		cancel() // second: in-flight requests end
	}()
	out := &sink{}
	sum, err := engine.Run(ctx, sw, out, engine.Spec[job]{
		Workers: workers,
		Produce: func(_ context.Context, f *engine.Feed[job]) error {
			for row := 1; row <= n; row++ {
				f.Send(job{row})
			}
			return nil
		},
		Work: func(ctx context.Context, j job) results.Line {
			g.calls.Add(1)
			g.started <- j.row
			<-ctx.Done() // a request that never answers
			return results.Line{Row: j.row, Status: results.Failed, Message: ctx.Err().Error()}
		},
		Skip: skipped,
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.calls.Load() != workers || sum.Counts[results.Failed] != workers || sum.Counts[results.Skipped] != n-workers {
		t.Errorf("%d started, summary %+v", g.calls.Load(), sum)
	}
}

// A results file that cannot be written stops the run: jobs not yet begun
// are not started, every row is still counted, and the error comes back.
func TestWriteErrorStopsTheRun(t *testing.T) {
	const n, workers = 100, 1
	sw := newSwitch(context.Background(), nil)
	defer sw.Close()
	out := &sink{failAt: 1}
	var calls atomic.Int32
	sum, err := engine.Run(context.Background(), sw, out, engine.Spec[job]{
		Workers: workers,
		Produce: func(_ context.Context, f *engine.Feed[job]) error {
			for row := 1; row <= n; row++ {
				f.Send(job{row})
			}
			return nil
		},
		Work: func(_ context.Context, j job) results.Line { calls.Add(1); return created(j) },
		Skip: skipped,
	})
	if !errors.Is(err, errDiskFull) || !sw.Stopping() {
		t.Fatalf("err %v, stopping %v", err, sw.Stopping())
	}
	// At most the job that failed to be written, the lines buffered behind
	// it and the one a worker held: the rest never started.
	if got := int(calls.Load()); got > 1+2*workers+workers {
		t.Errorf("%d jobs worked after the first write failed", got)
	}
	if sum.Rows != n || sum.Counts[results.Skipped] < n-(1+3*workers) {
		t.Errorf("summary %+v", sum)
	}
	if sum.Interrupted || sum.Aborted != nil {
		t.Errorf("a write error is the returned error, not an interruption: %+v", sum)
	}
}

// Produce failing (an input that changed under a resume) flips the switch
// before Run returns: nothing more leaves, and the error comes back.
func TestProduceErrorStopsTheRun(t *testing.T) {
	errChanged := errors.New("input changed")
	sw := newSwitch(context.Background(), nil)
	defer sw.Close()
	out := &sink{}
	var mu sync.Mutex
	var stoppedWhenWorked []bool
	sum, err := engine.Run(context.Background(), sw, out, engine.Spec[job]{
		Produce: func(_ context.Context, f *engine.Feed[job]) error {
			f.Line(results.Line{Row: 1, Status: results.Invalid})
			return errChanged
		},
		Work: func(_ context.Context, j job) results.Line {
			mu.Lock()
			defer mu.Unlock()
			stoppedWhenWorked = append(stoppedWhenWorked, sw.Stopping())
			return created(j)
		},
		Skip: skipped,
	})
	if !errors.Is(err, errChanged) || !sw.Stopping() || len(out.lines) != 1 || sum.Rows != 1 {
		t.Errorf("err %v, stopping %v, %d lines", err, sw.Stopping(), len(out.lines))
	}
	if len(stoppedWhenWorked) != 0 {
		t.Errorf("worked %d jobs", len(stoppedWhenWorked))
	}
}

// An abort (credentials refused) is the summary's cause, and jobs after it
// are skipped.
func TestAbortIsTheSummarysCause(t *testing.T) {
	errAuth := errors.New("credentials refused")
	sw := newSwitch(context.Background(), nil)
	defer sw.Close()
	out := &sink{}
	sum, err := engine.Run(context.Background(), sw, out, engine.Spec[job]{
		Workers: 1,
		Produce: func(_ context.Context, f *engine.Feed[job]) error {
			for row := 1; row <= 10; row++ {
				f.Send(job{row})
			}
			return nil
		},
		Work: func(_ context.Context, j job) results.Line {
			sw.Abort(errAuth)
			return results.Line{Row: j.row, Status: results.Failed}
		},
		Skip: skipped,
	})
	if err != nil || !errors.Is(sum.Aborted, errAuth) || sum.Interrupted || sum.OK() {
		t.Errorf("err %v, summary %+v", err, sum)
	}
	if sum.Counts[results.Failed] != 1 || sum.Counts[results.Skipped] != 9 {
		t.Errorf("counts %v", sum.Counts)
	}
}

func TestDefaults(t *testing.T) {
	if engine.Workers(0) != engine.DefaultWorkers || engine.Workers(7) != 7 ||
		engine.MaxAttempts(-1) != engine.DefaultMaxAttempts || engine.MaxAttempts(3) != 3 {
		t.Error("defaults")
	}
}
