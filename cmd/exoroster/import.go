package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

type importFlags struct {
	rowFlags
	resume            bool
	onEmailTaken      string
	retryUnverifiable bool
	checkExisting     bool
}

func (a *app) importCommand() *cobra.Command {
	f := &importFlags{}
	cmd := &cobra.Command{
		Use:   "import ROSTER.csv",
		Short: "Create the users listed in a CSV roster",
		Long: `Validates every row offline, then creates the valid rows' users concurrently
under one shared rate limit. Invalid rows never reach the API. Every input row
gets a line in the results file (default: <roster>.results.csv next to the
input) saying created, exists, invalid, failed or skipped.

A run that stops (Ctrl-C, a crash, a lost laptop lid) can be continued with
--resume: rows already created are not sent again, and rows whose outcome is
unknown are looked up before anything is created.`,
		Example: `  exoroster import roster.csv --results results.csv
  exoroster import roster.csv --dry-run
  exoroster import roster.csv --results results.csv --resume`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runImport(cmd, args[0], f) },
	}
	fs := cmd.Flags()
	f.register(fs, rowHelp{input: "roster", dryRun: "validate and show what would be created; send nothing"})
	fs.BoolVar(&f.resume, "resume", false, "continue the run recorded in --results: skip rows created, look up rows in doubt")
	fs.StringVar(&f.onEmailTaken, "on-email-taken", string(importer.EmailTakenFail),
		"when an email belonged to a deleted user: fail the row, or plus (retry as local+1@domain, +2, ...)")
	fs.BoolVar(&f.retryUnverifiable, "retry-unverifiable", false,
		"re-send a create whose answer was lost even when the row has no email or phone to look it up by")
	fs.BoolVar(&f.checkExisting, "check-existing", false, "look rows up in batches of 50 before creating (cheap reruns without --resume)")
	return cmd
}

// openInput returns an Input for a file path, read as opts say.
func openInput(path string, opts roster.ReadOptions) importer.Input {
	return importer.Input{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }, Read: opts}
}

// resultsPathFor returns the --results file, by default next to the input:
// roster.csv → roster.results.csv, or roster.dry-run.csv for a dry run, so a
// dry run never replaces a real run's results.
func resultsPathFor(input, given string, dryRun bool) (string, error) {
	path := given
	if path == "" {
		suffix := ".results.csv"
		if dryRun {
			suffix = ".dry-run.csv"
		}
		path = strings.TrimSuffix(input, filepath.Ext(input)) + suffix
	}
	if same, _ := sameFile(input, path); same {
		return "", usageErr("--results %s is the input file", path)
	}
	return path, nil
}

func (a *app) runImport(cmd *cobra.Command, input string, f *importFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	policy := importer.EmailTaken(f.onEmailTaken)
	if policy != importer.EmailTakenFail && policy != importer.EmailTakenPlus {
		return usageErr("--on-email-taken %q: use fail or plus", f.onEmailTaken)
	}
	if f.dryRun && f.resume {
		return usageErr("--dry-run and --resume do not go together")
	}
	stderr := a.env.Stderr
	opts := f.rosterOptions()
	plan, err := importer.Prepare(openInput(input, f.readOptions()), opts)
	if err != nil {
		return rosterErr(err)
	}
	reportColumns(cmd.OutOrStdout(), input, plan.Describe, plan.Header)

	resultsPath, err := resultsPathFor(input, f.resultsPath, f.dryRun)
	if err != nil {
		return err
	}

	cfg := importer.Config{
		Workers:           f.api.workers,
		MaxAttempts:       f.api.maxAttempts,
		DryRun:            f.dryRun,
		Roster:            opts,
		OnEmailTaken:      policy,
		RetryUnverifiable: f.retryUnverifiable,
		CheckExisting:     f.checkExisting,
		Logger:            a.log,
		Progress:          a.newProgress("import", f.progressEvery),
	}
	refusedRow := 0 // set from a worker; read after the run, which waits for them
	cfg.PhoneRequired = func(row int) { refusedRow = row }
	var setup *apiSetup
	var im *importer.Importer
	if f.dryRun {
		im = importer.New(nil, nil, cfg)
	} else {
		if setup, err = a.connect(&f.api); err != nil {
			return err
		}
		im = importer.New(setup.client, setup.limiter, cfg)
	}

	out, resume, err := openImportResults(stderr, plan, resultsPath, f.resume)
	if err != nil {
		return abortErr(err)
	}
	state := results.State{Command: "import", Input: input, InputSHA256: plan.SHA256, InputRows: plan.Rows, Updated: time.Now().UTC()}
	if err := results.SaveState(resultsPath, state); err != nil {
		out.Close()
		return abortErr(err)
	}

	sw := a.newSwitch(cmd.Context(), setup)
	defer sw.Close()
	sum, runErr := im.Run(cmd.Context(), sw, plan, out, resume)
	runErr = errors.Join(runErr, out.Close())
	var details []string
	if refusedRow != 0 {
		details = append(details, fmt.Sprintf("no phone: Exotel refused row %d without one (400 1402: this account needs a phone for every user), "+
			"so the other rows without one were skipped, not sent; list them with: exoroster validate %s --require-phone", refusedRow, shellQuote(input)))
	}
	return a.finishRun(cmd.OutOrStdout(), rowReport{
		metrics: metricsFor(f.metricsFile, "import", f.dryRun,
			setup), // a dry run has no setup: it sends nothing
		verb: "import", timed: true, sum: sum, details: details, setup: setup, results: resultsPath,
		interrupted: fmt.Sprintf("Interrupted. To continue where this run stopped:\n  exoroster import %s --results %s --resume",
			shellQuote(input), shellQuote(resultsPath)),
	}, runErr)
}

// openImportResults creates the results file, or for --resume checks that
// the existing one belongs to this input and reopens it.
func openImportResults(stderr io.Writer, plan *importer.Plan, path string, resume bool) (*results.Writer, *importer.Resume, error) {
	layout := plan.Layout()
	if !resume {
		w, err := results.Create(path, layout)
		return w, nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "note: %s does not exist yet; starting from the first row\n", path)
		w, err := results.Create(path, layout)
		return w, nil, err
	}
	state, ok, err := results.LoadState(path)
	if err != nil {
		return nil, nil, err
	}
	if ok && (state.Command != "import" || state.InputSHA256 != plan.SHA256) {
		return nil, nil, fmt.Errorf("%s belongs to a different input (%s %s, which has changed since or is another file); "+
			"resume with the same file, or choose a new --results", path, state.Command, state.Input)
	}
	prior, err := results.Load(path, layout)
	if err != nil {
		return nil, nil, err
	}
	if err := plan.CheckResume(prior); err != nil {
		return nil, nil, err
	}
	if prior.TornLine {
		fmt.Fprintf(stderr, "note: %s ended in a partial line (the last run was killed); it was dropped and that row will be checked\n", path)
	}
	w, err := results.Reopen(path, layout, importer.KeepOnResume)
	if err != nil {
		return nil, nil, err
	}
	return w, &importer.Resume{Prior: prior}, nil
}

func sameFile(a, b string) (bool, error) {
	sa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	sb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(sa, sb), nil
}

// shellQuote quotes a path for a command line the user may paste.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
