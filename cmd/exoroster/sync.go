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
	"github.com/exoroster/exoroster/confirm"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/reconcile"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/statedir"
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
	api  apiFlags // with --target, --customer-id and --app-id (connectTo)
	lock lockFlags
	read readFlags

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
	overwrite     bool

	// apply
	resume     bool
	maxPlanAge time.Duration

	// sync
	yes, dryRun bool

	metricsFile string
}

// runMetrics labels the run's metrics with its command: plan, apply, sync
// or sync-dry-run.
func (f *syncFlags) runMetrics(cmd *cobra.Command, setup *apiSetup) runMetrics {
	return metricsFor(f.metricsFile, cmd.Name(), f.dryRun, setup)
}

// planCounts are a plan's actions by kind, as its run's rows.
func planCounts(p *reconcile.Plan) map[string]int {
	out := make(map[string]int, len(p.Counts))
	for k, n := range p.Counts {
		out[string(k)] = n
	}
	return out
}

// registerTarget adds the connection flags, the shared --target,
// --customer-id and --app-id among them, and the lock flags.
func (f *syncFlags) registerTarget(fs *pflag.FlagSet) {
	f.api.register(fs)
	f.api.registerTarget(fs)
	f.lock.register(fs)
	registerMetricsFile(fs, &f.metricsFile)
}

func (f *syncFlags) registerPlan(fs *pflag.FlagSet) {
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
	fs.StringVar(&f.resultsPath, "results", "", "results CSV (default <"+input+">.results.csv); {date}, {time} and {target} are filled in, e.g. applied-{date}.csv")
	fs.StringVar(&f.backupPath, "backup", "", "backup of the deleted users' records, appended to (default <results without .csv>.backup.csv)")
	fs.BoolVar(&f.overwrite, "overwrite", false, "start afresh over an earlier run's --results file, keeping it as <results>.<timestamp>.bak")
	registerProgressEvery(fs, &f.progressEvery)
}

// outPaths are --results (else def) and --backup (else beside the
// results) with their placeholders filled in for target.
func (f *syncFlags) outPaths(def, target string, now time.Time) (resultsPath, backupPath string, err error) {
	vars := config.OutVars{Target: target, Now: now}
	resultsPath = def
	if f.resultsPath != "" {
		if resultsPath, err = config.ExpandOut(f.resultsPath, vars); err != nil {
			return "", "", usageErr("--results %v", err)
		}
	}
	backupPath = strings.TrimSuffix(resultsPath, ".csv") + ".backup.csv"
	if f.backupPath != "" {
		if backupPath, err = config.ExpandOut(f.backupPath, vars); err != nil {
			return "", "", usageErr("--backup %v", err)
		}
	}
	if sameFile(resultsPath, backupPath) || resultsPath == backupPath {
		return "", "", usageErr("--backup %s is the results file", backupPath)
	}
	return resultsPath, backupPath, nil
}

// resultsMode is what openRowResults needs of the flags.
func (f *syncFlags) resultsMode() resultsMode {
	return resultsMode{resume: f.resume, overwrite: f.overwrite, stateDir: f.lock.stateDir}
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
	case f.resume && f.overwrite:
		return usageErr("--resume and --overwrite do not go together: --resume continues the earlier apply, --overwrite starts afresh")
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
	t      reconcile.Target
	setup  *apiSetup // the limiter, for the switch and the report
	acct   reconcile.Account
	target string // ccm or webrtc
}

// connectSync connects to target with the shared wiring (connectTo) and
// makes its sync target: the webrtc one through the app's one adapter
// (appTarget), as import, offboard and export use it. Its errors are one
// sentence.
func (a *app) connectSync(target string, f *syncFlags) (*syncSetup, error) {
	setup, err := a.connectTo(target, &f.api)
	if err != nil {
		return nil, err
	}
	cfg := reconcile.Config{Workers: f.api.workers, MaxAttempts: f.api.maxAttempts, Logger: a.log}
	acct := reconcile.Account{Target: target, ID: f.api.settings.AccountKey(), BaseURL: setup.baseURL}
	if target == targetWebRTC {
		return &syncSetup{t: reconcile.NewWebRTC(a.appTarget(setup, &f.api), setup.limiter, acct, cfg),
			setup: setup, acct: acct, target: target}, nil
	}
	return &syncSetup{t: reconcile.NewCCM(setup.client, setup.limiter, acct, cfg), setup: setup, acct: acct, target: target}, nil
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
	// plan changes nothing and takes no run lock: its help does not offer
	// the lock flags, which it still accepts so that a script may pass
	// plan the flags it passes sync.
	for _, name := range []string{"no-lock", "wait-lock"} {
		_ = fs.MarkHidden(name)
	}
	return cmd
}

func (a *app) applyCommand() *cobra.Command {
	f := &syncFlags{}
	cmd := &cobra.Command{
		Use:   "apply PLAN.json",
		Short: "Carry out exactly the actions of a plan made by exoroster plan",
		Long: `Creates, updates and deletes exactly what the plan says, through the shared
rate limit, with a results line per action (row = the action's number).

Creates go through import's create-and-settle, deletions through offboard's
deletion sequence. Right before it changes or deletes a user it reads it again
(ccm: one GET per 50 users, by email or phone; webrtc: one GET per user) and
compares it with the plan's fingerprint: a user that changed since the plan is
stale and left untouched; one now on a call, or promoted to admin, is
protected. Each user is read again once. Deleted users' full records go to the
results line and, synced before their DELETEs, to a backup file that import
reads. An admin is deleted only under the account's admin lock, after a fresh
count of its admins. A plan older than --max-plan-age (24h), made for another
account, or whose guards tripped is refused before any request that changes
anything. The plan names its target: --target, if given, must agree.

An interrupted apply continues with --resume: writes already done are not
made again, and creates whose answer was lost are looked up first. Without
--resume an earlier run's results file is not replaced unless --overwrite.

Exit codes: 0 every action done or deliberately left alone; 3 some actions
invalid, conflict, stale, failed or skipped; 1 the plan was refused or the
run stopped; 2 usage; 130 interrupted.`,
		Example: `  exoroster apply plan.json --results applied.csv
  exoroster apply plan.json --results applied.csv --resume`,
		Args: onePlanArg,
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
the last one did. An earlier run's results file is never replaced by
accident: a nightly job gives --results a {date} path (applied-{date}.csv) or
passes --overwrite (the old file is kept as <results>.<timestamp>.bak).

Exit codes: as apply's; with --dry-run, as plan's (4: changes pending).`,
		Example: `  exoroster sync roster.csv --results 'applied-{date}.csv' --yes
  exoroster sync roster.csv --results applied.csv --overwrite --yes
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
	// results is sync's results file, opened before the listing; nil for
	// plan and sync --dry-run.
	results *openedResults
}

// close ends what makePlan started: the switch, the results file and the
// locks.
func (pl *planned) close() {
	pl.sw.Close()
	if pl.results != nil {
		pl.results.out.Close()
		pl.results.release()
	}
	pl.release()
}

// openResults opens sync's results file for the roster r, once the roster
// is read and before the account is listed, so a refusal costs no request.
type openResults func(r *reconcile.Roster, s *syncSetup) (*openedResults, error)

// makePlan reads the roster and the account and decides. open, when set,
// opens the results file first (sync). On success the caller owns what it
// started (pl.close).
func (a *app) makePlan(cmd *cobra.Command, input string, f *syncFlags, open openResults) (*planned, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	if sameFile(input, f.out) {
		return nil, usageErr("--out %s is the roster", f.out)
	}
	if _, err := a.resolveAPI(cmd, &f.api, &f.defaultRegion); err != nil {
		return nil, err
	}
	target, err := a.targetOf(&f.api)
	if err != nil {
		return nil, err
	}
	s, err := a.connectSync(target, f)
	if err != nil {
		return nil, err
	}
	settings, err := f.settings(s.t)
	if err != nil {
		return nil, err
	}
	r, err := reconcile.ReadRoster(input, func() (io.ReadCloser, error) { return os.Open(input) }, s.t,
		roster.Options{DefaultRegion: f.defaultRegion}, f.read.options(f.defaultRegion))
	if err != nil {
		return nil, rosterErr(err)
	}
	reportColumns(a.env.Stdout, input, r.Describe, r.Header)
	dir, err := statedir.Resolve(a.env.Getenv, f.lock.stateDir)
	if err != nil {
		return nil, abortErr(err)
	}
	// Only a sync that will apply holds the account: plan and a dry run
	// change nothing.
	release := func() {}
	if open != nil {
		if release, err = a.lockAccount(cmd.Context(), f.api.settings, f.lock); err != nil {
			return nil, err
		}
	}
	pl := &planned{s: s, release: release, stateDir: dir, sw: a.newSwitch(cmd.Context(), s.setup)}
	fail := func(err error) (*planned, error) {
		pl.close()
		return nil, err
	}
	if open != nil {
		if pl.results, err = open(r, s); err != nil {
			return fail(err)
		}
	}
	last, err := reconcile.LoadApplied(dir, s.acct)
	if err != nil {
		return fail(abortErr(err))
	}
	l, err := s.t.List(cmd.Context(), pl.sw)
	if err != nil {
		if errors.Is(err, reconcile.ErrInterrupted) || pl.sw.Interrupted() {
			err = &exitError{code: ExitInterrupted, err: reconcile.ErrInterrupted}
		} else {
			err = abortErr(err)
		}
		fail(err) // closes the switch and the lock
		// The listing was the run: a refused token or a server down ends it.
		return nil, a.recordRun(f.runMetrics(cmd, s.setup), nil, nil, err)
	}
	a.log.Info("listed the account", "users", len(l.Members), "requests", l.Requests)
	p := reconcile.Decide(r, l, s.t, settings, last, time.Now())
	pl.plan = p
	if err := p.WriteTable(a.env.Stdout, f.out); err != nil {
		return fail(abortErr(err))
	}
	for _, n := range p.Notes {
		fmt.Fprintf(a.env.Stderr, "note: %s\n", n)
	}
	if f.out != "" {
		if err := p.Save(f.out); err != nil {
			return fail(abortErr(err))
		}
		hint := fmt.Sprintf(" (apply with: exoroster apply %s)", shellQuote(f.out))
		if len(p.Guards.Tripped) > 0 || p.ChangesPending() == 0 {
			hint = ""
		}
		fmt.Fprintf(a.env.Stdout, "plan: %s%s\n", f.out, hint)
	}
	return pl, nil
}

// planExit is a plan's exit: a tripped guard 1, rows to fix 3, changes
// pending 4, else 0.
func planExit(w io.Writer, p *reconcile.Plan) error {
	if len(p.Guards.Tripped) > 0 {
		return abortErr(fmt.Errorf("the plan trips a guard, so apply and sync refuse it: %s", strings.Join(p.Guards.Tripped, "; and ")))
	}
	if n := p.NeedsFixing(); n > 0 {
		fmt.Fprintf(w, "exoroster: %d roster %s to fix (invalid or conflict); the other actions can be applied.\n", n, plural(n, "row", "rows"))
		return exitCodeOnly(ExitRowsNotDone)
	}
	if p.ChangesPending() > 0 {
		return exitCodeOnly(ExitChangesPending)
	}
	return nil
}

func (a *app) runPlan(cmd *cobra.Command, input string, f *syncFlags) error {
	pl, err := a.makePlan(cmd, input, f, nil)
	if err != nil {
		return err
	}
	pl.close()
	return a.recordRun(f.runMetrics(cmd, pl.s.setup), planCounts(pl.plan), nil, planExit(a.env.Stderr, pl.plan))
}

func (a *app) runSync(cmd *cobra.Command, input string, f *syncFlags) (exit error) {
	// Refused before any request: nobody could confirm here.
	if !f.dryRun && !f.yes && !a.env.Interactive {
		return usageErr("sync changes the account and there is no terminal to confirm on: " +
			"pass --yes to apply, or --dry-run to see the plan")
	}
	var open openResults
	var resultsPath, backupPath string
	if !f.dryRun {
		if _, err := a.resolveAPI(cmd, &f.api, &f.defaultRegion); err != nil {
			return err
		}
		target, err := a.targetOf(&f.api)
		if err != nil {
			return err
		}
		def, err := resultsPathFor(input, "", false)
		if err != nil {
			return err
		}
		if resultsPath, backupPath, err = f.outPaths(def, target, time.Now()); err != nil {
			return err
		}
		if sameFile(input, resultsPath) {
			return usageErr("--results %s is the input file", resultsPath)
		}
		open = func(r *reconcile.Roster, s *syncSetup) (*openedResults, error) {
			return a.openRowResults(cmd.Context(), f.resultsMode(), rowResults{
				command: "sync" + targetFlag(s.target), input: input, inputSHA: r.SHA256, exactInput: true,
				inputRows: len(r.Wants), path: resultsPath, layout: reconcile.Layout(r.Header.Names, s.t),
				keep: reconcile.KeepOnResume, noResume: true,
			})
		}
	}
	pl, err := a.makePlan(cmd, input, f, open)
	if err != nil {
		return err
	}
	defer pl.close()
	p := pl.plan
	applying := false // applyPlan's report writes the metrics of a sync that applies
	defer func() {
		if !applying {
			exit = a.recordRun(f.runMetrics(cmd, pl.s.setup), planCounts(p), nil, exit)
		}
	}()
	if f.dryRun {
		return planExit(a.env.Stderr, p)
	}
	if err := p.Refused(); err != nil {
		return abortErr(err)
	}
	if n := p.ChangesPending(); n > 0 && !f.yes {
		ok, err := confirm.Ask(a.env.Stderr, a.env.Stdin, pl.sw.Done(),
			fmt.Sprintf("Apply %d %s (%d create, %d update, %d delete) to %s? Type yes to continue: ",
				n, plural(n, "change", "changes"), p.Counts[reconcile.Create], p.Counts[reconcile.Update], p.Counts[reconcile.Delete], p.Account))
		switch {
		case err != nil && pl.sw.Stopping():
			return &exitError{code: ExitInterrupted, err: errors.New("interrupted; nothing was applied")}
		case err != nil:
			return abortErr(fmt.Errorf("nothing was applied: the confirmation could not be read: %w", err))
		case !ok:
			return abortErr(errors.New("nothing was applied: the confirmation was not given"))
		}
	}
	applying = true
	return a.applyPlan(cmd, pl, f, input, resultsPath, backupPath)
}

func (a *app) runApply(cmd *cobra.Command, planPath string, f *syncFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	p, planSHA, err := reconcile.Load(planPath)
	if err != nil {
		return abortErr(err)
	}
	// The plan names its target; a --target that disagrees is a mistake.
	if t := strings.ToLower(strings.TrimSpace(f.api.target)); t != "" && t != p.Account.Target {
		return usageErr("--target %s, but %s is a plan for the %s target", t, planPath, p.Account.Target)
	}
	resultsPath, backupPath, err := f.outPaths(strings.TrimSuffix(planPath, filepath.Ext(planPath))+".results.csv",
		p.Account.Target, time.Now())
	if err != nil {
		return err
	}
	if sameFile(planPath, resultsPath) {
		return usageErr("--results %s is the plan file", resultsPath)
	}
	if err := a.resolveForPlan(cmd, f, planPath, p.Account.Target); err != nil {
		return err
	}
	s, err := a.connectSync(p.Account.Target, f)
	if err != nil {
		return err
	}
	dir, err := statedir.Resolve(a.env.Getenv, f.lock.stateDir)
	if err != nil {
		return abortErr(err)
	}
	release, err := a.lockAccount(cmd.Context(), f.api.settings, f.lock)
	if err != nil {
		return err
	}
	pl := &planned{s: s, plan: p, release: release, stateDir: dir, sw: a.newSwitch(cmd.Context(), s.setup)}
	defer pl.close()
	last, err := reconcile.LoadApplied(dir, s.acct)
	if err != nil {
		return abortErr(err)
	}
	if err := p.CheckApply(s.acct, time.Now(), f.maxPlanAge, last); err != nil {
		return abortErr(err)
	}
	pl.results, err = a.openRowResults(cmd.Context(), f.resultsMode(), rowResults{
		command: "apply", input: planPath, inputSHA: planSHA, exactInput: true, inputRows: len(p.Actions),
		path: resultsPath, layout: reconcile.Layout(p.Roster.Header, s.t), keep: reconcile.KeepOnResume,
		check: func(prior *results.Prior) error {
			for row := range prior.Rows {
				if row > len(p.Actions) {
					return fmt.Errorf("%s belongs to another plan: it has row %d, the plan has %d actions", resultsPath, row, len(p.Actions))
				}
			}
			return nil
		},
	})
	if err != nil {
		return err
	}
	return a.applyPlan(cmd, pl, f, planPath, resultsPath, backupPath)
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

// applyPlan carries out pl's plan into its open results file and reports.
// input is the plan file (apply) or the roster (sync).
func (a *app) applyPlan(cmd *cobra.Command, pl *planned, f *syncFlags, input, resultsPath, backupPath string) error {
	p, t := pl.plan, pl.s.t
	cfg := reconcile.ApplyConfig{
		Workers:  f.api.workers,
		Progress: a.newProgress(cmd.Name(), f.progressEvery),
		Backup:   backupPath,
		Prior:    pl.results.prior,
	}
	if pl.s.target == targetCCM {
		// The lock offboard takes too: two runs deleting this account's
		// admins count them one after the other.
		cfg.LockAdmins = a.adminLocker(f.lock.stateDir, pl.s.acct.ID)
	}
	out := pl.results.out
	sum, runErr := reconcile.Apply(cmd.Context(), pl.sw, t, p, out, cfg)
	runErr = closeResults(runErr, out)
	report := rowReport{verb: cmd.Name(), noun: "actions", timed: true, sum: sum, setup: pl.s.setup, results: resultsPath,
		metrics: f.runMetrics(cmd, pl.s.setup),
		details: []string{"read again before writing: " + exportCount(sum.Lookups, "request")}}
	if sum.Counts[results.Deleted] > 0 {
		report.after = append(report.after, fmt.Sprintf("backup: %s (re-create with: exoroster import %s%s)",
			backupPath, shellQuote(backupPath), targetFlag(pl.s.target)))
	}
	if cmd.Name() == "apply" {
		report.rerun = rerunCommand("apply", input, resultsPath)
		report.interrupted = fmt.Sprintf("Interrupted. To continue where this apply stopped:\n  %s", report.rerun)
	} else {
		report.interrupted = "Interrupted; actions not yet done are recorded as skipped. Run the same sync again (with --overwrite, or another --results): its plan sees what this one did."
	}
	if runErr == nil && sum.Aborted == nil && !sum.Interrupted {
		// The roster is applied: the next plan's shrinkage guard compares
		// with it.
		if err := reconcile.SaveApplied(pl.stateDir, pl.s.acct, reconcile.AppliedOf(p, time.Now())); err != nil {
			a.warn(strings.TrimSuffix(sentence(err), ".") + "; the next plan's shrinkage guard compares with an older roster.")
		}
	}
	return a.finishRun(cmd.OutOrStdout(), report, runErr)
}
