package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/runlock"
)

// opsEnv is a user's shell for the operations tests: a home, a state
// directory, and the environment the program sees (nothing else).
type opsEnv struct {
	t    *testing.T
	dir  string
	vars map[string]string
}

func newOpsEnv(t *testing.T) *opsEnv {
	t.Helper()
	dir := t.TempDir()
	return &opsEnv{t: t, dir: dir, vars: map[string]string{
		"HOME": dir, "XDG_STATE_HOME": filepath.Join(dir, "state"),
	}}
}

// run runs the real command in-process.
func (e *opsEnv) run(args ...string) expResult {
	e.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return e.vars[k] }})
	return expResult{code: code, stdout: out.String(), stderr: errb.String()}
}

// file writes name in the env's folder with mode and returns its path.
func (e *opsEnv) file(name, content string, mode os.FileMode) string {
	e.t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		e.t.Fatal(err)
	}
	return path
}

// lockOf is the path of the account's run lock in the env's state dir.
func (e *opsEnv) lockOf(target, account string) runlock.Target {
	return runlock.ForAccount(filepath.Join(e.vars["XDG_STATE_HOME"], "exoroster"), target, account)
}

// opsFake is a fake account with its own key, token and SID, and n users.
func opsFake(t *testing.T, opts exoteltest.Options, n int) *exoteltest.Server {
	t.Helper()
	srv := exoteltest.NewServer(opts)
	t.Cleanup(srv.Close)
	srv.Seed(exoteltest.SampleUsers(n, 1, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))...)
	return srv
}

// opsSecrets are strings that must never reach the output.
func opsNoSecret(t *testing.T, r expResult, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(r.stdout+r.stderr, s) {
			t.Errorf("%q appears in the output:\n%s\n%s", s, r.stdout, r.stderr)
		}
	}
}

// A config of two CCM accounts and one WebRTC app; tokens in files or a
// variable the profile names, never in the file.
func opsConfig(e *opsEnv, acme, globex, soft *exoteltest.Server) string {
	e.file("acme.token", "acme-token-secret\n", 0o600)
	e.file("globex.token", "globex-token-secret\n", 0o600)
	cfg := e.file("config.toml", `profile_index = ["globex", "acme"]

[profiles.acme]
account_sid = "acme1"
api_key = "acme-key"
api_token_file = "acme.token"
base_url = "`+acme.URL()+`"
rate = "6000/min"
default_region = "US"

[profiles.globex]
account_sid = "globex1"
api_key = "globex-key"
api_token_file = "globex.token"
base_url = "`+globex.URL()+`"
workers = 2

[profiles.soft]
target = "webrtc"
customer_id = "cust9"
app_id = "app7"
api_token_env = "SOFT_TOKEN"
base_url = "`+soft.URL()+`"
`, 0o644)
	return cfg
}

// Profiles and precedence through the real commands: the profile picks
// the account, host and token file; a variable beats the profile; a flag
// beats both.
func TestProfilesResolveThroughCommands(t *testing.T) {
	acme := opsFake(t, exoteltest.Options{APIKey: "acme-key", APIToken: "acme-token-secret", AccountSID: "acme1"}, 7)
	globex := opsFake(t, exoteltest.Options{APIKey: "globex-key", APIToken: "globex-token-secret", AccountSID: "globex1"}, 3)
	soft := opsFake(t, exoteltest.Options{WebRTC: exoteltest.WebRTCOptions{Token: "soft-token-secret", CustomerID: "cust9", AppID: "app7"}}, 0)
	// Globex's account served by acme's host too, to see EXOTEL_BASE_URL win.
	globexElsewhere := opsFake(t, exoteltest.Options{APIKey: "globex-key", APIToken: "globex-token-secret", AccountSID: "globex1"}, 5)

	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		want    ExitCode
		users   string // "N users written" expected in stdout
		out     []string
		hit     *exoteltest.Server
		notHit  []*exoteltest.Server
		stderrs []string
	}{
		{name: "--profile picks account, host and token file", args: []string{"--profile", "acme"},
			want: ExitOK, users: "7 users written", hit: acme, notHit: []*exoteltest.Server{globex}},
		{name: "EXOTEL_PROFILE picks it", env: map[string]string{"EXOTEL_PROFILE": "globex"},
			want: ExitOK, users: "3 users written", hit: globex, notHit: []*exoteltest.Server{acme}},
		{name: "--profile beats EXOTEL_PROFILE", env: map[string]string{"EXOTEL_PROFILE": "globex"}, args: []string{"--profile", "acme"},
			want: ExitOK, users: "7 users written", hit: acme, notHit: []*exoteltest.Server{globex}},
		{name: "--profile-index picks from profile_index", args: []string{"--profile-index", "1"},
			want: ExitOK, users: "7 users written", hit: acme},
		{name: "EXOTEL_PROFILE_INDEX too", env: map[string]string{"EXOTEL_PROFILE_INDEX": "0"},
			want: ExitOK, users: "3 users written", hit: globex},
		{name: "EXOTEL_BASE_URL beats the profile's base_url", env: map[string]string{"EXOTEL_BASE_URL": globexElsewhere.URL()}, args: []string{"--profile", "globex"},
			want: ExitOK, users: "5 users written", hit: globexElsewhere, notHit: []*exoteltest.Server{globex}},
		{name: "--base-url beats EXOTEL_BASE_URL", env: map[string]string{"EXOTEL_BASE_URL": globexElsewhere.URL()}, args: []string{"--profile", "globex", "--base-url", globex.URL()},
			want: ExitOK, users: "3 users written", hit: globex, notHit: []*exoteltest.Server{globexElsewhere}},
		{name: "the profile's rate", args: []string{"--profile", "acme"},
			want: ExitOK, out: []string{"rate: 6000/min, from the configured rate"}},
		{name: "--rate beats the profile's", args: []string{"--profile", "acme", "--rate", "3000/min"},
			want: ExitOK, out: []string{"rate: 3000/min, from the configured rate"}},
		{name: "a variable beats the profile's token file", env: map[string]string{"EXOTEL_API_TOKEN": "not-globex-token"}, args: []string{"--profile", "globex"},
			want: ExitAborted, stderrs: []string{"401"}},
		{name: "a webrtc profile, its token from the variable it names", env: map[string]string{"SOFT_TOKEN": "soft-token-secret"}, args: []string{"--profile", "soft"},
			want: ExitOK, users: "0 users written", hit: soft},
		{name: "the webrtc profile's variable unset", args: []string{"--profile", "soft"},
			want: ExitAborted, stderrs: []string{"SOFT_TOKEN is not set (named by profile soft in "}},
		{name: "--target contradicting the profile", args: []string{"--profile", "acme", "--target", "webrtc"},
			want: ExitAborted, stderrs: []string{"--target webrtc contradicts profile acme, which is a ccm account"}},
		{name: "an unknown profile", args: []string{"--profile", "nobody"},
			want: ExitAborted, stderrs: []string{"profile nobody (from flag --profile) is not in ", "it has acme, globex, soft"}},
		{name: "no profile: today's message", env: map[string]string{"EXOROSTER_CONFIG": ""},
			want: ExitAborted, stderrs: []string{"exoroster: EXOTEL_API_KEY is not set."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newOpsEnv(t)
			e.vars["EXOROSTER_CONFIG"] = opsConfig(e, acme, globex, soft)
			for k, v := range tc.env {
				e.vars[k] = v
			}
			counts := map[*exoteltest.Server]int{}
			for _, s := range []*exoteltest.Server{acme, globex, soft, globexElsewhere} {
				counts[s] = s.CountRequests("")
			}
			out := filepath.Join(e.dir, "users.csv")
			r := e.run(append([]string{"export", "--out", out}, tc.args...)...)
			if r.code != tc.want {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.want, r.stdout, r.stderr)
			}
			if tc.users != "" && !strings.Contains(r.stdout, tc.users) {
				t.Errorf("stdout lacks %q:\n%s", tc.users, r.stdout)
			}
			for _, want := range tc.out {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
				}
			}
			for _, want := range tc.stderrs {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
				}
			}
			if tc.hit != nil && tc.hit.CountRequests("") == counts[tc.hit] {
				t.Error("the expected account got no request")
			}
			for _, s := range tc.notHit {
				if s.CountRequests("") != counts[s] {
					t.Error("another account got requests")
				}
			}
			opsNoSecret(t, r, "acme-token-secret", "globex-token-secret", "soft-token-secret")
		})
	}
}

// A profile's default_region reads local numbers (validate needs no
// account); a flag beats it.
func TestProfileDefaultRegionInValidate(t *testing.T) {
	e := newOpsEnv(t)
	e.vars["EXOROSTER_CONFIG"] = e.file("config.toml", "[profiles.us]\naccount_sid = \"us1\"\ndefault_region = \"US\"\n", 0o644)
	// An Indian mobile number written locally: no such US area code.
	roster := e.file("roster.csv", "name,email,mobile\nAna Ruiz,ana@corp.example.com,98765 43210\n", 0o644)
	if r := e.run("validate", roster); r.code != ExitOK {
		t.Errorf("no profile, default IN: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := e.run("validate", roster, "--profile", "us"); r.code != ExitRowsNotDone {
		t.Errorf("with the profile's US: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := e.run("validate", roster, "--profile", "us", "--default-region", "IN"); r.code != ExitOK {
		t.Errorf("--default-region IN beats the profile: exit %d\n%s", r.code, r.stdout)
	}
}

// A literal token in the config file is refused by every command that
// reads the file, with the reason and without the token.
func TestLiteralTokenInConfigRefused(t *testing.T) {
	e := newOpsEnv(t)
	e.vars["EXOROSTER_CONFIG"] = e.file("config.toml", "[profiles.acme]\naccount_sid = \"acme1\"\napi_key = \"k\"\napi_token = \"pasted-literal-token\"\n", 0o644)
	roster := e.file("roster.csv", rosterOf(2), 0o644)
	for _, args := range [][]string{
		{"export", "--out", filepath.Join(e.dir, "x.csv"), "--profile", "acme"},
		{"import", roster, "--profile", "acme"},
		{"import", roster, "--dry-run"},
		{"config", "show"},
	} {
		r := e.run(args...)
		if r.code != ExitAborted || !strings.Contains(r.stderr, "api_token holds a token itself") ||
			!strings.Contains(r.stderr, "api_token_file") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
		opsNoSecret(t, r, "pasted-literal-token")
	}
}

// Token files: the Kubernetes Secret convention, for both targets; a file
// others can read is warned about once; the token never shows.
func TestTokenFiles(t *testing.T) {
	srv := opsFake(t, exoteltest.Options{APIToken: "file-token-secret",
		WebRTC: exoteltest.WebRTCOptions{Token: "app-token-secret"}}, 4)
	ccm := map[string]string{"EXOTEL_API_KEY": "test-key", "EXOTEL_ACCOUNT_SID": "test-sid", "EXOTEL_BASE_URL": srv.URL()}
	app := map[string]string{"EXOTEL_CUSTOMER_ID": "test-customer", "EXOTEL_APP_ID": "test-app", "EXOTEL_BASE_URL": srv.URL()}
	tests := []struct {
		name     string
		base     map[string]string
		env      map[string]string // values "FILE:content:mode" become a file
		args     []string
		want     ExitCode
		warnings int
		stderr   string
	}{
		{name: "ccm token file", base: ccm, env: map[string]string{"EXOTEL_API_TOKEN_FILE": "FILE:file-token-secret\n:0600"}, want: ExitOK},
		{name: "ccm token file readable by all: one warning", base: ccm, env: map[string]string{"EXOTEL_API_TOKEN_FILE": "FILE:file-token-secret\n:0644"},
			want: ExitOK, warnings: 1, stderr: "is readable by every user on this machine (mode 0644); chmod 600 it"},
		{name: "webrtc token file", base: app, env: map[string]string{"EXOTEL_WEBRTC_TOKEN_FILE": "FILE:app-token-secret:0600"}, args: []string{"--target", "webrtc"}, want: ExitOK},
		{name: "the variable and its file both", base: ccm, env: map[string]string{"EXOTEL_API_TOKEN": "file-token-secret", "EXOTEL_API_TOKEN_FILE": "FILE:file-token-secret:0600"},
			want: ExitAborted, stderr: "EXOTEL_API_TOKEN and EXOTEL_API_TOKEN_FILE are both set: keep one"},
		{name: "an empty token file", base: ccm, env: map[string]string{"EXOTEL_API_TOKEN_FILE": "FILE:\n:0600"},
			want: ExitAborted, stderr: "is empty (named by env EXOTEL_API_TOKEN_FILE)"},
		{name: "a missing token file", base: ccm, env: map[string]string{"EXOTEL_API_TOKEN_FILE": "/nonexistent/token"},
			want: ExitAborted, stderr: "token file: open /nonexistent/token: no such file or directory (named by env EXOTEL_API_TOKEN_FILE)"},
		{name: "a wrong token in the file", base: ccm, env: map[string]string{"EXOTEL_API_TOKEN_FILE": "FILE:wrong-token:0600"},
			want: ExitAborted, stderr: "401"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newOpsEnv(t)
			for k, v := range tc.base {
				e.vars[k] = v
			}
			for k, v := range tc.env {
				if rest, ok := strings.CutPrefix(v, "FILE:"); ok {
					i := strings.LastIndex(rest, ":")
					mode, _ := strconv.ParseUint(rest[i+1:], 8, 32)
					v = e.file("token", rest[:i], os.FileMode(mode))
				}
				e.vars[k] = v
			}
			r := e.run(append([]string{"export", "--out", filepath.Join(e.dir, "x.csv")}, tc.args...)...)
			if r.code != tc.want {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.want, r.stdout, r.stderr)
			}
			if n := strings.Count(r.stderr, "warning:"); n != tc.warnings {
				t.Errorf("%d warnings, want %d:\n%s", n, tc.warnings, r.stderr)
			}
			if !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tc.stderr, r.stderr)
			}
			opsNoSecret(t, r, "file-token-secret", "app-token-secret")
		})
	}
}

// Every command that works on an account refuses at once, before any
// request, while another run holds the account's lock, naming its PID;
// --no-lock goes ahead; dry runs, plan and validate take no lock.
func TestAccountLockEveryCommand(t *testing.T) {
	srv := opsFake(t, exoteltest.Options{}, 0)
	e := newOpsEnv(t)
	for k, v := range map[string]string{"EXOTEL_API_KEY": "test-key", "EXOTEL_API_TOKEN": "test-token",
		"EXOTEL_ACCOUNT_SID": "test-sid", "EXOTEL_BASE_URL": srv.URL()} {
		e.vars[k] = v
	}
	roster := e.file("roster.csv", rosterOf(3), 0o644)
	leavers := e.file("leavers.csv", "email\nnobody@corp.example.com\n", 0o644)
	changes := e.file("changes.csv", "email,first_name\nnobody@corp.example.com,New\n", 0o644)
	plan := filepath.Join(e.dir, "plan.json")
	if r := e.run("plan", roster, "--out", plan); r.code != ExitChangesPending {
		t.Fatalf("plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	res := func(name string) []string { return []string{"--results", filepath.Join(e.dir, name)} }

	held, err := runlock.Acquire(context.Background(), e.lockOf("ccm", "test-sid"), runlock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	refused := []struct {
		name string
		args []string
	}{
		{"import", append([]string{"import", roster}, res("i.csv")...)},
		{"export", []string{"export", "--out", filepath.Join(e.dir, "x.csv")}},
		{"offboard", append([]string{"offboard", leavers, "--yes"}, res("o.csv")...)},
		{"update", append([]string{"update", changes}, res("u.csv")...)},
		{"apply", append([]string{"apply", plan}, res("a.csv")...)},
		{"sync", append([]string{"sync", roster, "--yes"}, res("s.csv")...)},
	}
	for _, tc := range refused {
		t.Run(tc.name+" refused", func(t *testing.T) {
			before := srv.CountRequests("")
			r := e.run(tc.args...)
			if r.code != ExitAborted || !strings.Contains(r.stderr, "another run (PID "+strconv.Itoa(os.Getpid())) ||
				!strings.Contains(r.stderr, "is working on ccm account test-sid") || !strings.Contains(r.stderr, "--wait-lock 10m") {
				t.Errorf("exit %d, stderr %q", r.code, r.stderr)
			}
			if n := srv.CountRequests("") - before; n != 0 {
				t.Errorf("%d requests before the refusal", n)
			}
		})
	}
	free := []struct {
		name string
		args []string
		want ExitCode
	}{
		{"import --dry-run", append([]string{"import", roster, "--dry-run"}, res("id.csv")...), ExitOK},
		{"offboard --dry-run", append([]string{"offboard", leavers, "--dry-run"}, res("od.csv")...), ExitOK},
		{"update --dry-run", append([]string{"update", changes, "--dry-run"}, res("ud.csv")...), ExitRowsNotDone},
		{"plan", []string{"plan", roster}, ExitChangesPending},
		{"sync --dry-run", []string{"sync", roster, "--dry-run"}, ExitChangesPending},
		{"validate", []string{"validate", roster}, ExitOK},
		{"export --no-lock", []string{"export", "--out", filepath.Join(e.dir, "n.csv"), "--no-lock"}, ExitOK},
		{"import --no-lock", append([]string{"import", roster, "--no-lock"}, res("in.csv")...), ExitOK},
	}
	for _, tc := range free {
		t.Run(tc.name+" goes ahead", func(t *testing.T) {
			if r := e.run(tc.args...); r.code != tc.want {
				t.Errorf("exit %d, want %d\n%s%s", r.code, tc.want, r.stdout, r.stderr)
			}
		})
	}
}

// A second process against the same account is refused at once naming the
// first's PID; once the first dies (SIGKILL: no chance to clean up) its
// lock is free; --wait-lock waits for a holder that finishes.
func TestAccountLockAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a real process")
	}
	srv := opsFake(t, exoteltest.Options{}, 400) // 8 pages
	bin := buildBinary(t)
	e := newOpsEnv(t)
	for k, v := range map[string]string{"EXOTEL_API_KEY": "test-key", "EXOTEL_API_TOKEN": "test-token",
		"EXOTEL_ACCOUNT_SID": "test-sid", "EXOTEL_BASE_URL": srv.URL()} {
		e.vars[k] = v
	}
	start := func(rate string) *exec.Cmd {
		before := srv.CountRequests("")
		cmd := exec.Command(bin, "export", "--out", filepath.Join(e.dir, "first.csv"), "--rate", rate, "--workers", "1", "--progress-every", "0")
		cmd.Env = os.Environ()
		for k, v := range e.vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		// The lock is taken before the first request.
		deadline := time.Now().Add(30 * time.Second)
		for srv.CountRequests("") == before && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		return cmd
	}

	before := srv.CountRequests("")
	first := start("1/min") // the second page would come a minute later
	r := e.run("export", "--out", filepath.Join(e.dir, "second.csv"))
	pid := strconv.Itoa(first.Process.Pid)
	if r.code != ExitAborted || !strings.Contains(r.stderr, "another run (PID "+pid) {
		t.Fatalf("second run: exit %d, stderr %q; want 1 naming PID %s", r.code, r.stderr, pid)
	}
	if n := srv.CountRequests("") - before; n != 1 {
		t.Errorf("%d requests, want the first run's one page", n)
	}

	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	if r := e.run("export", "--out", filepath.Join(e.dir, "after-kill.csv"), "--rate", "2000/s"); r.code != ExitOK {
		t.Fatalf("after the holder was killed: exit %d\n%s", r.code, r.stderr)
	}

	first = start("600/min") // 8 pages, a few hundred ms each
	r = e.run("export", "--out", filepath.Join(e.dir, "waited.csv"), "--wait-lock", "2m", "--rate", "2000/s")
	if r.code != ExitOK || !strings.Contains(r.stderr, "another run (PID "+strconv.Itoa(first.Process.Pid)) ||
		!strings.Contains(r.stderr, "waiting up to 2m0s for it to finish") {
		t.Errorf("--wait-lock: exit %d\n%s", r.code, r.stderr)
	}
	if err := first.Wait(); err != nil {
		t.Errorf("the first run: %v", err)
	}
}

// JSON logs: every line an object with one run_id, the command and the
// account (profile name, never a secret); the end-of-run summary is a line
// too; emails the run handles appear in none of them above debug.
func TestJSONLogs(t *testing.T) {
	srv := opsFake(t, exoteltest.Options{APIKey: "acme-key", APIToken: "acme-token-secret", AccountSID: "acme1",
		DropBeforeRate: 1, FaultMethods: []string{http.MethodGet}}, 3)
	e := newOpsEnv(t)
	e.vars["EXOROSTER_CONFIG"] = opsConfig(e, srv, srv, srv)
	email := "asha.rao+ops@corp.example.com"
	r := e.run("export", "--profile", "acme", "--out", filepath.Join(e.dir, "x.csv"), "--email", email,
		"--log-format", "json", "--max-attempts", "2")
	if r.code != ExitAborted {
		t.Fatalf("exit %d, want 1 (every GET dropped)\n%s", r.code, r.stderr)
	}
	lines := opsJSONLines(t, r.stderr)
	if len(lines) < 2 {
		t.Fatalf("want the retries' lines and the end-of-run line:\n%s", r.stderr)
	}
	runID := lines[0]["run_id"]
	if ok, _ := regexp.MatchString(`^\d{8}T\d{6}Z-[0-9a-f]{6}$`, runID.(string)); !ok {
		t.Errorf("run_id %q", runID)
	}
	for _, l := range lines {
		if l["run_id"] != runID || l["command"] != "export" || l["account"] != "acme" {
			t.Errorf("line %v: want run_id %v, command export, account acme", l, runID)
		}
	}
	last := lines[len(lines)-1]
	if last["msg"] != "run finished" || last["level"] != "INFO" || last["exit"] != float64(1) || last["error"] == nil {
		t.Errorf("end-of-run line %v", last)
	}
	opsNoSecret(t, r, "acme-token-secret", "acme-key", email, url.QueryEscape(email))

	// A run that finishes says what it did, in the same line; its progress
	// lines (without a terminal) are JSON lines too.
	ok := opsFake(t, exoteltest.Options{APIKey: "acme-key", APIToken: "acme-token-secret", AccountSID: "acme1",
		Latency: 20 * time.Millisecond}, 4)
	e.vars["EXOROSTER_CONFIG"] = opsConfig(e, ok, ok, ok)
	r = e.run("export", "--profile", "acme", "--out", filepath.Join(e.dir, "y.csv"), "--log-format", "json", "--progress-every", "1ms")
	if strings.Contains(r.stderr, "exoroster: ") {
		t.Errorf("a run that finished wrote a line that is not JSON:\n%s", r.stderr)
	}
	lines = opsJSONLines(t, r.stderr)
	if r.code != ExitOK || len(lines) == 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	last = lines[len(lines)-1]
	if last["msg"] != "run finished" || last["exit"] != float64(0) || last["users"] != float64(4) || last["requests"] != float64(1) {
		t.Errorf("end-of-run line %v", last)
	}
	// Text logs at the default level stay quiet on success.
	r = e.run("export", "--profile", "acme", "--out", filepath.Join(e.dir, "z.csv"))
	if r.code != ExitOK || r.stderr != "" {
		t.Errorf("text logs: exit %d, stderr %q", r.code, r.stderr)
	}
}

// opsJSONLines parses stderr's JSON lines; the one-sentence reason a run
// stopped ("exoroster: …") is the only other line allowed.
func opsJSONLines(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(stderr))
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "exoroster: ") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Errorf("not a JSON line: %q", sc.Text())
			continue
		}
		out = append(out, m)
	}
	return out
}

// Two accounts on two independent servers, tokens only in files, exported
// at once (each waits at its first request until the other has sent one:
// one after the other, they never would), one of them failing: the other's
// report is written, each has its line, the exit is the worst.
func TestExportAllProfilesConcurrently(t *testing.T) {
	var seenAcme, seenGlobex sync.Once
	acmeSeen, globexSeen := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	serial := false
	barrier := func(mine *sync.Once, mineCh chan struct{}, other chan struct{}) func(*http.Request) {
		return func(*http.Request) {
			mine.Do(func() { close(mineCh) })
			select {
			case <-other:
			case <-time.After(30 * time.Second):
				mu.Lock()
				serial = true
				mu.Unlock()
			}
		}
	}
	acme := opsFake(t, exoteltest.Options{APIKey: "acme-key", APIToken: "acme-token-secret", AccountSID: "acme1",
		OnRequest: barrier(&seenAcme, acmeSeen, globexSeen)}, 120)
	// globex's server wants another token than its file holds: refused.
	globex := opsFake(t, exoteltest.Options{APIKey: "globex-key", APIToken: "globex-rotated-token", AccountSID: "globex1",
		OnRequest: barrier(&seenGlobex, globexSeen, acmeSeen)}, 10)
	soft := opsFake(t, exoteltest.Options{}, 0)
	e := newOpsEnv(t)
	cfg := opsConfig(e, acme, globex, soft)
	e.vars["EXOROSTER_CONFIG"] = cfg

	out := filepath.Join(e.dir, "reports", "{profile}-{date}.csv")
	r := e.run("export", "--profiles", "acme,globex", "--out", out, "--rate", "6000/min", "--log-format", "json")
	if r.code != ExitAborted {
		t.Fatalf("exit %d, want 1 (globex refused)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	mu.Lock()
	if serial {
		t.Error("the accounts did not run at the same time")
	}
	mu.Unlock()
	date := time.Now().Format("2006-01-02")
	report := filepath.Join(e.dir, "reports", "acme-"+date+".csv")
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("acme's report: %v", err)
	}
	if rows := expReadCSV(t, data); len(rows) != 121 {
		t.Errorf("acme's report has %d rows, want 121", len(rows))
	}
	if _, err := os.Stat(filepath.Join(e.dir, "reports", "globex-"+date+".csv")); err == nil {
		t.Error("globex's failed export left a report")
	}
	for _, want := range []string{
		"[acme] export finished in ", "120 users written to " + report,
		"acme    exit 0    export finished in ",
		"globex  exit 1    Exotel refused the credentials (HTTP 401: Authentication failed): check the API key (profile globex in " + cfg +
			") and the token (file " + filepath.Join(e.dir, "globex.token") + ", named by profile globex in " + cfg + ")",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "[globex] exoroster: Exotel refused the credentials") {
		t.Errorf("stderr lacks globex's reason:\n%s", r.stderr)
	}
	// One end-of-run line per account and one for the whole run, under one run_id.
	ends := map[string]map[string]any{}
	var ids []any
	for _, l := range opsJSONLines(t, strings.ReplaceAll(r.stderr, "[globex] exoroster: ", "exoroster: ")) {
		ids = append(ids, l["run_id"])
		if l["msg"] == "run finished" {
			ends[l["account"].(string)] = l
		}
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Errorf("run_ids %v differ", ids)
			break
		}
	}
	if ends["acme"]["exit"] != float64(0) || ends["acme"]["users"] != float64(120) || ends["globex"]["exit"] != float64(1) ||
		ends[""]["exit"] != float64(1) || ends[""]["accounts"] != float64(2) {
		t.Errorf("end-of-run lines %v", ends)
	}
	opsNoSecret(t, r, "acme-token-secret", "globex-token-secret")
}

// What a multi-profile export refuses before any request.
func TestExportProfilesRefusals(t *testing.T) {
	srv := opsFake(t, exoteltest.Options{}, 1)
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		want   ExitCode
		stderr string
	}{
		{"--out without {profile}", nil, []string{"--all-profiles", "--out", "all.csv"}, ExitUsage, "with several profiles it must hold {profile}"},
		{"--out -", nil, []string{"--all-profiles", "--out", "-"}, ExitUsage, "with several profiles it must hold {profile}"},
		{"an unknown placeholder", nil, []string{"--all-profiles", "--out", "{profile}-{day}.csv"}, ExitUsage, "unknown placeholder {day}"},
		{"--profile with --profiles", nil, []string{"--profiles", "acme", "--profile", "acme", "--out", "{profile}.csv"}, ExitUsage, "--profile and --profile-index pick one account"},
		{"an account variable set", map[string]string{"EXOTEL_ACCOUNT_SID": "x"}, []string{"--all-profiles", "--out", "{profile}.csv"}, ExitAborted,
			"EXOTEL_ACCOUNT_SID is set, but with several profiles each profile names its own account"},
		{"an unknown profile", nil, []string{"--profiles", "acme,nobody", "--out", "{profile}.csv"}, ExitAborted, "profile nobody (from flag --profile) is not in"},
		{"{profile} without a profile", map[string]string{"EXOROSTER_CONFIG": ""}, []string{"--out", "{profile}.csv"}, ExitUsage, "uses {profile}, but no profile is in use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newOpsEnv(t)
			e.vars["EXOROSTER_CONFIG"] = opsConfig(e, srv, srv, srv)
			for k, v := range tc.env {
				e.vars[k] = v
			}
			before := srv.CountRequests("")
			r := e.run(append([]string{"export"}, tc.args...)...)
			if r.code != tc.want || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d (want %d), stderr %q", r.code, tc.want, r.stderr)
			}
			if srv.CountRequests("") != before {
				t.Error("requests were sent")
			}
		})
	}
}

// A single-profile --out takes the template too: {date} for a nightly job.
func TestExportOutTemplateSingleAccount(t *testing.T) {
	srv := opsFake(t, exoteltest.Options{}, 2)
	e := newOpsEnv(t)
	for k, v := range map[string]string{"EXOTEL_API_KEY": "test-key", "EXOTEL_API_TOKEN": "test-token",
		"EXOTEL_ACCOUNT_SID": "test-sid", "EXOTEL_BASE_URL": srv.URL()} {
		e.vars[k] = v
	}
	r := e.run("export", "--out", filepath.Join(e.dir, "nightly", "{target}-{date}.csv"), "--summary-json")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	want := filepath.Join(e.dir, "nightly", "ccm-"+time.Now().Format("2006-01-02")+".csv")
	for _, p := range []string{want, want + ".summary.json"} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}

// A profile's base_url that names a plain-http server as https: the fix
// names the profile's setting, not a flag or variable the run never read.
func TestProfileBaseURLMisconfigurationNamesTheProfile(t *testing.T) {
	srv := opsFake(t, exoteltest.Options{}, 1)
	e := newOpsEnv(t)
	e.file("acme.token", "test-token\n", 0o600)
	host := strings.TrimPrefix(srv.URL(), "http://")
	cfg := e.file("config.toml", "[profiles.acme]\naccount_sid = \"test-sid\"\napi_key = \"test-key\"\napi_token_file = \"acme.token\"\nbase_url = \"https://"+host+"\"\n", 0o644)
	e.vars["EXOROSTER_CONFIG"] = cfg
	r := e.run("export", "--profile", "acme", "--out", filepath.Join(e.dir, "x.csv"))
	want := "the server at " + host + " speaks plain http, not https: use http://" + host + " as the base_url of profile acme in " + cfg
	if r.code != ExitAborted || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
	// Given by the variable, the sentence names the variable, as before.
	delete(e.vars, "EXOROSTER_CONFIG")
	for k, v := range map[string]string{"EXOTEL_API_KEY": "test-key", "EXOTEL_API_TOKEN": "test-token",
		"EXOTEL_ACCOUNT_SID": "test-sid", "EXOTEL_BASE_URL": "https://" + host} {
		e.vars[k] = v
	}
	r = e.run("export", "--out", filepath.Join(e.dir, "y.csv"))
	if r.code != ExitAborted || !strings.Contains(r.stderr, "as --base-url or EXOTEL_BASE_URL") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}
