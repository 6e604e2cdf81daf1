package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/runlock"
	"github.com/exoroster/exoroster/statedir"
)

// rowResults is what a row command (import, offboard, update, sync) tells
// openRowResults about the results file it is about to write.
type rowResults struct {
	command string // recorded in the state file; a resume of another command's file is refused
	input   string // the input file
	// inputSHA is the input's SHA-256 (fileSHA256). With exactInput a
	// resume is refused unless the input is byte for byte the one the file
	// was written for; without it only the rows a resume keeps must be
	// unchanged (check), so rows not done may be fixed before resuming.
	inputSHA   string
	exactInput bool
	inputRows  int
	path       string
	layout     results.Layout
	// keep says which of an earlier run's lines a resume keeps: rows done
	// for good. The others are done again.
	keep func(row int, p results.PriorRow) bool
	// check, when set, vets an earlier run's lines against the input
	// before the file is touched; its error refuses the resume.
	check func(prior *results.Prior) error
	// noResume: the command has no --resume (sync starts afresh, its plan
	// seeing what an earlier run did), so a refusal offers --overwrite and
	// another file only.
	noResume bool
}

// resultsMode is what the user asked for the results file: --resume,
// --overwrite, --dry-run and --state-dir (rowFlags.resultsMode).
type resultsMode struct {
	resume, overwrite, dryRun bool
	stateDir                  string
}

// openedResults is a results file open for a run, and its lock.
type openedResults struct {
	out *results.Writer
	// prior is the earlier run's file when resuming one, else nil.
	prior *results.Prior
	// release frees the file's lock; call it once the writer is closed.
	release func()
}

// openRowResults opens a row command's results file under the rules every
// row command shares (flags --resume, --overwrite, --state-dir):
//
//   - while the run writes the file it holds the file's lock; a second run
//     on the same file is refused at once, naming the PID that holds it;
//   - without --resume, a file that holds an earlier run's lines is not
//     replaced: the run is refused before any request (exit 1), saying how
//     to continue (--resume) or start afresh (--overwrite, which first
//     renames the old file to <name>.<timestamp>.bak). A dry run's preview
//     is replaced without asking;
//   - with --resume, the earlier file must be this command's, for this
//     input; its done rows are kept and the rest are written again.
//
// Notes go to stderr. Its errors carry their exit code.
func (a *app) openRowResults(ctx context.Context, f resultsMode, r rowResults) (*openedResults, error) {
	release, err := a.lockResults(ctx, f.stateDir, r.path)
	if err != nil {
		return nil, err
	}
	opened, err := a.openLocked(f, r)
	if err != nil {
		release()
		return nil, err
	}
	opened.release = release
	state := results.State{Command: r.command, DryRun: f.dryRun, Input: r.input, InputSHA256: r.inputSHA,
		InputRows: r.inputRows, Updated: time.Now().UTC()}
	if err := results.SaveState(r.path, state); err != nil {
		opened.out.Close()
		release()
		return nil, abortErr(err)
	}
	return opened, nil
}

func (a *app) openLocked(f resultsMode, r rowResults) (*openedResults, error) {
	stderr := a.env.Stderr
	if f.resume {
		return a.resumeResults(stderr, r)
	}
	has, err := results.HasLines(r.path)
	if err != nil {
		return nil, abortErr(err)
	}
	if has {
		state, ok, _ := results.LoadState(r.path)
		switch {
		case ok && state.DryRun:
			// A preview: nothing in it is lost by writing it again.
		case f.overwrite:
			bak, err := results.MoveAside(r.path, time.Now())
			if err != nil {
				return nil, abortErr(err)
			}
			fmt.Fprintf(stderr, "note: the earlier results are kept as %s\n", bak)
		case r.noResume:
			return nil, abortErr(fmt.Errorf("%s already holds the results of an earlier run; to start afresh give --overwrite "+
				"(the old file is then kept as %s.<timestamp>.bak), or give --results a new file for each run, such as applied-{date}.csv",
				r.path, r.path))
		default:
			return nil, abortErr(&results.ExistsError{Path: r.path})
		}
	}
	w, err := results.Create(r.path, r.layout)
	if err != nil {
		return nil, abortErr(err)
	}
	return &openedResults{out: w}, nil
}

// resumeResults checks that the earlier file belongs to this command and
// input, keeps its done rows and reopens it for the rest.
func (a *app) resumeResults(stderr io.Writer, r rowResults) (*openedResults, error) {
	if _, err := os.Stat(r.path); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "note: %s does not exist yet; starting from the first row\n", r.path)
		w, err := results.Create(r.path, r.layout)
		if err != nil {
			return nil, abortErr(err)
		}
		return &openedResults{out: w}, nil
	}
	state, ok, err := results.LoadState(r.path)
	if err != nil {
		return nil, abortErr(err)
	}
	if ok && (state.Command != r.command || (r.exactInput && state.InputSHA256 != r.inputSHA)) {
		return nil, abortErr(fmt.Errorf("%s belongs to a different input (%s %s, which has changed since or is another file); "+
			"resume with the same file, or choose a new --results", r.path, state.Command, state.Input))
	}
	prior, err := results.Load(r.path, r.layout)
	if err != nil {
		return nil, abortErr(err)
	}
	if r.check != nil {
		if err := r.check(prior); err != nil {
			return nil, abortErr(err)
		}
	}
	if prior.TornLine {
		fmt.Fprintf(stderr, "note: %s ended in a partial line (the last run was killed); it was dropped and that row will be checked\n", r.path)
	}
	w, err := results.Reopen(r.path, r.layout, r.keep)
	if err != nil {
		return nil, abortErr(err)
	}
	return &openedResults{out: w, prior: prior}, nil
}

// lockResults takes the lock of the results file at path, or refuses at
// once (exit 1) naming the process that holds it.
func (a *app) lockResults(ctx context.Context, stateDirFlag, path string) (release func(), err error) {
	dir, err := a.stateDir(stateDirFlag)
	if err != nil {
		return nil, abortErr(fmt.Errorf("no place for the results file's lock: %w", err))
	}
	target, err := runlock.ForFile(dir, path)
	if err != nil {
		return nil, abortErr(err)
	}
	lock, err := runlock.Acquire(ctx, target, runlock.Options{})
	var held *runlock.HeldError
	switch {
	case errors.As(err, &held):
		return nil, abortErr(fmt.Errorf("another run is writing %s (%s; lock file %s): wait for it to finish, or give another --results",
			path, held.Holder, target.Path))
	case err != nil:
		return nil, abortErr(err)
	}
	return func() { _ = lock.Release() }, nil
}

// stateDir is where locks live: --state-dir, else $XDG_STATE_HOME/exoroster
// or ~/.local/state/exoroster, else (neither HOME nor XDG_STATE_HOME: a bare
// cron job or container) statedir.TempFallback, so such runs still exclude
// one another.
func (a *app) stateDir(flag string) (string, error) {
	dir, err := statedir.Resolve(a.env.Getenv, flag)
	if err == nil {
		return dir, nil
	}
	dir, ferr := statedir.TempFallback()
	if ferr != nil {
		return "", fmt.Errorf("%v (%v)", err, ferr)
	}
	return dir, nil
}

// fileSHA256 fingerprints a whole input file.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("cannot read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkKeptRows is a rowResults.check for commands that resume row by
// row: every line a resume keeps must have been written for the same cells
// the input's row holds now, and no kept row may lie past the input's end.
func checkKeptRows(input string, rows [][]string, keep func(int, results.PriorRow) bool) func(*results.Prior) error {
	return func(prior *results.Prior) error {
		for row, p := range prior.Rows {
			if !keep(row, p) {
				continue
			}
			if row > len(rows) {
				return fmt.Errorf("the results file was written for a different input: it has row %d, %s has %d rows", row, input, len(rows))
			}
			if p.InputHash != results.InputHash(rows[row-1]) {
				return fmt.Errorf("row %d of %s has changed since it was %s; a resume keeps that row's line, so it must be unchanged "+
					"(restore the row, or start afresh with --overwrite)", row, input, p.Status)
			}
		}
		return nil
	}
}

// closeResults closes out and adds its error to runErr, unless runErr
// already carries it: after a write failed (a full disk), Close fails with
// the same error, which is said once.
func closeResults(runErr error, out *results.Writer) error {
	err := out.Close()
	if err == nil || errors.Is(runErr, err) {
		return runErr
	}
	return errors.Join(runErr, err)
}

// rerunCommand is the command line that continues a row command's run.
func rerunCommand(command, input, resultsPath string) string {
	return fmt.Sprintf("exoroster %s %s --results %s --resume", command, shellQuote(input), shellQuote(resultsPath))
}

// rerunFor is a report's rerun: none for a dry run, whose next step is the
// real run.
func rerunFor(dryRun bool, command, input, resultsPath string) string {
	if dryRun {
		return ""
	}
	return rerunCommand(command, input, resultsPath)
}
