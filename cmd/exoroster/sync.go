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
	"github.com/spf13/pflag"

	"github.com/exoroster/exoroster/config"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/reconcile"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/statedir"
	"github.com/exoroster/exoroster/webrtc"
)

// ExitChangesPending is plan's (and sync --dry-run's) exit when the account
// does not match the roster yet: there is work to apply, as Terraform's
// -detailed-exitcode says with 2.
const ExitChangesPending ExitCode = 4

// DefaultMaxPlanAge is --max-plan-age's default.
const DefaultMaxPlanAge = 24 * time.Hour

// syncFlags are the flags of plan, apply and sync; each registers the ones
// it takes.
type syncFlags struct {
	api  apiFlags
	lock lockFlags
	read readFlags

	target            string
	customerID, appID string

	// plan and sync
	defaultRegion    string
	match            string
	scope            []string
	prune            bool
	maxDelete        int
	maxDeletePercent int
	allowShrink      bool
	allowAdmins      bool
	out              string

	// apply and sync
	resultsPath   string
	backupPath    string
	progressEvery time.Duration

	// apply
	resume     bool
	maxPlanAge time.Duration

	// sync
	yes, dryRun bool
}

func (f *syncFlags) registerTarget(fs *pflag.FlagSet) {
	f.api.register(fs)
	f.lock.register(fs)
	fs.StringVar(&f.customerID, "customer-id", "", "webrtc: the customer id (env "+webrtc.EnvCustomerID+")")
	fs.StringVar(&f.appID, "app-id", "", "webrtc: the app id (env "+webrtc.EnvAppID+")")
}

func (f *syncFlags) registerPlan(fs *pflag.FlagSet) {
	fs.StringVar(&f.target, "target", "ccm", "API to sync: ccm (Exotel CCM users) or webrtc (WebRTC integrations app users)")
	fs.StringVar(&f.defaultRegion, "default-region", roster.DefaultRegion, "country of phone numbers written without +country code")
	f.read.register(fs)
	fs.StringVar(&f.match, "match", "", "how rows find their users: email, phone or user_id (default: email, then phone; webrtc: user_id)")
	fs.StringArrayVar(&f.scope, "scope", nil, "manage only these users: role=user,supervisor and/or domain=corp.com (repeatable)")
	fs.BoolVar(&f.prune, "prune", false, "delete users the roster does not list (without it they are listed as unmanaged)")
	fs.IntVar(&f.maxDelete, "max-delete", reconcile.DefaultMaxDelete, "refuse the whole plan if more users than this would be deleted")
	fs.IntVar(&f.maxDeletePercent, "max-delete-percent", reconcile.DefaultMaxDeletePercent, "refuse the whole plan if more than this percentage of the users in scope would be deleted")
	fs.BoolVar(&f.allowShrink, "allow-shrink", false, fmt.Sprintf("accept a roster under %d %% of the rows of the last one applied to this account", reconcile.ShrinkPercent))
	fs.BoolVar(&f.allowAdmins, "allow-admins", false, "allow deleting admins (never the account's last) and planning changes to an admin whose role the roster changes")
}

func (f *syncFlags) registerApply(fs *pflag.FlagSet, input string) {
	fs.StringVar(&f.resultsPath, "results", "", "results CSV (default <"+input+">.results.csv)")
	fs.StringVar(&f.backupPath, "backup", "", "backup of the deleted users' records, appended to (default <results without .csv>.backup.csv)")
	registerProgressEvery(fs, &f.progressEvery)
}

// check returns a usage error for a flag that is wrong.
func (f *syncFlags) check() error {
	if err := roster.CheckRegion(f.defaultRegion); f.defaultRegion != "" && err != nil {
		return usageErr("--default-region: %v", err)
	}
	switch {
	case f.maxDelete < 0:
		return usageErr("--max-delete %d: use 0 or more", f.maxDelete)
	case f.maxDeletePercent < 0 || f.maxDeletePercent > 100:
		return usageErr("--max-delete-percent %d: use 0 to 100", f.maxDeletePercent)
	case f.maxPlanAge < 0:
		return usageErr("--max-plan-age %v: use a duration like 24h", f.maxPlanAge)
	}
	if err := f.read.check(f.defaultRegion); err != nil {
		return err
	}
	return f.api.check()
}

// settings turns the plan flags into a plan's settings for target t.
func (f *syncFlags) settings(t reconcile.Planner) (reconcile.Settings, error) {
	s := reconcile.Settings{Match: t.Matches()[0], Prune: f.prune, MaxDelete: f.maxDelete,
		MaxDeletePercent: f.maxDeletePercent, AllowShrink: f.allowShrink, AllowAdmins: f.allowAdmins,
		DefaultRegion: f.defaultRegion}
	if f.match != "" {
		m, err := reconcile.ParseMatch(f.match)
		if err != nil {
			return s, usageErr("%v", err)
		}
		ok := false
		for _, allowed := range t.Matches() {
			ok = ok || allowed == m
		}
		if !ok {
			return s, usageErr("--match %s: the %s target matches by %s only", m, t.Account().Target, t.Matches()[0])
		}
		s.Match = m
	}
	scope, err := reconcile.ParseScope(f.scope)
	if err != nil {
		return s, usageErr("%v", err)
	}
	if !scope.Empty() && !t.Scoped() {
		return s, usageErr("--scope: the %s target's users have no roles or emails to scope by", t.Account().Target)
	}
	s.Scope = scope
	return s, nil
}

// syncSetup is a run's target and its connection.
type syncSetup struct {
	t     reconcile.Target
	setup *apiSetup // the limiter, for the switch and the report
	acct  reconcile.Account
}

// connectTarget builds the client of the run's target (ccm or webrtc, from
// its settings) and its limiter. Its errors are one sentence.
func (a *app) connectTarget(f *syncFlags) (*syncSetup, error) {
	s, err := f.api.resolved()
	if err != nil {
		return nil, err
	}
	cfg := reconcile.Config{Workers: f.api.workers, MaxAttempts: f.api.maxAttempts, Logger: a.log}
	setup, err := a.connectTo(s.Target.V, &f.api)
	if err != nil {
		return nil, err
	}
	acct := reconcile.Account{Target: s.Target.V, ID: s.AccountKey(), BaseURL: setup.baseURL}
	if s.Target.V == config.TargetWebRTC {
		return &syncSetup{t: reconcile.NewWebRTC(setup.app, setup.limiter, acct, cfg), setup: setup, acct: acct}, nil
	}
	return &syncSetup{t: reconcile.NewCCM(setup.client, setup.limiter, acct, cfg), setup: setup, acct: acct}, nil
}

func (a *app) planCommand() *cobra.Command {
	f := &syncFlags{}
	cmd := &cobra.Command{
		Use:   "plan ROSTER.csv",
		Short: "Show what it takes to make the account match a roster; change nothing",
		Long: `Reads the roster (as import reads it) and the whole account (one GET per 50
users), matches each row with its user and gives every row and every user
one action:

  create     a row nobody matches
  update     a row whose user differs in what the API can change: first and
             last name, an email while the user has none, the number of the
             user's first phone device (old → new per field)
  unchanged  a row whose user already matches
  delete     a user the roster does not list (only with --prune)
  unmanaged  a user the roster does not list, without --prune: left alone
  conflict   a row whose email names one user and phone another (never guessed)
  protected  an admin, a user on a call, a user outside --scope
  invalid    a row that cannot be read, or one of two rows naming one user
  differs    a difference the API cannot make (a role; on webrtc, anything)

Guards, checked here, make apply and sync refuse the whole plan before any
write: more deletions than --max-delete (50) or --max-delete-percent (20 % of
the users in scope); a roster under 80 % of the rows of the last one applied
to this account (--allow-shrink); admins are never deleted without
--allow-admins, and the last admin never.

--out writes the plan for 'exoroster apply'.

Exit codes: 0 no changes; 4 changes pending; 3 rows to fix (invalid or
conflict); 1 a guard trips, or the run stopped; 2 usage; 130 interrupted.`,
		Example: `  exoroster plan roster.csv --out plan.json
  exoroster plan roster.csv --prune --scope role=user,supervisor --out plan.json`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runPlan(cmd, args[0], f) },
	}
	fs := cmd.Flags()
	f.registerTarget(fs)
	f.registerPlan(fs)
	fs.StringVar(&f.out, "out", "", "write the plan here, for exoroster apply")
	return cmd
}

func (a *app) applyCommand() *cobra.Command {
	f := &syncFlags{}
	cmd := &cobra.Command{
		Use:   "apply PLAN.json",
		Short: "Carry out exactly the actions of a plan made by exoroster plan",
		Long: `Creates, updates and deletes exactly what the plan says, through the shared
rate limit, with a results line per action (row = the action's number).

Before it changes or deletes a user it re-reads it (one GET per 50 users) and
compares it with the plan's fingerprint: a user that changed since the plan is
stale and left untouched. Deleted users' full records go to the results line
and, synced before the first DELETE, to a backup file that import reads. A
plan older than --max-plan-age (24h), made for another account, or whose
guards tripped is refused before any request that changes anything.

An interrupted apply continues with --resume: writes already done are not
made again, and creates whose answer was lost are looked up first.

Exit codes: 0 every action done or deliberately left alone; 3 some actions
invalid, conflict, stale, failed or skipped; 1 the plan was refused or the
run stopped; 2 usage; 130 interrupted.`,
		Example: `  exoroster apply plan.json --results applied.csv
  exoroster apply plan.json --results applied.csv --resume`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runApply(cmd, args[0], f) },
	}
	fs := cmd.Flags()
	f.registerTarget(fs)
	f.registerApply(fs, "plan")
	fs.BoolVar(&f.resume, "resume", false, "continue the apply recorded in --results: skip writes done, look up creates in doubt")
	fs.DurationVar(&f.maxPlanAge, "max-plan-age", DefaultMaxPlanAge, "refuse a plan older than this")
	return cmd
}

func (a *app) syncCommand() *cobra.Command {
	f := &syncFlags{}
	cmd := &cobra.Command{
		Use:   "sync ROSTER.csv",
		Short: "Plan and apply in one, for cron: make the account match a roster",
		Long: `Makes the plan exactly as 'exoroster plan' does, prints it, and, when no guard
trips, applies it as 'exoroster apply' does. --dry-run stops after the plan.
Without --yes it asks on a terminal before changing anything, and refuses
(exit 2) where there is no terminal to ask on.

An interrupted sync is continued by running it again: the new plan sees what
the last one did.

Exit codes: as apply's; with --dry-run, as plan's (4: changes pending).`,
		Example: `  exoroster sync roster.csv --results applied.csv --yes
  exoroster sync roster.csv --prune --dry-run`,
		Args: oneFileArg,
		RunE: func(cmd *cobra.Command, args []string) error { return a.runSync(cmd, args[0], f) },
	}
	fs := cmd.Flags()
	f.registerTarget(fs)
	f.registerPlan(fs)
	f.registerApply(fs, "roster")
	fs.StringVar(&f.out, "out", "", "also write the plan here")
	fs.BoolVar(&f.yes, "yes", false, "apply without asking for confirmation")
	fs.BoolVar(&f.dryRun, "dry-run", false, "plan only: change nothing")
	return cmd
}

// planned is a plan made in this process, with what made it.
type planned struct {
	s    *syncSetup
	plan *reconcile.Plan
	sw   *halt.Switch
	// release ends the account's run lock; stateDir holds the state file.
	release  func()
	stateDir string
}

// makePlan reads the roster and the account and decides. With lock (a
// sync that will apply) it holds the account's run lock from before the
// first request; plan and a dry run take none. On success the caller owns
// the switch and the lock (close both).
func (a *app) makePlan(cmd *cobra.Command, input string, f *syncFlags, lock bool) (*planned, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if same, _ := sameFile(input, f.out); same {
		return nil, usageErr("--out %s is the roster", f.out)
	}
	if _, err := a.resolveAPI(cmd, &f.api, &f.defaultRegion); err != nil {
		return nil, err
	}
	s, err := a.connectTarget(f)
	if err != nil {
		return nil, err
	}
	settings, err := f.settings(s.t)
	if err != nil {
		return nil, err
	}
	open := func() (io.ReadCloser, error) { return os.Open(input) }
	r, err := reconcile.ReadRoster(input, open, s.t, roster.Options{DefaultRegion: f.defaultRegion},
		f.read.options(f.defaultRegion))
	if err != nil {
		return nil, rosterErr(err)
	}
	if s.acct.Target == config.TargetWebRTC {
		// roster's mapping names CCM fields; the app users API reads its
		// own columns, so only the file line and what it ignores apply.
		file, _, _ := strings.Cut(r.Describe, "\n")
		fmt.Fprintln(a.env.Stdout, file)
		if unknown := webrtc.UnknownColumns(r.Header); len(unknown) > 0 {
			fmt.Fprintf(a.env.Stdout, "columns: ignored: %s\n", strings.Join(unknown, ", "))
		}
	} else {
		reportColumns(a.env.Stdout, input, r.Describe, r.Header)
	}
	dir, err := statedir.Resolve(a.env.Getenv, f.lock.stateDir)
	if err != nil {
		return nil, abortErr(err)
	}
	release := func() {}
	if lock {
		if release, err = a.lockAccount(cmd.Context(), f.api.settings, f.lock); err != nil {
			return nil, err
		}
	}
	last, err := reconcile.LoadApplied(dir, s.acct)
	if err != nil {
		release()
		return nil, abortErr(err)
	}
	sw := a.newSwitch(cmd.Context(), s.setup)
	l, err := s.t.List(cmd.Context(), sw)
	if err != nil {
		sw.Close()
		release()
		if errors.Is(err, reconcile.ErrInterrupted) || sw.Interrupted() {
			return nil, &exitError{code: ExitInterrupted, err: reconcile.ErrInterrupted}
		}
		return nil, abortErr(err)
	}
	a.log.Info("listed the account", "users", len(l.Members), "requests", l.Requests)
	p := reconcile.Decide(r, l, s.t, settings, last, time.Now())
	if err := p.WriteTable(a.env.Stdout); err != nil {
		sw.Close()
		release()
		return nil, abortErr(err)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(a.env.Stderr, "note: %s\n", n)
	}
	if f.out != "" {
		if err := p.Save(f.out); err != nil {
			sw.Close()
			release()
			return nil, abortErr(err)
		}
		hint := fmt.Sprintf(" (apply with: exoroster apply %s)", shellQuote(f.out))
		if len(p.Guards.Tripped) > 0 || p.ChangesPending() == 0 {
			hint = ""
		}
		fmt.Fprintf(a.env.Stdout, "plan: %s%s\n", f.out, hint)
	}
	return &planned{s: s, plan: p, sw: sw, release: release, stateDir: dir}, nil
}

// planExit is a plan's exit: a tripped guard 1, rows to fix 3, changes
// pending 4, else 0.
func planExit(w io.Writer, p *reconcile.Plan) error {
	if len(p.Guards.Tripped) > 0 {
		return abortErr(fmt.Errorf("the plan trips a guard, so apply and sync refuse it: %s", strings.Join(p.Guards.Tripped, "; and ")))
	}
	if n := p.NeedsFixing(); n > 0 {
		fmt.Fprintf(w, "exoroster: %d roster %s to fix (invalid or conflict); the other actions can be applied.\n", n, countNoun(n, "row", "rows"))
		return exitCodeOnly(ExitRowsNotDone)
	}
	if p.ChangesPending() > 0 {
		return exitCodeOnly(ExitChangesPending)
	}
	return nil
}

func countNoun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (a *app) runPlan(cmd *cobra.Command, input string, f *syncFlags) error {
	pl, err := a.makePlan(cmd, input, f, false)
	if err != nil {
		return err
	}
	pl.sw.Close()
	pl.release()
	return planExit(a.env.Stderr, pl.plan)
}

func (a *app) runSync(cmd *cobra.Command, input string, f *syncFlags) error {
	// Refused before any request: nobody could confirm here.
	if !f.dryRun && !f.yes && !a.env.Interactive {
		return usageErr("sync changes the account and there is no terminal to confirm on: " +
			"pass --yes to apply, or --dry-run to see the plan")
	}
	resultsPath := ""
	if !f.dryRun {
		var err error
		if resultsPath, err = resultsPathFor(input, f.resultsPath, false); err != nil {
			return err
		}
	}
	pl, err := a.makePlan(cmd, input, f, !f.dryRun)
	if err != nil {
		return err
	}
	defer pl.release()
	defer pl.sw.Close()
	p := pl.plan
	if f.dryRun {
		return planExit(a.env.Stderr, p)
	}
	if err := p.Refused(); err != nil {
		return abortErr(err)
	}
	if n := p.ChangesPending(); n > 0 && !f.yes {
		ok, err := confirmApply(a.env.Stderr, orEmpty(a.env.Stdin), pl.sw.Done(),
			fmt.Sprintf("Apply %d %s (%d create, %d update, %d delete) to %s? Type yes to continue: ",
				n, countNoun(n, "change", "changes"), p.Counts[reconcile.Create], p.Counts[reconcile.Update], p.Counts[reconcile.Delete], p.Account))
		switch {
		case err != nil && pl.sw.Stopping():
			return &exitError{code: ExitInterrupted, err: errors.New("interrupted; nothing was applied")}
		case err != nil:
			return abortErr(fmt.Errorf("nothing was applied: the confirmation could not be read: %w", err))
		case !ok:
			return abortErr(errors.New("nothing was applied: the confirmation was not given"))
		}
	}
	state := results.State{Command: "sync", Input: input, InputSHA256: p.Roster.SHA256, InputRows: len(p.Actions), Updated: time.Now().UTC()}
	return a.applyPlan(cmd, pl, f, resultsPath, state, nil)
}

func (a *app) runApply(cmd *cobra.Command, planPath string, f *syncFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	p, planSHA, err := reconcile.Load(planPath)
	if err != nil {
		return abortErr(err)
	}
	if err := a.resolveForPlan(cmd, f, planPath, p.Account.Target); err != nil {
		return err
	}
	s, err := a.connectTarget(f)
	if err != nil {
		return err
	}
	dir, err := statedir.Resolve(a.env.Getenv, f.lock.stateDir)
	if err != nil {
		return abortErr(err)
	}
	resultsPath := f.resultsPath
	if resultsPath == "" {
		resultsPath = strings.TrimSuffix(planPath, filepath.Ext(planPath)) + ".results.csv"
	}
	if same, _ := sameFile(planPath, resultsPath); same {
		return usageErr("--results %s is the plan file", resultsPath)
	}
	release, err := a.lockAccount(cmd.Context(), f.api.settings, f.lock)
	if err != nil {
		return err
	}
	defer release()
	last, err := reconcile.LoadApplied(dir, s.acct)
	if err != nil {
		return abortErr(err)
	}
	if err := p.CheckApply(s.acct, time.Now(), f.maxPlanAge, last); err != nil {
		return abortErr(err)
	}
	sw := a.newSwitch(cmd.Context(), s.setup)
	defer sw.Close()
	pl := &planned{s: s, plan: p, sw: sw, stateDir: dir}
	state := results.State{Command: "apply", Input: planPath, InputSHA256: planSHA, InputRows: len(p.Actions), Updated: time.Now().UTC()}
	return a.applyPlan(cmd, pl, f, resultsPath, state, &f.resume)
}

// resolveForPlan resolves apply's settings for the plan's target: the
// target a plan was made for is apply's default, and a --target,
// EXOTEL_TARGET or profile that says otherwise is refused.
func (a *app) resolveForPlan(cmd *cobra.Command, f *syncFlags, planPath, target string) error {
	in := a.settingsInput(cmd.Flags())
	in.Defaults.Target = target
	s, err := config.Resolve(in)
	if err != nil {
		return settingsErr(err)
	}
	if s.Target.V != target {
		return abortErr(fmt.Errorf("%s is a plan for the %s target, but %s says %s", planPath, target, s.Target.From, s.Target.V))
	}
	a.useSettings(s, &f.api, nil)
	return nil
}

// applyPlan carries out pl's plan and reports. resume is nil for sync,
// which starts its results afresh.
func (a *app) applyPlan(cmd *cobra.Command, pl *planned, f *syncFlags, resultsPath string, state results.State, resume *bool) error {
	p, t := pl.plan, pl.s.t
	backupPath := f.backupPath
	if backupPath == "" {
		backupPath = strings.TrimSuffix(resultsPath, ".csv") + ".backup.csv"
	}
	if same, _ := sameFile(resultsPath, backupPath); same || resultsPath == backupPath {
		return usageErr("--backup %s is the results file", backupPath)
	}
	layout := reconcile.Layout(p, t)
	out, prior, err := openApplyResults(a.env.Stderr, p, layout, state, resultsPath, resume != nil && *resume)
	if err != nil {
		return abortErr(err)
	}
	if err := results.SaveState(resultsPath, state); err != nil {
		out.Close()
		return abortErr(err)
	}
	sum, runErr := reconcile.Apply(cmd.Context(), pl.sw, t, p, out, reconcile.ApplyConfig{
		Workers:  f.api.workers,
		Progress: a.newProgress("apply", f.progressEvery),
		Backup:   backupPath,
		Prior:    prior,
	})
	runErr = errors.Join(runErr, out.Close())
	report := rowReport{verb: "apply", timed: true, sum: sum, setup: pl.s.setup, results: resultsPath,
		details: []string{fmt.Sprintf("lookups before writing: %d requests", sum.Lookups)}}
	if sum.Counts[results.Deleted] > 0 {
		report.after = append(report.after, fmt.Sprintf("backup: %s (re-create with: exoroster import %s)", backupPath, shellQuote(backupPath)))
	}
	if state.Command == "apply" {
		report.interrupted = fmt.Sprintf("Interrupted. To continue where this apply stopped:\n  exoroster apply %s --results %s --resume",
			shellQuote(state.Input), shellQuote(resultsPath))
	} else {
		report.verb = "sync"
		report.interrupted = "Interrupted; actions not yet done are recorded as skipped. Run the same sync again: its plan sees what this one did."
	}
	if runErr == nil && sum.Aborted == nil && !sum.Interrupted {
		// The roster is applied: the next plan's shrinkage guard compares
		// with it.
		if err := reconcile.SaveApplied(pl.stateDir, pl.s.acct, reconcile.AppliedOf(p, time.Now())); err != nil {
			fmt.Fprintf(a.env.Stderr, "exoroster: warning: %s; the next plan's shrinkage guard compares with an older roster.\n", sentence(err))
		}
	}
	return a.finishRun(cmd.OutOrStdout(), report, runErr)
}

// openApplyResults creates the results file, or for --resume checks that
// the existing one belongs to this plan and reopens it.
func openApplyResults(stderr io.Writer, p *reconcile.Plan, layout results.Layout, state results.State, path string, resume bool) (*results.Writer, *results.Prior, error) {
	if !resume {
		w, err := results.Create(path, layout)
		return w, nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "note: %s does not exist yet; starting from the first action\n", path)
		w, err := results.Create(path, layout)
		return w, nil, err
	}
	old, ok, err := results.LoadState(path)
	if err != nil {
		return nil, nil, err
	}
	if ok && (old.Command != state.Command || old.InputSHA256 != state.InputSHA256) {
		return nil, nil, fmt.Errorf("%s belongs to another plan (%s %s, which has changed since or is another file); "+
			"resume with the same plan, or choose a new --results", path, old.Command, old.Input)
	}
	prior, err := results.Load(path, layout)
	if err != nil {
		return nil, nil, err
	}
	for row := range prior.Rows {
		if row > len(p.Actions) {
			return nil, nil, fmt.Errorf("%s belongs to another plan: it has row %d, the plan has %d actions", path, row, len(p.Actions))
		}
	}
	if prior.TornLine {
		fmt.Fprintf(stderr, "note: %s ended in a partial line (the last run was killed); it was dropped and that action will be checked\n", path)
	}
	w, err := results.Reopen(path, layout, reconcile.KeepOnResume)
	if err != nil {
		return nil, nil, err
	}
	return w, prior, nil
}

// confirmApply asks question on w and reads the answer from in; only "yes"
// confirms. It returns an error when stop closes first.
func confirmApply(w io.Writer, in io.Reader, stop <-chan struct{}, question string) (bool, error) {
	fmt.Fprint(w, question)
	answer := make(chan string, 1)
	go func() {
		var b strings.Builder
		buf := make([]byte, 1)
		for b.Len() < 1024 {
			n, err := in.Read(buf)
			if n == 1 && buf[0] == '\n' {
				break
			}
			if n == 1 {
				b.WriteByte(buf[0])
			}
			if err != nil {
				break
			}
		}
		answer <- b.String()
	}()
	select {
	case line := <-answer:
		return strings.TrimSpace(line) == "yes", nil
	case <-stop:
		// A terminal main opened anew can end the read still waiting,
		// so nothing typed later is taken by a goroutine left behind.
		if d, ok := in.(interface{ SetReadDeadline(time.Time) error }); ok && d.SetReadDeadline(time.Now()) == nil {
			<-answer
			_ = d.SetReadDeadline(time.Time{})
		}
		return false, errors.New("interrupted while waiting for the answer")
	}
}
