package main

import (
	"bytes"
	"context"
		"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

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
		"EXOTEL_BASE_URL": srv.URL(),
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
	}{
		{name: "max-delete", roster: keep(3), args: []string{"--prune", "--max-delete", "1", "--max-delete-percent", "100", "--allow-shrink"},
			msg: "more than --max-delete 1", raise: []string{"--max-delete", "2"}},
		{name: "max-delete-percent default 20", roster: keep(3), args: []string{"--prune", "--allow-shrink"},
			msg: "more than --max-delete-percent 20; raise --max-delete-percent (to 25 or more)", raise: []string{"--max-delete-percent", "25"}},
		{name: "truncated roster", prior: syFullRoster, roster: keep(5),
			msg: "under 80 % of the 8 rows", raise: []string{"--allow-shrink"}},
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
