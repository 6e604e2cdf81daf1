package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/roster"
)

// rowFlags are the flags every row command (import, offboard, update)
// shares: where and how fast to send (apiFlags), how to read phone numbers,
// where the results go, whether to send anything, and how often to report.
type rowFlags struct {
	api           apiFlags
	defaultRegion string
	resultsPath   string
	dryRun        bool
	progressEvery time.Duration
}

// rowHelp is what the shared flags' help says differently per command.
type rowHelp struct {
	input  string // what the input is called: roster, list, changes
	dryRun string // what --dry-run does
}

func (f *rowFlags) register(fs *pflag.FlagSet, h rowHelp) {
	f.api.register(fs)
	f.api.registerTarget(fs)
	fs.StringVar(&f.defaultRegion, "default-region", roster.DefaultRegion, "country of phone numbers written without +country code")
	fs.StringVar(&f.resultsPath, "results", "",
		fmt.Sprintf("results CSV (default <%s>.results.csv; <%s>.dry-run.csv with --dry-run)", h.input, h.input))
	fs.BoolVar(&f.dryRun, "dry-run", false, h.dryRun)
	registerProgressEvery(fs, &f.progressEvery)
}

// check returns a usage error (exit 2) for a shared flag that is wrong.
func (f *rowFlags) check() error {
	if err := roster.CheckRegion(f.defaultRegion); err != nil {
		return usageErr("--default-region: %v", err)
	}
	return f.api.check()
}

// rosterOptions are the options for reading the input's rows.
func (f *rowFlags) rosterOptions() roster.Options {
	return roster.Options{DefaultRegion: f.defaultRegion}
}

func registerProgressEvery(fs *pflag.FlagSet, every *time.Duration) {
	fs.DurationVar(every, "progress-every", 5*time.Second, "how often to print a progress line when stderr is not a terminal (0: never)")
}

// newSwitch makes a run's one stop switch: the first Ctrl-C or the end of
// ctx (the second Ctrl-C) flips it, and then the limiter lets no further
// request leave. setup is nil for a run that sends nothing.
func (a *app) newSwitch(ctx context.Context, setup *apiSetup) *halt.Switch {
	var stopLimiter func()
	if setup != nil {
		stopLimiter = setup.limiter.Stop
	}
	return halt.New(ctx, a.env.Interrupt, stopLimiter)
}

// rowReport is what a row command says when its run ends.
type rowReport struct {
	verb string // "import", "offboard dry run"
	// timed: the first line says how long the run took.
	timed   bool
	sum     *engine.Summary
	details []string // the command's own lines after the counts
	// setup is the run's connection, for the limiter's figures; nil for a
	// run that sent nothing, and left out of dry runs.
	setup   *apiSetup
	results string   // the results file
	after   []string // lines after the results file's
	// interrupted is said on stderr when the user stopped the run.
	interrupted string
}

// finishRun writes the end-of-run report to w and returns the run's exit:
// a run-level error or an abort is 1, an interruption 130, rows that need
// attention 3.
func (a *app) finishRun(w io.Writer, r rowReport, runErr error) error {
	sum := r.sum
	took := ""
	if r.timed {
		took = fmt.Sprintf(" in %v", roundDuration(sum.Elapsed))
	}
	fmt.Fprintf(w, "%s %s%s: %d rows\n", r.verb, runState(sum.Aborted, sum.Interrupted), took, sum.Rows)
	writeCounts(w, sum.Counts)
	for _, d := range r.details {
		fmt.Fprintln(w, d)
	}
	if r.setup != nil {
		s := r.setup.limiter.Stats()
		perMin := 0.0
		if m := sum.Elapsed.Minutes(); m > 0 {
			perMin = float64(s.Requests) / m
		}
		fmt.Fprintf(w, "requests: %d (%.1f/min), throttled (429): %d, held by the rate limit %v\n",
			s.Requests, perMin, s.Throttled, roundDuration(s.Held))
	}
	fmt.Fprintf(w, "results: %s\n", r.results)
	for _, l := range r.after {
		fmt.Fprintln(w, l)
	}
	switch {
	case runErr != nil:
		return abortErr(runErr)
	case sum.Aborted != nil:
		return abortErr(sum.Aborted)
	case sum.Interrupted:
		if r.interrupted != "" {
			fmt.Fprintln(a.env.Stderr, r.interrupted)
		}
		return exitCodeOnly(ExitInterrupted)
	case !sum.OK():
		return exitCodeOnly(ExitRowsNotDone)
	}
	return nil
}

// runState says how a run ended, for the first line of its summary.
func runState(aborted error, interrupted bool) string {
	switch {
	case aborted != nil:
		return "stopped"
	case interrupted:
		return "interrupted"
	}
	return "finished"
}
