package importer_test

import (
	"context"
	"fmt"
	"github.com/exoroster/exoroster/results/resultstest"
	"os"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// resume continues an import from the results file at resultsPath, as
// `exoroster import --resume` does.
func (e *env) resume(path, resultsPath string, cfg importer.Config) outcome {
	e.t.Helper()
	plan, err := importer.Prepare(input(path), roster.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	prior, err := results.Load(resultsPath, plan.Layout())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := plan.CheckResume(prior); err != nil {
		e.t.Fatal(err)
	}
	out, err := results.Reopen(resultsPath, plan.Layout(), importer.KeepOnResume)
	if err != nil {
		e.t.Fatal(err)
	}
	sum, err := importer.New(e.client, e.limiter, cfg).Run(context.Background(), e.halt(), plan, out, &importer.Resume{Prior: prior})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		e.t.Fatal(err)
	}
	return outcome{sum: sum, lines: resultstest.Complete(e.t, resultsPath, plan.Rows), path: resultsPath}
}

// A run that died: some rows recorded, some created on the server but never
// recorded (in flight at the crash), the rest never sent. The resume
// creates the rest, finds the unrecorded ones instead of creating them twice,
// and ends with one line per row.
func TestResumeAfterCrashCreatesNobodyTwice(t *testing.T) {
	const n = 120
	e := newEnv(t, exoteltest.Options{})
	path := e.roster("roster.csv", people(n))
	plan, err := importer.Prepare(input(path), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The crashed run created rows 1-45 and recorded 1-40; rows 41-45
	// were in flight when it was killed, and row 41's line was torn.
	users := map[string]string{} // email → id
	for row := 1; row <= 45; row++ {
		i := row - 1
		u := e.srv.Seed(exoteltest.SeedUser{FirstName: "Agent" + letters(i), LastName: "Person",
			Email: fmt.Sprintf("agent%d@corp.example.com", i), Phone: "+91" + phone(i)})[0]
		users[u.Email] = u.ID
	}
	crashed := e.roster("crashed.results.csv", "")
	w, err := results.Create(crashed, plan.Layout())
	if err != nil {
		t.Fatal(err)
	}
	for row := 1; row <= 40; row++ {
		i := row - 1
		email := fmt.Sprintf("agent%d@corp.example.com", i)
		w.Write(results.Line{Row: row, Status: results.Created, UserID: users[email], HTTPStatus: 200, Attempts: 1,
			Input: []string{"Agent" + letters(i), "Person", email, phone(i), "agent"}})
	}
	w.Close()
	f, _ := os.OpenFile(crashed, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("41,created,abc")
	f.Close()
	postsBefore := e.srv.CountRequests("POST")

	o := e.resume(path, crashed, importer.Config{})
	if got := o.sum.Counts[results.Created]; got != n {
		t.Errorf("created = %d, want all %d; counts %v", got, n, o.sum.Counts)
	}
	for row := 41; row <= 45; row++ {
		if l := o.lines[row]; l["status"] != "created" || l["user_id"] != users[l["email"]] {
			t.Errorf("row %d = %v, want created with the id the crashed run got", row, l)
		}
	}
	if posts := e.srv.CountRequests("POST") - postsBefore; posts != n-45 {
		t.Errorf("resume sent %d POSTs, want %d: only rows never created", posts, n-45)
	}
	if got := len(e.srv.Users()); got != n {
		t.Errorf("server holds %d users, want %d", got, n)
	}
}

// A resumed run redoes failed and skipped rows and keeps the rest.
func TestResumeRedoesFailedAndSkippedRows(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	path := e.roster("roster.csv", people(3)+"No,Contact,,,user\n")
	o := e.importFile(path, importer.Config{}, nil)
	// Pretend rows 2 and 4 failed after a lost answer and 3 was skipped.
	plan, _ := importer.Prepare(input(path), roster.Options{})
	w, _ := results.Create(o.path, plan.Layout())
	in := func(row int) []string {
		l := o.lines[row]
		return []string{l["first_name"], l["last_name"], l["email"], l["phone"], l["role"]}
	}
	w.Write(results.Line{Row: 1, Status: results.Created, UserID: o.lines[1]["user_id"], HTTPStatus: 200, Attempts: 1, Input: in(1)})
	w.Write(results.Line{Row: 2, Status: results.Failed, Attempts: 3, Message: "lost", Input: in(2)})
	w.Write(results.Line{Row: 3, Status: results.Skipped, Input: in(3)})
	w.Write(results.Line{Row: 4, Status: results.Failed, Attempts: 2, Message: "lost", Input: in(4)})
	w.Close()

	r := e.resume(path, o.path, importer.Config{})
	for row, want := range map[int]string{1: "created", 2: "created", 3: "exists", 4: "failed"} {
		if got := r.lines[row]["status"]; got != want {
			t.Errorf("row %d = %q, want %q (%s)", row, got, want, r.lines[row]["message"])
		}
	}
	// Row 4 has no email or phone and its answer was lost: not sent blind.
	if msg := r.lines[4]["message"]; !strings.Contains(msg, "--retry-unverifiable") {
		t.Errorf("row 4 message = %q", msg)
	}
	if len(e.srv.Users()) != 4 {
		t.Errorf("server holds %d users, want 4 (nobody twice)", len(e.srv.Users()))
	}
}

func TestResumeRefusesAChangedInput(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	path := e.roster("roster.csv", people(3))
	o := e.importFile(path, importer.Config{}, nil)
	os.WriteFile(path, []byte(strings.Replace(people(3), "Agentb", "Agentz", 1)), 0o644)
	plan, err := importer.Prepare(input(path), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	prior, err := results.Load(o.path, plan.Layout())
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.CheckResume(prior); err == nil || !strings.Contains(err.Error(), "row 2") {
		t.Errorf("CheckResume = %v, want row 2 named as different", err)
	}
}

// The input can change between the resume check and the run (it is read
// twice). A run that finds out fails, and sends nothing more: not even the
// rows it had already batched for a lookup.
func TestResumeThatFindsTheInputChangedSendsNothing(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	path := e.roster("roster.csv", people(20))
	plan, err := importer.Prepare(input(path), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	resultsPath := e.roster("r.results.csv", "")
	w, err := results.Create(resultsPath, plan.Layout())
	if err != nil {
		t.Fatal(err)
	}
	// The earlier run failed row 10, which then read differently.
	w.Write(results.Line{Row: 10, Status: results.Failed, Attempts: 1, HTTPStatus: 400,
		Input: []string{"Someone", "Else", "else@corp.example.com", phone(99), "agent"}})
	w.Close()
	prior, err := results.Load(resultsPath, plan.Layout())
	if err != nil {
		t.Fatal(err)
	}
	out, err := results.Reopen(resultsPath, plan.Layout(), importer.KeepOnResume)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := importer.New(e.client, e.limiter, importer.Config{}).Run(context.Background(), e.halt(), plan, out, &importer.Resume{Prior: prior})
	out.Close()
	if err == nil || !strings.Contains(err.Error(), "row 10 was written for different input") {
		t.Fatalf("err = %v, want the changed row 10 named", err)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("a failing run sent %d requests (rows 1-9 were batched for lookup)", n)
	}
	lines := resultstest.ByRow(t, resultsPath)
	for row := 1; row <= 9; row++ {
		if lines[row]["status"] != "skipped" {
			t.Errorf("row %d = %v, want skipped", row, lines[row])
		}
	}
	if sum.Counts[results.Skipped] != 9 {
		t.Errorf("counts %v", sum.Counts)
	}
}
