package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/config"
	"github.com/exoroster/exoroster/exporter"
)

// runExportCommand works out which account to export, or with --profiles
// or --all-profiles which accounts, fills the --out template for each and
// exports each by runExport, the one export path.
func (a *app) runExportCommand(cmd *cobra.Command, f *exportFlags) error {
	now := time.Now()
	// The flags themselves first: a flag at its zero value reads as unset
	// to the resolution, so --workers 0 must be refused before it.
	if err := f.api.check(); err != nil {
		return err
	}
	if err := f.lock.check(); err != nil {
		return err
	}
	if len(f.profiles) > 0 || f.allProfiles {
		return a.runExportProfiles(cmd, f, now)
	}
	s, err := a.resolveAPI(cmd, &f.api, &f.defaultRegion)
	if err != nil {
		return err
	}
	if err := f.expandPaths(config.OutVars{Profile: s.Profile.V, Target: s.Target.V, Now: now}); err != nil {
		return err
	}
	return a.runExport(cmd, f)
}

// runExportProfiles exports every named account at once, each on its own
// copy of the flags and of the app (its own limiter, lock, logger and
// prefixed output), then prints one line per account. The exit code is the
// worst of theirs.
func (a *app) runExportProfiles(cmd *cobra.Command, f *exportFlags, now time.Time) error {
	all, err := config.ResolveProfiles(a.settingsInput(cmd.Flags()), f.profiles, f.allProfiles)
	if err != nil {
		return settingsErr(err)
	}
	for _, t := range f.pathTemplates() {
		if *t.value == "" && t.flag != "out" {
			continue // not asked for
		}
		if err := config.CheckOutTemplate(t.flag, *t.value, len(all)); err != nil {
			return settingsErr(err)
		}
	}
	outcomes, code := runEachProfile(cmd.Context(), all, func(_ context.Context, s *config.Settings) (ExitCode, string) {
		sub, out := a.forProfile(s)
		defer out.flush()
		one := *f
		sub.useSettings(s, &one.api, &one.defaultRegion)
		err := one.expandPaths(config.OutVars{Profile: s.Profile.V, Target: s.Target.V, Now: now})
		if err == nil {
			err = sub.explainCredentials(sub.runExport(cmd, &one))
		}
		code := reportExit(sub.env.Stderr, err)
		sub.logEnd(code, err)
		return code, sub.profileOutcome(code, err)
	})
	printProfileOutcomes(a.env.Stdout, outcomes)
	exits := make([]any, 0, len(outcomes))
	for _, o := range outcomes {
		exits = append(exits, slog.Int(o.profile, int(o.code)))
	}
	a.noteSummary(slog.Int("accounts", len(outcomes)), slog.Group("exits", exits...))
	if code != ExitOK {
		return exitCodeOnly(code)
	}
	return nil
}

// profileOutcome is a profile's line in the table: what its export did, or
// why it stopped.
func (a *app) profileOutcome(code ExitCode, err error) string {
	var ee *exitError
	switch {
	case errors.As(err, &ee) && ee.err != nil:
		return sentence(ee.err)
	case err != nil && ee == nil:
		return sentence(err)
	case a.info.outcome != "":
		return a.info.outcome
	case code == ExitInterrupted:
		return "interrupted: no report replaced"
	}
	return "export stopped"
}

// forProfile is a copy of the app for one account of a multi-profile run:
// its output lines carry the profile's name, its log lines name the
// account, and it draws no progress bar (several would fight over one
// line) nor asks anything.
func (a *app) forProfile(s *config.Settings) (*app, *prefixWriters) {
	sub := *a
	out := newPrefixWriters(a.env.Stdout, a.env.Stderr, "["+s.Profile.V+"] ")
	sub.env.Stdout, sub.env.Stderr = out.stdout, out.stderr
	sub.env.IsTerminal, sub.env.Interactive = false, false
	sub.info.summary, sub.info.outcome = nil, ""
	sub.log = sub.newLogger(s.Account())
	return &sub, out
}

// templatePath is a flag whose value may be an --out-style template.
type templatePath struct {
	flag  string
	value *string
}

// pathTemplates are export's flags that name files to write and take the
// {profile}, {target}, {date} and {time} placeholders.
func (f *exportFlags) pathTemplates() []templatePath {
	paths := []templatePath{{"out", &f.out}}
	if f.summaryJSON != exportSummaryBesideOut {
		paths = append(paths, templatePath{"summary-json", &f.summaryJSON})
	}
	return append(paths, templatePath{"against", &f.audit.against}, templatePath{"diff-out", &f.audit.diffOut},
		templatePath{"html", &f.audit.html}, templatePath{"metrics-file", &f.audit.metricsFile})
}

// expandPaths fills the placeholders of every path flag and creates the
// folder of each file export writes (reports/{date}/, or /data/reports/ on
// a fresh volume): a scheduled run must not fail on its first night for
// want of it. --against is read, not written: its folder is left alone.
func (f *exportFlags) expandPaths(v config.OutVars) error {
	for _, t := range f.pathTemplates() {
		if *t.value == "" || *t.value == "-" {
			continue
		}
		path, err := config.ExpandOut(*t.value, v)
		if err != nil {
			return usageErr("--%s %v", t.flag, err)
		}
		if t.flag != "against" {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return abortErr(fmt.Errorf("--%s %s: %w", t.flag, path, exportPathErr(err)))
			}
		}
		*t.value = path
	}
	return nil
}

// noteExportSummary records an export's outcome for the end-of-run line
// and a multi-profile table.
func (a *app) noteExportSummary(done, out string, sum *exporter.Summary, setup *apiSetup) {
	a.noteOutcome(done)
	st := setup.limiter.Stats()
	a.noteSummary(slog.Int("users", sum.Report.Users), slog.Int("fetched", sum.Seen), slog.Int("api_total", sum.APITotal),
		slog.Int("requests", st.Requests), slog.Int("throttled", st.Throttled), slog.String("out", out))
}
