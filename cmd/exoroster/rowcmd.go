package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// rowFlags are the flags every row command (import, offboard, update)
// shares: where and how fast to send (apiFlags), how to read phone numbers,
// where the results go, whether to send anything, and how often to report.
type rowFlags struct {
	api           apiFlags
	read          readFlags
	metricsFile   string
	defaultRegion string
	resultsPath   string
	dryRun        bool
	progressEvery time.Duration
	// resume and overwrite say what to do with a results file an earlier
	// run left (openRowResults); lock is where its lock and the account's
	// run lock live, and how to wait for the latter.
	resume    bool
	overwrite bool
	lock      lockFlags
}

// rowHelp is what the shared flags' help says differently per command.
type rowHelp struct {
	input  string // what the input is called: roster, list, changes
	dryRun string // what --dry-run does
	resume string // what --resume keeps and redoes
}

func (f *rowFlags) register(fs *pflag.FlagSet, h rowHelp) {
	f.api.register(fs)
	f.read.register(fs)
	f.api.registerTarget(fs)
	fs.StringVar(&f.defaultRegion, "default-region", roster.DefaultRegion, "country of phone numbers written without +country code")
	fs.StringVar(&f.resultsPath, "results", "",
		fmt.Sprintf("results CSV (default <%s>.results.csv; <%s>.dry-run.csv with --dry-run)", h.input, h.input))
	fs.BoolVar(&f.dryRun, "dry-run", false, h.dryRun)
	registerMetricsFile(fs, &f.metricsFile)
	registerProgressEvery(fs, &f.progressEvery)
	fs.BoolVar(&f.resume, "resume", false, h.resume)
	fs.BoolVar(&f.overwrite, "overwrite", false, "start afresh over an earlier run's --results file, keeping it as <results>.<timestamp>.bak")
	f.lock.registerAs(fs, stateDirHelpLocks)
}

// check returns a usage error (exit 2) for a shared flag that is wrong.
func (f *rowFlags) check() error {
	if err := roster.CheckRegion(f.defaultRegion); err != nil {
		return usageErr("--default-region: %v", err)
	}
	if err := f.read.check(f.defaultRegion); err != nil {
		return err
	}
	switch {
	case f.dryRun && f.resume:
		return usageErr("--dry-run and --resume do not go together")
	case f.resume && f.overwrite:
		return usageErr("--resume and --overwrite do not go together: --resume continues the earlier run, --overwrite starts afresh")
	}
	if err := f.lock.check(); err != nil {
		return err
	}
	return f.api.check()
}

// resultsMode is what openRowResults needs of the flags.
func (f *rowFlags) resultsMode() resultsMode {
	return resultsMode{resume: f.resume, overwrite: f.overwrite, dryRun: f.dryRun, stateDir: f.lock.stateDir}
}

// rosterOptions are the options for reading the input's rows.
func (f *rowFlags) rosterOptions() roster.Options {
	return roster.Options{DefaultRegion: f.defaultRegion}
}

// readOptions say how to read the input file.
func (f *rowFlags) readOptions() roster.ReadOptions { return f.read.options(f.defaultRegion) }

// readFlags say how to read a roster file, CSV or .xlsx: which column is
// which field, and the encoding, separator or sheet when detecting them is
// not wanted. validate and every row command register them.
type readFlags struct {
	maps      []string
	mapFile   string
	ignore    []string
	encoding  string
	delimiter string
	sheet     string
}

func (f *readFlags) register(fs *pflag.FlagSet) {
	// StringArray, not StringSlice: a --map value holds its own commas, and
	// a header given to --ignore-column may hold one.
	fs.StringArrayVar(&f.maps, "map", nil,
		"override the guess of which column is which field: comma-separated `HEADER=FIELD` pairs such as \"Mobile No.=phone\" (repeatable)")
	fs.StringVar(&f.mapFile, "map-file", "", "`FILE` of HEADER=FIELD lines, as --map (for headers that hold commas)")
	fs.StringArrayVar(&f.ignore, "ignore-column", nil, "leave column `NAME` unread on purpose (repeatable)")
	fs.StringVar(&f.encoding, "encoding", "", "CSV text encoding: utf-8, utf-16le, utf-16be or windows-1252 (default: detected)")
	fs.StringVar(&f.delimiter, "delimiter", "", "CSV separator: , ; | or tab (default: detected from the header line)")
	fs.StringVar(&f.sheet, "sheet", "", "sheet of an .xlsx workbook to read (default: the first)")
}

// options are the flags as roster takes them; region tells phone numbers
// in an unrecognised column.
func (f *readFlags) options(region string) roster.ReadOptions {
	return roster.ReadOptions{Map: f.maps, MapFile: f.mapFile, Ignore: f.ignore,
		Encoding: f.encoding, Delimiter: f.delimiter, Sheet: f.sheet, Region: region}
}

// check refuses flags that are wrong whatever the file holds, before
// anything is read or sent: a bad --map is a usage error (exit 2), an
// unreadable --map-file stops the run (exit 1).
func (f *readFlags) check(region string) error {
	if err := f.options(region).Check(); err != nil {
		return rosterErr(err)
	}
	return nil
}

// rosterErr gives an error from opening or reading a roster its exit: a
// mistake in what the user asked for (a --map naming a column the file
// lacks, a --sheet it does not have) is usage, 2; anything else, including
// columns that need --map or --ignore-column, stops the run, 1.
func rosterErr(err error) error {
	var ue *roster.UsageError
	if errors.As(err, &ue) {
		return &exitError{code: ExitUsage, err: err}
	}
	return abortErr(err)
}

// openRoster opens a roster file with the user's reading flags and says how
// it is read and which column fills which field, before anything else is
// read or sent.
func (a *app) openRoster(path string, opts roster.ReadOptions) (*roster.Reader, error) {
	r, err := roster.Open(path, opts)
	if err != nil {
		var ue *roster.UsageError
		var ce *roster.ColumnError
		if errors.As(err, &ue) || errors.As(err, &ce) {
			return nil, rosterErr(fmt.Errorf("%s: %w", path, err))
		}
		return nil, abortErr(fmt.Errorf("cannot read %s: %w", path, err))
	}
	reportColumns(a.env.Stdout, path, r.Describe(), r.Header())
	return r, nil
}

// reportColumns prints how a roster was read (file: …), which column fills
// which field and which are ignored (columns: …), then a warning for each
// column that lost to another for its field. Nothing the file holds goes
// unmentioned. It goes to stdout, ahead of the run's report: it is part of
// what the run did, and stderr keeps to the one sentence of a failure.
func reportColumns(w io.Writer, path, describe string, h *roster.Header) {
	// describe is the file: line, then the columns: line.
	file, columns, _ := strings.Cut(describe, "\n")
	fmt.Fprintln(w, file)
	if ext := strings.ToLower(filepath.Ext(path)); h.Source.Format == "xlsx" && ext != ".xlsx" && ext != ".xlsm" {
		fmt.Fprintf(w, "note: %s is named %s but is an Excel workbook, so it was read as one\n", filepath.Base(path), ext)
	}
	if columns != "" {
		fmt.Fprintln(w, columns)
	}
	for _, n := range h.Notes {
		fmt.Fprintf(w, "warning: %s\n", n)
	}
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
	// noun is what the summary counts: "rows" when empty; apply and sync
	// count a plan's actions.
	noun string
	// metrics is where --metrics-file puts the run's figures.
	metrics runMetrics
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
	// rerun is the command that continues the run (rerunCommand); with
	// rows left to do, the report names the first few and ends with it.
	// Empty for a dry run.
	rerun string
	// whenAborted says when to run rerun after a run a guard stopped;
	// empty for "once the cause below is fixed".
	whenAborted string
}

// attentionOrder is the statuses a report names rows of, most urgent
// first. Invalid rows are left to the counts (exoroster validate lists
// them), and an interrupted run's rows to the interruption's note; for
// offboard a row already gone (not_found) is done.
func attentionOrder(command string) []results.Status {
	order := []results.Status{results.Failed, results.Stale, results.Ambiguous, results.Protected}
	if command != "offboard" {
		order = append(order, results.NotFound)
	}
	return append(order, results.Skipped)
}

// finishRun writes the end-of-run report to w and returns the run's exit:
// a run-level error or an abort is 1, an interruption 130, rows that need
// attention 3. With --metrics-file it writes the run's metrics last.
func (a *app) finishRun(w io.Writer, r rowReport, runErr error) (exit error) {
	sum := r.sum
	defer func() { exit = a.recordRun(r.metrics, rowCounts(sum.Counts), nil, exit) }()
	took := ""
	if r.timed {
		took = fmt.Sprintf(" in %v", roundDuration(sum.Elapsed))
	}
	a.noteRowSummary(r)
	stopped := sum.Aborted
	if runErr != nil {
		stopped = runErr
	}
	noun := r.noun
	if noun == "" {
		noun = "rows"
	}
	fmt.Fprintf(w, "%s %s%s: %d %s\n", r.verb, runState(stopped, sum.Interrupted), took, sum.Rows, noun)
	writeCounts(w, sum.Counts)
	for _, d := range r.details {
		fmt.Fprintln(w, d)
	}
	if r.setup != nil {
		// No requests-a-minute average here: over a short run, or over
		// sync's apply alone while its plan's requests count too, it reads
		// as more than the pace the rate line states.
		s := r.setup.limiter.Stats()
		fmt.Fprintf(w, "requests: %d, throttled (429): %d, held by the rate limit %v\n",
			s.Requests, s.Throttled, roundDuration(s.Held))
		fmt.Fprintf(w, "rate: %s\n", s.Describe())
	}
	fmt.Fprintf(w, "results: %s\n", r.results)
	for _, l := range r.after {
		fmt.Fprintln(w, l)
	}
	writeNextStep(w, r, runErr)
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

// writeNextStep names the first few rows that need attention, by number
// (their messages, which name people, stay in the results file), and, for
// a run that leaves work, the command that continues or retries it. It
// writes nothing for a run with nothing left, or one the user interrupted
// (the interruption's note says how to continue).
func writeNextStep(w io.Writer, r rowReport, runErr error) {
	sum := r.sum
	if sum.Interrupted || runErr != nil {
		return
	}
	command, _, _ := strings.Cut(r.verb, " ") // "offboard" of "offboard dry run"
	var groups []string
	for _, st := range attentionOrder(command) {
		n := sum.Counts[st]
		if n == 0 {
			continue
		}
		groups = append(groups, rowList(st, n, sum.Examples[st]))
	}
	if len(groups) == 0 {
		return
	}
	fmt.Fprintf(w, "needs attention: %s (the results file says why)\n", strings.Join(groups, "; "))
	if r.rerun == "" {
		return
	}
	var when []string
	switch {
	case sum.Aborted != nil && r.whenAborted != "":
		when = append(when, r.whenAborted)
	case sum.Aborted != nil:
		when = append(when, "once the cause below is fixed")
	}
	if sum.Counts[results.Ambiguous] > 0 || (command != "offboard" && sum.Counts[results.NotFound] > 0) {
		when = append(when, "after fixing those rows in the input")
	}
	if sum.Counts[results.Protected] > 0 {
		when = append(when, "protected rows stay so until their reason is gone")
	}
	next := "next: " + r.rerun
	if len(when) > 0 {
		next += "  (" + strings.Join(when, "; ") + ")"
	}
	fmt.Fprintln(w, next)
}

// rowList names the rows of one status, in input order: "failed rows 2,
// 7 and 3 more" (examples are the first rows to finish, not the first in
// the file, so the ones named are sorted, not the lowest).
func rowList(st results.Status, n int, examples []results.Line) string {
	nums := make([]int, 0, len(examples))
	for _, l := range examples {
		nums = append(nums, l.Row)
	}
	slices.Sort(nums)
	rows := make([]string, 0, len(nums))
	for _, r := range nums {
		rows = append(rows, strconv.Itoa(r))
	}
	switch {
	case len(rows) == 0:
		// Rows an earlier step settled (apply's plan-time protected rows)
		// are counted without examples: give the count alone.
		return fmt.Sprintf("%d %s %s", n, st, plural(n, "row", "rows"))
	case n > len(rows):
		return fmt.Sprintf("%s %s %s and %d more", st, plural(n, "row", "rows"), strings.Join(rows, ", "), n-len(rows))
	}
	return fmt.Sprintf("%s %s %s", st, plural(n, "row", "rows"), strings.Join(rows, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
