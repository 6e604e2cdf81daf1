package updater_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/results/resultstest"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/updater"
)

type env struct {
	t       *testing.T
	srv     *exoteltest.Server
	client  *exotel.Client
	limiter *ratelimit.Limiter
	dir     string
}

func newEnv(t *testing.T, opts exoteltest.Options) *env {
	t.Helper()
	srv := exoteltest.NewServer(opts)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, dir: t.TempDir()}
	e.client, e.limiter = e.connect("test-token")
	return e
}

func (e *env) connect(token string) (*exotel.Client, *ratelimit.Limiter) {
	e.t.Helper()
	lim, err := ratelimit.New(ratelimit.Config{Rate: 2000, Burst: 8, BaseBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := e.srv.NewClient(token, lim)
	if err != nil {
		e.t.Fatal(err)
	}
	return c, lim
}

type outcome struct {
	sum   *engine.Summary
	lines map[int]map[string]string
}

func (e *env) run(content string, cfg updater.Config, interrupt <-chan struct{}) outcome {
	e.t.Helper()
	plan, err := updater.Prepare("changes.csv", strings.NewReader(content), roster.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(e.dir, fmt.Sprintf("out-%d.csv", time.Now().UnixNano()))
	out, err := results.Create(path, plan.Layout())
	if err != nil {
		e.t.Fatal(err)
	}
	sw := halt.New(context.Background(), interrupt, e.limiter.Stop)
	defer sw.Close()
	sum, err := updater.New(e.client, e.limiter, cfg).Run(context.Background(), sw, plan, out)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		e.t.Fatal(err)
	}
	return outcome{sum: sum, lines: resultstest.Complete(e.t, path, plan.Rows())}
}

func (o outcome) status(t *testing.T, row int, want results.Status, msg ...string) map[string]string {
	t.Helper()
	return resultstest.Status(t, row, o.lines[row], string(want), msg...)
}

// people seeds the cast of the status tests.
func people(e *env) map[string]exotel.User {
	us := e.srv.Seed(
		exoteltest.SeedUser{FirstName: "Asha", LastName: "Rao", Email: "asha@corp.example.com", Phone: "+919876500001"},
		exoteltest.SeedUser{FirstName: "Ravi", LastName: "Nair", Phone: "+919876500002"},
		exoteltest.SeedUser{FirstName: "Sip", LastName: "Only", Email: "sip@corp.example.com",
			Devices: []exoteltest.SeedDevice{{ContactURI: "sip:siponly7"}}},
		exoteltest.SeedUser{FirstName: "Dee", LastName: "Set", Email: "dee@corp.example.com", Phone: "+919876500004"},
		exoteltest.SeedUser{FirstName: "Tom", LastName: "Stone", Phone: "+919876500005"},
		exoteltest.SeedUser{FirstName: "Phil", LastName: "Moves", Email: "phil@corp.example.com", Phone: "+919876500006"},
		exoteltest.SeedUser{FirstName: "Una", LastName: "Changed", Email: "una@corp.example.com", Phone: "+919876500007"},
		exoteltest.SeedUser{FirstName: "Amb", LastName: "Iguous", Email: "amb@corp.example.com", Phone: "+919876500008"},
		exoteltest.SeedUser{FirstName: "Nia", LastName: "Newmail", Phone: "+919876500009"},
	)
	e.srv.Tombstone("left@corp.example.com")
	m := map[string]exotel.User{}
	for _, u := range us {
		m[u.FirstName] = u
	}
	return m
}

const statusList = "user_id,email,phone,first_name,last_name,new_email,new_phone\n" +
	",asha@corp.example.com,,,Rao-Iyer,,\n" + // 1 updated: last name
	",,09876500002,,,ravi@corp.example.com,\n" + // 2 updated: find by phone, set the email
	"{Dee},other@corp.example.com,,,,,\n" + // 3 failed: email cannot be changed, nothing sent
	",,+919876500099,Who,,,\n" + // 4 not_found
	",not-an-email,,,,,\n" + // 5 invalid
	",una@corp.example.com,+919876500007,Una,Changed,,\n" + // 6 unchanged
	",,+919876500006,,,,+919876500066\n" + // 7 updated: find by phone, change the phone
	",amb@corp.example.com,+919876500001,,,,\n" + // 8 ambiguous: the phone is Asha's
	",sip@corp.example.com,+919876500033,,,,\n" + // 9 failed: no phone device
	",,+919876500005,,,left@corp.example.com,\n" + // 10 failed: a deleted user's email (409 1022)
	",ASHA@corp.example.com,,Asha,,,\n" + // 11 invalid: same user as row 1
	"{Nia},nia@corp.example.com,,,,,\n" + // 12 updated: the id identifies, the email is set
	",amb@corp.example.com,,,,amb2@corp.example.com,\n" + // 13 failed: new email while one is set
	",nobody@corp.example.com,+919876500004,,,,\n" // 14 not_found: the email identifies

func statusRows(p map[string]exotel.User) string {
	return strings.NewReplacer("{Dee}", p["Dee"].ID, "{Nia}", p["Nia"].ID).Replace(statusList)
}

func TestUpdateStatuses(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	p := people(e)
	o := e.run(statusRows(p), updater.Config{}, nil)

	l := o.status(t, 1, results.Updated, "last_name Rao → Rao-Iyer")
	if l["user_id"] != p["Asha"].ID || l["http_status"] != "200" || l["attempts"] != "1" {
		t.Errorf("row 1 line = %v", l)
	}
	// A message reads in the columns' words, each change on its own.
	if l := o.status(t, 2, results.Updated); l["message"] != "set email to ravi@corp.example.com" {
		t.Errorf("row 2 message %q", l["message"])
	}
	o.status(t, 3, results.Failed, "email cannot be changed once set (Exotel answers 400 1002)")
	o.status(t, 4, results.NotFound, "no user has phone +919876500099")
	o.status(t, 5, results.Invalid, "has no @")
	o.status(t, 6, results.Unchanged)
	if l := o.status(t, 7, results.Updated); l["message"] != "phone +919876500006 → +919876500066 (the new number must be verified again before calls reach it)" {
		t.Errorf("row 7 message %q", l["message"])
	}
	o.status(t, 8, results.Ambiguous, p["Amb"].ID, p["Asha"].ID)
	o.status(t, 9, results.Failed, "no phone (tel) device")
	l = o.status(t, 10, results.Failed, "deleted user")
	if l["http_status"] != "409" || l["error_code"] != "1022" {
		t.Errorf("row 10 line = %v, want the API's 409 1022", l)
	}
	o.status(t, 11, results.Invalid, "same user as row 1")
	o.status(t, 12, results.Updated, "set email to nia@corp.example.com")
	o.status(t, 13, results.Failed, "email cannot be changed once set")
	o.status(t, 14, results.NotFound, "no user has email nobody@corp.example.com", p["Dee"].ID, "new_email")

	check := func(name string, ok func(exotel.User) bool) {
		t.Helper()
		u, _ := e.srv.User(p[name].ID)
		if !ok(u) {
			t.Errorf("%s on the server: %+v", name, u)
		}
	}
	check("Asha", func(u exotel.User) bool { return u.LastName == "Rao-Iyer" && u.FirstName == "Asha" })
	check("Ravi", func(u exotel.User) bool { return u.Email == "ravi@corp.example.com" })
	check("Phil", func(u exotel.User) bool { return u.Devices[0].ContactURI == "+919876500066" && !u.Devices[0].Verified })
	check("Nia", func(u exotel.User) bool { return u.Email == "nia@corp.example.com" })
	check("Dee", func(u exotel.User) bool { return u.Email == "dee@corp.example.com" })

	// Rows decided offline send nothing: no PUT to Dee, Una, Sip, Amb.
	for _, r := range e.srv.Requests() {
		if r.Method != http.MethodPut {
			continue
		}
		for _, name := range []string{"Dee", "Una", "Sip", "Amb"} {
			if strings.Contains(r.Path, p[name].ID) {
				t.Errorf("PUT sent for %s: %s %s", name, r.Path, r.Body)
			}
		}
	}
	if n := e.srv.CountRequests("PUT"); n != 5 {
		t.Errorf("PUTs = %d, want 5 (rows 1, 2, 7, 10, 12)", n)
	}
	if o.sum.OK() {
		t.Error("summary OK with failed rows")
	}
}

func TestUpdateDryRunSendsNoPUT(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	p := people(e)
	o := e.run(statusRows(p), updater.Config{DryRun: true}, nil)
	o.status(t, 1, results.WouldUpdate, "would send: last_name Rao → Rao-Iyer")
	o.status(t, 7, results.WouldUpdate, "would send: phone +919876500006 → +919876500066")
	o.status(t, 3, results.Failed, "400 1002")
	o.status(t, 6, results.Unchanged)
	for _, r := range e.srv.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("dry run sent %s %s", r.Method, r.Path)
		}
	}
}

func TestUpdateRerunIsUnchanged(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	p := people(e)
	list := "user_id,first_name,last_name,phone\n" +
		p["Asha"].ID + ",Asha,Rao-Iyer,+919876500011\n" +
		p["Tom"].ID + ",Thomas,Stone,\n"
	first := e.run(list, updater.Config{}, nil)
	if first.sum.Counts[results.Updated] != 2 || !first.sum.OK() {
		t.Fatalf("first run: %v", first.sum.Counts)
	}
	puts := e.srv.CountRequests("PUT")
	second := e.run(list, updater.Config{}, nil)
	second.status(t, 1, results.Unchanged)
	second.status(t, 2, results.Unchanged)
	if n := e.srv.CountRequests("PUT"); n != puts {
		t.Errorf("the rerun sent %d PUTs", n-puts)
	}

	// Find by phone, change the phone: on a rerun the old number is
	// nobody's, and the new one shows the change was made.
	moved := "phone,new_phone\n+919876500006,+919876500066\n"
	if o := e.run(moved, updater.Config{}, nil); o.lines[1]["status"] != "updated" {
		t.Fatalf("first run: %v", o.lines[1])
	}
	o := e.run(moved, updater.Config{}, nil)
	if l := o.status(t, 1, results.Unchanged, "found by new_phone"); l["user_id"] != p["Phil"].ID {
		t.Errorf("rerun line = %v", l)
	}
}

// A PUT whose answer is lost may have been carried out: the repeat of an
// email is then refused (400 1002) or the number taken (409 1021), and a
// GET shows the change in place.
func TestUpdateUnderFaultsChecksLostAnswers(t *testing.T) {
	e := newEnv(t, exoteltest.Options{Seed: 5, DropAfterRate: 0.3, ServerErrorRate: 0.2, FaultMethods: []string{"PUT"}})
	const n = 30
	var seeds []exoteltest.SeedUser
	for i := range n {
		seeds = append(seeds, exoteltest.SeedUser{FirstName: "Agent", LastName: "Old", Phone: fmt.Sprintf("+9198765%05d", i)})
	}
	us := e.srv.Seed(seeds...)
	var b strings.Builder
	b.WriteString("user_id,last_name,email,phone\n")
	for i, u := range us {
		fmt.Fprintf(&b, "%s,New,agent%d@corp.example.com,+9198766%05d\n", u.ID, i, i)
	}
	o := e.run(b.String(), updater.Config{Workers: 4, MaxAttempts: 20}, nil)
	if got := o.sum.Counts[results.Updated]; got != n {
		t.Errorf("updated %d, want %d: %v", got, n, o.sum.Counts)
		for row, l := range o.lines {
			if l["status"] != "updated" {
				t.Logf("row %d: %v", row, l)
			}
		}
	}
	verified := 0
	for _, r := range e.srv.Requests() {
		if r.Method == http.MethodGet && r.Path != e.srv.UsersPath() {
			verified++
		}
	}
	if verified == 0 {
		t.Error("no lost answer was checked with a GET: the faults did not bite")
	}
	for i, u := range us {
		got, _ := e.srv.User(u.ID)
		if got.LastName != "New" || got.Email != fmt.Sprintf("agent%d@corp.example.com", i) ||
			got.Devices[0].ContactURI != fmt.Sprintf("+9198766%05d", i) {
			t.Errorf("user %d on the server: %+v", i, got)
		}
	}
}

func TestUpdateInterruptAndCredentials(t *testing.T) {
	t.Run("interrupt before sending", func(t *testing.T) {
		e := newEnv(t, exoteltest.Options{})
		p := people(e)
		stop := make(chan struct{})
		close(stop)
		o := e.run("email,first_name\nasha@corp.example.com,Ashaa\n", updater.Config{}, stop)
		o.status(t, 1, results.Skipped)
		if !o.sum.Interrupted || e.srv.CountRequests("PUT") != 0 {
			t.Errorf("summary %+v", o.sum)
		}
		if u, _ := e.srv.User(p["Asha"].ID); u.FirstName != "Asha" {
			t.Error("changed after an interrupt")
		}
	})
	t.Run("refused credentials", func(t *testing.T) {
		e := newEnv(t, exoteltest.Options{})
		people(e)
		e.client, e.limiter = e.connect("wrong")
		o := e.run("email,first_name\nasha@corp.example.com,Ashaa\nbad,X\n", updater.Config{}, nil)
		if o.sum.Aborted == nil || !strings.Contains(o.sum.Aborted.Error(), "EXOTEL_API_TOKEN") {
			t.Errorf("Aborted = %v", o.sum.Aborted)
		}
		o.status(t, 1, results.Skipped)
		o.status(t, 2, results.Invalid)
	})
}

func TestPrepareNotesColumnsTheAPICannotChange(t *testing.T) {
	plan, err := updater.Prepare("c.csv", strings.NewReader("email,role,device_name,new_phone\na@b.example.com,admin,x,sip:x\n"), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Notes) != 2 || !strings.Contains(plan.Notes[0], "role") || !strings.Contains(plan.Notes[1], "device_name") {
		t.Errorf("notes = %q", plan.Notes)
	}
}

// A spreadsheet's error value in a cell update would send is refused, not
// read as a name of letters or a phone; a shifted row is refused too. None
// of them costs a PUT.
func TestUpdateRefusesSpreadsheetErrorsAndShiftedRows(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	people(e)
	o := e.run("email,first_name,last_name,new_phone\n"+
		"asha@corp.example.com,#N/A,Rao,\n"+
		"dee@corp.example.com,Dee,Set,#REF!\n"+
		"phil@corp.example.com,Phil,Moves,,extra\n", updater.Config{}, nil)
	o.status(t, 1, results.Invalid, `first_name "#N/A": is a spreadsheet error value`)
	o.status(t, 2, results.Invalid, `new_phone "#REF!": is a spreadsheet error value`)
	o.status(t, 3, results.Invalid, "has 5 cells, the header has 4")
	if n := e.srv.CountRequests("PUT"); n != 0 {
		t.Errorf("PUTs = %d, want none", n)
	}
}
