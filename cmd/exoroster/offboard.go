package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

type offboardFlags struct {
	api           apiFlags
	defaultRegion string
	resultsPath   string
	backupPath    string
	dryRun        bool
	yes           bool
	allowAdmins   bool
	maxDelete     int
	progressEvery time.Duration
}

func (a *app) offboardCommand() *cobra.Command {
	f := &offboardFlags{}
	cmd := &cobra.Command{
		Use:   "offboard LEAVERS.csv",
		Short: "Delete the users a CSV lists (by user_id, email or phone), carefully",
		Long: `Finds every listed user with batched lookups, decides each row's fate, and
only then deletes, concurrently under the shared rate limit. Deletion cannot
be undone, so:

  - every identifier a row gives (user_id, email, phone) must name the same
    user, and a row with names must share a word with the user's name;
    otherwise the row is ambiguous and nobody is deleted for it;
  - admins are protected unless --allow-admins, and the account's last admin
    never goes;
  - more deletions than --max-delete (default 50) delete nothing;
  - without --yes it asks for confirmation on a terminal, and refuses (exit 2)
    elsewhere;
  - each user's full record is written to the results line and, before the
    first DELETE, appended to a backup file in export's format, which
    'exoroster import' reads to re-create the people.

Statuses: deleted, would_delete, not_found, ambiguous, protected, invalid,
failed, skipped. A rerun of a finished list deletes nothing: every row is
not_found.`,
		Example: `  exoroster offboard leavers.csv --dry-run
  exoroster offboard leavers.csv --results out.csv --yes`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runOffboard(cmd, args[0], f) },
	}
	fs := cmd.Flags()
	f.api.register(fs)
	fs.StringVar(&f.defaultRegion, "default-region", roster.DefaultRegion, "country of phone numbers written without +country code")
	fs.StringVar(&f.resultsPath, "results", "", "results CSV (default <list>.results.csv; <list>.dry-run.csv with --dry-run)")
	fs.StringVar(&f.backupPath, "backup", "", "backup of the deleted users' records, appended to (default <results without .csv>.backup.csv)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "find every row's user and show who would be deleted; delete nothing")
	fs.BoolVar(&f.yes, "yes", false, "delete without asking for confirmation")
	fs.BoolVar(&f.allowAdmins, "allow-admins", false, "allow deleting admins (never the account's last admin)")
	fs.IntVar(&f.maxDelete, "max-delete", 50, "delete nothing if more users than this would be deleted")
	fs.DurationVar(&f.progressEvery, "progress-every", 5*time.Second, "how often to print a progress line when stderr is not a terminal (0: never)")
	return cmd
}

func (a *app) runOffboard(cmd *cobra.Command, input string, f *offboardFlags) error {
	if err := roster.CheckRegion(f.defaultRegion); err != nil {
		return usageErr("--default-region: %v", err)
	}
	if f.maxDelete < 1 {
		return usageErr("--max-delete %d: use 1 or more", f.maxDelete)
	}
	// Refused before any request: without --yes nobody can confirm here,
	// so looking users up would only spend the rate limit.
	if !f.dryRun && !f.yes && !a.env.Interactive {
		return usageErr("offboard deletes users for good and there is no terminal to confirm on: " +
			"pass --yes to delete, or --dry-run to see who would be deleted")
	}
	if err := f.api.check(); err != nil {
		return err
	}
	stderr := a.env.Stderr
	list, err := readList(input, roster.Options{DefaultRegion: f.defaultRegion})
	if err != nil {
		return abortErr(err)
	}
	reportHeader(stderr, list.Header)

	resultsPath, err := resultsPathFor(input, f.resultsPath, f.dryRun)
	if err != nil {
		return err
	}
	backupPath := f.backupPath
	if backupPath == "" {
		backupPath = strings.TrimSuffix(resultsPath, ".csv") + ".backup.csv"
	}
	if same, _ := sameFile(input, backupPath); same {
		return usageErr("--backup %s is the input file", backupPath)
	}
	if same, _ := sameFile(resultsPath, backupPath); same || resultsPath == backupPath {
		return usageErr("--backup %s is the results file", backupPath)
	}

	setup, err := a.connect(&f.api)
	if err != nil {
		return err
	}
	sw := halt.New(cmd.Context(), a.env.Interrupt, setup.limiter.Stop)
	defer sw.Close()
	o := offboard.New(setup.client, setup.limiter, offboard.Config{
		Workers:     f.api.workers,
		MaxAttempts: f.api.maxAttempts,
		AllowAdmins: f.allowAdmins,
		Logger:      a.log,
		Progress:    a.newProgress("offboard", f.progressEvery),
	})
	out, err := results.Create(resultsPath, offboard.Layout(list))
	if err != nil {
		return abortErr(err)
	}
	guards := offboard.Guards{DryRun: f.dryRun, MaxDelete: f.maxDelete, Backup: backupPath, Notes: stderr}
	if !f.yes {
		guards.Confirm = &offboard.Prompt{In: orEmpty(a.env.Stdin), Out: stderr,
			Account: strings.TrimSpace(a.env.Getenv("EXOTEL_ACCOUNT_SID"))}
	}
	res, runErr := o.Run(cmd.Context(), sw, list, out, guards)
	closeErr := out.Close()
	sum := res.Summary
	verb := "offboard"
	if f.dryRun {
		verb = "offboard dry run"
	}
	var stats *limiterStats
	if !f.dryRun {
		s := setup.limiter.Stats()
		stats = &limiterStats{requests: s.Requests, throttled: s.Throttled, held: s.Held}
	}
	printOffboardSummary(cmd.OutOrStdout(), verb, sum, res.Plan, stats, resultsPath)
	if sum.Counts[results.Deleted] > 0 {
		fmt.Fprintf(cmd.OutOrStdout(), "backup: %s (re-create with: exoroster import %s --on-email-taken=plus)\n",
			backupPath, shellQuote(backupPath))
	}
	switch {
	case runErr != nil || closeErr != nil:
		return abortErr(errors.Join(runErr, closeErr))
	case sum.Aborted != nil:
		return abortErr(sum.Aborted)
	case sum.Interrupted && res.Deleting:
		fmt.Fprintf(stderr, "Interrupted; rows not yet deleted are recorded as skipped. A rerun of %s reports the deleted ones as not_found.\n",
			shellQuote(input))
		return exitCodeOnly(ExitInterrupted)
	case sum.Interrupted:
		return exitCodeOnly(ExitInterrupted)
	case !sum.OK():
		return exitCodeOnly(ExitRowsNotDone)
	}
	return nil
}

func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return strings.NewReader("")
	}
	return r
}

// readList reads a list of users to find (offboard, update).
func readList(path string, opts roster.Options) (*resolve.List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer f.Close()
	return resolve.ReadList(path, f, opts)
}

// printOffboardSummary writes the final counts.
func printOffboardSummary(w io.Writer, verb string, sum *engine.Summary, plan *offboard.Plan, stats *limiterStats, resultsPath string) {
	fmt.Fprintf(w, "%s %s: %d rows\n", verb, runState(sum.Aborted, sum.Interrupted), sum.Rows)
	writeCounts(w, sum.Counts)
	fmt.Fprintf(w, "lookups: %d requests (%s)\n", plan.Requests, plan.Strategy)
	if plan.Admins >= 0 {
		fmt.Fprintf(w, "admins in the account: %d\n", plan.Admins)
	}
	if stats != nil {
		fmt.Fprintf(w, "requests: %d in all, 429s: %d, held by the rate limit %v\n",
			stats.requests, stats.throttled, roundDuration(stats.held))
	}
	fmt.Fprintf(w, "results: %s\n", resultsPath)
}
