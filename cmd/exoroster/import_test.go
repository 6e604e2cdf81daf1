package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/exoroster/exoroster/results/resultstest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
)

// cli runs the program in-process, as a user would from a shell.
type cli struct {
	t      *testing.T
	env    map[string]string
	stdout bytes.Buffer
	stderr bytes.Buffer
}

const testToken = "s3cr3t-t0ken-value"

func newCLI(t *testing.T, srv *exoteltest.Server) *cli {
	c := &cli{t: t, env: map[string]string{
		"EXOTEL_API_KEY":     "test-key",
		"EXOTEL_API_TOKEN":   testToken,
		"EXOTEL_ACCOUNT_SID": "test-sid",
	}}
	if srv != nil {
		c.env["EXOTEL_BASE_URL"] = srv.URL()
	}
	return c
}

func fakeServer(t *testing.T, opts exoteltest.Options) *exoteltest.Server {
	t.Helper()
	opts.APIToken = testToken
	srv := exoteltest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

func (c *cli) run(interrupt <-chan struct{}, args ...string) ExitCode {
	c.stdout.Reset()
	c.stderr.Reset()
	return run(context.Background(), args, Env{
		Stdin:     strings.NewReader(""),
		Stdout:    &c.stdout,
		Stderr:    &c.stderr,
		Getenv:    func(k string) string { return c.env[k] },
		Interrupt: interrupt,
	})
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// rosterOf makes n valid rows.
func rosterOf(n int) string {
	var b strings.Builder
	b.WriteString("name,email,mobile,role\n")
	for i := range n {
		fmt.Fprintf(&b, "Agent %s,agent%d@corp.example.com,98%08d,Agent\n", strings.Repeat("x", 1+i%5)+strconv.Itoa(i), i, 10000000+i)
	}
	return b.String()
}

func TestValidateSampleGolden(t *testing.T) {
	c := newCLI(t, nil)
	code := c.run(nil, "validate", "../../samples/roster.csv")
	if code != ExitRowsNotDone {
		t.Errorf("exit code = %d, want %d (some rows are invalid)", code, ExitRowsNotDone)
	}
	golden(t, "validate_sample.golden", c.stdout.Bytes())
	// The columns: line, in the golden file, replaced "note: ignoring
	// unknown column(s)"; the unknown columns are named there once.
	if out := c.stdout.String(); strings.Count(out, `"Team"`) != 1 || !strings.Contains(out, `ignored: "Team", "Employee ID"`) {
		t.Errorf("stdout = %q, want the unknown columns reported once", out)
	}
}

func TestValidateAllGood(t *testing.T) {
	c := newCLI(t, nil)
	path := writeFile(t, t.TempDir(), "ok.csv", rosterOf(3))
	if code := c.run(nil, "validate", path); code != ExitOK {
		t.Errorf("exit code = %d, want 0; stdout %s", code, c.stdout.String())
	}
	if !strings.Contains(c.stdout.String(), "3 rows, all valid") {
		t.Errorf("stdout = %q", c.stdout.String())
	}
}

func TestImportHelpGolden(t *testing.T) {
	c := newCLI(t, nil)
	if code := c.run(nil, "import", "--help"); code != ExitOK {
		t.Fatalf("exit code %d", code)
	}
	golden(t, "import_help.golden", c.stdout.Bytes())
}

func TestImportEndToEnd(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{})
	c := newCLI(t, srv)
	dir := t.TempDir()
	path := writeFile(t, dir, "team.csv", rosterOf(8)+"Bad Role,bad@corp.example.com,,boss\n")
	code := c.run(nil, "import", path, "--rate", "100/s", "--progress-every", "0")
	if code != ExitRowsNotDone {
		t.Fatalf("exit code = %d, want 3; stderr %s", code, c.stderr.String())
	}
	golden(t, "import_summary.golden", normalize(c.stdout.Bytes(), dir))
	lines := resultstest.ByRow(t, filepath.Join(dir, "team.results.csv"))
	if len(lines) != 9 || lines[9]["status"] != "invalid" || lines[1]["status"] != "created" {
		t.Errorf("results = %v", lines)
	}
	if got := len(srv.Users()); got != 8 {
		t.Errorf("server holds %d users, want 8", got)
	}
	// The sidecar ties the results to this input for --resume.
	if _, err := os.Stat(filepath.Join(dir, "team.results.csv.state.json")); err != nil {
		t.Errorf("no state file: %v", err)
	}

	// Rerun with --resume: nothing left to send.
	before := len(srv.Requests())
	if code := c.run(nil, "import", path, "--rate", "100/s", "--progress-every", "0", "--resume"); code != ExitRowsNotDone {
		t.Fatalf("resume exit code = %d; stderr %s", code, c.stderr.String())
	}
	if n := len(srv.Requests()) - before; n != 0 {
		t.Errorf("resume of a finished run sent %d requests, want 0", n)
	}
	if got := resultstest.ByRow(t, filepath.Join(dir, "team.results.csv")); len(got) != 9 {
		t.Errorf("results after resume have %d rows, want 9", len(got))
	}
}

func TestImportExitCodes(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{})
	dir := t.TempDir()
	good := writeFile(t, dir, "good.csv", rosterOf(2))
	noNames := writeFile(t, dir, "nonames.csv", "email,phone\na@b.co,9876543210\n")
	tests := []struct {
		name    string
		env     map[string]string // overrides; "" deletes
		args    []string
		code    ExitCode
		message string
	}{
		{"all created", nil, []string{"import", good}, ExitOK, ""},
		{"missing token", map[string]string{"EXOTEL_API_TOKEN": ""}, []string{"import", good}, ExitAborted, "EXOTEL_API_TOKEN is not set"},
		{"missing sid", map[string]string{"EXOTEL_ACCOUNT_SID": ""}, []string{"import", good}, ExitAborted, "EXOTEL_ACCOUNT_SID is not set"},
		// good.results.csv holds the first case's results: starting afresh over them takes --overwrite.
		{"wrong token", map[string]string{"EXOTEL_API_TOKEN": "wrong"}, []string{"import", good, "--overwrite"}, ExitAborted, "refused the credentials"},
		{"plain http off loopback", map[string]string{"EXOTEL_BASE_URL": "http://example.com"}, []string{"import", good}, ExitAborted, "only for loopback"},
		{"unreadable input", nil, []string{"import", filepath.Join(dir, "missing.csv")}, ExitAborted, "cannot read"},
		{"no name columns", nil, []string{"import", noNames}, ExitAborted, "name"},
		{"no file", nil, []string{"import"}, ExitUsage, "want exactly one CSV file"},
		{"unknown flag", nil, []string{"import", good, "--bogus"}, ExitUsage, "unknown flag"},
		{"bad rate", nil, []string{"import", good, "--rate", "fast"}, ExitUsage, "--rate"},
		{"bad workers", nil, []string{"import", good, "--workers", "0"}, ExitUsage, "--workers"},
		{"bad email policy", nil, []string{"import", good, "--on-email-taken", "maybe"}, ExitUsage, "--on-email-taken"},
		{"bad region", nil, []string{"import", good, "--default-region", "XX"}, ExitUsage, "--default-region"},
		{"unknown command", nil, []string{"frobnicate"}, ExitUsage, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t, srv)
			for k, v := range tc.env {
				c.env[k] = v
			}
			// Defaults first, so a case's own flags win.
			args := tc.args
			if tc.args[0] == "import" {
				args = append([]string{"import", "--progress-every", "0", "--rate", "1000/s"}, tc.args[1:]...)
			}
			code := c.run(nil, args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d; stderr: %s", code, tc.code, c.stderr.String())
			}
			if !strings.Contains(c.stderr.String(), tc.message) {
				t.Errorf("stderr = %q, want it to mention %q", c.stderr.String(), tc.message)
			}
			if tc.code == ExitAborted && strings.Count(strings.TrimSpace(c.stderr.String()), "\n") > 1 {
				t.Errorf("a run-level failure should be one clear sentence, got:\n%s", c.stderr.String())
			}
		})
	}
}

// The token never appears in output, logs or results, even at debug level
// and when the server refuses it.
func TestTokenNeverPrinted(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{ServerErrorRate: 0.3, DropAfterRate: 0.1, Seed: 5})
	dir := t.TempDir()
	path := writeFile(t, dir, "r.csv", rosterOf(10))
	for _, token := range []string{testToken, testToken + "-wrong"} {
		c := newCLI(t, srv)
		c.env["EXOTEL_API_TOKEN"] = token
		c.run(nil, "import", path, "--rate", "1000/s", "--log-level", "debug", "--progress-every", "1ms")
		results, _ := os.ReadFile(filepath.Join(dir, "r.results.csv"))
		for name, text := range map[string]string{"stdout": c.stdout.String(), "stderr": c.stderr.String(), "results": string(results)} {
			if strings.Contains(text, token) {
				t.Errorf("the token appears in %s", name)
			}
		}
		if !strings.Contains(c.stderr.String(), "REDACTED") {
			t.Errorf("debug log does not show the token as REDACTED:\n%s", c.stderr.String())
		}
	}
}

func TestImportInterruptedExit130(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{Latency: 5 * time.Millisecond})
	c := newCLI(t, srv)
	dir := t.TempDir()
	path := writeFile(t, dir, "r.csv", rosterOf(200))
	interrupt := make(chan struct{})
	go func() {
		for len(srv.Users()) < 5 {
			time.Sleep(2 * time.Millisecond)
		}
		close(interrupt)
	}()
	code := c.run(interrupt, "import", path, "--rate", "50/s", "--progress-every", "0")
	if code != ExitInterrupted {
		t.Fatalf("exit code = %d, want 130; stderr %s", code, c.stderr.String())
	}
	if !strings.Contains(c.stderr.String(), "--resume") {
		t.Errorf("stderr does not say how to continue: %s", c.stderr.String())
	}
	lines := resultstest.ByRow(t, filepath.Join(dir, "r.results.csv"))
	if len(lines) != 200 {
		t.Errorf("%d results lines after Ctrl-C, want one for each of the 200 rows", len(lines))
	}
	// Continue, and finish.
	if code := c.run(nil, "import", path, "--rate", "1000/s", "--progress-every", "0", "--resume"); code != ExitOK {
		t.Fatalf("resume exit code = %d; stderr %s", code, c.stderr.String())
	}
	if got := len(srv.Users()); got != 200 {
		t.Errorf("server holds %d users after resume, want 200", got)
	}
}

func TestResumeRefusesOtherInput(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{})
	c := newCLI(t, srv)
	dir := t.TempDir()
	a := writeFile(t, dir, "a.csv", rosterOf(3))
	b := writeFile(t, dir, "b.csv", rosterOf(4))
	results := filepath.Join(dir, "out.csv")
	if code := c.run(nil, "import", a, "--results", results, "--rate", "1000/s"); code != ExitOK {
		t.Fatalf("first import: %d %s", code, c.stderr.String())
	}
	before, _ := os.ReadFile(results)
	code := c.run(nil, "import", b, "--results", results, "--resume", "--rate", "1000/s")
	if code != ExitAborted || !strings.Contains(c.stderr.String(), "different input") {
		t.Errorf("resume with another input: code %d, stderr %q", code, c.stderr.String())
	}
	if after, _ := os.ReadFile(results); !bytes.Equal(before, after) {
		t.Error("a refused resume changed the results file")
	}
}

func TestDryRunNeedsNoCredentials(t *testing.T) {
	c := newCLI(t, nil)
	c.env = map[string]string{}
	dir := t.TempDir()
	path := writeFile(t, dir, "r.csv", rosterOf(3))
	if code := c.run(nil, "import", path, "--dry-run"); code != ExitOK {
		t.Fatalf("exit code %d; stderr %s", code, c.stderr.String())
	}
	lines := resultstest.ByRow(t, filepath.Join(dir, "r.dry-run.csv"))
	for row, l := range lines {
		if l["status"] != "would_create" {
			t.Errorf("row %d status %q", row, l["status"])
		}
	}
}
