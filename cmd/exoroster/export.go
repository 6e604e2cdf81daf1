package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/audit"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/metrics"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/webrtc"
)

type exportFlags struct {
	// lock is the account's run lock; profiles and allProfiles export
	// several named accounts at once (exportprofiles.go).
	lock        lockFlags
	profiles    []string
	allProfiles bool

	api           apiFlags
	out           string
	format        string
	emails        []string
	phones        []string
	emailsFrom    string
	defaultRegion string
	roles         []string
	inactiveDays  int
	summary       bool
	summaryJSON   string
	allowPartial  bool
	progressEvery time.Duration
	audit         exportAuditFlags
}

// exportSummaryBesideOut is --summary-json's value when given without one.
const exportSummaryBesideOut = "<out>.summary.json"

func (a *app) exportCommand() *cobra.Command {
	f := &exportFlags{}
	cmd := &cobra.Command{
		Use:   "export --out FILE",
		Short: "Write the account's users to a CSV (or JSON Lines) report, with an audit summary",
		Long: `Pages through the bulk GET, 50 users a request (the API's maximum), and writes
every user with their devices to --out, in account order. After the first page
gives the total, the other pages are fetched concurrently (--workers) under the
shared rate limit. A user returned twice because the account changed during the
export is written once; if the number of users seen differs from the API's
total, the run says so.

Filters:
  --email, --phone, --emails-from  ask the API for these users only (its email
                                   and devices.contact_uri filters, 50 values a
                                   request); phone numbers are normalised to
                                   E.164 first (--default-region for local ones).
  --role, --inactive-days          applied by exoroster after fetching: the API
                                   has no filter for them, so every user is
                                   still fetched. --inactive-days N keeps users
                                   who never logged in or last logged in at
                                   least N days (of 24 hours) ago.

The report:
  CSV columns are those import reads (first_name, last_name, email, role,
  device_contact_uri, device_name) plus user_id, verification, device, login and
  date columns that import passes over, so a report re-imports into another
  account as it is. A user's first device fills the device columns; other
  devices are listed in extra_devices as contact_uri;contact_uri.
  Spreadsheet safety: a cell starting with =, +, -, @, tab or CR gets a leading
  ' so a spreadsheet shows it as text instead of running it (import removes the
  ' again). E.164 numbers in device_contact_uri (+91...) are kept exactly.
  --format json writes JSON Lines: one object per user, the same fields, values
  exactly as the API gave them.
  The report is written to a hidden temporary file beside --out and renamed over
  it at the end: a failed or interrupted export leaves an existing report as it
  was. A new report is created like any file (0644 less the umask); a replaced
  one keeps its permissions. --out - writes to stdout instead.

Audit summary (counted from the same pass, no extra requests):
  users by role, admins, never logged in, inactive (never logged in, or last
  login at least N days ago, N = --inactive-days or else 90, the quarterly
  review), of those the ones who did log in, unverified devices (counted per
  device, and users with one), unverified emails (set but not verified), users
  without email, without device, and users seen against the API's total.
  "report" counts the users written, after --role and --inactive-days; when
  those are given, "fetched" counts every user fetched before them (the whole
  account unless --email/--phone/--emails-from narrowed it), so the account's
  admin count is always there.
  --summary prints it (to stdout; to stderr when --out is -).
  --summary-json writes it as JSON to <out>.summary.json, or to the file given
  as --summary-json=FILE (required when --out is -).

Audit of the report, from the records as they are written (no extra request):
  --against REPORT    compare with an earlier export (CSV or JSON Lines, read
                      before anything is fetched, so it may be --out itself).
                      The diff (added, removed, changed columns, and the
                      transitions role_escalation, device_became_unverified,
                      newly_inactive, first_login) goes to <out>.diff.csv, or
                      --diff-out FILE, in --diff-format csv or json, and its
                      counts are printed. A --against that is --out and does
                      not exist yet is a first run: nothing to compare.
  findings            too-many-admins (more than --max-admins, 3),
                      role-escalation, never-logged-in (created --stale-after
                      days ago, 30, and never logged in), unverified-device,
                      no-device: printed with the first users each names.
                      Inactive is the summary's: --inactive-days, else 90.
  --html FILE         a self-contained page: counts, charts, findings, diff.
  --metrics-file FILE Prometheus text for node_exporter's textfile collector:
                      the run's figures and the audit's counts.
  --fail-on RULE,...  exit 5 when a named rule (or any) found someone, once
                      every file is written; 3 (users missing) outweighs it.
  Each file is written to a temporary file and renamed, after the report.

A server is not trusted blindly: paging stops at the total the API states, or
when a page brings no user not already seen. If fewer users came back than the
total promised, by more than a live account explains (2 % of the total, at
most 50 users), the export stops without replacing the report; --allow-partial
writes what came back instead. A user record with a value of an unexpected
shape is exported with that value as it came, and the run says so. Temporary
files left by an export of the same report that was killed are removed.

Exit codes: 0 report written; 5 written and audited, and --fail-on found
someone; 1 credentials refused, the server unreachable
(a refused connection, TLS or an unknown host on the first request stops at
once), a page kept failing, users missing (without --allow-partial) or a file
could not be written (no report replaced); 2 wrong flags; 3 report written but
some users are missing (the API marked records as failed, or --allow-partial);
130 interrupted (no report replaced).

With --target webrtc the users of a WebRTC integrations app are exported, in
its columns (user_id, name, phone, sip_enabled, status, phone_device,
sip_device, created_at, updated_at), re-importable with import --target
webrtc, under the same rules: the temporary file, the formula guard, JSON with
the API's types, paging that stops at the total or a repeated page, and the
refusal of a partial report. The CCM filters and the audit summary do not
apply.

Named accounts (see 'exoroster config --help'): --profile NAME exports one;
--profiles a,b,c or --all-profiles exports several at once, each under its own
rate limit and run lock, and prints one line per account at the end; the exit
code is the worst of theirs, and an account that fails does not stop the
others. --out (and --summary-json) may hold {profile}, {target}, {date}
(2006-01-02) and {time} (150405), required to hold {profile} with several
accounts; a folder a template names is created.`,
		Example: `  exoroster export --out users.csv
  exoroster export --all-profiles --out 'reports/{profile}-{date}.csv'
  exoroster export --out admins.csv --role admin
  exoroster export --out stale.csv --inactive-days 90 --summary
  exoroster export --out some.csv --email a@x.com,b@x.com --phone 098765-43210
  exoroster export --out - --format json | jq .email
  exoroster export --out users.csv --against users.csv --html audit.html --metrics-file exoroster.prom --fail-on role-escalation`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 && f.summaryJSON == exportSummaryBesideOut {
				// pflag cannot tell "--summary-json FILE" from a bare flag
				// followed by an argument.
				return usageErr("unexpected argument %q: give --summary-json its file as --summary-json=FILE", args[0])
			}
			return noArgs(nil, args)
		},
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runExportCommand(cmd, f) },
	}
	fs := cmd.Flags()
	f.api.register(fs)
	f.api.registerTarget(fs)
	f.lock.registerAs(fs, stateDirHelpLocks)
	fs.StringSliceVar(&f.profiles, "profiles", nil, "export these named accounts of the config file at once (comma-separated); --out must hold {profile}")
	fs.BoolVar(&f.allProfiles, "all-profiles", false, "export every named account of the config file at once; --out must hold {profile}")
	fs.StringVar(&f.out, "out", "", "report file to write (required); - for stdout; may hold {profile}, {target}, {date} and {time}")
	fs.StringVar(&f.format, "format", string(exporter.FormatCSV), "csv, or json (JSON Lines, one user per line)")
	fs.StringSliceVar(&f.emails, "email", nil, "export only these users, by email (comma-separated, repeatable)")
	fs.StringSliceVar(&f.phones, "phone", nil, "export only these users, by device number (comma-separated, repeatable; local numbers read in --default-region)")
	fs.StringVar(&f.emailsFrom, "emails-from", "", "export only the users whose emails this file lists (one a line, or a CSV with an email column)")
	fs.StringVar(&f.defaultRegion, "default-region", roster.DefaultRegion, "country of --phone numbers written without +country code")
	fs.StringSliceVar(&f.roles, "role", nil, "keep only these roles: admin, supervisor, user or agent (applied after fetching: the API has no filter for it)")
	fs.IntVar(&f.inactiveDays, "inactive-days", 0, "keep only users who never logged in or not in this many days (applied after fetching: the API has no filter for it); also the inactivity threshold of the summary and the audit")
	fs.BoolVar(&f.summary, "summary", false, "print the audit summary")
	fs.StringVar(&f.summaryJSON, "summary-json", "", "also write the audit summary as JSON (bare flag: <out>.summary.json)")
	fs.Lookup("summary-json").NoOptDefVal = exportSummaryBesideOut
	fs.BoolVar(&f.allowPartial, "allow-partial", false, "write the report even when fewer users came back than the API's total promised (exit 3)")
	registerProgressEvery(fs, &f.progressEvery)
	f.audit.register(fs)
	return cmd
}

// exportOptions are the checked flags.
type exportOptions struct {
	target      string
	format      exporter.Format
	summaryPath string
	cfg         exporter.Config
	audit       *exportAuditPlan // nil: no audit asked for
}

// checkExport turns the flags into options, or a usage error (exit 2). An
// unreadable --emails-from file is exit 1, as for import's input.
func (a *app) checkExport(f *exportFlags) (*exportOptions, error) {
	if f.out == "" {
		return nil, usageErr("--out is required: a file name, or - for stdout")
	}
	if st, err := os.Stat(f.out); err == nil && st.IsDir() {
		return nil, usageErr("--out %s is a directory: give a file name", f.out)
	}
	format, err := exporter.ParseFormat(strings.ToLower(f.format))
	if err != nil {
		return nil, usageErr("--format: %v", err)
	}
	if f.inactiveDays < 0 {
		return nil, usageErr("--inactive-days %d: use 0 (no filter) or more", f.inactiveDays)
	}
	if err := roster.CheckRegion(f.defaultRegion); err != nil {
		return nil, usageErr("--default-region: %v", err)
	}
	if err := f.api.check(); err != nil {
		return nil, err
	}
	target, err := a.targetOf(&f.api)
	if err != nil {
		return nil, err
	}
	if target == targetWebRTC {
		if err := checkAppExport(f); err != nil {
			return nil, err
		}
	}
	o := &exportOptions{target: target, format: format, summaryPath: f.summaryJSON}
	switch {
	case f.summaryJSON == exportSummaryBesideOut && f.out == "-":
		return nil, usageErr("--summary-json needs a file name when --out is -: use --summary-json=FILE")
	case f.summaryJSON == exportSummaryBesideOut:
		o.summaryPath = f.out + ".summary.json"
	}
	if o.summaryPath != "" && o.summaryPath == f.out {
		return nil, usageErr("--summary-json %s is the report file", o.summaryPath)
	}
	if f.emailsFrom != "" {
		for _, w := range []struct{ flag, path string }{{"--out", f.out}, {"--summary-json", o.summaryPath}} {
			if w.path != "" && w.path != "-" && exportSameFile(w.path, f.emailsFrom) {
				return nil, usageErr("%s %s is the --emails-from list: the report would overwrite it; write it to another file", w.flag, w.path)
			}
		}
	}
	roles, err := exporter.CleanRoles(f.roles)
	if err != nil {
		return nil, usageErr("--role: %v", err)
	}
	emails, err := exporter.CleanEmails(f.emails)
	if err != nil {
		return nil, usageErr("--email: %v", err)
	}
	if f.emailsFrom != "" {
		more, err := exportReadEmails(f.emailsFrom)
		if err != nil {
			return nil, abortErr(err)
		}
		if len(more) == 0 {
			return nil, abortErr(fmt.Errorf("%s lists no email addresses", f.emailsFrom))
		}
		if emails, err = exporter.CleanEmails(append(emails, more...)); err != nil {
			return nil, abortErr(err)
		}
	}
	phones, err := exporter.CleanPhones(f.phones, f.defaultRegion)
	if err != nil {
		return nil, usageErr("--phone: %v", err)
	}
	o.cfg = exporter.Config{
		Workers:      f.api.workers,
		MaxAttempts:  f.api.maxAttempts,
		Emails:       emails,
		Phones:       phones,
		Roles:        roles,
		InactiveDays: f.inactiveDays,
		Logger:       a.log,
	}
	if o.audit, err = checkExportAudit(f, o.summaryPath); err != nil {
		return nil, err
	}
	return o, nil
}

// checkAppExport refuses the flags an export of a WebRTC app has no use
// for: the app's users have no email, role or login to filter by or audit.
func checkAppExport(f *exportFlags) error {
	for _, c := range []struct {
		flag string
		set  bool
	}{
		{"--email", len(f.emails) > 0}, {"--phone", len(f.phones) > 0}, {"--emails-from", f.emailsFrom != ""},
		{"--role", len(f.roles) > 0}, {"--inactive-days", f.inactiveDays > 0},
		{"--summary", f.summary}, {"--summary-json", f.summaryJSON != ""},
	} {
		if c.set {
			return usageErr("%s works on the ccm target only: the WebRTC app users API has no filters, and its users "+
				"no email, role or login to audit", c.flag)
		}
	}
	return nil
}

// exportSameFile reports whether a and b name one file: the same path
// (samePath), or the same file by another path (sameFile).
func exportSameFile(a, b string) bool { return samePath(a, b) || sameFile(a, b) }

func exportReadEmails(path string) ([]string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, exportPathErr(err))
	}
	defer fh.Close()
	emails, err := exporter.ReadEmails(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return emails, nil
}

func exportPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (a *app) runExport(cmd *cobra.Command, f *exportFlags) (exit error) {
	started := time.Now()
	o, err := a.checkExport(f)
	if err != nil {
		return err
	}
	// The report's columns are its target's. --against is read before
	// anything is fetched: it may be --out itself.
	columns := exporter.Columns()
	if o.target == targetWebRTC {
		columns = webrtc.Columns()
	}
	ea, err := openExportAudit(o.audit, f.out, o.format, columns)
	if err != nil {
		return err
	}
	setup, err := a.connectTo(o.target, &f.api)
	if err != nil {
		return err
	}
	// A run refused by another run's lock has not started: it writes no
	// metrics, as a run refused for its flags does not.
	release, err := a.lockAccount(cmd.Context(), f.api.settings, f.lock)
	if err != nil {
		return err
	}
	defer release()
	// The metrics are the run's last word, whatever its end.
	var sum *exporter.Summary
	var res *audit.Result
	defer func() {
		exit = a.recordRun(runMetrics{path: f.audit.metricsFile, command: "export", setup: setup}, exportRows(sum), metrics.AuditOf(res), exit)
	}()

	// The report goes to a temporary file that only a finished export puts
	// in place; stdout cannot be taken back, so it is written as it comes.
	toStdout := f.out == "-"
	status := a.env.Stdout // where the outcome and the summary go (a profile's own, in a multi-profile run)
	var dest io.Writer = a.env.Stdout
	var file *exporter.File
	if toStdout {
		status = a.env.Stderr
	} else {
		a.exportRemoveStaleTemps(started, f.out, o.summaryPath)
		if file, err = exporter.CreateFile(f.out); err != nil {
			return abortErr(err)
		}
		defer file.Abort()
		dest = file
	}
	o.cfg.Progress = a.newProgress("export", f.progressEvery)
	sw := a.newSwitch(cmd.Context(), setup)
	defer sw.Close()
	w := exporter.NewWriterFor(dest, o.format, columns)
	var runErr error
	if o.target == targetWebRTC {
		sum, runErr = exporter.RunList(sw, a.appTarget(setup, &f.api), setup.limiter, o.cfg, exportLineSink[exporter.Line](ea, w))
	} else {
		sum, runErr = exporter.New(setup.client, setup.limiter, o.cfg).Run(sw, ea.sink(w))
	}
	if runErr == nil && !sum.Interrupted {
		runErr = w.Flush()
	}
	switch {
	case sum != nil && sum.Interrupted:
		fmt.Fprintf(a.env.Stderr, "Interrupted after %d of %d users: %s\n", sum.Seen, sum.APITotal, exportUntouched(f.out))
		return exitCodeOnly(ExitInterrupted)
	case runErr != nil:
		if !toStdout {
			return abortErr(fmt.Errorf("%w (%s)", runErr, exportUntouched(f.out)))
		}
		return abortErr(runErr)
	case sum.Incomplete() && !f.allowPartial:
		return abortErr(fmt.Errorf("the API counted %d users but %d did not come back%s, more than a live account explains (%d): %s; export again, or pass --allow-partial to write the users that came back",
			sum.APITotal, sum.Missing, exportWhyMissing(sum), sum.Tolerance(), exportUntouched(f.out)))
	}

	// Both files are complete before either is put in place.
	var summaryFile *exporter.File
	if o.summaryPath != "" {
		if summaryFile, err = exporter.CreateFile(o.summaryPath); err != nil {
			return abortErr(err)
		}
		defer summaryFile.Abort()
		if err := sum.WriteJSON(summaryFile); err != nil {
			return abortErr(fmt.Errorf("cannot write %s: %w", o.summaryPath, err))
		}
	}
	if file != nil {
		if err := file.Commit(); err != nil {
			return abortErr(err)
		}
	}
	if summaryFile != nil {
		if err := summaryFile.Commit(); err != nil {
			return abortErr(err)
		}
	}

	where := f.out
	if toStdout {
		where = "stdout"
	}
	done := fmt.Sprintf("export finished in %v: %s written to %s (%s), %d fetched with %s",
		roundDuration(sum.Elapsed), exportCount(sum.Report.Users, "user"), where, o.format, sum.Seen, exportCount(sum.Requests, "request"))
	if n := setup.limiter.Stats().Throttled; n > 0 {
		// The rate line below says the pace was cut; this says why.
		done += fmt.Sprintf(" (%d answered 429)", n)
	}
	fmt.Fprintln(status, done)
	a.noteExportSummary(done, f.out, sum, setup)
	fmt.Fprintf(status, "rate: %s\n", setup.limiter.Stats().Describe())
	if f.summary {
		if err := sum.WriteText(status); err != nil {
			return abortErr(err)
		}
	}
	for _, n := range sum.Notes() {
		fmt.Fprintf(status, "note: %s.\n", n)
	}
	if o.summaryPath != "" {
		fmt.Fprintf(status, "summary: %s\n", o.summaryPath)
	}
	res, err = a.finishExportAudit(status, ea, sum, a.accountName(o.target, &f.api))
	if sum.RecordErrors > 0 || sum.Incomplete() {
		// Users missing from the report outweigh findings about those in it.
		if err != nil && runSucceeded(err) {
			fmt.Fprintf(a.env.Stderr, "exoroster: %s\n", sentence(err))
		}
		if err == nil || runSucceeded(err) {
			return exitCodeOnly(ExitRowsNotDone)
		}
	}
	return err
}

// exportWhyMissing says what the server did when it is known.
func exportWhyMissing(sum *exporter.Summary) string {
	switch {
	case sum.RepeatedPages > 0:
		return " (the server answered a page with users already seen)"
	case sum.Seen == 0:
		return " (the server answered with no users)"
	}
	return ""
}

// exportRemoveStaleTemps removes what exports of the same files killed
// earlier left behind. Failing to is not a reason to stop: it is logged.
func (a *app) exportRemoveStaleTemps(started time.Time, paths ...string) {
	for _, p := range paths {
		if p == "" {
			continue
		}
		removed, err := exporter.RemoveStaleTemps(p, started)
		for _, r := range removed {
			a.log.Info("removed a temporary file an earlier export left", "file", r)
		}
		if err != nil {
			a.log.Warn("old temporary files were left in place", "err", err)
		}
	}
}

// exportCount writes "1 user", "2 users".
func exportCount(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// exportUntouched says what became of the destination of a report that was not
// finished.
func exportUntouched(out string) string {
	switch out {
	case "-":
		return "what reached stdout is incomplete"
	}
	if _, err := os.Stat(out); err == nil {
		return out + " was left as it was"
	}
	return "no report was written"
}
