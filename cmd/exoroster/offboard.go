package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

type offboardFlags struct {
	rowFlags
	backupPath  string
	yes         bool
	allowAdmins bool
	maxDelete   int
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
	f.register(fs, rowHelp{input: "list", dryRun: "find every row's user and show who would be deleted; delete nothing"})
	fs.StringVar(&f.backupPath, "backup", "", "backup of the deleted users' records, appended to (default <results without .csv>.backup.csv)")
	fs.BoolVar(&f.yes, "yes", false, "delete without asking for confirmation")
	fs.BoolVar(&f.allowAdmins, "allow-admins", false, "allow deleting admins (never the account's last admin)")
	fs.IntVar(&f.maxDelete, "max-delete", offboard.DefaultMaxDelete, "delete nothing if more users than this would be deleted")
	return cmd
}

func (a *app) runOffboard(cmd *cobra.Command, input string, f *offboardFlags) error {
	if err := f.check(); err != nil {
		return err
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
	stderr := a.env.Stderr
	list, err := a.readList(input, f.readOptions(), f.rosterOptions())
	if err != nil {
		return err
	}

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
	sw := a.newSwitch(cmd.Context(), setup)
	defer sw.Close()
	res, runErr := o.Run(cmd.Context(), sw, list, out, guards)
	runErr = errors.Join(runErr, out.Close())

	sum, plan := res.Summary, res.Plan
	report := rowReport{verb: "offboard", sum: sum, setup: setup, results: resultsPath,
		details: []string{fmt.Sprintf("lookups: %d requests (%s)", plan.Requests, plan.Strategy)}}
	if plan.Admins >= 0 {
		report.details = append(report.details, fmt.Sprintf("admins in the account: %d", plan.Admins))
	}
	report.metrics = metricsFor(f.metricsFile, "offboard", f.dryRun, setup)
	if f.dryRun {
		report.verb, report.setup = "offboard dry run", nil
	}
	if sum.Counts[results.Deleted] > 0 {
		report.after = append(report.after, fmt.Sprintf("backup: %s (re-create with: exoroster import %s --on-email-taken=plus)",
			backupPath, shellQuote(backupPath)))
	}
	if res.Deleting {
		// Before the DELETEs began, offboard.Run has said that nothing was
		// deleted.
		report.interrupted = fmt.Sprintf("Interrupted; rows not yet deleted are recorded as skipped. A rerun of %s reports the deleted ones as not_found.",
			shellQuote(input))
	}
	return a.finishRun(cmd.OutOrStdout(), report, runErr)
}

func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return strings.NewReader("")
	}
	return r
}

// readList reads a list of users to find (offboard, update), after saying
// how it reads it. Its errors carry their exit code.
func (a *app) readList(path string, read roster.ReadOptions, opts roster.Options) (*resolve.List, error) {
	rd, err := a.openRoster(path, read)
	if err != nil {
		return nil, err
	}
	list, err := resolve.ReadRows(path, rd, opts)
	if err != nil {
		return nil, abortErr(err)
	}
	return list, nil
}
