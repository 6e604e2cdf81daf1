package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/audit"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/htmlreport"
	"github.com/exoroster/exoroster/metrics"
)

// ExitFindings: --fail-on named a rule that found something. The run itself
// finished and wrote everything it was asked to.
const ExitFindings ExitCode = 5

type diffFlags struct {
	inactiveDays int
	format       string
	diffOut      string
	failOn       []string
	maxAdmins    int
	staleAfter   int
	html         string
	metricsFile  string
}

func (a *app) diffCommand() *cobra.Command {
	f := &diffFlags{}
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Compare two export reports: who was added, removed or changed, and the audit findings",
		Long: `Compares two reports that export wrote (CSV or JSON Lines, either target, in
any mix), keyed by user_id, with no API calls, and audits the newer one.

The diff:
  added, removed      users in only one report.
  changed             each column that differs, old → new: names, email, email
                      verification, role, phone, device verification and
                      availability (WebRTC: name, phone, sip_enabled, status,
                      phone_device, sip_device). Columns that change on their
                      own (last_login, active_call, device_id, device_status
                      and the dates) are not compared.
  transitions         role_escalation (became admin or supervisor, or was added
                      as one), device_became_unverified, newly_inactive (last
                      login crossed --inactive-days between the two reports),
                      first_login.
  Reports with different columns (an older version, a hand-edited file) are
  compared on the columns both have; the others are named as ignored. A file
  without a user_id column is not an export and is refused.
  A report's time is its <report>.summary.json's generated_at when export wrote
  one with it (export --summary-json), else the file's modification time;
  inactivity is measured at the NEW report's time.

Findings (rules, evaluated on NEW and the diff; each names its users):
  too-many-admins     more admins than --max-admins (default 3)
  role-escalation     anyone became admin or supervisor
  never-logged-in     never logged in, created --stale-after days ago or more
  unverified-device   a device with verified=false
  no-device           no device (WebRTC: no phone and SIP off)

Output: --format text (default) prints counts, tables and findings; csv writes
one line per change (change,user_id,name,email,phone,column,old,new); json the
whole audit. --diff-out FILE writes that to FILE instead (temp file, renamed)
and prints a short summary. --html FILE writes a self-contained page with
charts; --metrics-file FILE writes Prometheus text for node_exporter.

Exit codes: 0 compared (differences and findings included, unlike Unix diff);
5 with --fail-on, a named rule (or any, for --fail-on any) found something;
1 a file is unreadable or not an export, or an output cannot be written;
2 wrong flags or arguments.`,
		Example: `  exoroster diff last-week.csv today.csv
  exoroster diff old.jsonl new.csv --format csv --diff-out changes.csv
  exoroster diff old.csv new.csv --fail-on role-escalation,too-many-admins --html audit.html`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("want two export reports, OLD and NEW, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return a.runDiff(cmd, f, args[0], args[1]) },
	}
	fs := cmd.Flags()
	fs.IntVar(&f.inactiveDays, "inactive-days", audit.DefaultInactiveDays, "a user whose last login is this many days old or more is inactive")
	fs.StringVar(&f.format, "format", string(audit.OutputText), "text, csv or json")
	fs.StringVar(&f.diffOut, "diff-out", "", "write the diff (in --format) to this file instead of stdout")
	fs.StringSliceVar(&f.failOn, "fail-on", nil, "exit 5 when these rules find something: any, or "+strings.Join(ruleNames(), ","))
	fs.IntVar(&f.maxAdmins, "max-admins", audit.DefaultMaxAdmins, "more admins than this is a finding")
	fs.IntVar(&f.staleAfter, "stale-after", audit.DefaultStaleAfter, "a user who never logged in, created this many days ago or more, is a finding")
	fs.StringVar(&f.html, "html", "", "also write the audit as a self-contained HTML page to this file")
	registerMetricsFile(fs, &f.metricsFile)
	return cmd
}

func ruleNames() []string {
	var out []string
	for _, r := range audit.Rules() {
		out = append(out, string(r))
	}
	return out
}

// auditOutputs says where an audit goes once it is made: the diff
// command's, and export's with --against, --html, --metrics-file and
// --fail-on (export passes its own --diff-out, its account and full=false).
type auditOutputs struct {
	format  audit.OutputFormat
	diffOut string // the diff in format to this file; "" prints it
	html    string
	failOn  audit.FailOn
	account string // shown on the HTML page
	// full prints the whole text report on stdout when diffOut is ""
	// (diff); else only the summary lines (export, whose stdout is its
	// own summary).
	full bool
}

type diffOptions struct {
	out   auditOutputs
	audit audit.Options // Now is set from NEW
}

// checkDiff turns the flags into options, or a usage error (exit 2).
func checkDiff(f *diffFlags, oldPath, newPath string) (*diffOptions, error) {
	format, err := audit.ParseOutputFormat(f.format)
	if err != nil {
		return nil, usageErr("--format: %v", err)
	}
	failOn, err := audit.ParseFailOn(f.failOn)
	if err != nil {
		return nil, usageErr("--fail-on: %v", err)
	}
	switch {
	case f.inactiveDays < 1:
		return nil, usageErr("--inactive-days %d: use 1 or more", f.inactiveDays)
	case f.maxAdmins < 0:
		return nil, usageErr("--max-admins %d: use 0 or more", f.maxAdmins)
	case f.staleAfter < 0:
		return nil, usageErr("--stale-after %d: use 0 or more", f.staleAfter)
	}
	if err := checkAuditPaths([]string{oldPath, newPath},
		[2]string{"--diff-out", f.diffOut}, [2]string{"--html", f.html}, [2]string{"--metrics-file", f.metricsFile}); err != nil {
		return nil, err
	}
	return &diffOptions{
		out:   auditOutputs{format: format, diffOut: f.diffOut, html: f.html, failOn: failOn, full: true},
		audit: audit.Options{InactiveDays: f.inactiveDays, MaxAdmins: f.maxAdmins, StaleAfter: f.staleAfter},
	}, nil
}

// checkAuditPaths refuses an output over an input (it would destroy the
// report it was made from) and two outputs in one file (only the last
// would be left). outputs are flag name and path pairs; "" is not given.
func checkAuditPaths(inputs []string, outputs ...[2]string) error {
	for i, out := range outputs {
		if out[1] == "" {
			continue
		}
		for _, in := range inputs {
			if samePath(out[1], in) {
				return usageErr("%s %s is one of the reports being compared", out[0], out[1])
			}
		}
		for _, other := range outputs[i+1:] {
			if other[1] != "" && samePath(out[1], other[1]) {
				return usageErr("%s and %s name the same file, %s", out[0], other[0], out[1])
			}
		}
	}
	return nil
}

// samePath reports whether a and b are one path, whether or not a file is
// there yet (an output about to be written).
func samePath(a, b string) bool {
	aa, err1 := filepath.Abs(a)
	bb, err2 := filepath.Abs(b)
	return err1 == nil && err2 == nil && aa == bb
}

func (a *app) runDiff(cmd *cobra.Command, f *diffFlags, oldPath, newPath string) error {
	o, err := checkDiff(f, oldPath, newPath)
	if err != nil {
		return err
	}
	res, err := a.diff(cmd.OutOrStdout(), o, oldPath, newPath)
	return a.recordRun(runMetrics{path: f.metricsFile, command: "diff"}, nil, metrics.AuditOf(res), err)
}

// diff reads and compares; res is nil when it got no audit.
func (a *app) diff(stdout io.Writer, o *diffOptions, oldPath, newPath string) (*audit.Result, error) {
	old, err := audit.ReadFile(oldPath)
	if err != nil {
		return nil, abortErr(err)
	}
	cur, err := audit.ReadFile(newPath)
	if err != nil {
		return nil, abortErr(err)
	}
	o.audit.Now = cur.Taken
	if o.audit.Now.IsZero() {
		o.audit.Now = time.Now()
	}
	res, err := audit.Run(old, cur, o.audit)
	if err != nil {
		return nil, abortErr(err)
	}
	return res, a.writeAudit(stdout, res, o.out)
}

// writeAudit puts an audit where o says: the diff to stdout or --diff-out,
// the HTML page, notes about --fail-on rules that cannot fire, and last the
// --fail-on verdict (ExitFindings) once everything is written.
func (a *app) writeAudit(stdout io.Writer, res *audit.Result, o auditOutputs) error {
	switch {
	case o.diffOut != "":
		if err := writeAtomically(o.diffOut, func(w io.Writer) error { return audit.Write(w, res, o.format) }); err != nil {
			return abortErr(err)
		}
		if err := audit.WriteSummary(stdout, res); err != nil {
			return abortErr(err)
		}
		fmt.Fprintf(stdout, "diff: %s\n", o.diffOut)
	case !o.full:
		if err := audit.WriteSummary(stdout, res); err != nil {
			return abortErr(err)
		}
	default:
		if err := audit.Write(stdout, res, o.format); err != nil {
			return abortErr(err)
		}
		if o.format == audit.OutputCSV {
			// The CSV holds the diff only: say the findings where a
			// person sees them, away from the data.
			if err := audit.WriteSummary(a.env.Stderr, res); err != nil {
				return abortErr(err)
			}
		}
	}
	if o.html != "" {
		in := htmlreport.Input{Account: o.account, Generator: "exoroster " + version, Result: res}
		if err := htmlreport.WriteFile(o.html, in); err != nil {
			return abortErr(err)
		}
	}
	for _, s := range o.failOn.Unchecked(res) {
		fmt.Fprintf(a.env.Stderr, "note: --fail-on %s can never fire on these reports: %s.\n", s.Rule, s.Reason)
	}
	if tripped := o.failOn.Tripped(res.Findings); len(tripped) > 0 {
		var parts []string
		for _, t := range tripped {
			parts = append(parts, fmt.Sprintf("%s (%s)", t.Rule, exportCount(len(t.Users), "user")))
		}
		return &exitError{code: ExitFindings, err: fmt.Errorf("--fail-on: %s", strings.Join(parts, ", "))}
	}
	return nil
}

// writeAtomically writes a file through a temporary file renamed over it.
func writeAtomically(path string, write func(io.Writer) error) error {
	file, err := exporter.CreateFile(path)
	if err != nil {
		return err
	}
	defer file.Abort()
	if err := write(file); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return file.Commit()
}
