package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/results/resultstest"
)

// Import, offboard and update stop at once, with one sentence naming the
// cause and the fix, when their first request meets what waiting cannot
// fix; with the default 50/min and 10 attempts they would take minutes.
// The context's 10 s is the failure condition, not a measurement.
func TestRowCommandsFailFastOnMisconfiguration(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	offAccount(srv)
	host := strings.TrimPrefix(srv.URL(), "http://")
	closed := closedAddr(t)
	bases := []struct{ name, base, msg string }{
		{"tls to plain http", "https://" + host,
			"exoroster: the server at " + host + " speaks plain http, not https: use http://" + host + " as --base-url or EXOTEL_BASE_URL."},
		{"refused connection", "http://" + closed,
			"exoroster: " + closed + " refused the connection: check --base-url or EXOTEL_BASE_URL and that the server is running"},
	}
	commands := []struct{ name, input string }{
		{"import", rosterOf(3)},
		{"offboard", offLeavers},
		{"update", "email,last_name\nasha@corp.example.com,X\nravi@corp.example.com,Y\n"},
	}
	for _, b := range bases {
		for _, c := range commands {
			t.Run(b.name+"/"+c.name, func(t *testing.T) {
				dir := t.TempDir()
				input := offFile(t, dir, "in.csv", c.input)
				args := []string{c.name, input, "--progress-every", "0"}
				if c.name == "offboard" {
					args = append(args, "--yes")
				}
				runStopsAtOnce(t, b.msg, func(ctx context.Context) expResult { return expRunAt(ctx, b.base, args...) })
				for row, l := range resultstest.Complete(t, filepath.Join(dir, "in.results.csv"), strings.Count(c.input, "\n")-1) {
					if l["status"] != "skipped" {
						t.Errorf("row %d: %s %s", row, l["status"], l["message"])
					}
				}
			})
		}
	}
}

// Later in a run the same failures are an outage: retried, and said on
// stderr as they happen, one line per attempt number.
func TestImportReportsAnOutageAsItHappens(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	// The server goes away once the first create has been answered (one
	// worker: the second starts after the first's answer).
	var posts atomic.Int32
	srv.SetOnRequest(func(r *http.Request) {
		if r.Method == http.MethodPost && posts.Add(1) == 2 {
			go srv.Close()
		}
	})
	dir := t.TempDir()
	input := offFile(t, dir, "r.csv", rosterOf(4))
	r := offCLI(t, srv, Env{}, "import", input, "--workers", "1", "--max-attempts", "3", "--progress-every", "0")
	if r.code != ExitRowsNotDone {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{`msg="no answer from the API; retrying after a backoff"`, `attempt="1 of 3"`, `attempt="2 of 3"`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := strings.Count(r.stderr, `attempt="1 of 3"`); n != 1 {
		t.Errorf("attempt 1 reported %d times, want once per outage:\n%s", n, r.stderr)
	}
}

// A results file that stops taking lines (a full disk; here the process's
// file-size limit) stops the run, and the error is said once.
func TestFullDiskSaidOnce(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("builds a real process and limits its file size with ulimit")
	}
	srv := offServer(t, exoteltest.Options{})
	bin := buildBinary(t)
	dir := t.TempDir()
	input := offFile(t, dir, "r.csv", rosterOf(60))
	cmd := exec.Command("sh", "-c", `ulimit -f 4 && exec "$0" "$@"`, bin, "import", input, "--rate", "1000/s", "--progress-every", "0")
	cmd.Env = append(os.Environ(), "EXOTEL_BASE_URL="+srv.URL(), "EXOTEL_API_KEY=test-key",
		"EXOTEL_API_TOKEN="+offToken, "EXOTEL_ACCOUNT_SID=test-sid", "XDG_STATE_HOME="+filepath.Join(dir, "state"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != int(ExitAborted) {
		t.Fatalf("exit %d (%v)\n%s%s", code, err, stdout.String(), stderr.String())
	}
	if n := strings.Count(stderr.String(), "writing results"); n != 1 || !strings.Contains(stdout.String(), "import stopped") {
		t.Errorf("the write error is said %d times:\n%s%s", n, stdout.String(), stderr.String())
	}
}
