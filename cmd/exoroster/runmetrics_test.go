package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/metrics/metricstest"
)

// stubPacer lets every request go, or refuses them all with err.
type stubPacer struct {
	err   error
	dones int
}

func (p *stubPacer) Wait(context.Context) (func(*http.Response), error) {
	if p.err != nil {
		return nil, p.err
	}
	return func(*http.Response) { p.dones++ }, nil
}

func TestCountingPacer(t *testing.T) {
	answer := func(code int) *http.Response { return &http.Response{StatusCode: code} }
	for _, tc := range []struct {
		name    string
		refuse  error
		answers []*http.Response
		want    map[int]int
	}{
		{name: "answers by status", answers: []*http.Response{answer(200), answer(429), answer(200), answer(500)},
			want: map[int]int{200: 2, 429: 1, 500: 1}},
		{name: "no answer counts as 0", answers: []*http.Response{nil, answer(201), nil}, want: map[int]int{0: 2, 201: 1}},
		{name: "a request the limiter never let go is not counted", refuse: errors.New("stopped"), want: map[int]int{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := &stubPacer{err: tc.refuse}
			p := newCountingPacer(next)
			for _, resp := range tc.answers {
				done, err := p.Wait(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				done(resp)
			}
			if tc.refuse != nil {
				if _, err := p.Wait(context.Background()); err != tc.refuse {
					t.Errorf("the limiter's refusal became %v", err)
				}
			}
			got := p.counts()
			if len(got) != len(tc.want) {
				t.Errorf("counts %v, want %v", got, tc.want)
			}
			for code, n := range tc.want {
				if got[code] != n {
					t.Errorf("counts %v, want %v", got, tc.want)
				}
			}
			if next.dones != len(tc.answers) {
				t.Errorf("the limiter heard %d answers of %d", next.dones, len(tc.answers))
			}
		})
	}
	var none *countingPacer
	if none.counts() != nil {
		t.Error("a connection without a counting pacer reports counts")
	}
}

func TestRunSucceeded(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"ok", nil, true},
		{"rows left to do", exitCodeOnly(ExitRowsNotDone), true},
		{"changes pending", exitCodeOnly(ExitChangesPending), true},
		{"findings", &exitError{code: ExitFindings, err: errors.New("--fail-on: x")}, true},
		{"stopped", abortErr(errors.New("credentials refused")), false},
		{"usage", usageErr("bad flag"), false},
		{"interrupted", exitCodeOnly(ExitInterrupted), false},
		{"not an exit error", errors.New("x"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := runSucceeded(tc.err); got != tc.want {
				t.Errorf("runSucceeded = %v", got)
			}
		})
	}
}

// plan, apply and sync each write their own series: plan's rows are its
// actions, a dry run has a label of its own, and a run stopped by a refused
// token is a failure that keeps the last success's time.
func TestMetricsOfPlanApplySync(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	prom := e.path("exoroster.prom")
	roster := e.file("roster.csv", strings.Replace(syFullRoster, "Ravi,Nair", "Ravi,Nayar", 1)+
		"Nina,Kapoor,nina@corp.example.com,+919876500010,user\n")
	planPath := e.path("plan.json")
	step := func(want ExitCode, args ...string) map[string]int {
		t.Helper()
		from := len(e.srv.Requests())
		syWant(t, e.run(Env{}, append(args, "--metrics-file", prom)...), want)
		return fakeRequests(e.srv, from)
	}
	sent := map[string]map[string]int{}
	sent["plan"] = step(ExitChangesPending, "plan", roster, "--out", planPath)
	sent["apply"] = step(ExitOK, "apply", planPath, "--results", e.path("applied.csv"))
	sent["sync-dry-run"] = step(ExitOK, "sync", roster, "--dry-run")
	roster2 := e.file("roster2.csv", strings.Replace(syFullRoster, "Ravi,Nair", "Ravi,Nayar", 1)+
		"Nina,Kapoor,nina@corp.example.com,+919876500010,user\n"+"Om,Prakash,om@corp.example.com,+919876500011,user\n")
	sent["sync"] = step(ExitOK, "sync", roster2, "--yes", "--results", e.path("synced.csv"))

	mfs := metricstest.Parse(t, prom)
	for command, want := range sent {
		if got := promRequests(mfs, command); !sameCounts(got, want) {
			t.Errorf("%s: requests_total %v, the fake answered %v", command, got, want)
		}
		if v, ok := metricstest.Value(t, mfs, "exoroster_last_run_success", "command", command); !ok || v != 1 {
			t.Errorf("%s: last run success %v (%v)", command, v, ok)
		}
	}
	for _, c := range []struct {
		command, status string
		want            float64
	}{
		{"plan", "create", 1}, {"plan", "update", 1}, {"plan", "unchanged", 7},
		{"apply", "created", 1}, {"apply", "updated", 1}, {"apply", "unchanged", 7},
		{"sync-dry-run", "unchanged", 9},
		{"sync", "created", 1}, {"sync", "unchanged", 9},
	} {
		if v, ok := metricstest.Value(t, mfs, "exoroster_rows_total", "command", c.command, "status", c.status); !ok || v != c.want {
			t.Errorf("rows_total{%s,%s} = %v (%v), want %v", c.command, c.status, v, ok, c.want)
		}
	}
	lastOK, _ := metricstest.Value(t, mfs, "exoroster_last_success_timestamp_seconds", "command", "plan")

	// A token the API refuses: the listing was the run, and it failed.
	e.vars["EXOTEL_API_TOKEN"] = "not-the-token"
	r := e.run(Env{}, "plan", roster, "--metrics-file", prom)
	syWant(t, r, ExitAborted)
	mfs = metricstest.Parse(t, prom)
	if v, _ := metricstest.Value(t, mfs, "exoroster_last_run_success", "command", "plan"); v != 0 {
		t.Errorf("a refused plan's last run success %v", v)
	}
	if v, _ := metricstest.Value(t, mfs, "exoroster_last_success_timestamp_seconds", "command", "plan"); v != lastOK {
		t.Errorf("the last success moved from %v to %v on a failure", lastOK, v)
	}
	if v, _ := metricstest.Value(t, mfs, "exoroster_requests_total", "command", "plan", "code", "401"); v != 1 {
		t.Errorf("requests_total{plan,401} = %v", v)
	}
	if _, ok := metricstest.Value(t, mfs, "exoroster_rows_total", "command", "sync", "status", "created"); !ok {
		t.Error("another command's series were dropped")
	}
}

// A dry run is labelled apart, so it never stands in for the real run; an
// import dry run sends nothing and says so with no request series.
func TestMetricsOfDryRuns(t *testing.T) {
	srv := expServer(t, exoteltest.Options{}, exoteltest.SeedUser{FirstName: "Asha", LastName: "Rao", Email: "asha@x.example", Phone: "+919800000001"})
	dir := t.TempDir()
	prom := filepath.Join(dir, "exoroster.prom")
	roster := offFile(t, dir, "roster.csv", "first_name,last_name,email,phone\nBen,Das,ben@x.example,+919800000002\n")
	if r := expRun(t, srv, nil, "", append(expFast(), "import", roster, "--dry-run", "--metrics-file", prom)...); r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	list := offFile(t, dir, "leavers.csv", "email\nasha@x.example\n")
	if r := expRun(t, srv, nil, "", append(expFast(), "offboard", list, "--dry-run", "--metrics-file", prom)...); r.code != ExitOK {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	mfs := metricstest.Parse(t, prom)
	if v, ok := metricstest.Value(t, mfs, "exoroster_rows_total", "command", "import-dry-run", "status", "would_create"); !ok || v != 1 {
		t.Errorf("import dry run rows %v (%v)", v, ok)
	}
	if got := promRequests(mfs, "import-dry-run"); len(got) != 0 {
		t.Errorf("an import dry run sent %v", got)
	}
	// offboard's dry run looks users up: those requests are counted.
	if got := promRequests(mfs, "offboard-dry-run"); got["200"] == 0 {
		t.Errorf("offboard dry run requests %v", got)
	}
	for _, real := range []string{"import", "offboard"} {
		if _, ok := metricstest.Value(t, mfs, "exoroster_last_run_success", "command", real); ok {
			t.Errorf("a dry run wrote %s's series", real)
		}
	}
}

// A metrics file that cannot be written fails a run that did everything
// else (after its own message), and leaves a failed run's exit alone.
func TestMetricsFileUnwritable(t *testing.T) {
	_, oldPath, newPath := diffFixtures(t)
	// A file where the metrics folder should be: no folder can be made.
	notDir := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	prom := filepath.Join(notDir, "exoroster.prom")
	r := runDiffCmd(t, oldPath, newPath, "--format", "json", "--fail-on", "role-escalation", "--metrics-file", prom)
	if r.code != ExitAborted || !strings.HasPrefix(r.stderr, "exoroster: --fail-on: role-escalation (3 users).\nexoroster: cannot write metrics to ") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	r = runDiffCmd(t, oldPath, filepath.Join(filepath.Dir(oldPath), "missing.csv"), "--metrics-file", prom)
	if r.code != ExitAborted || !strings.Contains(r.stderr, "exoroster: warning: cannot write metrics to ") ||
		!strings.Contains(r.stderr, "missing.csv") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	// A log collector reads only the JSON lines: the warning is one of them.
	r = runDiffCmd(t, oldPath, filepath.Join(filepath.Dir(oldPath), "missing.csv"), "--metrics-file", prom, "--log-format", "json")
	logged := false
	for _, line := range strings.Split(r.stderr, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["level"] == "WARN" &&
			strings.HasPrefix(fmt.Sprint(rec["msg"]), "cannot write metrics to ") && rec["command"] == "diff" {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no JSON warning about the metrics file:\n%s", r.stderr)
	}
}
