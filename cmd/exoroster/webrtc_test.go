package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/results/resultstest"
	"github.com/exoroster/exoroster/webrtc"
)

// appCLI is the program with the webrtc target's credentials only: no
// CCM variable is set.
func appCLI(t *testing.T, srv *exoteltest.Server) *cli {
	c := &cli{t: t, env: map[string]string{
		"EXOTEL_WEBRTC_TOKEN": "test-webrtc-token",
		"EXOTEL_CUSTOMER_ID":  "test-customer",
		"EXOTEL_APP_ID":       "test-app",
	}}
	if srv != nil {
		c.env["EXOTEL_BASE_URL"] = srv.URL()
	}
	return c
}

// appRosterOf is n valid rows of the webrtc target's roster.
func appRosterOf(n int) string {
	var b strings.Builder
	b.WriteString("User ID,First Name,Last Name,Mobile,SIP Enabled\n")
	for i := range n {
		fmt.Fprintf(&b, "agent_%03d,Agent,Number%d,98%08d,%v\n", i+1, i+1, 10000000+i, i%4 != 0)
	}
	return b.String()
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestWebRTCTargetEndToEnd(t *testing.T) {
	const n = 12
	srv := fakeServer(t, exoteltest.Options{ServerErrorRate: 0.15, DropAfterRate: 0.15, DropBeforeRate: 0.1, Seed: 5})
	srv.SeedWebRTC(exoteltest.WebRTCUser{UserID: "boss", Name: "Meera Das", Phone: "+919800000001", SIPEnabled: true})
	c := appCLI(t, srv)
	dir := t.TempDir()
	fast := []string{"--rate", "100/s", "--progress-every", "0", "--max-attempts", "12"}

	// import: every valid row created once, whatever the faults.
	roster := writeFile(t, dir, "app.csv", appRosterOf(n)+
		"boss,Meera,Das,9800000001,\n"+ // already in the app
		"bad/id,No,Body,,\n")
	// One worker: the fake's faults are drawn in the order its seed replays.
	code := c.run(nil, append([]string{"import", roster, "--target", "webrtc", "--workers", "1"}, fast...)...)
	if code != ExitRowsNotDone {
		t.Fatalf("import exit %d, want 3 (one invalid row); stderr %s", code, c.stderr.String())
	}
	lines := resultstest.Complete(t, filepath.Join(dir, "app.results.csv"), n+2)
	for row := 1; row <= n; row++ {
		resultstest.Status(t, row, lines[row], "created")
	}
	// The user who was there: exists, or, when a create of the row met a
	// 5xx or lost its answer first, counted as this run's (as for CCM).
	if l := lines[n+1]; l["status"] != "exists" && !strings.Contains(l["message"], "confirmed by lookup") {
		t.Errorf("row %d: %v", n+1, l)
	}
	if srv.WebRTCCreates()["boss"] != 0 {
		t.Errorf("boss was created again")
	}
	resultstest.Status(t, n+2, lines[n+2], "invalid", "cannot contain /")
	for id, times := range srv.WebRTCCreates() {
		if times != 1 {
			t.Errorf("%s created %d times", id, times)
		}
	}
	if got := len(srv.WebRTCUsers()); got != n+1 {
		t.Errorf("the app holds %d users, want %d", got, n+1)
	}
	if srv.Creates() != 0 {
		t.Errorf("the CCM API got %d creates", srv.Creates())
	}
	faults := map[string]int{}
	for _, r := range srv.Requests() {
		if r.Fault != "" {
			faults[r.Method+" "+r.Fault]++
		}
	}
	if faults["POST drop_after"] == 0 || faults["POST server_error"] == 0 {
		t.Errorf("faults met: %v; want lost and failed creates among them", faults)
	}

	// --resume of the finished run sends nothing.
	before := len(srv.Requests())
	if code := c.run(nil, append([]string{"import", roster, "--target", "webrtc", "--resume"}, fast...)...); code != ExitRowsNotDone {
		t.Fatalf("resume exit %d; stderr %s", code, c.stderr.String())
	}
	if sent := len(srv.Requests()) - before; sent != 0 {
		t.Errorf("resume of a finished run sent %d requests", sent)
	}
	// A CCM resume of the same results file is refused: it would look up
	// the other API.
	c.env["EXOTEL_API_KEY"], c.env["EXOTEL_API_TOKEN"], c.env["EXOTEL_ACCOUNT_SID"] = "test-key", testToken, "test-sid"
	if code := c.run(nil, append([]string{"import", roster, "--resume"}, fast...)...); code != ExitAborted ||
		!strings.Contains(c.stderr.String(), "import --target webrtc") {
		t.Errorf("ccm resume of a webrtc run: exit %d, stderr %s", code, c.stderr.String())
	}
	delete(c.env, "EXOTEL_API_KEY")
	delete(c.env, "EXOTEL_API_TOKEN")
	delete(c.env, "EXOTEL_ACCOUNT_SID")

	// export, with the target from the environment: the app's columns,
	// every user once.
	c.env["EXOTEL_TARGET"] = "webrtc"
	out := filepath.Join(dir, "users.csv")
	if code := c.run(nil, append([]string{"export", "--out", out}, fast...)...); code != ExitOK {
		t.Fatalf("export exit %d; stderr %s", code, c.stderr.String())
	}
	if !strings.Contains(c.stdout.String(), fmt.Sprintf("%d users written", n+1)) {
		t.Errorf("export said %q", c.stdout.String())
	}
	recs := readCSV(t, out)
	if !slices.Equal(recs[0], webrtc.Columns()) || len(recs) != n+2 {
		t.Fatalf("export header %v, %d lines", recs[0], len(recs))
	}

	// offboard by user_id and by phone; the backup re-imports.
	leavers := writeFile(t, dir, "leavers.csv", "user_id,phone\nagent_001,\n,+919810000001\nnobody,\n")
	code = c.run(nil, append([]string{"offboard", leavers, "--yes"}, fast...)...)
	if code != ExitOK {
		t.Fatalf("offboard exit %d; stdout %s stderr %s", code, c.stdout.String(), c.stderr.String())
	}
	off := resultstest.Complete(t, filepath.Join(dir, "leavers.results.csv"), 3)
	resultstest.Status(t, 1, off[1], "deleted")
	resultstest.Status(t, 2, off[2], "deleted")
	resultstest.Status(t, 3, off[3], "not_found")
	backup := filepath.Join(dir, "leavers.results.backup.csv")
	if !strings.Contains(c.stdout.String(), "exoroster import "+backup+" --target webrtc") {
		t.Errorf("offboard said %q", c.stdout.String())
	}
	if got := len(srv.WebRTCUsers()); got != n-1 {
		t.Errorf("after offboard the app holds %d users, want %d", got, n-1)
	}
	if code := c.run(nil, append([]string{"import", backup}, fast...)...); code != ExitOK {
		t.Fatalf("re-import of the backup: exit %d; stderr %s", code, c.stderr.String())
	}
	if u, ok := srv.WebRTCUser("agent_002"); !ok || u.Name != "Agent Number2" || u.Phone != "+919810000001" || !u.SIPEnabled {
		t.Errorf("agent_002 came back as %+v", u)
	}
}

func TestWebRTCTargetDryRuns(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{})
	srv.SeedWebRTC(exoteltest.WebRTCUser{UserID: "agent_001", Name: "Agent Number1", Phone: "+919810000000"})
	c := appCLI(t, srv)
	dir := t.TempDir()
	roster := writeFile(t, dir, "app.csv", appRosterOf(3))
	if code := c.run(nil, "import", roster, "--target", "webrtc", "--dry-run"); code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, c.stderr.String())
	}
	lines := resultstest.Complete(t, filepath.Join(dir, "app.dry-run.csv"), 3)
	resultstest.Status(t, 2, lines[2], "would_create", "would create agent_002: Agent Number2, +919810000001, SIP enabled")
	leavers := writeFile(t, dir, "leavers.csv", "user_id,name\nagent_001,Agent\n")
	if code := c.run(nil, "offboard", leavers, "--target", "webrtc", "--dry-run"); code != ExitOK {
		t.Fatalf("exit %d; stderr %s", code, c.stderr.String())
	}
	off := resultstest.Complete(t, filepath.Join(dir, "leavers.dry-run.csv"), 1)
	resultstest.Status(t, 1, off[1], "would_delete", "would delete Agent Number1 <+919810000000> (user_id agent_001)")
	if n := srv.CountRequests("POST") + srv.CountRequests("DELETE"); n != 0 {
		t.Errorf("dry runs sent %d writes", n)
	}
}

func TestWebRTCTargetExitCodes(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{})
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", appRosterOf(2))
	ccmRoster := writeFile(t, dir, "ccm.csv", rosterOf(2))
	tests := []struct {
		name    string
		env     map[string]string // overrides; "" deletes
		args    []string
		code    ExitCode
		message string
	}{
		{"all created", nil, []string{"import", good, "--target", "webrtc"}, ExitOK, ""},
		{"ids from flags", map[string]string{"EXOTEL_CUSTOMER_ID": "", "EXOTEL_APP_ID": ""},
			[]string{"export", "--out", filepath.Join(dir, "x.csv"), "--target", "webrtc", "--customer-id", "test-customer", "--app-id", "test-app"}, ExitOK, ""},
		{"missing token", map[string]string{"EXOTEL_WEBRTC_TOKEN": ""}, []string{"import", good, "--target", "webrtc"}, ExitAborted, "EXOTEL_WEBRTC_TOKEN is not set"},
		{"missing app", map[string]string{"EXOTEL_APP_ID": ""}, []string{"export", "--out", filepath.Join(dir, "y.csv"), "--target", "webrtc"}, ExitAborted, "EXOTEL_APP_ID (or --app-id) is not set"},
		{"wrong token", map[string]string{"EXOTEL_WEBRTC_TOKEN": "wrong"}, []string{"import", good, "--target", "webrtc"}, ExitAborted, "the WebRTC API refused the token"},
		{"wrong app", nil, []string{"offboard", good, "--target", "webrtc", "--yes", "--app-id", "other"}, ExitAborted, "the WebRTC API refused the token"},
		{"ccm target needs its own credentials", nil, []string{"import", ccmRoster}, ExitAborted, "EXOTEL_API_KEY"},
		{"update has no webrtc", nil, []string{"update", good, "--target", "webrtc"}, ExitUsage, "the WebRTC integrations app users API documents no way to change a user"},
		{"update has no webrtc from env", map[string]string{"EXOTEL_TARGET": "webrtc"}, []string{"update", good}, ExitUsage, "update works on the ccm target only"},
		{"bad target", nil, []string{"export", "--out", "x.csv", "--target", "sip"}, ExitUsage, `--target "sip": use ccm or webrtc`},
		{"bad target from env", map[string]string{"EXOTEL_TARGET": "sip"}, []string{"import", good}, ExitUsage, `EXOTEL_TARGET "sip"`},
		{"ccm filters", nil, []string{"export", "--out", "x.csv", "--target", "webrtc", "--role", "admin"}, ExitUsage, "--role works on the ccm target only"},
		{"ccm summary", nil, []string{"export", "--out", "x.csv", "--target", "webrtc", "--summary"}, ExitUsage, "--summary works on the ccm target only"},
		{"ccm email policy", nil, []string{"import", good, "--target", "webrtc", "--on-email-taken", "plus"}, ExitUsage, "--on-email-taken is the ccm target's"},
		{"no name column", nil, []string{"import", writeFile(t, dir, "noname.csv", "user_id,phone\na,9800000000\n"), "--target", "webrtc"}, ExitAborted, "no name column"},
		{"list without ids", nil, []string{"offboard", writeFile(t, dir, "emails.csv", "email\na@b.co\n"), "--target", "webrtc", "--yes"}, ExitAborted, "no user_id or phone column"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := appCLI(t, srv)
			for k, v := range tc.env {
				if v == "" {
					delete(c.env, k)
				} else {
					c.env[k] = v
				}
			}
			args := append(tc.args, "--rate", "100/s")
			if cmd := tc.args[0]; cmd == "import" || cmd == "offboard" || cmd == "update" {
				// A results file of its own: a case never meets another's.
				args = append(args, "--results", filepath.Join(t.TempDir(), "results.csv"))
			}
			code := c.run(nil, args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d; stderr %s", code, tc.code, c.stderr.String())
			}
			if !strings.Contains(c.stderr.String(), tc.message) {
				t.Errorf("stderr = %q, want it to mention %q", c.stderr.String(), tc.message)
			}
			if strings.Contains(c.stderr.String()+c.stdout.String(), "test-webrtc-token") {
				t.Errorf("the token was printed")
			}
		})
	}
}

func TestValidateWebRTCTarget(t *testing.T) {
	c := appCLI(t, nil)
	path := writeFile(t, t.TempDir(), "app.csv", "user_id,name,phone,sip_enabled,status\n"+
		"a,Asha Rao,9800000000,yes,active\n"+
		",Ravi,,maybe,\n"+
		"a,Asha Again,,,\n")
	if code := c.run(nil, "validate", path, "--target", "webrtc"); code != ExitRowsNotDone {
		t.Fatalf("exit %d; stdout %s stderr %s", code, c.stdout.String(), c.stderr.String())
	}
	for _, want := range []string{"is required for the webrtc target", `"maybe"`, "duplicate of row 1 (same user_id)", "3 rows, 2 invalid (3 problems)"} {
		if !strings.Contains(c.stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, c.stdout.String())
		}
	}
	if strings.Contains(c.stderr.String(), "sip_enabled") {
		t.Errorf("sip_enabled reported as unknown: %s", c.stderr.String())
	}
}

// --require-phone with --target webrtc checks every row for a phone, as it
// does for ccm, rather than being ignored.
func TestValidateWebRTCRequirePhone(t *testing.T) {
	path := writeFile(t, t.TempDir(), "app.csv", "user_id,name,phone\n"+
		"a,Asha Rao,9800000000\n"+
		"b,Ravi Nair,\n")
	for _, tc := range []struct {
		name string
		args []string
		code ExitCode
		want string
	}{
		{"without the flag a phone is optional", nil, ExitOK, "2 rows, all valid"},
		{"with it a row without one is invalid", []string{"--require-phone"}, ExitRowsNotDone, "2 rows, 1 invalid (1 problems)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := appCLI(t, nil)
			if code := c.run(nil, append([]string{"validate", path, "--target", "webrtc"}, tc.args...)...); code != tc.code {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", code, tc.code, c.stdout.String(), c.stderr.String())
			}
			if !strings.Contains(c.stdout.String(), tc.want) {
				t.Errorf("stdout lacks %q:\n%s", tc.want, c.stdout.String())
			}
			if tc.code != ExitOK && !strings.Contains(c.stdout.String(), "is required: --require-phone asks for a fallback phone number on every row") {
				t.Errorf("no reason for row 2:\n%s", c.stdout.String())
			}
		})
	}
}
