package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/spf13/pflag"

	"github.com/exoroster/exoroster/audit"
	"github.com/exoroster/exoroster/exporter"
)

// exportAuditFlags audit the report an export has just written: compare it
// with an earlier one, write the diff and an HTML page, fail on findings,
// write metrics. None of it sends a request: the audit reads the records
// as they are written.
type exportAuditFlags struct {
	against     string
	diffOut     string
	diffFormat  string
	html        string
	metricsFile string
	failOn      []string
	maxAdmins   int
	staleAfter  int
}

func (f *exportAuditFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.against, "against", "", "compare the new report with this earlier export `REPORT` (CSV or JSON Lines; may be the --out file itself, read before it is replaced)")
	fs.StringVar(&f.diffOut, "diff-out", "", "with --against, write the diff to `FILE` (default <out>.diff.csv, or <out>.diff.json)")
	fs.StringVar(&f.diffFormat, "diff-format", string(audit.OutputCSV), "the diff file's format: csv (one line per change) or json (the whole audit)")
	fs.StringVar(&f.html, "html", "", "also write the audit as a self-contained HTML page to `FILE`")
	registerMetricsFile(fs, &f.metricsFile)
	fs.StringSliceVar(&f.failOn, "fail-on", nil, "exit 5 when these rules find someone: any, or "+strings.Join(ruleNames(), ","))
	fs.IntVar(&f.maxAdmins, "max-admins", audit.DefaultMaxAdmins, "more admins than this is a finding")
	fs.IntVar(&f.staleAfter, "stale-after", audit.DefaultStaleAfter, "a user who never logged in, created this many days ago or more, is a finding")
}

// exportAuditPlan is the checked audit flags; nil when nothing asks for an
// audit.
type exportAuditPlan struct {
	against     string
	out         auditOutputs
	metricsFile string
	maxAdmins   int
	staleAfter  int
}

// checkExportAudit checks the audit flags against export's own files; its
// errors are usage errors (exit 2).
func checkExportAudit(f *exportFlags, summaryPath string) (*exportAuditPlan, error) {
	af := &f.audit
	format, err := audit.ParseOutputFormat(af.diffFormat)
	if err != nil || format == audit.OutputText {
		return nil, usageErr("--diff-format %q: use csv or json", af.diffFormat)
	}
	failOn, err := audit.ParseFailOn(af.failOn)
	if err != nil {
		return nil, usageErr("--fail-on: %v", err)
	}
	switch {
	case af.maxAdmins < 0:
		return nil, usageErr("--max-admins %d: use 0 or more", af.maxAdmins)
	case af.staleAfter < 0:
		return nil, usageErr("--stale-after %d: use 0 or more", af.staleAfter)
	case af.against == "" && af.diffOut != "":
		return nil, usageErr("--diff-out needs --against: there is no diff without an earlier report")
	case af.against == "" && format != audit.OutputCSV:
		return nil, usageErr("--diff-format needs --against: there is no diff without an earlier report")
	}
	diffOut := af.diffOut
	if af.against != "" && diffOut == "" && f.out != "-" {
		diffOut = f.out + ".diff." + string(format)
	}
	// --against may be --out (yesterday's report, replaced by today's), but
	// no other output may overwrite it, and no two outputs may share a file.
	out := f.out
	if out == "-" {
		out = ""
	}
	outputs := [][2]string{{"--diff-out", diffOut}, {"--html", af.html}, {"--metrics-file", af.metricsFile}, {"--summary-json", summaryPath}}
	var inputs []string
	for _, in := range []string{af.against, f.emailsFrom} {
		if in != "" {
			inputs = append(inputs, in)
		}
	}
	if err := checkAuditPaths(inputs, outputs...); err != nil {
		return nil, err
	}
	if err := checkAuditPaths(nil, append(outputs, [2]string{"--out", out})...); err != nil {
		return nil, err
	}
	if af.against == "" && af.html == "" && af.metricsFile == "" && !failOn.Set() {
		return nil, nil
	}
	return &exportAuditPlan{
		against:     af.against,
		out:         auditOutputs{format: format, diffOut: diffOut, html: af.html, failOn: failOn},
		metricsFile: af.metricsFile,
		maxAdmins:   af.maxAdmins,
		staleAfter:  af.staleAfter,
	}, nil
}

// exportAudit is an audit under way: the earlier report, read before the
// run, and the new one, filled by the tee as export writes it.
type exportAudit struct {
	plan *exportAuditPlan
	old  *audit.Report // nil without --against, or on the first run of a rolling report
	cur  *audit.Report
	// firstRun: --against names --out, which does not exist yet.
	firstRun bool
}

// openExportAudit reads --against and starts the report the tee fills,
// in export's format and with the columns it writes (its target's). It runs
// before any request: an unreadable --against, or one of the other target,
// stops the run at once (exit 1). nil when no audit is asked for.
func openExportAudit(p *exportAuditPlan, out string, format exporter.Format, columns []string) (*exportAudit, error) {
	if p == nil {
		return nil, nil
	}
	name := out
	if name == "-" {
		name = "(this export)"
	}
	cur, err := audit.NewReport(name, columns)
	if err != nil {
		return nil, abortErr(err)
	}
	if format == exporter.FormatJSON {
		cur.Format = audit.FormatJSONLines
	}
	ea := &exportAudit{plan: p, cur: cur}
	if p.against == "" {
		return ea, nil
	}
	old, err := audit.ReadFile(p.against)
	switch {
	case err != nil && out != "-" && errors.Is(err, fs.ErrNotExist) && exportSameFile(p.against, out):
		// A rolling report's first run: nothing to compare with yet.
		ea.firstRun = true
		return ea, nil
	case err != nil:
		return nil, abortErr(fmt.Errorf("--against: %w", err))
	}
	if err := audit.Comparable(old, cur); err != nil {
		return nil, abortErr(fmt.Errorf("--against: %w", err))
	}
	if out != "-" && exportSameFile(p.against, out) {
		old.Name += " (before this export)"
	}
	ea.old = old
	return ea, nil
}

// sink is what export writes its records to: w, and the audit's report.
func (ea *exportAudit) sink(w *exporter.Writer) exporter.Sink {
	if ea == nil {
		return w
	}
	return audit.Tee[exporter.Record](w, ea.cur)
}

// exportLineSink is sink for a target whose report writer takes lines
// (exporter.LineSink, L = exporter.Line): the WebRTC target's export.
func exportLineSink[L any](ea *exportAudit, w interface{ WriteLine(L) error }) interface{ WriteLine(L) error } {
	if ea == nil {
		return w
	}
	return audit.TeeLines[L](w, ea.cur)
}

// finishExportAudit audits the report export has written and committed:
// the diff against --against, the findings, the diff file and the HTML
// page, the counts and findings on status. It returns the audit (nil when
// none was made) and ExitFindings when a --fail-on rule found someone,
// after everything is written.
func (a *app) finishExportAudit(status io.Writer, ea *exportAudit, sum *exporter.Summary, account string) (*audit.Result, error) {
	if ea == nil {
		return nil, nil
	}
	if ea.firstRun {
		fmt.Fprintf(status, "note: %s does not exist yet, so there is nothing to compare with; the next export compares with this one.\n", ea.plan.against)
	}
	days := sum.InactiveDays
	if days < 1 {
		days = audit.DefaultInactiveDays
	}
	ea.cur.Taken = sum.GeneratedAt
	opts := audit.Options{Now: sum.GeneratedAt, InactiveDays: days, MaxAdmins: ea.plan.maxAdmins, StaleAfter: ea.plan.staleAfter}
	res, err := audit.Run(ea.old, ea.cur, opts)
	if err != nil {
		return nil, abortErr(fmt.Errorf("the report was written, but its audit failed: %w", err))
	}
	o := ea.plan.out
	o.account = account
	err = a.writeAudit(status, res, o)
	if o.html != "" && runSucceeded(err) {
		fmt.Fprintf(status, "html: %s\n", o.html)
	}
	return res, err
}

// exportRows are an export's users by what became of them, as its
// metrics' rows.
func exportRows(sum *exporter.Summary) map[string]int {
	if sum == nil {
		return nil
	}
	filtered := max(sum.Fetched.Users-sum.Report.Users, 0)
	return map[string]int{
		string(exporter.Exported):    sum.Report.Users,
		string(exporter.FilteredOut): filtered,
		"failed":                     sum.RecordErrors, // marked as failed by the API: not in the report
		"missing":                    sum.Missing,      // promised by the API's total, never returned
	}
}
