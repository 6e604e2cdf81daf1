package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/updater"
)

type updateFlags struct {
	api           apiFlags
	defaultRegion string
	resultsPath   string
	dryRun        bool
	progressEvery time.Duration
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
	fs := cmd.Flags()
	f.api.register(fs)
	fs.StringVar(&f.defaultRegion, "default-region", roster.DefaultRegion, "country of phone numbers written without +country code")
	fs.StringVar(&f.resultsPath, "results", "", "results CSV (default <changes>.results.csv; <changes>.dry-run.csv with --dry-run)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "find the users and show what would change; send no PUT")
	fs.DurationVar(&f.progressEvery, "progress-every", 5*time.Second, "how often to print a progress line when stderr is not a terminal (0: never)")
	return cmd
}

func (a *app) runUpdate(cmd *cobra.Command, input string, f *updateFlags) error {
	if err := roster.CheckRegion(f.defaultRegion); err != nil {
		return usageErr("--default-region: %v", err)
	}
	if err := f.api.check(); err != nil {
		return err
	}
	stderr := a.env.Stderr
	plan, err := prepareUpdate(input, roster.Options{DefaultRegion: f.defaultRegion})
	if err != nil {
		return abortErr(err)
	}
	reportHeader(stderr, plan.List.Header)
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
	sw := halt.New(cmd.Context(), a.env.Interrupt, setup.limiter.Stop)
	defer sw.Close()
	sum, runErr := up.Run(cmd.Context(), sw, plan, out)
	closeErr := out.Close()
	if sum != nil {
		s := setup.limiter.Stats()
		printUpdateSummary(cmd.OutOrStdout(), f.dryRun, sum, &limiterStats{requests: s.Requests, throttled: s.Throttled, held: s.Held}, resultsPath)
	}
	switch {
	case runErr != nil || closeErr != nil:
		return abortErr(errors.Join(runErr, closeErr))
	case sum.Aborted != nil:
		return abortErr(sum.Aborted)
	case sum.Interrupted:
		fmt.Fprintln(stderr, "Interrupted; rows not yet sent are recorded as skipped. A rerun of the same list reports rows already done as unchanged.")
		return exitCodeOnly(ExitInterrupted)
	case !sum.OK():
		return exitCodeOnly(ExitRowsNotDone)
	}
	return nil
}

func prepareUpdate(path string, opts roster.Options) (*updater.Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer f.Close()
	return updater.Prepare(path, f, opts)
}

func printUpdateSummary(w io.Writer, dryRun bool, sum *engine.Summary, stats *limiterStats, resultsPath string) {
	verb := "update"
	if dryRun {
		verb = "update dry run"
	}
	fmt.Fprintf(w, "%s %s in %v: %d rows\n", verb, runState(sum.Aborted, sum.Interrupted), roundDuration(sum.Elapsed), sum.Rows)
	writeCounts(w, sum.Counts)
	fmt.Fprintf(w, "requests: %d (lookups %d), 429s: %d, held by the rate limit %v\n",
		stats.requests, sum.Lookups, stats.throttled, roundDuration(stats.held))
	fmt.Fprintf(w, "results: %s\n", resultsPath)
}
