package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/reconcile"
	"github.com/exoroster/exoroster/results/resultstest"
)

// The plan, apply and sync tests keep their own helpers (sy*).

const syToken = "5ync-t0ken-value"

type syRun struct {
	code           ExitCode
	stdout, stderr string
}

// syEnv is one test's surroundings: a fake, a state directory, files.
type syEnv struct {
	t     *testing.T
	srv   *exoteltest.Server
	dir   string
	state string
	vars  map[string]string
}

func newSyEnv(t *testing.T, opts exoteltest.Options) *syEnv {
	t.Helper()
	opts.APIToken = syToken
	srv := exoteltest.NewServer(opts)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	e := &syEnv{t: t, srv: srv, dir: dir, state: filepath.Join(dir, "state")}
	e.vars = map[string]string{
		"EXOTEL_API_KEY": "test-key", "EXOTEL_API_TOKEN": syToken, "EXOTEL_ACCOUNT_SID": "test-sid",
		"EXOTEL_BASE_URL":     srv.URL(),
		"EXOTEL_WEBRTC_TOKEN": "test-webrtc-token", "EXOTEL_CUSTOMER_ID": "test-customer", "EXOTEL_APP_ID": "test-app",
	}
	return e
}

// run runs the program in-process; the state directory and fast limits
// are added to every command.
func (e *syEnv) run(env Env, args ...string) syRun {
	e.t.Helper()
	var stdout, stderr bytes.Buffer
	env.Stdout, env.Stderr = &stdout, &stderr
	env.Getenv = func(k string) string { return e.vars[k] }
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	args = append(args, "--rate", "2000/s", "--burst", "8", "--state-dir", e.state)
	code := run(context.Background(), args, env)
	r := syRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
	if strings.Contains(r.stdout+r.stderr, syToken) {
		e.t.Errorf("the token was printed:\n%s\n%s", r.stdout, r.stderr)
	}
	return r
}

func (e *syEnv) file(name, content string) string {
	e.t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

func (e *syEnv) path(name string) string { return filepath.Join(e.dir, name) }

// writes lists the requests that are not GETs, in order.
func (e *syEnv) writes() []string {
	var out []string
	for _, r := range e.srv.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r.Method+" "+strings.TrimPrefix(r.Path, e.srv.UsersPath()))
		}
	}
	return out
}

func (e *syEnv) gets() int { return e.srv.CountRequests(http.MethodGet) }

func syWant(t *testing.T, r syRun, code ExitCode, msgs ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, m := range msgs {
		if !strings.Contains(r.stdout+r.stderr, m) {
			t.Errorf("output does not mention %q\nstdout:\n%s\nstderr:\n%s", m, r.stdout, r.stderr)
		}
	}
}

func syPlan(t *testing.T, path string) *reconcile.Plan {
	t.Helper()
	p, _, err := reconcile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// syKinds maps each roster row (or "-user@…" for a user without one) to
// its action.
func syKinds(p *reconcile.Plan) map[string]reconcile.Kind {
	out := map[string]reconcile.Kind{}
	for _, a := range p.Actions {
		key := a.Who
		if a.Row > 0 {
			key = "row " + strconv.Itoa(a.Row)
		}
		out[key] = a.Kind
	}
	return out
}

// syAccount seeds a small account with fixed ids: five agents, one
// supervisor, two admins (one on a call).
func syAccount(srv *exoteltest.Server) {
	seed := func(id, first, last, email, phone, role, call string) exoteltest.SeedUser {
		return exoteltest.SeedUser{ID: strings.Repeat(id, 32), FirstName: first, LastName: last, Email: email,
			Phone: phone, Role: role, ActiveCall: call}
	}
	srv.Seed(
		seed("1", "Asha", "Rao", "asha@corp.example.com", "+919876500001", "user", ""),
		seed("2", "Ravi", "Nair", "ravi@corp.example.com", "+919876500002", "user", ""),
		seed("3", "Meera", "Iyer", "meera@corp.example.com", "+919876500003", "user", ""),
		seed("4", "Vikram", "Das", "vikram@corp.example.com", "+919876500004", "user", ""),
		seed("5", "Kavya", "Menon", "", "+919876500005", "user", "CA5e11"),
		seed("6", "Arjun", "Pillai", "arjun@corp.example.com", "+919876500006", "supervisor", ""),
		seed("7", "Isha", "Bose", "isha@corp.example.com", "+919876500007", "admin", ""),
		seed("8", "Dev", "Shah", "dev@other.example.com", "+919876500008", "admin", ""),
	)
}

// syFullRoster names every seeded user as it is: a plan of it changes
// nothing.
const syFullRoster = "first_name,last_name,email,phone,role\n" +
	"Asha,Rao,asha@corp.example.com,+919876500001,user\n" +
	"Ravi,Nair,ravi@corp.example.com,+919876500002,user\n" +
	"Meera,Iyer,meera@corp.example.com,+919876500003,user\n" +
	"Vikram,Das,vikram@corp.example.com,+919876500004,user\n" +
	"Kavya,Menon,,+919876500005,user\n" +
	"Arjun,Pillai,arjun@corp.example.com,+919876500006,supervisor\n" +
	"Isha,Bose,isha@corp.example.com,+919876500007,admin\n" +
	"Dev,Shah,dev@other.example.com,+919876500008,admin\n"

// TestPlanShowsEveryAction: one roster with a row or user for each action,
// printed as the table (golden) and written as plan.json.
func TestPlanShowsEveryAction(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	roster := e.file("roster.csv", "first_name,last_name,email,phone,role\n"+
		"Asha,Rao,asha@corp.example.com,+919876500001,user\n"+ // 1 unchanged
		"Ravi,Nayar,ravi@corp.example.com,+919876500099,user\n"+ // 2 update: name and phone
		"Nina,Kapoor,nina@corp.example.com,+919876500010,user\n"+ // 3 create
		"Meera,Iyer,meera@corp.example.com,+919876500004,user\n"+ // 4 conflict: Vikram's phone
		"Kavya,Menon,kavya@corp.example.com,+919876500005,user\n"+ // 5 update: set the unset email
		"Arjun,Pillai,arjun@corp.example.com,+919876500006,user\n"+ // 6 differs: role
		"Isha,Bose,isha@corp.example.com,+919876500007,user\n"+ // 7 protected: an admin's role
		"Bad,,not-an-email,,user\n") // 8 invalid
	planPath := e.path("plan.json")
	r := e.run(Env{}, "plan", roster, "--out", planPath)
	syWant(t, r, ExitRowsNotDone, "2 roster rows to fix")
	golden(t, "plan_every_action.golden", normalize([]byte(r.stdout), e.dir))

	p := syPlan(t, planPath)
	want := map[string]reconcile.Kind{
		"row 1": reconcile.Unchanged, "row 2": reconcile.Update, "row 3": reconcile.Create, "row 4": reconcile.Conflict,
		"row 5": reconcile.Update, "row 6": reconcile.Differs, "row 7": reconcile.Protected, "row 8": reconcile.Invalid,
		"Dev Shah <dev@other.example.com> (admin)": reconcile.Unmanaged,
	}
	got := syKinds(p)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s", k, got[k], v)
		}
	}
	if len(p.Actions) != 9 { // 8 rows and Dev; Vikram, whom row 4's phone names, is kept out of it
		t.Errorf("%d actions, want 9: %v", len(p.Actions), got)
	}
	if p.Roster.SHA256 == "" || p.Account.ID != "test-sid" || p.Account.Target != "ccm" || p.CreatedAt.IsZero() {
		t.Errorf("plan identity: %+v %+v %v", p.Roster, p.Account, p.CreatedAt)
	}
	for _, a := range p.Actions {
		if a.Kind == reconcile.Update && (a.Seen == nil || a.Seen.Fields["date_updated"] == "" || !a.Seen.Intact()) {
			t.Errorf("update of %s has no fingerprint: %+v", a.Who, a.Seen)
		}
	}
	if n := len(e.writes()); n != 0 {
		t.Errorf("plan sent %d writes: %v", n, e.writes())
	}
	if g := e.gets(); g != 1 {
		t.Errorf("plan of an 8-user account sent %d GETs, want 1", g)
	}
}

// TestPlanApplyPlanEndsInNoChanges: plan (4), apply (0) with exactly one
// write per change, then a second plan shows no changes (0) and writes
// nothing.
func TestPlanApplyPlanEndsInNoChanges(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	roster := e.file("roster.csv", "first_name,last_name,email,phone,role\n"+
		"Asha,Rao,asha@corp.example.com,+919876500001,user\n"+
		"Ravi,Nayar,ravi@corp.example.com,+919876500099,user\n"+ // names and phone: two PUTs
		"Meera,Iyer-Rao,meera@corp.example.com,+919876500003,user\n"+ // a name: one PUT
		"Kavya,Menon,kavya@corp.example.com,+919876500005,user\n"+ // an unset email: one PUT
		"Nina,Kapoor,nina@corp.example.com,+919876500010,user\n"+ // create
		"Arjun,Pillai,arjun@corp.example.com,+919876500006,supervisor\n"+
		"Isha,Bose,isha@corp.example.com,+919876500007,admin\n"+
		"Dev,Shah,dev@other.example.com,+919876500008,admin\n") // Vikram is not listed: delete
	planPath := e.path("plan.json")
	syWant(t, e.run(Env{}, "plan", roster, "--prune", "--out", planPath), ExitChangesPending, "5 changes pending")
	before := e.gets()

	applied := e.path("applied.csv")
	r := e.run(Env{}, "apply", planPath, "--results", applied)
	syWant(t, r, ExitOK, "created", "updated", "deleted", "backup:")
	writes := e.writes()
	want := map[string]int{"POST ": 1, "PUT /" + strings.Repeat("2", 32): 1, "PUT /" + strings.Repeat("3", 32): 1,
		"PUT /" + strings.Repeat("5", 32): 1, "DELETE /" + strings.Repeat("4", 32): 1}
	got := map[string]int{}
	devicePUTs := 0
	for _, w := range writes {
		if strings.Contains(w, "/devices/") {
			devicePUTs++
			continue
		}
		got[w]++
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s sent %d times, want %d (all writes: %v)", k, got[k], n, writes)
		}
	}
	if len(writes) != 6 || devicePUTs != 1 {
		t.Errorf("%d writes (%d device PUTs), want 6 (1): %v", len(writes), devicePUTs, writes)
	}
	if gets := e.gets() - before; gets != 1 {
		t.Errorf("apply re-read 4 users with %d GETs, want 1", gets)
	}
	lines := resultstest.Complete(t, applied, 9)
	statuses := map[string]int{}
	for _, l := range lines {
		statuses[l["status"]]++
	}
	if statuses["created"] != 1 || statuses["updated"] != 3 || statuses["deleted"] != 1 || statuses["unchanged"] != 4 {
		t.Errorf("statuses %v", statuses)
	}
	for _, l := range lines {
		if l["status"] == "deleted" && (l["email"] != "vikram@corp.example.com" || l["action"] != "delete") {
			t.Errorf("the deleted user's line lacks its record: %v", l)
		}
	}
	backup, err := os.ReadFile(strings.TrimSuffix(applied, ".csv") + ".backup.csv")
	if err != nil || !strings.Contains(string(backup), "vikram@corp.example.com") {
		t.Errorf("backup: %v\n%s", err, backup)
	}
	if u, _ := e.srv.UserByEmail("ravi@corp.example.com"); u.LastName != "Nayar" || !u.HasContact("+919876500099") {
		t.Errorf("Ravi after apply: %+v", u)
	}

	writesBefore := len(e.writes())
	r = e.run(Env{}, "plan", roster, "--prune", "--out", planPath)
	syWant(t, r, ExitOK, "no changes: the account matches the roster")
	if n := len(e.writes()) - writesBefore; n != 0 {
		t.Errorf("the second plan sent %d writes", n)
	}
	if p := syPlan(t, planPath); p.ChangesPending() != 0 || p.Guards.LastApplied == nil || p.Guards.LastApplied.Rows != 8 {
		t.Errorf("second plan: %d changes, last applied %+v", p.ChangesPending(), p.Guards.LastApplied)
	}
}

// TestSyncGuardsRefuseBeforeAnyWrite: every guard trips the whole plan and
// sync sends no write; raising it lets the sync through.
func TestSyncGuardsRefuseBeforeAnyWrite(t *testing.T) {
	lines := strings.Split(strings.TrimSuffix(syFullRoster, "\n"), "\n")
	keep := func(n int) string { return strings.Join(lines[:n+1], "\n") + "\n" }
	tests := []struct {
		name   string
		roster string
		prior  string // a roster synced first, for the shrinkage guard
		args   []string
		msg    string
		raise  []string
		golden string // the refused plan's table
	}{
		{name: "max-delete", roster: keep(3), args: []string{"--prune", "--max-delete", "1", "--max-delete-percent", "100", "--allow-shrink"},
			msg: "more than --max-delete 1", raise: []string{"--max-delete", "2"}},
		{name: "max-delete-percent default 20", roster: keep(3), args: []string{"--prune", "--allow-shrink"},
			msg: "more than --max-delete-percent 20; raise --max-delete-percent (to 25 or more)", raise: []string{"--max-delete-percent", "25"}},
		{name: "truncated roster", prior: syFullRoster, roster: keep(5),
			msg: "under 80 % of the 8 rows", raise: []string{"--allow-shrink"}, golden: "plan_truncated_roster.golden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newSyEnv(t, exoteltest.Options{})
			syAccount(e.srv)
			if tc.prior != "" {
				syWant(t, e.run(Env{}, "sync", e.file("full.csv", tc.prior), "--yes", "--results", e.path("full.results.csv")), ExitOK)
			}
			roster := e.file("roster.csv", tc.roster)
			r := e.run(Env{}, append([]string{"plan", roster, "--out", e.path("plan.json")}, tc.args...)...)
			syWant(t, r, ExitAborted, tc.msg, "REFUSED")
			if tc.golden != "" {
				out := regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`).ReplaceAll([]byte(r.stdout), []byte("TIME"))
				golden(t, tc.golden, normalize(out, e.dir))
			}
			r = e.run(Env{}, "apply", e.path("plan.json"), "--results", e.path("applied.csv"))
			syWant(t, r, ExitAborted, "nothing was applied", tc.msg)
			r = e.run(Env{}, append([]string{"sync", roster, "--yes", "--results", e.path("s.csv")}, tc.args...)...)
			syWant(t, r, ExitAborted, "nothing was applied", tc.msg)
			if w := e.writes(); len(w) != 0 {
				t.Fatalf("a refused plan sent writes: %v", w)
			}
			r = e.run(Env{}, append(append([]string{"sync", roster, "--yes", "--results", e.path("s.csv")}, tc.args...), tc.raise...)...)
			syWant(t, r, ExitOK, "sync finished")
		})
	}
}

// TestApplyLeavesAUserChangedSincePlanStale: a user changed between plan
// and apply is stale and untouched; the rest of the plan is done.
func TestApplyLeavesAUserChangedSincePlanStale(t *testing.T) {
	clock := &syClock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	e := newSyEnv(t, exoteltest.Options{Now: clock.Now})
	syAccount(e.srv)
	roster := e.file("roster.csv", strings.Replace(strings.Replace(syFullRoster,
		"Ravi,Nair,", "Ravi,Nayar,", 1), "Meera,Iyer,", "Meera,Iyer-Rao,", 1))
	planPath := e.path("plan.json")
	syWant(t, e.run(Env{}, "plan", roster, "--out", planPath), ExitChangesPending, "2 changes pending")

	// Someone renames Ravi on the dashboard meanwhile.
	clock.advance(time.Minute)
	client, err := exotel.New(exotel.Options{BaseURL: e.srv.URL(), HTTPClient: e.srv.Client(),
		Credentials: exotel.Credentials{APIKey: "test-key", APIToken: exotel.NewSecret(syToken), AccountSID: "test-sid"}})
	if err != nil {
		t.Fatal(err)
	}
	first := "Ravindra"
	if _, err := client.UpdateUser(context.Background(), strings.Repeat("2", 32), exotel.UpdateUserRequest{FirstName: &first}); err != nil {
		t.Fatal(err)
	}
	writes := len(e.writes())

	applied := e.path("applied.csv")
	r := e.run(Env{}, "apply", planPath, "--results", applied)
	syWant(t, r, ExitRowsNotDone, "stale")
	lines := resultstest.Complete(t, applied, 8)
	resultstest.Status(t, 2, lines[2], "stale", "changed since the plan", "first_name Ravi → Ravindra", "plan again")
	resultstest.Status(t, 3, lines[3], "updated", "last_name Iyer → Iyer-Rao")
	if w := e.writes()[writes:]; len(w) != 1 || w[0] != "PUT /"+strings.Repeat("3", 32) {
		t.Errorf("apply wrote %v, want only Meera's PUT", w)
	}
	if u, _ := e.srv.User(strings.Repeat("2", 32)); u.FirstName != "Ravindra" || u.LastName != "Nair" {
		t.Errorf("the stale user was touched: %+v", u)
	}
}

// syClock is a fake clock for the fake's dates.
type syClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *syClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *syClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestApplyResumesAnInterruptedApply: an apply stopped after some writes
// continues with --resume, makes no write twice, and ends with every
// action done.
func TestApplyResumesAnInterruptedApply(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	var b strings.Builder
	b.WriteString(syFullRoster)
	for i := range 12 {
		n := strconv.Itoa(10 + i)
		b.WriteString("New" + n + ",Hire,new" + n + "@corp.example.com,+9198765000" + n + ",user\n")
	}
	roster := e.file("roster.csv", strings.Replace(b.String(), "Meera,Iyer,", "Meera,Iyer-Rao,", 1))
	planPath := e.path("plan.json")
	syWant(t, e.run(Env{}, "plan", roster, "--out", planPath), ExitChangesPending, "13 changes pending")

	// Ctrl-C after the fifth create has gone out.
	interrupt := make(chan struct{})
	var once sync.Once
	posts := 0
	var mu sync.Mutex
	e.srv.SetOnRequest(func(r *http.Request) {
		if r.Method != http.MethodPost {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if posts++; posts == 5 {
			once.Do(func() { close(interrupt) })
		}
	})
	applied := e.path("applied.csv")
	r := e.run(Env{Interrupt: interrupt}, "apply", planPath, "--results", applied, "--workers", "1")
	syWant(t, r, ExitInterrupted, "--resume")
	e.srv.SetOnRequest(nil)
	first := resultstest.Complete(t, applied, 20)
	skipped := 0
	for _, l := range first {
		if l["status"] == "skipped" {
			skipped++
		}
	}
	if skipped == 0 {
		t.Fatalf("the interrupted apply skipped nothing: %v", first)
	}

	r = e.run(Env{}, "apply", planPath, "--results", applied, "--resume")
	syWant(t, r, ExitOK, "apply finished")
	lines := resultstest.Complete(t, applied, 20)
	for n, l := range lines {
		if l["status"] == "skipped" || l["status"] == "failed" {
			t.Errorf("action %d after the resume: %s %s", n, l["status"], l["message"])
		}
	}
	for email, n := range e.srv.CreatesByEmail() {
		if n != 1 {
			t.Errorf("%s created %d times", email, n)
		}
	}
	if len(e.srv.Users()) != 20 {
		t.Errorf("%d users after the resume, want 20", len(e.srv.Users()))
	}
	syWant(t, e.run(Env{}, "plan", roster), ExitOK, "no changes")
}

// TestApplyRefusesAnOldPlanOrAnotherAccounts: both are refused before any
// request that changes anything.
func TestApplyRefusesAnOldPlanOrAnotherAccounts(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	roster := e.file("roster.csv", strings.Replace(syFullRoster, "Ravi,Nair,", "Ravi,Nayar,", 1))
	planPath := e.path("plan.json")
	syWant(t, e.run(Env{}, "plan", roster, "--out", planPath), ExitChangesPending)

	r := e.run(Env{}, "apply", planPath, "--max-plan-age", "1ns")
	syWant(t, r, ExitAborted, "older than --max-plan-age 1ns", "plan again")
	e.vars["EXOTEL_ACCOUNT_SID"] = "other-sid"
	r = e.run(Env{}, "apply", planPath)
	syWant(t, r, ExitAborted, "the plan was made for ccm account test-sid", "not ccm account other-sid")
	if w := e.writes(); len(w) != 0 {
		t.Errorf("a refused apply wrote %v", w)
	}
	e.file("damaged.json", `{"version":1,"account":{"target":"ccm","id":"test-sid"},"created_at":"2030-01-01T00:00:00Z","actions":[{"n":1,"action":"delete"}]}`)
	e.vars["EXOTEL_ACCOUNT_SID"] = "test-sid"
	syWant(t, e.run(Env{}, "apply", e.path("damaged.json")), ExitAborted, "damaged", "names no user")
}

// TestSyncWithoutYesNeedsATerminal: refused (2) before any request, like
// offboard; on a terminal, only "yes" applies.
func TestSyncWithoutYesNeedsATerminal(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	roster := e.file("roster.csv", strings.Replace(syFullRoster, "Ravi,Nair,", "Ravi,Nayar,", 1))
	syWant(t, e.run(Env{}, "sync", roster), ExitUsage, "--yes", "--dry-run")
	if n := len(e.srv.Requests()); n != 0 {
		t.Fatalf("a refused sync sent %d requests", n)
	}
	syWant(t, e.run(Env{}, "sync", roster, "--dry-run"), ExitChangesPending, "1 change pending")
	r := e.run(Env{Interactive: true, Stdin: strings.NewReader("no\n")}, "sync", roster, "--results", e.path("s.csv"))
	syWant(t, r, ExitAborted, "Type yes", "confirmation was not given")
	if w := e.writes(); len(w) != 0 {
		t.Fatalf("an unconfirmed sync wrote %v", w)
	}
	r = e.run(Env{Interactive: true, Stdin: strings.NewReader("yes\n")}, "sync", roster, "--results", e.path("s.csv"))
	syWant(t, r, ExitOK, "updated")
}

// TestSyncProtectsAdminsAndUsersOnACall: with --prune, admins stay unless
// --allow-admins, the last admin always, and a user on a call until a
// later run.
func TestSyncProtectsAdminsAndUsersOnACall(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	// Only Asha stays; a lenient delete limit lets the rest go.
	roster := e.file("roster.csv", "first_name,last_name,email,phone\nAsha,Rao,asha@corp.example.com,+919876500001\n")
	args := []string{"--prune", "--max-delete-percent", "100", "--allow-shrink", "--yes"}
	r := e.run(Env{}, append([]string{"sync", roster, "--results", e.path("a.csv")}, args...)...)
	syWant(t, r, ExitOK, "admin not in the roster: not deleted without --allow-admins", "on a call (CA5e11)")
	left := map[string]bool{}
	for _, u := range e.srv.Users() {
		left[u.FirstName] = true
	}
	for _, name := range []string{"Asha", "Kavya", "Isha", "Dev"} {
		if !left[name] {
			t.Errorf("%s was deleted", name)
		}
	}
	if len(left) != 4 {
		t.Errorf("users left: %v", left)
	}

	r = e.run(Env{}, append([]string{"sync", roster, "--results", e.path("b.csv"), "--allow-admins"}, args...)...)
	syWant(t, r, ExitOK, "would delete the account's last admin (it has 2)")
	admins := 0
	for _, u := range e.srv.Users() {
		if u.Role == "admin" {
			admins++
		}
	}
	if admins != 1 {
		t.Errorf("%d admins left, want 1", admins)
	}
}

// TestPlanScopeLeavesTheRestAlone: users outside --scope are neither
// deleted nor changed, and a row that would create one is protected.
func TestPlanScopeLeavesTheRestAlone(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	syAccount(e.srv)
	roster := e.file("roster.csv", "first_name,last_name,email,phone,role\n"+
		"Asha,Rao,asha@corp.example.com,+919876500001,user\n"+
		"Arjun,Pillay,arjun@corp.example.com,+919876500006,supervisor\n"+ // a supervisor: outside role=user
		"Nina,Kapoor,nina@corp.example.com,+919876500010,supervisor\n") // would be created outside
	planPath := e.path("plan.json")
	r := e.run(Env{}, "plan", roster, "--out", planPath, "--prune", "--scope", "role=agent", "--scope", "domain=corp.example.com",
		"--max-delete-percent", "100")
	syWant(t, r, ExitChangesPending, "in --scope role=user domain=corp.example.com")
	got := syKinds(syPlan(t, planPath))
	want := map[string]reconcile.Kind{
		"row 1": reconcile.Unchanged, "row 2": reconcile.Protected, "row 3": reconcile.Protected,
		"Ravi Nair <ravi@corp.example.com> (user)":     reconcile.Delete,
		"Meera Iyer <meera@corp.example.com> (user)":   reconcile.Delete,
		"Vikram Das <vikram@corp.example.com> (user)":  reconcile.Delete,
		"Kavya Menon <+919876500005> (user)":           "", // no email: outside domain=
		"Isha Bose <isha@corp.example.com> (admin)":    "",
		"Dev Shah <dev@other.example.com> (admin)":     "",
		"Arjun Pillai <arjun@corp.example.com> (user)": "",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	// Kavya, Isha and Dev have no action; Arjun, whom row 2 names, has.
	if p := syPlan(t, planPath); p.OutOfScope != 3 || p.Guards.InScope != 4 {
		t.Errorf("out of scope %d, in scope %d; want 3 and 4", p.OutOfScope, p.Guards.InScope)
	}
	syWant(t, e.run(Env{}, "plan", roster, "--target", "webrtc", "--scope", "role=user"), ExitUsage, "no roles or emails")
}

// TestSyncWebRTCTarget: the app users API has no update, so a plan there
// has create, delete and unchanged, and a changed name or phone is
// differs, reported and never applied; a second plan shows no changes.
func TestSyncWebRTCTarget(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{})
	e.srv.SeedWebRTC(
		exoteltest.WebRTCUser{UserID: "agent-1", Name: "Asha Rao", Phone: "+919876500001", SIPEnabled: true},
		exoteltest.WebRTCUser{UserID: "agent-2", Name: "Ravi Nair", Phone: "+919876500002", SIPEnabled: true},
		exoteltest.WebRTCUser{UserID: "agent-3", Name: "Meera Iyer", Phone: "+919876500003", SIPEnabled: true},
		exoteltest.WebRTCUser{UserID: "agent-4", Name: "Vikram Das", SIPEnabled: false},
	)
	roster := e.file("roster.csv", "user_id,name,phone,sip_enabled\n"+
		"agent-1,Asha Rao,+919876500001,true\n"+ // unchanged
		"agent-2,Ravi Nayar,+919876500002,true\n"+ // differs: name
		"agent-5,Nina Kapoor,+919876500010,true\n"+ // create
		"agent-4,Vikram Das,,false\n") // unchanged; agent-3 is not listed: delete
	planPath := e.path("plan.json")
	r := e.run(Env{}, "plan", roster, "--target", "webrtc", "--prune", "--max-delete-percent", "50", "--out", planPath)
	syWant(t, r, ExitChangesPending, "2 changes pending", "name Ravi Nair → Ravi Nayar: the WebRTC app users API cannot change a user")
	got := syKinds(syPlan(t, planPath))
	want := map[string]reconcile.Kind{"row 1": reconcile.Unchanged, "row 2": reconcile.Differs, "row 3": reconcile.Create,
		"row 4": reconcile.Unchanged, "Meera Iyer [agent-3]": reconcile.Delete}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s (%v)", k, got[k], v, got)
		}
	}
	syWant(t, e.run(Env{}, "plan", roster, "--target", "webrtc", "--match", "email"), ExitUsage, "matches by user_id only")

	applied := e.path("applied.csv")
	r = e.run(Env{}, "apply", planPath, "--results", applied)
	syWant(t, r, ExitOK, "created", "deleted", "differs")
	lines := resultstest.Complete(t, applied, 5)
	resultstest.Status(t, 2, lines[2], "differs", "cannot change a user")
	resultstest.Status(t, 5, lines[5], "deleted", "Meera Iyer")
	if lines[5]["name"] != "Meera Iyer" {
		t.Errorf("the deleted user's line lacks its record: %v", lines[5])
	}
	ids := map[string]string{}
	for _, u := range e.srv.WebRTCUsers() {
		ids[u.UserID] = u.Name
	}
	if len(ids) != 4 || ids["agent-5"] != "Nina Kapoor" || ids["agent-2"] != "Ravi Nair" || ids["agent-3"] != "" {
		t.Errorf("app users after apply: %v", ids)
	}
	backup, err := os.ReadFile(strings.TrimSuffix(applied, ".csv") + ".backup.csv")
	if err != nil || !strings.HasPrefix(string(backup), "user_id,name,phone") || !strings.Contains(string(backup), "agent-3,Meera Iyer") {
		t.Errorf("backup: %v\n%s", err, backup)
	}
	r = e.run(Env{}, "plan", roster, "--target", "webrtc", "--prune")
	syWant(t, r, ExitOK, "no changes", "differs")
}

// TestSyncAFewHundredUsersWithFaults: a 300-user account behind 5xx
// answers, dropped connections after the write and 429s: the sync creates,
// updates and deletes each once, and the next plan shows no changes.
func TestSyncAFewHundredUsersWithFaults(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{Seed: 7,
		Limit: exoteltest.Limit{Rate: 400, Window: time.Second, Burst: 20, RetryAfter: true}})
	seeds := exoteltest.SampleUsers(300, 7, time.Now())
	e.srv.Seed(seeds...)
	var b strings.Builder
	b.WriteString("first_name,last_name,email,phone,role\n")
	for i, s := range seeds {
		last := s.LastName
		switch {
		case i%40 == 0:
			continue // admins leave the roster: protected
		case i >= 290:
			continue // ten leave: deleted
		case i%10 == 1:
			last += "-New" // renamed
		}
		b.WriteString(s.FirstName + "," + last + "," + s.Email + "," + s.Devices[0].ContactURI + "," + s.Role + "\n")
	}
	for i := range 30 {
		n := strconv.Itoa(i)
		b.WriteString("New" + n + ",Hire,hire" + n + "@example.com,+9197" + strings.Repeat("0", 8-len(n)) + n + ",user\n")
	}
	roster := e.file("roster.csv", b.String())
	e.srv.SetFaults(exoteltest.Faults{ServerErrorRate: 0.1, DropAfterRate: 0.05, FaultMethods: []string{"POST", "PUT", "DELETE"}})

	r := e.run(Env{}, "sync", roster, "--prune", "--yes", "--results", e.path("applied.csv"), "--workers", "8", "--max-attempts", "20")
	syWant(t, r, ExitOK, "sync finished")
	lines := resultstest.ByRow(t, e.path("applied.csv"))
	counts := map[string]int{}
	for _, l := range lines {
		counts[l["status"]]++
	}
	if counts["created"] != 30 || counts["updated"] != 29 || counts["deleted"] != 10 || counts["protected"] != 8 {
		t.Errorf("statuses %v", counts)
	}
	for email, n := range e.srv.CreatesByEmail() {
		if n != 1 {
			t.Errorf("%s created %d times", email, n)
		}
	}
	faults := 0
	for _, req := range e.srv.Requests() {
		if req.Fault != "" || req.Throttled {
			faults++
		}
	}
	if faults < 5 {
		t.Errorf("only %d faults were drawn: the test tests little", faults)
	}
	t.Logf("%d requests (%d GETs), %d faults or 429s", len(e.srv.Requests()), e.gets(), faults)
	e.srv.SetFaults(exoteltest.Faults{})
	syWant(t, e.run(Env{}, "plan", roster, "--prune"), ExitOK, "no changes")
}

// TestSyncWebRTCWithLostAnswers: creates and deletes whose answers are
// lost are settled by user_id (a GET, or DELETE's 404), never doubled.
func TestSyncWebRTCWithLostAnswers(t *testing.T) {
	e := newSyEnv(t, exoteltest.Options{Seed: 3})
	var old []exoteltest.WebRTCUser
	for i := range 20 {
		old = append(old, exoteltest.WebRTCUser{UserID: "old-" + strconv.Itoa(i), Name: "Old Agent", SIPEnabled: true})
	}
	e.srv.SeedWebRTC(old...)
	var b strings.Builder
	b.WriteString("user_id,name,sip_enabled\n")
	for i := range 16 {
		b.WriteString("old-" + strconv.Itoa(i) + ",Old Agent,true\n")
	}
	for i := range 20 {
		b.WriteString("new-" + strconv.Itoa(i) + ",New Agent,true\n")
	}
	roster := e.file("roster.csv", b.String())
	e.srv.SetFaults(exoteltest.Faults{DropAfterRate: 0.3, ServerErrorRate: 0.1, FaultMethods: []string{"POST", "DELETE"}})
	r := e.run(Env{}, "sync", roster, "--target", "webrtc", "--prune", "--yes", "--results", e.path("a.csv"), "--max-attempts", "20")
	syWant(t, r, ExitOK, "sync finished")
	counts := map[string]int{}
	for _, l := range resultstest.ByRow(t, e.path("a.csv")) {
		counts[l["status"]]++
	}
	if counts["created"] != 20 || counts["deleted"] != 4 || counts["unchanged"] != 16 {
		t.Errorf("statuses %v", counts)
	}
	if n := len(e.srv.WebRTCUsers()); n != 36 {
		t.Errorf("%d app users, want 36", n)
	}
	dropped := 0
	for _, req := range e.srv.Requests() {
		if req.Dropped == "after" {
			dropped++
		}
	}
	if dropped == 0 {
		t.Error("no answer was lost: the test tests little")
	}
	e.srv.SetFaults(exoteltest.Faults{})
	syWant(t, e.run(Env{}, "plan", roster, "--target", "webrtc", "--prune"), ExitOK, "no changes")
}
