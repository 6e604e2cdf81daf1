package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/results/resultstest"
)

// appRunAt runs the program with the webrtc target's credentials against
// base, under ctx.
func appRunAt(ctx context.Context, base string, args ...string) expResult {
	return runWithVars(ctx, map[string]string{"EXOTEL_BASE_URL": base, "EXOTEL_TARGET": "webrtc",
		"EXOTEL_WEBRTC_TOKEN": "test-webrtc-token", "EXOTEL_CUSTOMER_ID": "test-customer", "EXOTEL_APP_ID": "test-app"}, args...)
}

// The webrtc target's commands stop at once, with one sentence naming the
// cause and the fix, when their first request meets what waiting cannot
// fix, as the CCM target's do; with the default 50/min and 10 attempts they
// would take minutes. The context's 10 s is the failure condition, not a
// measurement.
func TestWebRTCCommandsFailFastOnMisconfiguration(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{})
	host := strings.TrimPrefix(srv.URL(), "http://")
	closed := closedAddr(t)
	bases := []struct{ name, base, msg string }{
		{"tls to plain http", "https://" + host,
			"exoroster: the server at " + host + " speaks plain http, not https: use http://" + host + " as --base-url or EXOTEL_BASE_URL"},
		{"refused connection", "http://" + closed,
			"exoroster: " + closed + " refused the connection: check --base-url or EXOTEL_BASE_URL and that the server is running"},
	}
	commands := []struct {
		label, name, input string
		args               []string
		rows               int // results lines to check; 0: no results file
	}{
		{label: "import", name: "import", input: appRosterOf(3), rows: 3},
		{label: "import --check-existing", name: "import", input: appRosterOf(3), args: []string{"--check-existing"}, rows: 3},
		{label: "offboard", name: "offboard", input: "user_id\nagent_001\nagent_002\n", args: []string{"--yes"}, rows: 2},
		{label: "export", name: "export"},
	}
	for _, b := range bases {
		for _, c := range commands {
			t.Run(b.name+"/"+c.label, func(t *testing.T) {
				dir := t.TempDir()
				args := []string{c.name, "--progress-every", "0"}
				if c.name == "export" {
					args = append(args, "--out", filepath.Join(dir, "users.csv"))
				} else {
					args = append(args, writeFile(t, dir, "in.csv", c.input))
				}
				args = append(args, c.args...)
				res := runStopsAtOnce(t, b.msg, func(ctx context.Context) expResult { return appRunAt(ctx, b.base, args...) })
				if strings.Contains(res.stderr+res.stdout, "test-webrtc-token") {
					t.Error("the token was printed")
				}
				if c.rows == 0 {
					expCheckDir(t, dir, map[string][]byte{})
					return
				}
				for row, l := range resultstest.Complete(t, filepath.Join(dir, "in.results.csv"), c.rows) {
					if l["status"] != "skipped" {
						t.Errorf("row %d: %s %s", row, l["status"], l["message"])
					}
				}
			})
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("the plain server answered %d requests", n)
	}
}

// Later in a run the same failures are an outage: retried, and said on
// stderr as they happen, one line per attempt number, as for CCM.
func TestWebRTCImportReportsAnOutageAsItHappens(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{})
	// The server goes away once the first create has been answered (one
	// worker: the second starts after the first's answer).
	var posts atomic.Int32
	srv.SetOnRequest(func(r *http.Request) {
		if r.Method == http.MethodPost && posts.Add(1) == 2 {
			go srv.Close()
		}
	})
	c := appCLI(t, srv)
	input := writeFile(t, t.TempDir(), "app.csv", appRosterOf(4))
	code := c.run(nil, "import", input, "--target", "webrtc", "--workers", "1", "--max-attempts", "3",
		"--rate", "100/s", "--progress-every", "0")
	stderr := c.stderr.String()
	if code != ExitRowsNotDone {
		t.Errorf("exit %d\n%s", code, stderr)
	}
	for _, want := range []string{`msg="no answer from the API; retrying after a backoff"`, `attempt="1 of 3"`, `attempt="2 of 3"`,
		"refused the connection"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := strings.Count(stderr, `attempt="1 of 3"`); n != 1 {
		t.Errorf("attempt 1 reported %d times, want once per outage:\n%s", n, stderr)
	}
	if strings.Contains(stderr+c.stdout.String(), "test-webrtc-token") {
		t.Error("the token was printed")
	}
}
