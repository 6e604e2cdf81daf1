package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
)

// expFast lets a test go as fast as the fake allows.
func expFast() []string { return []string{"--rate", "2000/s", "--burst", "8"} }

type expResult struct {
	code           ExitCode
	stdout, stderr string
}

// expRun runs the program against srv with the test credentials (token
// overrides the token when not empty).
func expRun(t *testing.T, srv *exoteltest.Server, interrupt chan struct{}, token string, args ...string) expResult {
	t.Helper()
	if token == "" {
		token = "test-token"
	}
	vars := map[string]string{"EXOTEL_BASE_URL": srv.URL(), "EXOTEL_API_KEY": "test-key",
		"EXOTEL_API_TOKEN": token, "EXOTEL_ACCOUNT_SID": "test-sid"}
	var out, errb bytes.Buffer
	env := Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return vars[k] }}
	if interrupt != nil {
		env.Interrupt = interrupt
	}
	code := run(context.Background(), args, env)
	return expResult{code: code, stdout: out.String(), stderr: errb.String()}
}

func expServer(t *testing.T, opts exoteltest.Options, users ...exoteltest.SeedUser) *exoteltest.Server {
	t.Helper()
	srv := exoteltest.NewServer(opts)
	t.Cleanup(srv.Close)
	srv.Seed(users...)
	return srv
}

// expReadCSV reads a report: header, then rows.
func expReadCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatalf("report is not CSV: %v\n%s", err, data)
	}
	if len(rows) == 0 || !slices.Equal(rows[0], exporter.Columns()) {
		t.Fatalf("report header %v", rows)
	}
	return rows
}

// expOnce runs fn the first time a bulk GET asks for offset.
func expOnce(offset string, fn func()) func(*http.Request) {
	var once sync.Once
	return func(r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("offset") == offset {
			once.Do(fn)
		}
	}
}

// expCheckDir fails unless dir holds exactly these files, with these
// contents (nil: any content).
func expCheckDir(t *testing.T, dir string, want map[string][]byte) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		w, ok := want[e.Name()]
		got, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if !ok || (w != nil && !bytes.Equal(got, w)) {
			t.Errorf("%s holds %q", e.Name(), got)
		}
	}
	if len(names) != len(want) {
		t.Errorf("directory holds %v, want %d files", names, len(want))
	}
}

func TestExportCommandWritesReport(t *testing.T) {
	srv := expServer(t, exoteltest.Options{}, exoteltest.SampleUsers(120, 1, time.Now())...)
	dir := t.TempDir()
	out := filepath.Join(dir, "users.csv")
	res := expRun(t, srv, nil, "", append(expFast(), "export", "--out", out)...)
	if res.code != ExitOK {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	data, _ := os.ReadFile(out)
	rows := expReadCSV(t, data)
	users := srv.Users()
	if len(rows) != 121 {
		t.Fatalf("%d rows, want 120 and a header", len(rows)-1)
	}
	for i, u := range users {
		if rows[i+1][0] != u.ID || rows[i+1][6] != u.Devices[0].ContactURI {
			t.Errorf("row %d = %v, want user %s", i+1, rows[i+1][:7], u.ID)
		}
	}
	if !strings.Contains(res.stdout, "120 users written to "+out+" (csv), 120 fetched with 3 requests") {
		t.Errorf("stdout: %s", res.stdout)
	}
	expCheckDir(t, dir, map[string][]byte{"users.csv": nil})
	for _, r := range srv.Requests() {
		if r.Query.Get("limit") != "50" {
			t.Errorf("request %q", r.RawQuery)
		}
	}
}

func TestExportCommandUsage(t *testing.T) {
	srv := expServer(t, exoteltest.Options{})
	dir := t.TempDir()
	out := filepath.Join(dir, "r.csv")
	tests := []struct {
		name string
		args []string
		code ExitCode
		msg  string
	}{
		{"no_out", []string{"export"}, ExitUsage, "--out is required"},
		{"out_is_dir", []string{"export", "--out", dir}, ExitUsage, "is a directory"},
		{"bad_format", []string{"export", "--out", out, "--format", "xlsx"}, ExitUsage, `format "xlsx": use csv or json`},
		{"bad_role", []string{"export", "--out", out, "--role", "owner"}, ExitUsage, `--role: role "owner"`},
		{"bad_email", []string{"export", "--out", out, "--email", "a@x.com,not-mail"}, ExitUsage, `--email: email "not-mail"`},
		{"bad_phone", []string{"export", "--out", out, "--phone", "12"}, ExitUsage, `--phone: phone "12"`},
		{"negative_days", []string{"export", "--out", out, "--inactive-days", "-1"}, ExitUsage, "--inactive-days -1"},
		{"summary_json_stdout", []string{"export", "--out", "-", "--summary-json"}, ExitUsage, "--summary-json=FILE"},
		{"summary_json_spaced", []string{"export", "--out", out, "--summary-json", "s.json"}, ExitUsage, `"s.json": give --summary-json its file as --summary-json=FILE`},
		{"unknown_flag", []string{"export", "--out", out, "--filter", "x"}, ExitUsage, "unknown flag"},
		{"missing_emails_file", []string{"export", "--out", out, "--emails-from", filepath.Join(dir, "none.txt")}, ExitAborted, "cannot read"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := expRun(t, srv, nil, "", tc.args...)
			if res.code != tc.code || !strings.Contains(res.stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", res.code, res.stderr, tc.code, tc.msg)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent by refused commands", n)
	}
	expCheckDir(t, dir, map[string][]byte{})
}

func TestExportCommandNoCredentials(t *testing.T) {
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"export", "--out", filepath.Join(t.TempDir(), "r.csv")},
		Env{Stdout: &out, Stderr: &errb})
	if code != ExitAborted || !strings.Contains(errb.String(), "EXOTEL_API_KEY is not set") {
		t.Errorf("exit %d: %s", code, errb.String())
	}
}

func TestExportCommandToStdout(t *testing.T) {
	srv := expServer(t, exoteltest.Options{}, exoteltest.SampleUsers(60, 2, time.Now())...)
	t.Run("csv", func(t *testing.T) {
		res := expRun(t, srv, nil, "", append(expFast(), "export", "--out", "-", "--summary")...)
		if res.code != ExitOK {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if rows := expReadCSV(t, []byte(res.stdout)); len(rows) != 61 {
			t.Errorf("%d rows on stdout", len(rows)-1)
		}
		// Status and summary go to stderr, so stdout is only the report.
		if !strings.Contains(res.stderr, "60 users written to stdout (csv), 60 fetched with 2 requests") || !strings.Contains(res.stderr, "never logged in") {
			t.Errorf("stderr: %s", res.stderr)
		}
	})
	t.Run("json", func(t *testing.T) {
		sumPath := filepath.Join(t.TempDir(), "sum.json")
		res := expRun(t, srv, nil, "", append(expFast(), "export", "--out", "-", "--format", "json", "--role", "admin",
			"--summary-json="+sumPath)...)
		if res.code != ExitOK {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
		if len(lines) != 2 { // SampleUsers makes users 0 and 40 admins
			t.Fatalf("%d JSON lines:\n%s", len(lines), res.stdout)
		}
		for _, l := range lines {
			var r exporter.Record
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.Role != "admin" {
				t.Errorf("line %s: %v", l, err)
			}
		}
		var sum exporter.Summary
		data, _ := os.ReadFile(sumPath)
		if err := json.Unmarshal(data, &sum); err != nil {
			t.Fatal(err)
		}
		if sum.Report.Users != 2 || sum.Fetched.Users != 60 || sum.Fetched.Admins != 2 || sum.Seen != 60 || !sum.SeenMatchesTotal {
			t.Errorf("summary: %s", data)
		}
	})
}

// expAuditUsers are people whose audit is known, relative to now: nobody
// is near the 90-day line, so the counts do not depend on the clock.
func expAuditUsers(now time.Time) []exoteltest.SeedUser {
	day := 24 * time.Hour
	return []exoteltest.SeedUser{
		{FirstName: "Asha", LastName: "Admin", Email: "asha@x.com", EmailVerified: true, Role: "admin",
			Devices: []exoteltest.SeedDevice{{ContactURI: "+919800000001", Verified: true}}, LastLogin: now.Add(-2 * day)},
		{FirstName: "Bala", LastName: "Admin", Email: "bala@x.com", Role: "admin", Phone: "+919800000002"},
		{FirstName: "Chitra", LastName: "Super", Role: "supervisor", LastLogin: now.Add(-150 * day),
			Devices: []exoteltest.SeedDevice{{ContactURI: "+919800000003"}, {ContactURI: "+919800000033", Verified: true}}},
		{FirstName: "Dev", LastName: "Agent", Email: "dev@x.com", EmailVerified: true, LastLogin: now.Add(-30 * day)},
		{FirstName: "Esha", LastName: "Agent", Email: "esha@x.com", LastLogin: now.Add(-300 * day),
			Devices: []exoteltest.SeedDevice{{ContactURI: "+919800000005"}, {ContactURI: "sip:esha5"}}},
		{FirstName: "Farah", LastName: "Agent", Email: "farah@x.com", EmailVerified: true,
			Devices: []exoteltest.SeedDevice{{ContactURI: "+919800000006", Verified: true}}},
	}
}

func TestExportCommandSummary(t *testing.T) {
	srv := expServer(t, exoteltest.Options{}, expAuditUsers(time.Now())...)
	tests := []struct {
		name   string
		args   []string
		golden string
	}{
		{"all", nil, "export_summary.golden"},
		{"stale_agents", []string{"--role", "agent", "--inactive-days", "90"}, "export_summary_filtered.golden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			out := filepath.Join(dir, "users.csv")
			args := append(append(expFast(), "export", "--out", out, "--summary", "--summary-json"), tc.args...)
			res := expRun(t, srv, nil, "", args...)
			if res.code != ExitOK {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			expCheckDir(t, dir, map[string][]byte{"users.csv": nil, "users.csv.summary.json": nil})
			got := regexp.MustCompile(`finished in [^:]+:`).ReplaceAllString(strings.ReplaceAll(res.stdout, dir, "$DIR"), "finished in DURATION:")
			golden(t, tc.golden, []byte(got))
		})
	}
}

func TestExportCommandFilters(t *testing.T) {
	users := exoteltest.SampleUsers(80, 3, time.Now())
	srv := expServer(t, exoteltest.Options{}, users...)
	dir := t.TempDir()
	list := filepath.Join(dir, "leavers.csv")
	os.WriteFile(list, []byte("Employee Name,E-mail\nA,"+users[5].Email+"\nB,"+strings.ToUpper(users[6].Email)+"\n"), 0o644)
	out := filepath.Join(dir, "some.csv")
	// users[7]'s number written the local way.
	res := expRun(t, srv, nil, "", append(expFast(), "export", "--out", out, "--emails-from", list,
		"--email", users[9].Email, "--phone", "0"+strings.TrimPrefix(users[7].Devices[0].ContactURI, "+91"))...)
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	data, _ := os.ReadFile(out)
	var got []string
	for _, row := range expReadCSV(t, data)[1:] {
		got = append(got, row[3])
	}
	slices.Sort(got)
	want := []string{users[5].Email, users[6].Email, users[7].Email, users[9].Email}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("exported %v, want %v", got, want)
	}
	for _, r := range srv.Requests() {
		if r.Query.Has("devices.contact_uri") && !strings.Contains(r.RawQuery, "devices.contact_uri=%2B91"+strings.TrimPrefix(users[7].Devices[0].ContactURI, "+91")) {
			t.Errorf("phone query %q", r.RawQuery)
		}
	}
}

// TestExportReimports exports account A and imports the report into an
// empty account B: B then holds the same people.
func TestExportReimports(t *testing.T) {
	seeds := exoteltest.SampleUsers(75, 4, time.Now())
	seeds = append(seeds,
		exoteltest.SeedUser{FirstName: "Two", LastName: "Phones", Email: "two@x.com", Role: "supervisor",
			Devices: []exoteltest.SeedDevice{{Name: "Desk", ContactURI: "+919700000001"}, {ContactURI: "+919700000002"}}},
		exoteltest.SeedUser{FirstName: "No", LastName: "Device", Email: "nodevice@x.com", Role: "admin"},
		exoteltest.SeedUser{FirstName: "No", LastName: "Mail", Phone: "+919700000003"},
	)
	a := expServer(t, exoteltest.Options{}, seeds...)
	b := expServer(t, exoteltest.Options{})
	dir := t.TempDir()
	report := filepath.Join(dir, "a.csv")
	if res := expRun(t, a, nil, "", append(expFast(), "export", "--out", report)...); res.code != ExitOK {
		t.Fatalf("export: exit %d: %s", res.code, res.stderr)
	}
	res := expRun(t, b, nil, "", append(expFast(), "import", report, "--results", filepath.Join(dir, "b.results.csv"))...)
	if res.code != ExitOK {
		t.Fatalf("import: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if strings.Contains(res.stderr, "unknown column") {
		t.Errorf("import complained about the report's columns: %s", res.stderr)
	}
	person := func(u exotel.User) string {
		phone, name := "", ""
		if d := u.PrimaryDevice(); d != nil {
			phone, name = d.ContactURI, d.Name
		}
		return strings.Join([]string{u.FirstName, u.LastName, u.Email, u.Role, phone, name}, "|")
	}
	var want, got []string
	for _, u := range a.Users() {
		want = append(want, person(u))
	}
	for _, u := range b.Users() {
		got = append(got, person(u))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("account B differs from A:\n got %q\nwant %q", got, want)
	}
}

func TestExportCommandLeavesOldReport(t *testing.T) {
	old := []byte("user_id,first_name\nyesterday,report\n")
	tests := []struct {
		name  string
		token string
		setup func(srv *exoteltest.Server, interrupt chan struct{})
		code  ExitCode
		msg   string
	}{
		{name: "credentials_refused", token: "wrong-token", code: ExitAborted,
			msg: "Exotel refused the credentials (HTTP 401: Authentication failed): check EXOTEL_API_KEY and EXOTEL_API_TOKEN (USERS was left as it was)."},
		{name: "interrupted", code: ExitInterrupted, msg: "Interrupted after",
			setup: func(srv *exoteltest.Server, interrupt chan struct{}) {
				srv.SetOnRequest(expOnce("100", func() { close(interrupt) }))
			}},
		{name: "pages_keep_failing", code: ExitAborted, msg: "fetching users at offset 50 failed after 2 attempts",
			setup: func(srv *exoteltest.Server, _ chan struct{}) {
				srv.SetOnRequest(expOnce("50", func() { srv.SetFaults(exoteltest.Faults{ServerErrorRate: 1, HTMLErrors: true}) }))
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := expServer(t, exoteltest.Options{Latency: 2 * time.Millisecond}, exoteltest.SampleUsers(300, 5, time.Now())...)
			interrupt := make(chan struct{})
			if tc.setup != nil {
				tc.setup(srv, interrupt)
			}
			dir := t.TempDir()
			out := filepath.Join(dir, "users.csv")
			os.WriteFile(out, old, 0o644)
			res := expRun(t, srv, interrupt, tc.token, append(expFast(), "export", "--out", out, "--workers", "2",
				"--max-attempts", "2", "--summary-json")...)
			stderr := strings.ReplaceAll(res.stderr, out, "USERS")
			if res.code != tc.code || !strings.Contains(stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", res.code, stderr, tc.code, tc.msg)
			}
			if strings.Contains(res.stderr+res.stdout, "token") && !strings.Contains(res.stderr, "EXOTEL_API_TOKEN") {
				t.Errorf("output mentions a token: %s", res.stderr)
			}
			if strings.Contains(res.stderr+res.stdout, "wrong-token") {
				t.Error("the token was printed")
			}
			expCheckDir(t, dir, map[string][]byte{"users.csv": old})
		})
	}
}

func TestExportHelpNamesClientSideFilters(t *testing.T) {
	var out bytes.Buffer
	run(context.Background(), []string{"export", "--help"}, Env{Stdout: &out, Stderr: &out})
	help := out.String()
	for _, s := range []string{"--role", "--inactive-days", "the API has no filter for it", "--summary-json string[=\"<out>.summary.json\"]",
		"(+91...) are kept exactly", "Exit codes"} {
		if !strings.Contains(help, s) && !strings.Contains(strings.Join(strings.Fields(help), " "), s) {
			t.Errorf("help lacks %q", s)
		}
	}
}
