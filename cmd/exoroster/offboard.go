package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

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

// promptNames is how many of the users to delete the confirmation lists.
const promptNames = 10

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
	plan := o.Decide(cmd.Context(), a.env.Interrupt, list)
	toDelete := plan.ToDelete()
	o1 := &offboardOutcome{a: a, cmd: cmd, input: input, resultsPath: resultsPath, plan: plan, out: out}

	switch {
	case plan.Aborted != nil:
		return o1.record(results.Skipped, "not deleted: the run stopped", abortErr(plan.Aborted))
	case plan.Interrupted:
		fmt.Fprintln(stderr, "Interrupted while looking users up; nothing was deleted.")
		return o1.record(results.Skipped, "not deleted: the run was interrupted", exitCodeOnly(ExitInterrupted))
	case f.dryRun:
		if len(toDelete) > f.maxDelete {
			fmt.Fprintf(stderr, "note: %d users would be deleted, more than --max-delete %d: a real run would delete nothing\n",
				len(toDelete), f.maxDelete)
		}
		return o1.record(results.WouldDelete, "", nil)
	case len(toDelete) > f.maxDelete:
		why := fmt.Sprintf("%d users would be deleted, more than --max-delete %d, so nothing was deleted", len(toDelete), f.maxDelete)
		return o1.record(results.Skipped, "not deleted: "+why, abortErr(errors.New(why+": raise --max-delete if that many is right")))
	case len(toDelete) > 0 && !f.yes:
		ok, err := a.confirmDeletion(toDelete, strings.TrimSpace(a.env.Getenv("EXOTEL_ACCOUNT_SID")))
		if err != nil {
			fmt.Fprintln(stderr)
			fmt.Fprintln(stderr, "Interrupted; nothing was deleted.")
			return o1.record(results.Skipped, "not deleted: the run was interrupted", exitCodeOnly(ExitInterrupted))
		}
		if !ok {
			return o1.record(results.Skipped, "not deleted: the deletion was not confirmed",
				abortErr(errors.New("nothing was deleted: the confirmation was not given")))
		}
	}

	if len(toDelete) > 0 {
		if err := offboard.WriteBackup(backupPath, toDelete); err != nil {
			return o1.record(results.Skipped, "not deleted: the backup could not be written", abortErr(err))
		}
	}
	sum, runErr := o.Delete(cmd.Context(), a.env.Interrupt, plan, out)
	closeErr := out.Close()
	if sum != nil {
		s := setup.limiter.Stats()
		printOffboardSummary(cmd.OutOrStdout(), "offboard", sum, plan, &limiterStats{requests: s.Requests, throttled: s.Throttled, held: s.Held}, resultsPath)
		if sum.Counts[results.Deleted] > 0 {
			fmt.Fprintf(cmd.OutOrStdout(), "backup: %s (re-create with: exoroster import %s --on-email-taken=plus)\n",
				backupPath, shellQuote(backupPath))
		}
	}
	switch {
	case runErr != nil || closeErr != nil:
		return abortErr(errors.Join(runErr, closeErr))
	case sum.Aborted != nil:
		return abortErr(sum.Aborted)
	case sum.Interrupted:
		fmt.Fprintf(stderr, "Interrupted; rows not yet deleted are recorded as skipped. A rerun of %s reports the deleted ones as not_found.\n",
			shellQuote(input))
		return exitCodeOnly(ExitInterrupted)
	case !sum.OK():
		return exitCodeOnly(ExitRowsNotDone)
	}
	return nil
}

// offboardOutcome writes a plan that deletes nothing and ends the command.
type offboardOutcome struct {
	a           *app
	cmd         *cobra.Command
	input       string
	resultsPath string
	plan        *offboard.Plan
	out         *results.Writer
}

// record writes every row without deleting (rows to delete get status and
// why), prints the summary and returns end, or the exit that the rows call
// for when end is nil.
func (o *offboardOutcome) record(status results.Status, why string, end error) error {
	sum, err := o.plan.Record(o.out, nil, status, why)
	if cerr := o.out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return abortErr(err)
	}
	verb := "offboard"
	if status == results.WouldDelete {
		verb = "offboard dry run"
	}
	printOffboardSummary(o.cmd.OutOrStdout(), verb, sum, o.plan, nil, o.resultsPath)
	if end != nil {
		return end
	}
	if !sum.OK() {
		return exitCodeOnly(ExitRowsNotDone)
	}
	return nil
}

// confirmDeletion lists who would go and asks on stdin. Only "yes" confirms.
// The error is an interrupt while waiting for the answer.
func (a *app) confirmDeletion(rows []*offboard.Row, account string) (bool, error) {
	w := a.env.Stderr
	fmt.Fprintf(w, "About to delete %d %s from Exotel account %s. This cannot be undone.\n",
		len(rows), plural(len(rows), "user", "users"), account)
	for i, r := range rows {
		if i == promptNames {
			fmt.Fprintf(w, "  ... and %d more (see --dry-run for the full list)\n", len(rows)-promptNames)
			break
		}
		fmt.Fprintf(w, "  %s\n", resolve.Who(r.User))
	}
	fmt.Fprintf(w, "Delete %d %s? Type yes to continue: ", len(rows), plural(len(rows), "user", "users"))
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(orEmpty(a.env.Stdin)).ReadString('\n')
		answer <- line
	}()
	select {
	case line := <-answer:
		if strings.TrimSpace(line) == "yes" {
			return true, nil
		}
		return false, nil
	case <-a.env.Interrupt:
		return false, errors.New("interrupted")
	}
}

func orEmpty(r io.Reader) io.Reader {
	if r == nil {
		return strings.NewReader("")
	}
	return r
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
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
func printOffboardSummary(w io.Writer, verb string, sum *offboard.Summary, plan *offboard.Plan, stats *limiterStats, resultsPath string) {
	fmt.Fprintf(w, "%s %s: %d rows\n", verb, runState(sum.Aborted, sum.Interrupted || plan.Interrupted), sum.Rows)
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
