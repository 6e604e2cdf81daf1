package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/results"
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

Statuses: updated, unchanged, would_update, not_found, ambiguous, invalid,
failed, skipped.`,
		Example: `  exoroster update changes.csv --dry-run
  exoroster update changes.csv --results out.csv`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runUpdate(cmd, args[0], f) },
	}
	f.register(cmd.Flags(), rowHelp{input: "changes", dryRun: "find the users and show what would change; send no PUT"})
	return cmd
}

func (a *app) runUpdate(cmd *cobra.Command, input string, f *updateFlags) error {
	if err := f.check(); err != nil {
		return err
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

	resultsPath, err := resultsPathFor(input, f.resultsPath, f.dryRun)
	if err != nil {
		return err
	}
	setup, err := a.connect(&f.api)
	if err != nil {
		return err
	}
	up := updater.New(setup.client, setup.limiter, updater.Config{
		Workers:     f.api.workers,
		MaxAttempts: f.api.maxAttempts,
		DryRun:      f.dryRun,
		Logger:      a.log,
		Progress:    a.newProgress("update", f.progressEvery),
	})
	out, err := results.Create(resultsPath, plan.Layout())
	if err != nil {
		return abortErr(err)
	}
	sw := a.newSwitch(cmd.Context(), setup)
	defer sw.Close()
	sum, runErr := up.Run(cmd.Context(), sw, plan, out)
	runErr = errors.Join(runErr, out.Close())
	report := rowReport{verb: "update", timed: true, sum: sum, setup: setup, results: resultsPath,
		details:     []string{fmt.Sprintf("lookups: %d requests", sum.Lookups)},
		interrupted: "Interrupted; rows not yet sent are recorded as skipped. A rerun of the same list reports rows already done as unchanged."}
	if f.dryRun {
		report.verb, report.setup = "update dry run", nil
	}
	report.metrics = metricsFor(f.metricsFile, "update", f.dryRun, setup)
	return a.finishRun(cmd.OutOrStdout(), report, runErr)
}
