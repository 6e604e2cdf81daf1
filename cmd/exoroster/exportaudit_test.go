package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/exoroster/exoroster/audit"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/metrics/metricstest"
	"github.com/exoroster/exoroster/webrtc"
)

// promRequests is a command's requests by code label, from the file.
func promRequests(mfs map[string]*dto.MetricFamily, command string) map[string]int {
	out := map[string]int{}
	for _, m := range mfs["exoroster_requests_total"].GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		if labels["command"] == command {
			out[labels["code"]] = int(m.GetCounter().GetValue())
		}
	}
	return out
}

// fakeRequests is the fake's log from entry from on, by the status it sent
// ("none" for no answer), as the metrics label it.
func fakeRequests(srv *exoteltest.Server, from int) map[string]int {
	out := map[string]int{}
	for _, r := range srv.Requests()[from:] {
		code := "none"
		if r.Status != 0 {
			code = strconv.Itoa(r.Status)
		}
		out[code]++
	}
	return out
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The nightly audit from outside: a rolling report exported, then known
// changes made to the account (a promotion in the dashboard, a number
// changed, which unverifies the device, a user offboarded, one imported),
// each command writing to one metrics file; then export --against its own
// report. The audit names exactly those changes, --fail-on fails the run
// after every file is written, no request is added, and each command's
// series in the metrics file agree with what the fake saw.
func TestExportAuditOfKnownChanges(t *testing.T) {
	now := time.Now()
	ago := func(days int) time.Time { return now.AddDate(0, 0, -days) }
	on := true
	device := func(phone string) []exoteltest.SeedDevice {
		return []exoteltest.SeedDevice{{ContactURI: phone, Verified: true, Available: &on}}
	}
	srv := expServer(t, exoteltest.Options{},
		exoteltest.SeedUser{FirstName: "Asha", LastName: "Rao", Email: "asha@x.example", Role: "admin", Devices: device("+919800000001"), LastLogin: ago(1), DateCreated: ago(400)},
		exoteltest.SeedUser{FirstName: "Ben", LastName: "Das", Email: "ben@x.example", Devices: device("+919800000002"), LastLogin: ago(2), DateCreated: ago(400)},
		exoteltest.SeedUser{FirstName: "Chitra", LastName: "Iyer", Email: "chitra@x.example", Devices: device("+919800000003"), LastLogin: ago(3), DateCreated: ago(400)},
		exoteltest.SeedUser{FirstName: "Dev", LastName: "Shah", Email: "dev@x.example", Devices: device("+919800000004"), LastLogin: ago(1), DateCreated: ago(200)},
		exoteltest.SeedUser{FirstName: "Esha", LastName: "Nair", Email: "esha@x.example", Devices: device("+919800000005"), LastLogin: ago(5), DateCreated: ago(400)},
	)
	ids := map[string]string{}
	for _, u := range srv.Users() {
		ids[u.FirstName] = u.ID
	}
	dir := t.TempDir()
	report := filepath.Join(dir, "users.csv")
	prom := filepath.Join(dir, "exoroster.prom")
	page := filepath.Join(dir, "audit.html")
	step := func(want ExitCode, args ...string) (expResult, map[string]int) {
		t.Helper()
		from := len(srv.Requests())
		r := expRun(t, srv, nil, "", append(args, expFast()...)...)
		if r.code != want {
			t.Fatalf("%s: exit %d, want %d\n%s%s", args[0], r.code, want, r.stdout, r.stderr)
		}
		return r, fakeRequests(srv, from)
	}
	checkRequests := func(command string, sent map[string]int) {
		t.Helper()
		if got := promRequests(metricstest.Parse(t, prom), command); !sameCounts(got, sent) {
			t.Errorf("%s: requests_total %v, the fake answered %v", command, got, sent)
		}
	}

	// The first night: nothing to compare with yet.
	r, sent := step(ExitOK, "export", "--out", report, "--against", report, "--metrics-file", prom, "--summary-json")
	if !strings.Contains(r.stdout, "note: "+report+" does not exist yet, so there is nothing to compare with") {
		t.Errorf("first run:\n%s", r.stdout)
	}
	checkRequests("export", sent)
	// The diff file is there from the first night, with no change in it.
	if rows := expReadAny(t, report+".diff.csv"); len(rows) != 1 || rows[0][0] != "change" {
		t.Errorf("first night's diff: %v", rows)
	}

	// The changes, each by its own command, all into the one metrics file.
	if !srv.SetRole(ids["Ben"], "admin") {
		t.Fatal("no Ben")
	}
	_, sent = step(ExitOK, "update", offFile(t, dir, "changes.csv", "email,phone\ndev@x.example,+919811111111\n"), "--metrics-file", prom)
	checkRequests("update", sent)
	_, sent = step(ExitOK, "offboard", offFile(t, dir, "leavers.csv", "email\nchitra@x.example\n"), "--yes", "--metrics-file", prom)
	checkRequests("offboard", sent)
	_, sent = step(ExitOK, "import", offFile(t, dir, "joiners.csv", "first_name,last_name,email,role,phone\nFarid,Khan,farid@x.example,user,+919800000006\n"), "--metrics-file", prom)
	checkRequests("import", sent)
	farid, _ := srv.UserByEmail("farid@x.example")

	// A plain export costs what the audited one must cost too.
	_, plain := step(ExitOK, "export", "--out", filepath.Join(dir, "plain.csv"))
	r, sent = step(ExitFindings, "export", "--out", report, "--against", report, "--html", page,
		"--metrics-file", prom, "--fail-on", "role-escalation,unverified-device", "--summary-json")
	if !sameCounts(sent, plain) {
		t.Errorf("the audited export sent %v, a plain one %v", sent, plain)
	}
	checkRequests("export", sent)

	out := string(normalize([]byte(r.stdout), dir))
	for _, want := range []string{
		"export finished in DURATION: 5 users written to $DIR/users.csv (csv), 5 fetched with 1 request\n",
		"summary: $DIR/users.csv.summary.json\n" +
			"diff $DIR/users.csv (before this export) → $DIR/users.csv: 1 added, 1 removed, 2 changed; 1 role escalation, 1 device became unverified\n" +
			"findings: 2\n" +
			"  role-escalation: 1 user became admin or supervisor since the earlier report: Ben Das\n" +
			// A new device is unverified until its owner verifies it.
			"  unverified-device: 2 users have an unverified device: calls are not routed to it until it is verified: Dev Shah, Farid Khan\n",
		"diff: $DIR/users.csv.diff.csv\nhtml: $DIR/audit.html\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if want := "exoroster: --fail-on: role-escalation (1 user), unverified-device (2 users).\n"; r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}

	// The diff names exactly the known changes.
	rows := expReadAny(t, report+".diff.csv")
	var got []string
	for _, row := range rows[1:] {
		got = append(got, row[0]+" "+row[1][28:]+" "+row[5]+" "+row[6]+"→"+row[7])
	}
	short := func(name string) string { return ids[name][28:] }
	want := []string{
		"added " + farid.ID[28:] + "  →",
		"removed " + short("Chitra") + "  →",
		"changed " + short("Ben") + " role user→admin",
		"changed " + short("Dev") + " device_contact_uri +919800000004→+919811111111",
		"changed " + short("Dev") + " device_verified true→false",
		"changed " + short("Dev") + " device_available true→",
		"role_escalation " + short("Ben") + " role user→admin",
		"device_became_unverified " + short("Dev") + " device_verified true→false",
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("diff rows\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	html, err := os.ReadFile(page)
	if err != nil || !strings.Contains(string(html), `id="diff"`) || !strings.Contains(string(html), "Farid Khan") ||
		!strings.Contains(string(html), "test-sid") {
		t.Errorf("the page lacks the diff, the new user or the account (%v)", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("a temporary file was left: %s", e.Name())
		}
	}

	// Every command's series, in one file.
	mfs := metricstest.Parse(t, prom)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"exoroster_rows_total", []string{"command", "export", "status", "exported"}, 5},
		{"exoroster_rows_total", []string{"command", "update", "status", "updated"}, 1},
		{"exoroster_rows_total", []string{"command", "offboard", "status", "deleted"}, 1},
		{"exoroster_rows_total", []string{"command", "import", "status", "created"}, 1},
		{"exoroster_throttled_requests_total", []string{"command", "export"}, 0},
		{"exoroster_limiter_held_seconds_total", []string{"command", "import"}, 0},
		{"exoroster_last_run_success", []string{"command", "export"}, 1}, // findings are an outcome of a run that worked
		{"exoroster_last_run_success", []string{"command", "offboard"}, 1},
		{"exoroster_users", []string{"command", "export"}, 5},
		{"exoroster_users_by_role", []string{"command", "export", "role", "admin"}, 2},
		{"exoroster_users_by_role", []string{"command", "export", "role", "user"}, 3},
		{"exoroster_inactive_users", []string{"command", "export"}, 1}, // Farid never logged in
		{"exoroster_unverified_device_users", []string{"command", "export"}, 2},
		{"exoroster_no_device_users", []string{"command", "export"}, 0},
		{"exoroster_audit_findings", []string{"command", "export", "rule", "role-escalation"}, 1},
		{"exoroster_audit_findings", []string{"command", "export", "rule", "too-many-admins"}, 0},
		{"exoroster_diff_users", []string{"command", "export", "change", "added"}, 1},
		{"exoroster_diff_users", []string{"command", "export", "change", "device_became_unverified"}, 1},
	} {
		if v, ok := metricstest.Value(t, mfs, c.name, c.labels...); !ok || v != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	for _, command := range []string{"export", "update", "offboard", "import"} {
		last, ok1 := metricstest.Value(t, mfs, "exoroster_last_success_timestamp_seconds", "command", command)
		took, ok2 := metricstest.Value(t, mfs, "exoroster_run_duration_seconds", "command", command)
		if !ok1 || !ok2 || last < float64(now.Unix()) || took <= 0 {
			t.Errorf("%s: last success %v (%v), duration %v (%v)", command, last, ok1, took, ok2)
		}
	}
}

// expReadAny reads a CSV file whatever its header.
func expReadAny(t *testing.T, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) == 0 {
		t.Fatalf("%s: %v\n%s", path, err, data)
	}
	return rows
}

// expAuditAccount is a small account with a finding of every rule that
// needs no diff: four admins, one never logged in since long ago, an
// unverified device, a user without one.
func expAuditAccount(t *testing.T, opts exoteltest.Options) *exoteltest.Server {
	t.Helper()
	now := time.Now()
	ago := func(days int) time.Time { return now.AddDate(0, 0, -days) }
	dev := func(phone string, ok bool) []exoteltest.SeedDevice {
		return []exoteltest.SeedDevice{{ContactURI: phone, Verified: ok}}
	}
	return expServer(t, opts,
		exoteltest.SeedUser{FirstName: "A1", LastName: "Admin", Email: "a1@x.example", Role: "admin", Devices: dev("+919800000001", true), LastLogin: ago(1), DateCreated: ago(300)},
		exoteltest.SeedUser{FirstName: "A2", LastName: "Admin", Email: "a2@x.example", Role: "admin", Devices: dev("+919800000002", true), LastLogin: ago(1), DateCreated: ago(300)},
		exoteltest.SeedUser{FirstName: "A3", LastName: "Admin", Email: "a3@x.example", Role: "admin", Devices: dev("+919800000003", true), LastLogin: ago(1), DateCreated: ago(300)},
		exoteltest.SeedUser{FirstName: "A4", LastName: "Admin", Email: "a4@x.example", Role: "admin", Devices: dev("+919800000004", true), LastLogin: ago(1), DateCreated: ago(300)},
		exoteltest.SeedUser{FirstName: "Never", LastName: "In", Email: "never@x.example", Devices: dev("+919800000005", true), DateCreated: ago(60)},
		exoteltest.SeedUser{FirstName: "Un", LastName: "Verified", Email: "unv@x.example", Devices: dev("+919800000006", false), LastLogin: ago(1), DateCreated: ago(300)},
		exoteltest.SeedUser{FirstName: "No", LastName: "Device", Email: "nodev@x.example", LastLogin: ago(1), DateCreated: ago(300)},
	)
}

func TestExportFailOn(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		want       ExitCode
		wantStderr string
	}{
		{name: "findings without --fail-on", args: []string{"--html", "PAGE"}, want: ExitOK},
		{name: "any", args: []string{"--fail-on", "any"}, want: ExitFindings,
			wantStderr: "exoroster: --fail-on: too-many-admins (4 users), never-logged-in (1 user), unverified-device (1 user), no-device (1 user).\n"},
		{name: "a rule that found nothing", args: []string{"--fail-on", "too-many-admins", "--max-admins", "4"}, want: ExitOK},
		{name: "a threshold crossed", args: []string{"--fail-on", "too-many-admins,no-device", "--max-admins", "2"}, want: ExitFindings,
			wantStderr: "exoroster: --fail-on: too-many-admins (4 users), no-device (1 user).\n"},
		{name: "stale after more days", args: []string{"--fail-on", "never-logged-in", "--stale-after", "61"}, want: ExitOK},
		{name: "a rule that needs --against", args: []string{"--fail-on", "role-escalation"}, want: ExitOK,
			wantStderr: "note: --fail-on role-escalation can never fire on these reports"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := expAuditAccount(t, exoteltest.Options{})
			dir := t.TempDir()
			out := filepath.Join(dir, "users.csv")
			args := []string{"export", "--out", out}
			for _, a := range tc.args {
				args = append(args, strings.ReplaceAll(a, "PAGE", filepath.Join(dir, "audit.html")))
			}
			r := expRun(t, srv, nil, "", append(args, expFast()...)...)
			if r.code != tc.want || !strings.HasPrefix(r.stderr, tc.wantStderr) || (tc.wantStderr == "" && r.stderr != "") {
				t.Errorf("exit %d, want %d; stderr %q, want %q", r.code, tc.want, r.stderr, tc.wantStderr)
			}
			// The findings are printed whatever the exit, after the report.
			if !strings.Contains(r.stdout, "\nfindings: ") || !strings.Contains(r.stdout, "  unverified-device: 1 user has an unverified device") ||
				!strings.Contains(r.stdout, "not checked: role-escalation (no earlier report to compare with)\n") {
				t.Errorf("stdout:\n%s", r.stdout)
			}
			if rows := expReadAny(t, out); len(rows) != 8 {
				t.Errorf("report of %d rows", len(rows))
			}
		})
	}
}

// A report with users missing is exit 3 even when --fail-on also trips:
// the audit of an incomplete report is not the whole story.
func TestExportRowsNotDoneOutweighsFindings(t *testing.T) {
	srv := expServer(t, exoteltest.Options{ListFault: exoteltest.ListFault{RepeatFirstPage: true}}, exoteltest.SampleUsers(120, 5, time.Now())...)
	out := filepath.Join(t.TempDir(), "users.csv")
	r := expRun(t, srv, nil, "", append(expFast(), "export", "--out", out, "--allow-partial", "--fail-on", "any")...)
	if r.code != ExitRowsNotDone || !strings.Contains(r.stderr, "exoroster: --fail-on: ") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestExportAuditFlags(t *testing.T) {
	srv := expAuditAccount(t, exoteltest.Options{})
	dir := t.TempDir()
	out := filepath.Join(dir, "users.csv")
	// An earlier report, of each target.
	if r := expRun(t, srv, nil, "", append(expFast(), "export", "--out", out)...); r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	webrtcReport := offFile(t, dir, "app.csv", "user_id,name,phone,sip_enabled,status,phone_device,sip_device,created_at,updated_at\nw-1,A,+919800000001,true,active,true,false,,\n")
	notExport := offFile(t, dir, "roster.csv", "first_name,email\nA,a@x.example\n")
	for _, tc := range []struct {
		name string
		args []string
		want ExitCode
		msg  string
	}{
		{name: "--diff-out without --against", args: []string{"--out", "new.csv", "--diff-out", "d.csv"}, want: ExitUsage, msg: "--diff-out needs --against"},
		{name: "--diff-format text", args: []string{"--out", "new.csv", "--against", out, "--diff-format", "text"}, want: ExitUsage, msg: `--diff-format "text": use csv or json`},
		{name: "--diff-format without --against", args: []string{"--out", "new.csv", "--diff-format", "json"}, want: ExitUsage, msg: "--diff-format needs --against"},
		{name: "unknown rule", args: []string{"--out", "new.csv", "--fail-on", "admins"}, want: ExitUsage, msg: `--fail-on: unknown rule "admins"`},
		{name: "negative threshold", args: []string{"--out", "new.csv", "--max-admins", "-1"}, want: ExitUsage, msg: "--max-admins -1"},
		{name: "--html over --against", args: []string{"--out", "new.csv", "--against", out, "--html", out}, want: ExitUsage, msg: "is one of the reports being compared"},
		{name: "--metrics-file over --out", args: []string{"--out", "new.csv", "--metrics-file", "new.csv"}, want: ExitUsage, msg: "name the same file"},
		{name: "--diff-out over --out", args: []string{"--out", "new.csv", "--against", out, "--diff-out", "new.csv"}, want: ExitUsage, msg: "name the same file"},
		{name: "--against missing", args: []string{"--out", "new.csv", "--against", "gone.csv"}, want: ExitAborted, msg: "--against: cannot read gone.csv"},
		{name: "--against not an export", args: []string{"--out", "new.csv", "--against", notExport}, want: ExitAborted, msg: "is not an exoroster export report"},
		{name: "--against of the other target", args: []string{"--out", "new.csv", "--against", webrtcReport}, want: ExitAborted, msg: "is a webrtc report and new.csv a ccm report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(dir)
			before := srv.CountRequests("")
			r := expRun(t, srv, nil, "", append(append(expFast(), "export"), tc.args...)...)
			if r.code != tc.want || !strings.Contains(r.stderr, tc.msg) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", r.code, tc.want, r.stderr, tc.msg)
			}
			if n := srv.CountRequests("") - before; n != 0 {
				t.Errorf("%d requests sent before the flags were refused", n)
			}
			if _, err := os.Stat(filepath.Join(dir, "new.csv")); err == nil {
				t.Error("a report was written")
			}
		})
	}
}

// --out - writes the report to stdout and the audit's lines to stderr;
// with no <out> there is no default diff file, but --diff-out writes one,
// in JSON with --diff-format json.
func TestExportAuditToStdout(t *testing.T) {
	srv := expAuditAccount(t, exoteltest.Options{})
	dir := t.TempDir()
	old := filepath.Join(dir, "old.jsonl")
	if r := expRun(t, srv, nil, "", append(expFast(), "export", "--out", old, "--format", "json")...); r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if !srv.SetRole(srv.Users()[4].ID, "supervisor") {
		t.Fatal("no fifth user")
	}
	r := expRun(t, srv, nil, "", append(expFast(), "export", "--out", "-", "--against", old)...)
	if r.code != ExitOK || !strings.HasPrefix(r.stdout, "user_id,first_name,") ||
		!strings.Contains(r.stderr, " → (this export): 0 added, 0 removed, 1 changed; 1 role escalation\n") {
		t.Errorf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files beside the old report: %d", len(entries))
	}

	diffOut := filepath.Join(dir, "changes.json")
	r = expRun(t, srv, nil, "", append(expFast(), "export", "--out", "-", "--against", old, "--diff-out", diffOut, "--diff-format", "json")...)
	if r.code != ExitOK || !strings.Contains(r.stderr, "diff: "+diffOut+"\n") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	data, err := os.ReadFile(diffOut)
	var res struct {
		Diff struct {
			Transitions []struct {
				Kind string `json:"kind"`
			} `json:"transitions"`
		} `json:"diff"`
		Findings []struct {
			Rule string `json:"rule"`
		} `json:"findings"`
	}
	if err != nil || json.Unmarshal(data, &res) != nil || len(res.Diff.Transitions) != 1 ||
		res.Diff.Transitions[0].Kind != "role_escalation" || len(res.Findings) != 5 {
		t.Errorf("diff file (%v):\n%s", err, data)
	}
}

// lineWriter stands for exporter.Writer's WriteLine: any target's line.
type lineWriter struct{ lines []string }

func (w *lineWriter) WriteLine(l interface{ Cells() []string }) error {
	w.lines = append(w.lines, strings.Join(l.Cells(), ","))
	return nil
}

// A WebRTC export's lines reach the audit as they reach the report, and
// the audit refuses a CCM report to compare them with before the run.
func TestExportLineSinkTeesAnotherTarget(t *testing.T) {
	dir := t.TempDir()
	ccm := offFile(t, dir, "ccm.csv", strings.Join(exporter.Columns(), ",")+"\n")
	plan := &exportAuditPlan{out: auditOutputs{format: audit.OutputCSV}}
	ea, err := openExportAudit(plan, filepath.Join(dir, "app.csv"), exporter.FormatCSV, webrtc.Columns())
	if err != nil {
		t.Fatal(err)
	}
	w := &lineWriter{}
	sink := exportLineSink[interface{ Cells() []string }](ea, w)
	on := true
	if err := sink.WriteLine(webrtc.Record{UserID: "w-1", Name: "Asha", Phone: "+919800000001", SIPEnabled: &on}); err != nil {
		t.Fatal(err)
	}
	if len(w.lines) != 1 || ea.cur.Len() != 1 || ea.cur.Target != audit.TargetWebRTC {
		t.Errorf("written %v, audited %d users of %s", w.lines, ea.cur.Len(), ea.cur.Target)
	}
	if got := exportLineSink[interface{ Cells() []string }](nil, w); got != w {
		t.Error("without an audit the writer is not used as it is")
	}
	plan.against = ccm
	if _, err := openExportAudit(plan, filepath.Join(dir, "app.csv"), exporter.FormatCSV, webrtc.Columns()); err == nil ||
		!strings.Contains(err.Error(), "is a ccm report and") {
		t.Errorf("a CCM --against for a WebRTC export: %v", err)
	}
}

// The nightly CronJob (deploy/kubernetes/cronjob.yaml) writes its report,
// page and metrics into folders of a fresh volume that nothing has made:
// export makes them, or the first night fails.
func TestExportMakesTheFoldersItWritesInto(t *testing.T) {
	srv := expAuditAccount(t, exoteltest.Options{})
	data := t.TempDir()
	report := filepath.Join(data, "reports", "users.csv")
	r := expRun(t, srv, nil, "", append([]string{"export", "--out", report, "--against", report,
		"--html", filepath.Join(data, "reports", "audit.html"),
		"--metrics-file", filepath.Join(data, "metrics", "nightly.prom"), "--summary-json"}, expFast()...)...)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, f := range []string{"reports/users.csv", "reports/users.csv.diff.csv", "reports/audit.html", "metrics/nightly.prom"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Errorf("first night: %v", err)
		}
	}
	if strings.Contains(r.stderr, "warn") {
		t.Errorf("first night warned:\n%s", r.stderr)
	}
}
