package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/updater"
)

type updateFlags struct {
	rowFlags
}

func (a *app) updateCommand() *cobra.Command {
	f := &updateFlags{}
	cmd := &cobra.Command{
		Use:   "update CHANGES.csv",
		Short: "Change existing users' names, email (while unset) and phone number from a CSV",
		Long: `Finds every listed user with batched lookups, compares the row with the
user's current record and sends only what differs: first_name and last_name,
an email while the user has none (Exotel never changes an email once set, so
such a row fails without a request), and the number of the user's first phone
device (the new number must be verified again before calls reach it).

A row is identified by the first of user_id, email, phone it gives; the other
two are what the user should have. To change the column that identifies the
row, add new_email or new_phone (e.g. find by phone, change the phone).

A blank cell leaves that value as it is.

Every results line carries the user's values before the row's changes
(old_first_name, old_last_name, old_email, old_phone). Feed the results file
back to update to undo a bad bulk change: each row's user then gets its old
values back (blank cells, such as an email that was unset, are left as they
are). --resume continues a run from its results file: rows updated are kept,
the others are compared again (and keep the old values first recorded).

Statuses: updated, unchanged, would_update, not_found, ambiguous, invalid,
failed, skipped.`,
		Example: `  exoroster update changes.csv --dry-run
  exoroster update changes.csv --results out.csv`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runUpdate(cmd, args[0], f) },
	}
	f.register(cmd.Flags(), rowHelp{input: "changes", dryRun: "find the users and show what would change; send no PUT",
		resume: "continue the run recorded in --results: keep rows updated, compare the others again"})
	return cmd
}

func (a *app) runUpdate(cmd *cobra.Command, input string, f *updateFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	if _, err := a.resolveAPI(cmd, &f.api, &f.defaultRegion); err != nil {
		return err
	}
	if target, err := a.targetOf(&f.api); err != nil {
		return err
	} else if target == targetWebRTC {
		return usageErr("update works on the ccm target only: the WebRTC integrations app users API documents no way " +
			"to change a user (only create, get, list and delete)")
	}
	stderr := a.env.Stderr
	list, err := a.readList(input, f.readOptions(), f.rosterOptions())
	if err != nil {
		return err
	}
	plan := updater.PrepareList(list, f.rosterOptions())
	for _, n := range plan.Notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	if plan.Undo {
		fmt.Fprintf(stderr, "note: %s is an update results file: undoing its changes (each row's user_id gets back its "+
			"old_first_name, old_last_name, old_email and old_phone; blank cells leave a value as it is)\n", input)
	}

	resultsPath, err := resultsPathFor(input, f.resultsPath, f.dryRun)
	if err != nil {
		return err
	}
	setup, err := a.connect(&f.api)
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
	up := updater.New(setup.client, setup.limiter, updater.Config{
		Workers:     f.api.workers,
		MaxAttempts: f.api.maxAttempts,
		DryRun:      f.dryRun,
		Logger:      a.log,
		Progress:    a.newProgress("update", f.progressEvery),
	})
	sha, err := fileSHA256(input)
	if err != nil {
		return abortErr(err)
	}
	opened, err := a.openRowResults(cmd.Context(), f.resultsMode(), rowResults{
		command: "update", input: input, inputSHA: sha, inputRows: plan.Rows(),
		path: resultsPath, layout: plan.Layout(), keep: updater.KeepOnResume,
		check: checkKeptRows(input, listCells(plan.List), updater.KeepOnResume),
	})
	if err != nil {
		return err
	}
	defer opened.release()
	out := opened.out
	if opened.prior != nil {
		plan.SetResume(opened.prior)
	}
	sw := a.newSwitch(cmd.Context(), setup)
	defer sw.Close()
	sum, runErr := up.Run(cmd.Context(), sw, plan, out)
	runErr = closeResults(runErr, out)
	report := rowReport{verb: "update", timed: true, sum: sum, setup: setup, results: resultsPath, rerun: rerunFor(f.dryRun, "update", input, resultsPath),
		details: []string{"lookups: " + exportCount(sum.Lookups, "request")},
		interrupted: "Interrupted; rows not yet sent are recorded as skipped. To continue:\n  " +
			rerunCommand("update", input, resultsPath)}
	if f.dryRun {
		report.verb, report.setup = "update dry run", nil
	}
	report.metrics = metricsFor(f.metricsFile, "update", f.dryRun, setup)
	return a.finishRun(cmd.OutOrStdout(), report, runErr)
}
