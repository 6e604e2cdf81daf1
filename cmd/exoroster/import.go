package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

type importFlags struct {
	rowFlags
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
unknown are looked up before anything is created.

A results file that holds an earlier run's lines is never replaced by
accident: without --resume the run is refused before any request. Give
--overwrite to start afresh (the old file is kept as
<results>.<timestamp>.bak). While a run writes its results file it holds a
lock on it, so a second run on the same file stops at once.`,
		Example: `  exoroster import roster.csv --results results.csv
  exoroster import roster.csv --dry-run
  exoroster import roster.csv --results results.csv --resume`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runImport(cmd, args[0], f) },
	}
	fs := cmd.Flags()
	f.register(fs, rowHelp{input: "roster", dryRun: "validate and show what would be created; send nothing",
		resume: "continue the run recorded in --results: skip rows created, look up rows in doubt"})
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
	if sameFile(input, path) {
		return "", usageErr("--results %s is the input file", path)
	}
	return path, nil
}

func (a *app) runImport(cmd *cobra.Command, input string, f *importFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	if _, err := a.resolveAPI(cmd, &f.api, &f.defaultRegion); err != nil {
		return err
	}
	policy := importer.EmailTaken(f.onEmailTaken)
	if policy != importer.EmailTakenFail && policy != importer.EmailTakenPlus {
		return usageErr("--on-email-taken %q: use fail or plus", f.onEmailTaken)
	}
	target, err := a.targetOf(&f.api)
	if err != nil {
		return err
	}
	if target == targetWebRTC && policy != importer.EmailTakenFail {
		return usageErr("--on-email-taken is the ccm target's: the WebRTC app's users have no email")
	}
	opts := f.rosterOptions()
	plan, err := importer.PrepareFor(a.importRows(target, &f.api), openInput(input, f.readOptions()), opts)
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
	if !f.dryRun {
		if setup, err = a.connectTo(target, &f.api); err != nil {
			return err
		}
		release, err := a.lockAccount(cmd.Context(), f.api.settings, f.lock)
		if err != nil {
			return err
		}
		defer release()
	}
	im := a.newImporter(target, setup, &f.api, cfg)

	// The state names the target: a resume must not look up in one API
	// what an earlier run created in the other.
	command := "import" + targetFlag(target)
	opened, err := a.openRowResults(cmd.Context(), f.resultsMode(), rowResults{
		command: command, input: input, inputSHA: plan.SHA256, exactInput: true, inputRows: plan.Rows,
		path: resultsPath, layout: plan.Layout(), keep: importer.KeepOnResume, check: plan.CheckResume,
	})
	if err != nil {
		return err
	}
	defer opened.release()
	out := opened.out
	var resume *importer.Resume
	if opened.prior != nil {
		resume = &importer.Resume{Prior: opened.prior}
	}

	sw := a.newSwitch(cmd.Context(), setup)
	defer sw.Close()
	sum, runErr := im.Run(cmd.Context(), sw, plan, out, resume)
	runErr = closeResults(runErr, out)
	var details []string
	if refusedRow != 0 {
		details = append(details, fmt.Sprintf("no phone: Exotel refused row %d without one (400 1402: this account needs a phone for every user), "+
			"so the other rows without one were skipped, not sent; list them with: exoroster validate %s --require-phone", refusedRow, shellQuote(input)))
	}
	var after []string
	if n := sum.Counts[results.Invalid]; n > 0 && runErr == nil && sum.Aborted == nil && !sum.Interrupted {
		after = append(after, importInvalidNote(sum, f.dryRun, targetFlag(target), input, resultsPath))
	}
	return a.finishRun(cmd.OutOrStdout(), rowReport{
		metrics: metricsFor(f.metricsFile, "import", f.dryRun,
			setup), // a dry run has no setup: it sends nothing
		verb: "import", timed: true, sum: sum, details: details, after: after, setup: setup, results: resultsPath,
		rerun: rerunFor(f.dryRun, command, input, resultsPath),
		interrupted: fmt.Sprintf("Interrupted. To continue where this run stopped:\n  exoroster import %s --results %s --resume%s",
			shellQuote(input), shellQuote(resultsPath), targetFlag(target)),
	}, runErr)
}

// sameFile reports whether a and b are one existing file, by whatever
// paths (a link, a relative path).
func sameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(sa, sb)
}

// importInvalidNote names the rows import refused to send and says how to
// create them once fixed: --resume needs the input unchanged, so the way on
// is a fresh run over the fixed roster that finds the users already there.
func importInvalidNote(sum *engine.Summary, dryRun bool, target, input, resultsPath string) string {
	rows := rowList(results.Invalid, sum.Counts[results.Invalid], sum.Examples[results.Invalid])
	why := fmt.Sprintf("exoroster validate %s%s says why", shellQuote(input), target)
	if dryRun {
		return rows + ": " + why
	}
	n := sum.Counts[results.Invalid]
	return fmt.Sprintf("%s %s not sent (%s); once fixed, create %s with: exoroster import %s --results %s%s --overwrite --check-existing, which finds the users already created",
		rows, plural(n, "was", "were"), why, plural(n, "it", "them"), shellQuote(input), shellQuote(resultsPath), target)
}

// shellQuote quotes a path for a command line the user may paste.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
