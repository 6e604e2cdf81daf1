package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/exoroster/exoroster/exotel/exoteltest"
)

// The fixtures are a week apart: diff_old.csv is an older export without
// the device_available column, diff_new.jsonl one in JSON Lines with the
// API's own types.
var (
	diffOldTime = time.Date(2025, 6, 1, 2, 0, 0, 0, time.UTC)
	diffNewTime = time.Date(2025, 6, 8, 2, 0, 0, 0, time.UTC)
)

// diffFixtures copies the fixtures into a temporary directory with their
// times set, and returns the directory and the two paths.
func diffFixtures(t *testing.T) (dir, oldPath, newPath string) {
	t.Helper()
	dir = t.TempDir()
	copyAt := func(name string, at time.Time) string {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, at, at); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return dir, copyAt("diff_old.csv", diffOldTime), copyAt("diff_new.jsonl", diffNewTime)
}

type diffResult struct {
	code           ExitCode
	stdout, stderr string
}

func runDiffCmd(t *testing.T, args ...string) diffResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"diff"}, args...), Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
	return diffResult{code, out.String(), errb.String()}
}

func TestDiffGolden(t *testing.T) {
	for _, tc := range []struct {
		name, golden string
		args         []string
	}{
		{name: "text", golden: "diff_text.golden"},
		{name: "csv", golden: "diff_csv.golden", args: []string{"--format", "csv"}},
		{name: "json", golden: "diff_json.golden", args: []string{"--format", "json"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, oldPath, newPath := diffFixtures(t)
			r := runDiffCmd(t, append([]string{oldPath, newPath}, tc.args...)...)
			// Differences and findings are not failures without --fail-on.
			if r.code != ExitOK {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			golden(t, tc.golden, normalize([]byte(r.stdout), dir))
			if tc.name == "csv" && !strings.Contains(r.stderr, "findings: 5\n") {
				t.Errorf("the findings are not on stderr beside the CSV:\n%s", r.stderr)
			}
			if tc.name != "csv" && r.stderr != "" {
				t.Errorf("stderr: %s", r.stderr)
			}
		})
	}
}

func TestDiffFailOn(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		want       ExitCode
		wantStderr string
	}{
		{name: "no --fail-on", want: ExitOK},
		{name: "any", args: []string{"--fail-on", "any"}, want: ExitFindings,
			wantStderr: "exoroster: --fail-on: too-many-admins (4 users), role-escalation (3 users), never-logged-in (1 user), unverified-device (1 user), no-device (1 user).\n"},
		{name: "one rule that found something", args: []string{"--fail-on", "role-escalation"}, want: ExitFindings,
			wantStderr: "exoroster: --fail-on: role-escalation (3 users).\n"},
		{name: "a threshold that is met", args: []string{"--fail-on", "too-many-admins", "--max-admins", "4"}, want: ExitOK},
		{name: "a threshold that is not", args: []string{"--fail-on=too-many-admins,no-device", "--max-admins", "3"}, want: ExitFindings,
			wantStderr: "exoroster: --fail-on: too-many-admins (4 users), no-device (1 user).\n"},
		{name: "stale after more days", args: []string{"--fail-on", "never-logged-in", "--stale-after", "46"}, want: ExitOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, oldPath, newPath := diffFixtures(t)
			r := runDiffCmd(t, append([]string{oldPath, newPath, "--format", "json"}, tc.args...)...)
			if r.code != tc.want || r.stderr != tc.wantStderr {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant:\n%s", r.code, tc.want, r.stderr, tc.wantStderr)
			}
			if !strings.HasPrefix(r.stdout, "{") {
				t.Errorf("the report was not written: %q", r.stdout)
			}
		})
	}
}

func TestDiffUsage(t *testing.T) {
	_, oldPath, newPath := diffFixtures(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{name: "no reports", args: nil, want: "want two export reports, OLD and NEW, got 0 arguments"},
		{name: "one report", args: []string{oldPath}, want: "got 1 arguments"},
		{name: "three reports", args: []string{oldPath, newPath, newPath}, want: "got 3 arguments"},
		{name: "format", args: []string{oldPath, newPath, "--format", "xml"}, want: `--format: format "xml": use text, csv or json`},
		{name: "unknown rule", args: []string{oldPath, newPath, "--fail-on", "admins"}, want: `--fail-on: unknown rule "admins": use any, or one or more of too-many-admins,`},
		{name: "inactive days", args: []string{oldPath, newPath, "--inactive-days", "0"}, want: "--inactive-days 0: use 1 or more"},
		{name: "max admins", args: []string{oldPath, newPath, "--max-admins", "-1"}, want: "--max-admins -1: use 0 or more"},
		{name: "stale after", args: []string{oldPath, newPath, "--stale-after", "-1"}, want: "--stale-after -1: use 0 or more"},
		{name: "diff over a report", args: []string{oldPath, newPath, "--diff-out", oldPath}, want: "is one of the reports being compared"},
		{name: "html over a report", args: []string{oldPath, newPath, "--html", newPath}, want: "--html " + newPath + " is one of the reports"},
		{name: "two outputs in one file", args: []string{oldPath, newPath, "--html", "x.out", "--metrics-file", "./x.out"}, want: "--html and --metrics-file name the same file"},
		{name: "not a number", args: []string{oldPath, newPath, "--max-admins", "three"}, want: "invalid argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runDiffCmd(t, tc.args...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q, want 2 and %q", r.code, r.stderr, tc.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q", r.stdout)
			}
		})
	}
}

func TestDiffUnreadable(t *testing.T) {
	dir, oldPath, _ := diffFixtures(t)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	roster := write("roster.csv", "first_name,last_name,email\nA,B,a@x.com\n")
	webrtc := write("app.csv", "user_id,name,phone,sip_enabled,status\nagent_1,A,,true,active\n")
	for _, tc := range []struct {
		name     string
		old, new string
		want     string
	}{
		{name: "missing", old: oldPath, new: filepath.Join(dir, "nope.csv"),
			want: "exoroster: cannot read $DIR/nope.csv: no such file or directory.\n"},
		{name: "a roster, not an export", old: roster, new: oldPath,
			want: "exoroster: $DIR/roster.csv is not an exoroster export report: it has no user_id column (its columns: first_name, last_name, email); compare the files export --out writes.\n"},
		{name: "another target", old: oldPath, new: webrtc,
			want: "exoroster: $DIR/diff_old.csv is a ccm report and $DIR/app.csv a webrtc report: compare two reports of the same target.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runDiffCmd(t, tc.old, tc.new)
			if got := string(normalize([]byte(r.stderr), dir)); r.code != ExitAborted || got != tc.want {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and:\n%s", r.code, got, tc.want)
			}
		})
	}
}

// --diff-out, --html and --metrics-file together, as a cron job runs it.
func TestDiffOutputs(t *testing.T) {
	dir, oldPath, newPath := diffFixtures(t)
	diffOut := filepath.Join(dir, "changes.csv")
	page := filepath.Join(dir, "audit.html")
	prom := filepath.Join(dir, "exoroster.prom")
	r := runDiffCmd(t, oldPath, newPath, "--format", "csv", "--diff-out", diffOut, "--html", page, "--metrics-file", prom, "--fail-on", "role-escalation")
	if r.code != ExitFindings {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	want := "diff $DIR/diff_old.csv → $DIR/diff_new.jsonl: 2 added, 1 removed, 3 changed; 3 role escalations, 1 device became unverified, 1 newly inactive, 1 first login\n" +
		"findings: 5\n" +
		"  too-many-admins: 4 admins, more than the 3 allowed: keep admin access to essential personnel: Asha Rao, Ben Das, Gita Menon, Hari Pillai\n"
	if got := string(normalize([]byte(r.stdout), dir)); !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "diff: $DIR/changes.csv\n") {
		t.Errorf("stdout:\n%s\nwant to start with:\n%s", got, want)
	}
	csvOut, err := os.ReadFile(diffOut)
	if err != nil || !bytes.HasPrefix(csvOut, []byte("change,user_id,name,email,phone,column,old,new,detail\nadded,7a08,")) {
		t.Errorf("diff file: %v\n%s", err, csvOut)
	}
	html, err := os.ReadFile(page)
	if err != nil || !bytes.Contains(html, []byte(`id="diff"`)) || !bytes.Contains(html, []byte("=HYPERLINK(&#34;x&#34;) Villain")) {
		t.Errorf("html: %v", err)
	}
	fh, err := os.Open(prom)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(fh)
	if err != nil {
		t.Fatal(err)
	}
	if got := mfs["exoroster_users"].GetMetric()[0].GetGauge().GetValue(); got != 8 {
		t.Errorf("exoroster_users %v", got)
	}
	// Findings that fail the run do not make the run itself a failure.
	if got := mfs["exoroster_last_run_success"].GetMetric()[0].GetGauge().GetValue(); got != 1 {
		t.Errorf("last run success %v", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		t.Errorf("%d files: a temporary file was left", len(entries))
	}

	// A run that cannot read its input says so in the metrics too.
	r = runDiffCmd(t, oldPath, filepath.Join(dir, "missing.csv"), "--metrics-file", prom)
	if r.code != ExitAborted {
		t.Fatalf("exit %d", r.code)
	}
	b, _ := os.ReadFile(prom)
	if !strings.Contains(string(b), `exoroster_last_run_success{command="diff"} 0`) ||
		!strings.Contains(string(b), `exoroster_last_success_timestamp_seconds{command="diff"}`) {
		t.Errorf("metrics after a failed run:\n%s", b)
	}
}

// The reports' times come from export's summary JSON when it was written
// with the report.
func TestDiffTimesFromSummary(t *testing.T) {
	dir, oldPath, newPath := diffFixtures(t)
	summary := oldPath + ".summary.json"
	if err := os.WriteFile(summary, []byte(`{"generated_at":"2025-05-31T23:00:00Z"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(summary, diffOldTime, diffOldTime); err != nil {
		t.Fatal(err)
	}
	r := runDiffCmd(t, oldPath, newPath)
	if got := string(normalize([]byte(r.stdout), dir)); !strings.HasPrefix(got,
		"old: $DIR/diff_old.csv (csv, ccm, 7 users, as of 2025-05-31 23:00 UTC from its summary JSON)\n") {
		t.Errorf("stdout:\n%s", got)
	}
}

// Two real exports of the fake API, taken before and after a set of known
// changes, then diffed: what export writes is what diff reads, in either
// format.
func TestDiffOfTwoExports(t *testing.T) {
	now := time.Now()
	ago := func(days int) time.Time { return now.AddDate(0, 0, -days) }
	verified := func(phone string, ok bool) []exoteltest.SeedDevice {
		return []exoteltest.SeedDevice{{ContactURI: phone, Verified: ok}}
	}
	const (
		idAsha   = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01"
		idBen    = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa02"
		idChitra = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa03"
		idDev    = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa04"
		idEsha   = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa05"
		idFarid  = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa06"
	)
	before := []exoteltest.SeedUser{
		{ID: idAsha, FirstName: "Asha", LastName: "Rao", Email: "asha@x.example", Role: "admin", Devices: verified("+919800000001", true), LastLogin: ago(1), DateCreated: ago(400)},
		{ID: idBen, FirstName: "Ben", LastName: "Das", Email: "ben@x.example", Devices: verified("+919800000002", true), LastLogin: ago(2), DateCreated: ago(400)},
		{ID: idChitra, FirstName: "Chitra", LastName: "Iyer", Email: "chitra@x.example", Devices: verified("+919800000003", true), LastLogin: ago(93), DateCreated: ago(400)},
		{ID: idDev, FirstName: "Dev", LastName: "Shah", Email: "dev@x.example", Devices: verified("+919800000004", true), DateCreated: ago(20)},
		{ID: idEsha, FirstName: "Esha", LastName: "Nair", Email: "esha@x.example", Devices: verified("+919800000005", true), LastLogin: ago(5), DateCreated: ago(400)},
	}
	after := []exoteltest.SeedUser{
		before[0],
		{ID: idBen, FirstName: "Ben", LastName: "Das", Email: "ben@x.example", Role: "supervisor", Devices: verified("+919800000002", true), LastLogin: ago(1), DateCreated: ago(400)},
		before[2],
		{ID: idDev, FirstName: "Dev", LastName: "Shah", Email: "dev@x.example", Devices: verified("+919811111111", false), LastLogin: ago(1), DateCreated: ago(20)},
		{ID: idFarid, FirstName: "Farid", LastName: "Khan", Email: "farid@x.example", Role: "admin", DateCreated: ago(1)},
	}
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "before.csv"), filepath.Join(dir, "after.jsonl")
	for _, step := range []struct {
		users []exoteltest.SeedUser
		args  []string
	}{
		{before, []string{"--out", oldPath}},
		{after, []string{"--out", newPath, "--format", "json"}},
	} {
		srv := expServer(t, exoteltest.Options{}, step.users...)
		r := expRun(t, srv, nil, "", append(append([]string{"export", "--summary-json"}, step.args...), expFast()...)...)
		if r.code != ExitOK {
			t.Fatalf("export: exit %d\n%s", r.code, r.stderr)
		}
	}
	// The old export was a week ago: its summary says so.
	summary := oldPath + ".summary.json"
	b, err := os.ReadFile(summary)
	if err != nil {
		t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	s["generated_at"] = ago(7).UTC().Format(time.RFC3339)
	if b, err = json.Marshal(s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(summary, b, 0o644); err != nil {
		t.Fatal(err)
	}

	r := runDiffCmd(t, oldPath, newPath, "--format", "json", "--fail-on", "role-escalation")
	if r.code != ExitFindings {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var res struct {
		Diff struct {
			Added []struct {
				UserID string `json:"user_id"`
			} `json:"added"`
			Removed []struct {
				UserID string `json:"user_id"`
			} `json:"removed"`
			Changed []struct {
				User struct {
					UserID string `json:"user_id"`
				} `json:"user"`
				Fields []struct{ Column, Old, New string } `json:"fields"`
			} `json:"changed"`
			Transitions []struct {
				Kind string `json:"kind"`
				User struct {
					UserID string `json:"user_id"`
				} `json:"user"`
			} `json:"transitions"`
			OnlyOld []string `json:"ignored_only_in_old"`
			OnlyNew []string `json:"ignored_only_in_new"`
		} `json:"diff"`
		Findings []struct {
			Rule  string
			Users []struct {
				UserID string `json:"user_id"`
			}
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	d := res.Diff
	if len(d.Added) != 1 || d.Added[0].UserID != idFarid || len(d.Removed) != 1 || d.Removed[0].UserID != idEsha {
		t.Errorf("added %v removed %v", d.Added, d.Removed)
	}
	var changed []string
	for _, c := range d.Changed {
		for _, f := range c.Fields {
			changed = append(changed, c.User.UserID[30:]+" "+f.Column+" "+f.Old+"→"+f.New)
		}
	}
	wantChanged := []string{"02 role user→supervisor", "04 device_contact_uri +919800000004→+919811111111", "04 device_verified true→false"}
	if strings.Join(changed, "; ") != strings.Join(wantChanged, "; ") {
		t.Errorf("changed %q\nwant    %q", changed, wantChanged)
	}
	var events []string
	for _, e := range d.Transitions {
		events = append(events, e.Kind+" "+e.User.UserID[30:])
	}
	wantEvents := []string{"role_escalation 02", "role_escalation 06", "device_became_unverified 04", "newly_inactive 03", "first_login 04"}
	if strings.Join(events, "; ") != strings.Join(wantEvents, "; ") {
		t.Errorf("transitions %q\nwant        %q", events, wantEvents)
	}
	if len(d.OnlyOld)+len(d.OnlyNew) != 0 {
		t.Errorf("a CSV and a JSON export of one version have different columns: %v %v", d.OnlyOld, d.OnlyNew)
	}
	rules := map[string]int{}
	for _, f := range res.Findings {
		rules[f.Rule] = len(f.Users)
	}
	if rules["role-escalation"] != 2 || rules["unverified-device"] != 1 || rules["no-device"] != 1 || rules["too-many-admins"] != 0 {
		t.Errorf("findings %v", rules)
	}
	if r.stderr != "exoroster: --fail-on: role-escalation (2 users).\n" {
		t.Errorf("stderr %q", r.stderr)
	}
}
