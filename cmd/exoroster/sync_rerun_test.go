package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/results/resultstest"
)

// A nightly sync with a fixed --results is refused the second night before
// any request, saying how to go on: --overwrite (the old file kept as
// .bak) or a {date} path.
func TestSyncRerunRefusedWithoutOverwrite(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	roster := e.file("roster.csv", strings.Replace(syFullRoster, "Ravi,Nair,", "Ravi,Nayar,", 1))
	applied := e.path("applied.csv")
	syWant(t, e.run(Env{}, "sync", roster, "--results", applied, "--yes"), ExitOK, "sync finished")
	first, err := os.ReadFile(applied)
	if err != nil {
		t.Fatal(err)
	}

	before := len(e.srv.Requests())
	r := e.run(Env{}, "sync", roster, "--results", applied, "--yes")
	syWant(t, r, ExitAborted, applied+" already holds the results of an earlier run", "--overwrite", "applied-{date}.csv")
	if strings.Contains(r.stderr, "--resume") {
		t.Errorf("sync has no --resume, yet the refusal offers it: %s", r.stderr)
	}
	if n := len(e.srv.Requests()) - before; n != 0 {
		t.Errorf("the refused sync sent %d requests", n)
	}
	if now, _ := os.ReadFile(applied); !bytes.Equal(now, first) {
		t.Error("the refused sync changed the earlier results")
	}

	r = e.run(Env{}, "sync", roster, "--results", applied, "--yes", "--overwrite")
	syWant(t, r, ExitOK, "the earlier results are kept as "+applied+".")
	baks, _ := filepath.Glob(applied + ".*.bak")
	if len(baks) != 1 {
		t.Fatalf("backups of the old results: %v", baks)
	}
	if kept, _ := os.ReadFile(baks[0]); !bytes.Equal(kept, first) {
		t.Error("the .bak does not hold the first night's results")
	}
	resultstest.Complete(t, applied, 8) // the second night: every row unchanged

	syWant(t, e.run(Env{}, "sync", roster, "--results", e.path("applied-{date}.csv"), "--yes"), ExitOK)
	if _, err := os.Stat(e.path("applied-" + time.Now().Format("2006-01-02") + ".csv")); err != nil {
		t.Errorf("the {date} path: %v", err)
	}
	syWant(t, e.run(Env{}, "sync", roster, "--results", e.path("applied-{day}.csv"), "--yes"), ExitUsage, "unknown placeholder {day}")
}

// apply follows the rule of the other row commands: an earlier results
// file is continued with --resume or replaced with --overwrite, never
// clobbered.
func TestApplyRerunNeedsResumeOrOverwrite(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	roster := e.file("roster.csv", strings.Replace(syFullRoster, "Ravi,Nair,", "Ravi,Nayar,", 1))
	planPath := e.path("plan.json")
	syWant(t, e.run(Env{}, "plan", roster, "--out", planPath), ExitChangesPending)
	applied := e.path("applied.csv")
	syWant(t, e.run(Env{}, "apply", planPath, "--results", applied), ExitOK)

	tests := []struct {
		name string
		args []string
		code ExitCode
		msgs []string
	}{
		{"again without a flag", nil, ExitAborted, []string{"already holds the results", "--resume", "--overwrite"}},
		{"both flags", []string{"--resume", "--overwrite"}, ExitUsage, []string{"do not go together"}},
		{"resumed: nothing left to do", []string{"--resume"}, ExitOK, []string{"apply finished"}},
		{"overwritten", []string{"--overwrite"}, ExitOK, []string{"kept as"}},
		{"a target the plan is not for", []string{"--target", "webrtc", "--overwrite"}, ExitUsage, []string{"is a plan for the ccm target"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			writes := len(e.writes())
			syWant(t, e.run(Env{}, append([]string{"apply", planPath, "--results", applied}, tc.args...)...), tc.code, tc.msgs...)
			if n := len(e.writes()) - writes; n != 0 {
				t.Errorf("%d writes: the plan was applied already", n)
			}
		})
	}
}

// A user put on a call between the plan and the apply is not deleted: the
// deletion reads it again right before its DELETE (on the fake's own
// active_call), and a later run deletes it.
func TestApplyLeavesAUserOnACallAtApplyTime(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	lines := strings.Split(syFullRoster, "\n")
	roster := e.file("roster.csv", strings.Join(append(lines[:4:4], lines[5:]...), "\n")) // Vikram leaves
	planPath := e.path("plan.json")
	syWant(t, e.run(Env{}, "plan", roster, "--prune", "--out", planPath), ExitChangesPending, "1 change pending")
	vikram := strings.Repeat("4", 32)
	e.srv.SetActiveCall(vikram, "CA4")

	applied := e.path("applied.csv")
	syWant(t, e.run(Env{}, "apply", planPath, "--results", applied), ExitOK)
	if n := e.srv.CountRequests(http.MethodDelete); n != 0 {
		t.Errorf("%d DELETEs of a user on a call", n)
	}
	got := resultstest.Complete(t, applied, 8)
	resultstest.Status(t, 8, got[8], "protected", "on a call now (active_call CA4): not deleted in this run; a later run deletes it")

	e.srv.SetActiveCall(vikram, "")
	syWant(t, e.run(Env{}, "sync", roster, "--prune", "--yes", "--results", e.path("later.csv")), ExitOK, "deleted")
	if _, ok := e.srv.User(vikram); ok {
		t.Error("the later run did not delete the user")
	}
}

// signalWriter collects what is written and closes seen once want is.
type signalWriter struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// Two applies overlap: one blocked in its admin's DELETE while others
// start. The same results file and the same account's run lock refuse at
// once; an apply under --no-lock that deletes the account's other admin
// waits for the admin-delete lock, counts again after the first, and keeps
// the last admin.
func TestOverlappingApplies(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	isha, dev := strings.Repeat("7", 32), strings.Repeat("8", 32)
	without := func(name, who string) string {
		var keep []string
		for l := range strings.Lines(syFullRoster) {
			if !strings.HasPrefix(l, who+",") {
				keep = append(keep, l)
			}
		}
		return e.file(name, strings.Join(keep, ""))
	}
	// Each plan alone is fine: of two admins, one goes.
	planIsha, planDev := e.path("isha.json"), e.path("dev.json")
	for plan, roster := range map[string]string{planIsha: without("no-isha.csv", "Isha"), planDev: without("no-dev.csv", "Dev")} {
		syWant(t, e.run(Env{}, "plan", roster, "--prune", "--allow-admins", "--out", plan), ExitChangesPending, "1 change pending")
	}

	deleting, proceed := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.srv.SetOnRequest(func(r *http.Request) {
		if r.Method == http.MethodDelete {
			once.Do(func() {
				close(deleting)
				<-proceed
			})
		}
	})
	first := make(chan syRun, 1)
	go func() { first <- e.run(Env{}, "apply", planIsha, "--results", e.path("isha.csv")) }()
	select {
	case <-deleting:
	case r := <-first:
		t.Fatalf("the first apply ended before its DELETE: %+v", r)
	}

	syWant(t, e.run(Env{}, "apply", planDev, "--results", e.path("isha.csv"), "--no-lock"), ExitAborted, "another run is writing "+e.path("isha.csv"))
	syWant(t, e.run(Env{}, "apply", planDev, "--results", e.path("other.csv")), ExitAborted, "PID")

	waiting := &signalWriter{want: "is deleting admins", seen: make(chan struct{})}
	second := make(chan ExitCode, 1)
	go func() {
		args := []string{"apply", planDev, "--results", e.path("dev.csv"), "--no-lock", "--rate", "2000/s", "--burst", "8", "--state-dir", e.state}
		second <- run(context.Background(), args, Env{Stdout: &bytes.Buffer{}, Stderr: waiting, Stdin: strings.NewReader(""),
			Getenv: func(k string) string { return e.vars[k] }})
	}()
	select {
	case <-waiting.seen:
	case code := <-second:
		t.Fatalf("the second apply did not wait for the admin lock: exit %d\n%s", code, waiting.String())
	}
	close(proceed)
	syWant(t, <-first, ExitOK, "deleted")
	if code := <-second; code != ExitOK {
		t.Errorf("second apply: exit %d\n%s", code, waiting.String())
	}
	e.srv.SetOnRequest(nil)

	if _, ok := e.srv.User(isha); ok {
		t.Error("the first apply did not delete its admin")
	}
	if _, ok := e.srv.User(dev); !ok {
		t.Fatal("both admins were deleted: the account has none")
	}
	lines := resultstest.Complete(t, e.path("dev.csv"), 8)
	resultstest.Status(t, 8, lines[8], "protected", "last remaining admin")
}

// plan, apply and sync take the target as every command does: --target or
// EXOTEL_TARGET, and the app's ids from --customer-id and --app-id or
// their variables; a plan→apply→plan cycle ends in no changes.
func TestSyncWebRTCTargetFromTheSharedFlags(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	e.srv.SeedWebRTC(
		exoteltest.WebRTCUser{UserID: "agent-1", Name: "Asha Rao", Phone: "+919876500001", SIPEnabled: true},
		exoteltest.WebRTCUser{UserID: "agent-2", Name: "Ravi Nair", SIPEnabled: true},
	)
	delete(e.vars, "EXOTEL_CUSTOMER_ID")
	delete(e.vars, "EXOTEL_APP_ID")
	e.vars["EXOTEL_TARGET"] = "webrtc"
	ids := []string{"--customer-id", "test-customer", "--app-id", "test-app"}
	roster := e.file("roster.csv", "User ID,Name,Mobile,SIP Enabled\nagent-1,Asha Rao,9876500001,yes\nagent-3,Nina Kapoor,,no\n")
	planPath := e.path("plan.json")

	syWant(t, e.run(Env{}, "plan", roster, "--prune", "--max-delete-percent", "50"), ExitAborted, "EXOTEL_CUSTOMER_ID (or --customer-id) is not set")
	r := e.run(Env{}, append([]string{"plan", roster, "--prune", "--max-delete-percent", "50", "--out", planPath}, ids...)...)
	syWant(t, r, ExitChangesPending, `sip_enabled ← "SIP Enabled"`, "2 changes pending")
	if p := syPlan(t, planPath); p.Account.Target != "webrtc" || p.Account.ID != "test-customer-test-app" {
		t.Errorf("plan for %+v", p.Account)
	}
	syWant(t, e.run(Env{}, "apply", planPath, "--customer-id", "test-customer", "--app-id", "other-app"), ExitAborted, "the plan was made for webrtc account test-customer-test-app")
	syWant(t, e.run(Env{}, append([]string{"apply", planPath, "--results", e.path("applied.csv")}, ids...)...), ExitOK, "created", "deleted")
	if u, ok := e.srv.WebRTCUser("agent-3"); !ok || u.SIPEnabled {
		t.Errorf("agent-3: %+v", u)
	}
	syWant(t, e.run(Env{}, append([]string{"plan", roster, "--prune"}, ids...)...), ExitOK, "no changes")
}
