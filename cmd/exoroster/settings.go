package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/exoroster/exoroster/config"
	"github.com/exoroster/exoroster/runlog"
)

// runInfo is what a run's log lines share, and what its last line says.
type runInfo struct {
	format  runlog.Format
	level   slog.Level
	id      string // run_id: ties the run's lines together (and a multi-profile run's accounts)
	command string // "export", "config show"
	started time.Time
	out     io.Writer // where log lines go: stderr, never a profile's prefixed copy
	// summary holds the command's figures for the end-of-run line (rows,
	// counts, requests, the results file); empty for a run that stopped
	// before it had any.
	summary []slog.Attr
	// outcome is one line of what the run did, for a multi-profile run's
	// table ("export finished in 2s: 120 users written to …").
	outcome string
	// settings are the run's resolved settings, once resolved.
	settings *config.Settings
}

// registerRootFlags adds the flags every command takes: the config file and
// named account, and the log's format.
func (a *app) registerRootFlags(fs *pflag.FlagSet) {
	a.profile.register(fs)
	fs.StringVar(&a.logFormat, "log-format", string(runlog.FormatText),
		"log lines on stderr as text or json (one object a line, each with run_id, command and account; at info level unless --log-level is given)")
}

// setupLogging builds the run's logger from --log-level and --log-format.
// Until the settings are resolved (useSettings) it names no account.
func (a *app) setupLogging(cmd *cobra.Command) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return usageErr("--log-level %q: use debug, info, warn or error", a.logLevel)
	}
	format, err := runlog.ParseFormat(a.logFormat)
	if err != nil {
		return usageErr("--log-format %q: use text or json", a.logFormat)
	}
	// JSON lines go to a collector, which wants each run's end-of-run line
	// (info); a terminal wants only what went wrong.
	if f := cmd.Flags().Lookup("log-level"); format == runlog.FormatJSON && (f == nil || !f.Changed) {
		level = slog.LevelInfo
	}
	now := time.Now()
	a.info = runInfo{format: format, level: level, id: runlog.NewRunID(now), command: commandName(cmd), started: now, out: a.env.Stderr}
	a.log = a.newLogger("")
	return nil
}

// commandName is the command as typed after "exoroster": "export", "config show".
func commandName(cmd *cobra.Command) string {
	path := cmd.CommandPath()
	if root := cmd.Root(); root != nil {
		path = strings.TrimPrefix(strings.TrimPrefix(path, root.Name()), " ")
	}
	return path
}

// newLogger is the run's logger, every line tagged with account (a
// profile's name or an account id, never a secret).
func (a *app) newLogger(account string) *slog.Logger {
	return runlog.New(a.info.out, runlog.Options{Format: a.info.format, Level: a.info.level,
		RunID: a.info.id, Command: a.info.command, Account: account})
}

// noteSummary adds the command's figures to the end-of-run line.
func (a *app) noteSummary(attrs ...slog.Attr) {
	a.info.summary = append(a.info.summary, attrs...)
}

// noteOutcome records the run's one-line outcome, for a multi-profile table.
func (a *app) noteOutcome(line string) { a.info.outcome = line }

// logEnd writes the end-of-run line: one structured line (info) with the
// exit code, how long the run took, why it stopped and the command's figures.
func (a *app) logEnd(code ExitCode, err error) {
	if a.log == nil {
		return // the flags were never parsed: cobra said what was wrong
	}
	attrs := []slog.Attr{
		slog.Int("exit", int(code)),
		slog.Float64("elapsed_seconds", float64(time.Since(a.info.started).Milliseconds())/1000),
	}
	var ee *exitError
	if errors.As(err, &ee) && ee.err != nil {
		attrs = append(attrs, slog.String("error", sentence(ee.err)))
	} else if err != nil && !errors.As(err, &ee) {
		attrs = append(attrs, slog.String("error", sentence(err)))
	}
	attrs = append(attrs, a.info.summary...)
	a.log.LogAttrs(context.Background(), slog.LevelInfo, "run finished", attrs...)
}

// countsAttr is a count per status as one group, keys in name order.
func countsAttr[K ~string](key string, counts map[K]int) slog.Attr {
	keys := make([]string, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			keys = append(keys, string(k))
		}
	}
	sort.Strings(keys)
	attrs := make([]any, 0, len(keys))
	for _, k := range keys {
		attrs = append(attrs, slog.Int(k, counts[K(k)]))
	}
	return slog.Group(key, attrs...)
}

// resolveAPI works out the run's settings (flags > environment > profile >
// defaults) and writes them into f and defaultRegion (nil for a command
// without one), so the rest of the run reads its flags as it always has.
// From here on every log line names the account.
func (a *app) resolveAPI(cmd *cobra.Command, f *apiFlags, defaultRegion *string) (*config.Settings, error) {
	// A wrong --target or EXOTEL_TARGET is a usage error, as it always was.
	if _, err := a.pickTarget(changedValue(cmd.Flags(), "target")); err != nil {
		return nil, err
	}
	s, err := a.resolveSettings(cmd.Flags())
	if err != nil {
		return nil, err
	}
	a.useSettings(s, f, defaultRegion)
	return s, nil
}

// useSettings makes s the run's settings, and names its account in the
// run's log lines.
func (a *app) useSettings(s *config.Settings, f *apiFlags, defaultRegion *string) {
	applySettings(s, f, defaultRegion)
	a.info.settings = s
	a.log = a.newLogger(s.Account())
}

// applySettings writes s into the flags the run reads.
func applySettings(s *config.Settings, f *apiFlags, defaultRegion *string) {
	if f != nil {
		f.settings = s
		f.target = s.Target.V
		f.rate = s.Rate.V
		f.workers = s.Workers.V
		f.customerID, f.appID = s.CustomerID.V, s.AppID.V
	}
	if defaultRegion != nil {
		*defaultRegion = s.DefaultRegion.V
	}
}

// changedValue is the value of flag name when the user gave it, else "".
func changedValue(fs *pflag.FlagSet, name string) string {
	if f := fs.Lookup(name); f != nil && f.Changed {
		return f.Value.String()
	}
	return ""
}

// warnAll prints warnings (a token file others can read) once each.
func (a *app) warnAll(warnings []string) {
	for _, w := range warnings {
		a.warn(w + ".")
	}
}

// warn prints one warning, a sentence, for the person at the terminal and,
// with --log-format json, logs it too: a collector reads only the JSON
// lines.
func (a *app) warn(sentence string) {
	fmt.Fprintf(a.env.Stderr, "exoroster: warning: %s\n", sentence)
	if a.info.format == runlog.FormatJSON {
		a.log.Warn(strings.TrimSuffix(sentence, "."))
	}
}

// noteRowSummary puts a row command's figures on the end-of-run line.
func (a *app) noteRowSummary(r rowReport) {
	a.noteSummary(slog.Int("rows", r.sum.Rows), countsAttr("counts", r.sum.Counts))
	if r.setup != nil {
		st := r.setup.limiter.Stats()
		a.noteSummary(slog.Int("requests", st.Requests), slog.Int("throttled", st.Throttled))
	}
	a.noteSummary(slog.String("results", r.results))
}

// The hints a stopped run's sentence ends with (exotel.ExplainAuth,
// webrtc.ExplainAuth, exotel's misconfiguration fixes): right when the
// setting came from those flags and variables.
const (
	ccmAuthHint    = "check EXOTEL_API_KEY and EXOTEL_API_TOKEN"
	webrtcAuthHint = "check EXOTEL_WEBRTC_TOKEN, EXOTEL_CUSTOMER_ID and EXOTEL_APP_ID"
	baseURLHint    = "--base-url or EXOTEL_BASE_URL"
)

// explainCredentials points a stopped run at where its credentials or host
// came from when that was a profile or a token file rather than the flags
// and variables the API packages name.
func (a *app) explainCredentials(err error) error {
	s := a.info.settings
	var ee *exitError
	if s == nil || !errors.As(err, &ee) || ee.err == nil {
		return err
	}
	msg := ee.err.Error()
	if s.Profile.Set() || s.Token.File != "" {
		token := "the token (" + s.Token.Describe()
		if s.Token.Env == "" || s.Token.From.Kind != config.FromEnv {
			token += ", named by " + s.Token.From.String()
		}
		token += ")"
		msg = strings.Replace(msg, ccmAuthHint, "check the API key ("+s.APIKey.From.String()+") and "+token, 1)
		msg = strings.Replace(msg, webrtcAuthHint, "check "+token+", the customer id ("+s.CustomerID.From.String()+
			") and the app id ("+s.AppID.From.String()+")", 1)
	}
	if s.BaseURL.From.Kind == config.FromProfile {
		msg = strings.Replace(msg, baseURLHint, "the base_url of "+s.BaseURL.From.String(), 1)
	}
	if msg == ee.err.Error() {
		return err
	}
	return &exitError{code: ee.code, err: errors.New(msg)}
}
