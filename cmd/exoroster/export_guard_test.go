package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
)

// expRunAt runs the program with base as EXOTEL_BASE_URL, under ctx.
func expRunAt(ctx context.Context, base string, args ...string) expResult {
	return runWithVars(ctx, map[string]string{"EXOTEL_BASE_URL": base, "EXOTEL_API_KEY": "test-key",
		"EXOTEL_API_TOKEN": "test-token", "EXOTEL_ACCOUNT_SID": "test-sid"}, args...)
}

// runWithVars runs the program under ctx with vars as its whole
// environment and no input.
func runWithVars(ctx context.Context, vars map[string]string, args ...string) expResult {
	var out, errb bytes.Buffer
	code := run(ctx, args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return vars[k] }})
	return expResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// closedAddr is a loopback address nothing listens on: connecting to it is
// refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// runStopsAtOnce runs start under a context of 10 s, the failure condition
// of a run that should stop at its first request (not a measurement), and
// checks that it stopped before then: exit 1, with msg in its one line on
// stderr.
func runStopsAtOnce(t *testing.T, msg string, start func(ctx context.Context) expResult) expResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := start(ctx)
	if ctx.Err() != nil {
		t.Fatalf("still running after 10 s; exit %d: %s", res.code, res.stderr)
	}
	if res.code != ExitAborted || !strings.Contains(res.stderr, msg) {
		t.Errorf("exit %d, stderr %q; want %d and %q", res.code, res.stderr, ExitAborted, msg)
	}
	if n := strings.Count(strings.TrimSpace(res.stderr), "\n"); n != 0 {
		t.Errorf("more than one line: %q", res.stderr)
	}
	return res
}

// A server that repeats its first page forever, or answers empty with a
// large total, does not replace yesterday's report, unless asked to.
func TestExportKeepsReportWhenServerLies(t *testing.T) {
	old := []byte("user_id,first_name\nyesterday,report\n")
	tests := []struct {
		name     string
		users    int
		fault    exoteltest.ListFault
		args     []string
		code     ExitCode
		msg      string
		reported int // users in the report written; -1: the old one kept
	}{
		{name: "same page forever", users: 300, fault: exoteltest.ListFault{RepeatFirstPage: true}, code: ExitAborted,
			msg:      "the API counted 300 users but 250 did not come back (the server answered a page with users already seen), more than a live account explains (6): USERS was left as it was; export again, or pass --allow-partial",
			reported: -1},
		{name: "empty page with a large total", fault: exoteltest.ListFault{Empty: true, Total: 100000}, code: ExitAborted,
			msg: "the API counted 100000 users but 100000 did not come back (the server answered with no users)", reported: -1},
		{name: "same page forever, allowed", users: 300, fault: exoteltest.ListFault{RepeatFirstPage: true},
			args: []string{"--allow-partial"}, code: ExitRowsNotDone, msg: "note: 250 of the 300 users the API counted did not come back", reported: 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := expServer(t, exoteltest.Options{ListFault: tc.fault}, exoteltest.SampleUsers(tc.users, 5, time.Now())...)
			dir := t.TempDir()
			out := filepath.Join(dir, "users.csv")
			os.WriteFile(out, old, 0o644)
			res := expRun(t, srv, nil, "", append(append(expFast(), "export", "--out", out, "--summary-json"), tc.args...)...)
			all := strings.ReplaceAll(res.stdout+res.stderr, out, "USERS")
			if res.code != tc.code || !strings.Contains(all, tc.msg) {
				t.Errorf("exit %d, output %q; want %d and %q", res.code, all, tc.code, tc.msg)
			}
			if n := srv.CountRequests("GET"); n > 10 {
				t.Errorf("%d requests to a lying server", n)
			}
			if tc.reported < 0 {
				expCheckDir(t, dir, map[string][]byte{"users.csv": old})
				return
			}
			expCheckDir(t, dir, map[string][]byte{"users.csv": nil, "users.csv.summary.json": nil})
			data, _ := os.ReadFile(out)
			if rows := expReadCSV(t, data); len(rows)-1 != tc.reported {
				t.Errorf("report holds %d users, want %d", len(rows)-1, tc.reported)
			}
			var sum struct {
				Missing       int `json:"missing"`
				RepeatedPages int `json:"repeated_pages"`
			}
			js, _ := os.ReadFile(out + ".summary.json")
			if err := json.Unmarshal(js, &sum); err != nil || sum.Missing != 250 || sum.RepeatedPages != 1 {
				t.Errorf("summary %s (%v)", js, err)
			}
		})
	}
}

// A user record with an odd active_call is exported like any other, and
// the run says so once.
func TestExportOddActiveCall(t *testing.T) {
	users := exoteltest.SampleUsers(70, 6, time.Now())
	users[3].Raw = map[string]json.RawMessage{"active_call": json.RawMessage(`{"sid":"ca1","state":"ringing"}`)}
	srv := expServer(t, exoteltest.Options{}, users...)
	res := expRun(t, srv, nil, "", append(expFast(), "export", "--out", "-", "--format", "json")...)
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.stdout), "\n")
	if len(lines) != 70 || !strings.Contains(lines[3], `"active_call":{"sid":"ca1","state":"ringing"}`) {
		t.Errorf("%d lines; line 4: %s", len(lines), lines[3])
	}
	if strings.Contains(res.stderr, "changed during the export") || strings.Contains(res.stderr, "record") && strings.Contains(res.stderr, "failed") {
		t.Errorf("stderr: %s", res.stderr)
	}
	if n := strings.Count(res.stderr, "field=active_call"); n != 1 {
		t.Errorf("the oddity is logged %d times:\n%s", n, res.stderr)
	}
	if !strings.Contains(res.stderr, "note: 1 user records had values of an unexpected shape (active_call)") {
		t.Errorf("no note: %s", res.stderr)
	}
}

func TestExportRefusesToOverwriteItsList(t *testing.T) {
	srv := expServer(t, exoteltest.Options{})
	dir := t.TempDir()
	list := filepath.Join(dir, "list.csv")
	content := []byte("email\na@x.com\n")
	os.WriteFile(list, content, 0o644)
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(list, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	tests := []struct {
		name string
		args []string
		msg  string
	}{
		{"same path", []string{"--out", list}, "--out " + list + " is the --emails-from list"},
		{"same path written another way", []string{"--out", filepath.Join(dir, ".", "list.csv")}, "is the --emails-from list"},
		{"same file through a link", []string{"--out", link}, "--out " + link + " is the --emails-from list"},
		{"summary onto the list", []string{"--out", filepath.Join(dir, "r.csv"), "--summary-json=" + list}, "--summary-json " + list + " is the --emails-from list"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := expRun(t, srv, nil, "", append(append(expFast(), "export", "--emails-from", list), tc.args...)...)
			if res.code != ExitUsage || !strings.Contains(res.stderr, tc.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", res.code, res.stderr, ExitUsage, tc.msg)
			}
		})
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
	if got, _ := os.ReadFile(list); !bytes.Equal(got, content) {
		t.Errorf("the list now holds %q", got)
	}
}

// Temporary files that a killed export of the same report left are removed
// at the start of the next one; others are not.
func TestExportRemovesLeftoverTemps(t *testing.T) {
	srv := expServer(t, exoteltest.Options{}, exoteltest.SampleUsers(3, 1, time.Now())...)
	dir := t.TempDir()
	out := filepath.Join(dir, "users.csv")
	hour := time.Now().Add(-time.Hour)
	for _, name := range []string{".users.csv.1234567890.tmp", ".users.csv.summary.json.42.tmp", ".other.csv.77.tmp"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("half"), 0o644)
		os.Chtimes(p, hour, hour)
	}
	res := expRun(t, srv, nil, "", append(expFast(), "--log-level", "info", "export", "--out", out, "--summary-json")...)
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	expCheckDir(t, dir, map[string][]byte{"users.csv": nil, "users.csv.summary.json": nil, ".other.csv.77.tmp": []byte("half")})
	if !strings.Contains(res.stderr, "removed a temporary file an earlier export left") {
		t.Errorf("stderr: %s", res.stderr)
	}
}

// A misconfiguration that waiting cannot fix stops the run at once with one
// sentence: the default 10 attempts and 50/min would take minutes. The
// context's 10 s is the failure condition, not a measurement.
func TestExportFailsFastOnMisconfiguration(t *testing.T) {
	srv := expServer(t, exoteltest.Options{}, exoteltest.SampleUsers(5, 1, time.Now())...)
	host := strings.TrimPrefix(srv.URL(), "http://")
	closed := closedAddr(t)
	tests := []struct {
		name string
		base string
		msg  string
	}{
		{"tls to plain http", "https://" + host,
			"exoroster: the server at " + host + " speaks plain http, not https: use http://" + host + " as --base-url or EXOTEL_BASE_URL (no report was written)."},
		{"refused connection", "http://" + closed,
			"exoroster: " + closed + " refused the connection: check --base-url or EXOTEL_BASE_URL and that the server is running"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			runStopsAtOnce(t, tc.msg, func(ctx context.Context) expResult {
				return expRunAt(ctx, tc.base, "export", "--out", filepath.Join(dir, "users.csv"))
			})
			expCheckDir(t, dir, map[string][]byte{})
		})
	}
}

// The same failure later in a run is retried as before, and the default
// output says so as it happens.
func TestExportReportsAnOutageAsItHappens(t *testing.T) {
	srv := expServer(t, exoteltest.Options{}, exoteltest.SampleUsers(120, 1, time.Now())...)
	srv.SetOnRequest(expOnce("50", func() { go srv.Close() }))
	dir := t.TempDir()
	out := filepath.Join(dir, "users.csv")
	res := expRun(t, srv, nil, "", append(expFast(), "export", "--out", out, "--workers", "1", "--max-attempts", "3")...)
	if res.code != ExitAborted || !strings.Contains(res.stderr, "failed after 3 attempts") {
		t.Errorf("exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{`msg="no answer from the API; retrying after a backoff"`, `attempt="1 of 3"`, `attempt="2 of 3"`,
		"refused the connection"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	expCheckDir(t, dir, map[string][]byte{})
}
