package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/runlock"
)

type offboardFlags struct {
	rowFlags
	backupPath  string
	yes         bool
	allowAdmins bool
	onCall      bool
	maxDelete   int
}

// adminLockWait is how long an offboard waits for another run deleting the
// same account's admins: its admin deletions are few and short, and the
// count this run makes after it must see them.
const adminLockWait = 5 * time.Minute

func (a *app) offboardCommand() *cobra.Command {
	f := &offboardFlags{}
	cmd := &cobra.Command{
		Use:   "offboard LEAVERS.csv",
		Short: "Delete the users a CSV lists (by user_id, email or phone), carefully",
		Long: `Finds every listed user with batched lookups, decides each row's fate, and
only then deletes, concurrently under the shared rate limit. Deletion cannot
be undone, so:

  - every identifier a row gives (user_id, email, phone) must name the same
    user, and names the row gives must be the user's (case and spaces
    aside; one shared word is not enough); otherwise the row is ambiguous
    and nobody is deleted for it;
  - admins are protected unless --allow-admins, and the account's last admin
    never goes: right before each admin's DELETE the account's admins are
    counted again, under a lock no other exoroster on this machine can hold
    at the same time;
  - users on a call are protected ("rerun later") unless --include-on-call;
  - right before their DELETEs the users are read again, 50 to a request: a
    user who changed since the lookup is stale (or protected, if now an
    admin or on a call) and is not deleted;
  - the dry run and the confirmation list, by name, the users on a call, the
    admins, and the rows whose names match their user only in part;
  - more deletions than --max-delete (default 50) delete nothing;
  - without --yes it asks for confirmation on a terminal, and refuses (exit 2)
    elsewhere;
  - each user's full record is written to the results line and, before the
    first DELETE, appended to a backup file in export's format, which
    'exoroster import' reads to re-create the people.

Statuses: deleted, would_delete, not_found, ambiguous, protected, stale,
invalid, failed, skipped. --resume continues a run from its results file:
rows deleted are kept, the others are looked up and decided again (fix
ambiguous rows in the list first). Without --resume an earlier run's
results file is not replaced unless --overwrite.

With --target webrtc a row names an app user by user_id (one GET each), or by
phone when it has no user_id (one pass over the app's list); the backup
re-imports with 'exoroster import BACKUP --target webrtc'.`,
		Example: `  exoroster offboard leavers.csv --dry-run
  exoroster offboard leavers.csv --results out.csv --yes`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runOffboard(cmd, args[0], f) },
	}
	fs := cmd.Flags()
	f.register(fs, rowHelp{input: "list", dryRun: "find every row's user and show who would be deleted; delete nothing",
		resume: "continue the run recorded in --results: keep rows deleted, decide the others again"})
	fs.StringVar(&f.backupPath, "backup", "", "backup of the deleted users' records, appended to (default <results without .csv>.backup.csv)")
	fs.BoolVar(&f.yes, "yes", false, "delete without asking for confirmation")
	fs.BoolVar(&f.allowAdmins, "allow-admins", false, "allow deleting admins (never the account's last admin)")
	fs.BoolVar(&f.onCall, "include-on-call", false, "delete users even while they are on a call (active_call set)")
	fs.IntVar(&f.maxDelete, "max-delete", offboard.DefaultMaxDelete, "delete nothing if more users than this would be deleted")
	return cmd
}

func (a *app) runOffboard(cmd *cobra.Command, input string, f *offboardFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	if _, err := a.resolveAPI(cmd, &f.api, &f.defaultRegion); err != nil {
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
	target, err := a.targetOf(&f.api)
	if err != nil {
		return err
	}
	stderr := a.env.Stderr
	list, err := a.readTargetList(target, input, f.readOptions(), f.rosterOptions())
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
	if sameFile(input, backupPath) {
		return usageErr("--backup %s is the input file", backupPath)
	}
	if sameFile(resultsPath, backupPath) || resultsPath == backupPath {
		return usageErr("--backup %s is the results file", backupPath)
	}

	setup, err := a.connectTo(target, &f.api)
	if err != nil {
		return err
	}
	if !f.dryRun {
		release, err := a.lockAccount(cmd.Context(), f.api.settings, f.lock)
		if err != nil {
			return err
		}
		defer release()
	}
	o := a.newOffboarder(target, setup, &f.api, offboard.Config{
		Workers:       f.api.workers,
		MaxAttempts:   f.api.maxAttempts,
		AllowAdmins:   f.allowAdmins,
		IncludeOnCall: f.onCall,
		Logger:        a.log,
		Progress:      a.newProgress("offboard", f.progressEvery),
	})
	sha, err := fileSHA256(input)
	if err != nil {
		return abortErr(err)
	}
	opened, err := a.openRowResults(cmd.Context(), f.resultsMode(), rowResults{
		command: "offboard" + targetFlag(target), input: input, inputSHA: sha, inputRows: len(list.Rows),
		path: resultsPath, layout: o.Layout(list), keep: offboard.KeepOnResume,
		check: checkKeptRows(input, listCells(list), offboard.KeepOnResume),
	})
	if err != nil {
		return err
	}
	defer opened.release()
	out := opened.out
	account := a.accountName(target, &f.api)
	guards := offboard.Guards{DryRun: f.dryRun, MaxDelete: f.maxDelete, Backup: backupPath, Notes: stderr,
		Resume: opened.prior, LockAdmins: a.adminLocker(f.lock.stateDir, account)}
	if !f.yes {
		guards.Confirm = &offboard.Prompt{In: a.env.Stdin, Out: stderr, Account: account}
	}
	sw := a.newSwitch(cmd.Context(), setup)
	defer sw.Close()
	res, runErr := o.Run(cmd.Context(), sw, list, out, guards)
	runErr = closeResults(runErr, out)

	sum, plan := res.Summary, res.Plan
	report := rowReport{verb: "offboard", sum: sum, setup: setup, results: resultsPath, rerun: rerunFor(f.dryRun, "offboard"+targetFlag(target), input, resultsPath),
		details: []string{fmt.Sprintf("lookups: %s (%s)", exportCount(plan.Requests, "request"), plan.Strategy.Words())}}
	if res.Rechecks > 0 {
		report.details = append(report.details, "read again before deleting: "+exportCount(res.Rechecks, "request"))
	}
	if plan.Admins >= 0 {
		report.details = append(report.details, fmt.Sprintf("admins in the account: %d", plan.Admins))
	}
	report.metrics = metricsFor(f.metricsFile, "offboard", f.dryRun, setup)
	if f.dryRun {
		report.verb, report.setup = "offboard dry run", nil
	}
	if errors.Is(sum.Aborted, offboard.ErrNotConfirmed) {
		report.whenAborted = "the deletion was not confirmed: run this and type yes to delete, or add --yes"
	}
	if sum.Counts[results.Deleted] > 0 {
		again := " --on-email-taken=plus"
		if target == targetWebRTC {
			again = targetFlag(target)
		}
		report.after = append(report.after, fmt.Sprintf("backup: %s (re-create with: exoroster import %s%s)",
			backupPath, shellQuote(backupPath), again))
	}
	if res.Deleting {
		// Before the DELETEs began, offboard.Run has said that nothing was
		// deleted.
		report.interrupted = fmt.Sprintf("Interrupted; rows not yet deleted are recorded as skipped. To continue:\n  %s",
			rerunCommand("offboard"+targetFlag(target), input, resultsPath))
	}
	return a.finishRun(cmd.OutOrStdout(), report, runErr)
}

// adminLocker is offboard's LockAdmins: the account's admin-delete lock in
// the state directory, shared by every exoroster process on this machine,
// waited for up to adminLockWait (the first Ctrl-C ends the wait).
func (a *app) adminLocker(stateDirFlag, account string) func(ctx context.Context) (func(), error) {
	return func(ctx context.Context) (func(), error) {
		dir, err := a.stateDir(stateDirFlag)
		if err != nil {
			return nil, fmt.Errorf("no place for the account's admin lock: %w", err)
		}
		target := runlock.Named(dir, "admin-delete", "ccm", account)
		lock, err := runlock.Acquire(ctx, target, runlock.Options{
			Wait: adminLockWait,
			Poll: lockPoll,
			OnWait: func(h runlock.Holder) {
				fmt.Fprintf(a.env.Stderr, "note: another run (%s) is deleting admins of account %s; waiting up to %v to count them after it\n",
					h, account, adminLockWait)
			},
		})
		if err != nil {
			return nil, err
		}
		return func() { _ = lock.Release() }, nil
	}
}

// listCells is each row's input cells, for checkKeptRows.
func listCells(list *resolve.List) [][]string {
	out := make([][]string, 0, len(list.Rows))
	for _, r := range list.Rows {
		for len(out) < r.Rec.Row-1 {
			out = append(out, nil) // rows are numbered densely; be safe anyway
		}
		out = append(out, r.Rec.Raw)
	}
	return out
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
