package offboard_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/results/resultstest"
	"github.com/exoroster/exoroster/runlock"
)

// confirmFunc confirms after doing something: what another person does to
// the account while this one reads the prompt.
type confirmFunc func(rows []*offboard.Row) bool

func (f confirmFunc) Confirm(rows []*offboard.Row, _ <-chan struct{}) (bool, error) {
	return f(rows), nil
}

// runGuarded runs the whole safe sequence of offboard.Run on content.
func (e *env) runGuarded(content string, cfg offboard.Config, g offboard.Guards) (*offboard.Result, map[int]map[string]string) {
	e.t.Helper()
	list := e.list(content)
	path := filepath.Join(e.dir, "out-"+strings.ReplaceAll(e.t.Name(), "/", "-")+".csv")
	out, err := results.Create(path, offboard.Layout(list))
	if err != nil {
		e.t.Fatal(err)
	}
	if g.Backup == "" {
		g.Backup = filepath.Join(e.dir, "backup.csv")
	}
	res, err := e.offboarder(cfg).Run(context.Background(), e.halt(make(chan struct{})), list, out, g)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		e.t.Fatal(err)
	}
	return res, resultstest.Complete(e.t, path, len(list.Rows))
}

// Right before its DELETE, every user is read again: one who changed since
// the lookup (while the prompt waited, say) is judged as they are now.
func TestRunJudgesUsersAsTheyAreAtDeletion(t *testing.T) {
	tests := []struct {
		name    string
		change  func(e *env, u exotel.User)
		cfg     offboard.Config
		status  results.Status
		message string
		gone    bool // the user is gone whatever the run does
		gets    int  // GETs to read the batch again; 0: 1
	}{
		{name: "promoted to admin", change: func(e *env, u exotel.User) { e.srv.SetRole(u.ID, "admin") },
			status: results.Protected, message: "became an admin since it was looked up"},
		{name: "promoted, with --allow-admins", change: func(e *env, u exotel.User) { e.srv.SetRole(u.ID, "admin") },
			cfg: offboard.Config{AllowAdmins: true}, status: results.Stale, message: `role "user" → "admin"`},
		{name: "renamed", change: func(e *env, u exotel.User) {
			first := "Renamed"
			if _, err := e.client.UpdateUser(context.Background(), u.ID, exotel.UpdateUserRequest{FirstName: &first}); err != nil {
				e.t.Fatal(err)
			}
		}, status: results.Stale, message: `first_name "` + "%FIRST%" + `" → "Renamed"`},
		{name: "deleted by someone else", change: func(e *env, u exotel.User) {
			if err := e.client.DeleteUser(context.Background(), u.ID); err != nil {
				e.t.Fatal(err)
			}
		}, status: results.NotFound, message: "no longer in the account", gone: true, gets: 2},
		{name: "now on a call", change: func(e *env, u exotel.User) { e.srv.SetActiveCall(u.ID, "CA42") },
			status: results.Protected, message: "on a call: rerun later"},
		{name: "now on a call, --include-on-call", change: func(e *env, u exotel.User) { e.srv.SetActiveCall(u.ID, "CA42") },
			cfg: offboard.Config{IncludeOnCall: true}, status: results.Deleted, message: "was on a call"},
		{name: "unchanged", change: func(*env, exotel.User) {}, status: results.Deleted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, exoteltest.Options{})
			e.seed(30)
			a := e.agents(2)
			target, other := a[0], a[1]
			var getsAtConfirm int
			g := offboard.Guards{Confirm: confirmFunc(func([]*offboard.Row) bool {
				tc.change(e, target)
				getsAtConfirm = e.srv.CountRequests("GET")
				return true
			})}
			res, lines := e.runGuarded("email\n"+target.Email+"\n"+other.Email+"\n", tc.cfg, g)
			resultstest.Status(t, 1, lines[1], string(tc.status), strings.ReplaceAll(tc.message, "%FIRST%", target.FirstName))
			resultstest.Status(t, 2, lines[2], string(results.Deleted))
			deleted := map[string]bool{}
			for _, u := range e.srv.Deleted() {
				deleted[u.ID] = true
			}
			if deleted[target.ID] != (tc.status == results.Deleted || tc.gone) || !deleted[other.ID] {
				t.Errorf("deleted %v", deleted)
			}
			// One batch of two users with emails: one GET reads them again
			// (and one by id for a user the email no longer finds).
			want := max(tc.gets, 1)
			if n := e.srv.CountRequests("GET") - getsAtConfirm; n != want || res.Rechecks != want {
				t.Errorf("%d GETs (%d counted) to read the batch again, want %d", n, res.Rechecks, want)
			}
			// The backup holds the users deleted, as they were when deleted.
			records := 1
			if tc.status == results.Deleted {
				records = 2
			}
			if n := backupRecords(t, filepath.Join(e.dir, "backup.csv")); n != records {
				t.Errorf("backup holds %d records, want %d", n, records)
			}
		})
	}
}

// A big run reads its users again in batches of 50, each right before its
// DELETEs: at most one GET per 50 users with an email.
func TestRunReadsAgainInBatchesOf50(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.seed(130)
	var b strings.Builder
	b.WriteString("email\n")
	for _, u := range e.agents(120) {
		b.WriteString(u.Email + "\n")
	}
	// The second batch's re-read comes after the first batch's DELETEs.
	var deletes, getsBetween atomic.Int32
	e.srv.SetOnRequest(func(r *http.Request) {
		switch {
		case r.Method == http.MethodDelete:
			deletes.Add(1)
		case r.Method == http.MethodGet && deletes.Load() > 0 && deletes.Load() < 120:
			getsBetween.Add(1)
		}
	})
	res, lines := e.runGuarded(b.String(), offboard.Config{}, offboard.Guards{MaxDelete: 200})
	for row := 1; row <= 120; row++ {
		resultstest.Status(t, row, lines[row], string(results.Deleted))
	}
	if res.Rechecks != 3 {
		t.Errorf("%d GETs to read 120 users again, want 3", res.Rechecks)
	}
	if n := getsBetween.Load(); n != 2 {
		t.Errorf("%d GETs between the first and the last DELETE, want 2 (batches 2 and 3 read right before theirs)", n)
	}
}

// Each admin's deletion counts the account's admins again from a fresh
// listing: an admin deleted meanwhile by someone else is counted.
func TestRunRecountsAdminsBeforeEachAdminDelete(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	admins := e.srv.Seed(
		exoteltest.SeedUser{FirstName: "One", LastName: "Admin", Email: "one@corp.example.com", Role: "admin"},
		exoteltest.SeedUser{FirstName: "Two", LastName: "Admin", Email: "two@corp.example.com", Role: "admin"},
		exoteltest.SeedUser{FirstName: "Three", LastName: "Admin", Email: "three@corp.example.com", Role: "admin"},
	)
	e.srv.Seed(plainAgents(60)...)
	var getsAtConfirm int
	g := offboard.Guards{Confirm: confirmFunc(func([]*offboard.Row) bool {
		// Someone else deletes the third admin while the prompt waits.
		if err := e.client.DeleteUser(context.Background(), admins[2].ID); err != nil {
			t.Fatal(err)
		}
		getsAtConfirm = e.srv.CountRequests("GET")
		return true
	})}
	res, lines := e.runGuarded("email\none@corp.example.com\ntwo@corp.example.com\n", offboard.Config{AllowAdmins: true}, g)
	if res.Plan.Admins != 3 {
		t.Fatalf("planned with %d admins, want 3", res.Plan.Admins)
	}
	// Admins are deleted one at a time, in no set order: the second to be
	// counted finds one admin left.
	kept := lines[2]
	if lines[1]["status"] != string(results.Deleted) {
		kept = lines[1]
		resultstest.Status(t, 2, lines[2], string(results.Deleted))
	}
	resultstest.Status(t, 0, kept, string(results.Protected), "last remaining admin", "counted again right before deleting: it has 1")
	if left := e.admins(); left != 1 {
		t.Errorf("%d admins left, want 1", left)
	}
	// The cost: one GET to read the batch again, then a listing of the
	// account (62 users, then 61: 2 pages) before each admin's DELETE.
	if n := e.srv.CountRequests("GET") - getsAtConfirm; n != 1+2+2 || res.Rechecks != n {
		t.Errorf("%d GETs after the prompt (%d counted), want 5", n, res.Rechecks)
	}
}

// Two runs at once, each deleting one of the account's two admins, end
// with one admin: the admin lock makes one count after the other deleted.
func TestTwoRunsDeletingAdminsKeepOne(t *testing.T) {
	e := newEnv(t, exoteltest.Options{Latency: 5 * time.Millisecond})
	e.srv.Seed(
		exoteltest.SeedUser{FirstName: "One", LastName: "Admin", Email: "one@corp.example.com", Role: "admin"},
		exoteltest.SeedUser{FirstName: "Two", LastName: "Admin", Email: "two@corp.example.com", Role: "admin"},
	)
	e.seed(10) // one more admin at index 0: three in all
	if err := e.client.DeleteUser(context.Background(), e.users[0].ID); err != nil {
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	lockAdmins := func(ctx context.Context) (func(), error) {
		l, err := runlock.Acquire(ctx, runlock.Named(stateDir, "admin-delete", "ccm", "test-sid"),
			runlock.Options{Wait: 10 * time.Second, Poll: 5 * time.Millisecond})
		if err != nil {
			return nil, err
		}
		return func() { l.Release() }, nil
	}
	// Both confirm only once both have decided: each planned with two
	// admins and would delete one.
	var decided sync.WaitGroup
	decided.Add(2)
	both := confirmFunc(func([]*offboard.Row) bool {
		decided.Done()
		decided.Wait()
		return true
	})
	var wg sync.WaitGroup
	got := make([]map[int]map[string]string, 2)
	for i, email := range []string{"one@corp.example.com", "two@corp.example.com"} {
		wg.Go(func() {
			list := e.list("email\n" + email + "\n")
			path := filepath.Join(e.dir, email+".csv")
			out, err := results.Create(path, offboard.Layout(list))
			if err != nil {
				t.Error(err)
				return
			}
			// Each run has its own switch and limiter, as two processes do.
			client, limiter := e.connect("test-token")
			sw := e.haltWith(limiter)
			o := offboard.New(client, limiter, offboard.Config{AllowAdmins: true, Workers: 2})
			_, err = o.Run(context.Background(), sw, list, out,
				offboard.Guards{Confirm: both, LockAdmins: lockAdmins, Backup: filepath.Join(e.dir, email+".backup.csv")})
			out.Close()
			if err != nil {
				t.Error(err)
			}
			got[i] = resultstest.Complete(t, path, 1)
		})
	}
	wg.Wait()
	statuses := []string{got[0][1]["status"], got[1][1]["status"]}
	if !(statuses[0] == "deleted" && statuses[1] == "protected") && !(statuses[0] == "protected" && statuses[1] == "deleted") {
		t.Errorf("statuses %v, want one deleted and one protected", statuses)
	}
	if left := e.admins(); left != 1 {
		t.Errorf("%d admins left, want 1", left)
	}
}

// A run that cannot have the admin lock deletes no admin, and says why.
func TestRunKeepsAdminsWithoutTheLock(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.srv.Seed(
		exoteltest.SeedUser{FirstName: "One", LastName: "Admin", Email: "one@corp.example.com", Role: "admin"},
		exoteltest.SeedUser{FirstName: "Two", LastName: "Admin", Email: "two@corp.example.com", Role: "admin"},
	)
	e.seed(5)
	agent := e.agents(1)[0]
	g := offboard.Guards{LockAdmins: func(context.Context) (func(), error) {
		return nil, errors.New("another run holds the lock for admin-delete ccm test-sid (PID 4242)")
	}}
	_, lines := e.runGuarded("email\none@corp.example.com\n"+agent.Email+"\n", offboard.Config{AllowAdmins: true}, g)
	resultstest.Status(t, 1, lines[1], string(results.Protected), "admin not deleted", "PID 4242")
	resultstest.Status(t, 2, lines[2], string(results.Deleted))
}

func TestNamesMustMatch(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.srv.Seed(
		exoteltest.SeedUser{FirstName: "Seed21", LastName: "User21", Email: "s21@corp.example.com"},
		exoteltest.SeedUser{FirstName: "Mary Ann", LastName: "Smith", Email: "mary@corp.example.com"},
		exoteltest.SeedUser{FirstName: "Ravi", LastName: "Kumar Nair", Email: "ravi@corp.example.com"},
	)
	tests := []struct {
		name    string
		header  string
		row     string
		status  results.Status
		partial bool
	}{
		{"both names match", "email,first_name,last_name", "s21@corp.example.com,Seed21,User21", results.WouldDelete, false},
		{"case and spaces do not matter", "email,first_name,last_name", "s21@corp.example.com, SEED 21 , user21", results.WouldDelete, false},
		{"one shared word", "email,first_name,last_name", "s21@corp.example.com,Seed21,Smith", results.Ambiguous, true},
		{"no word shared", "email,first_name,last_name", "s21@corp.example.com,Asha,Rao", results.Ambiguous, false},
		{"split elsewhere", "email,first_name,last_name", "mary@corp.example.com,Mary,Ann Smith", results.WouldDelete, false},
		{"first name alone", "email,first_name", "ravi@corp.example.com,ravi", results.WouldDelete, false},
		{"first name alone, wrong", "email,first_name", "ravi@corp.example.com,Kumar", results.Ambiguous, true},
		{"full name", "email,name", "mary@corp.example.com,Mary Ann Smith", results.WouldDelete, false},
		{"full name, last first", "email,name", `mary@corp.example.com,"Smith, Mary Ann"`, results.WouldDelete, false},
		{"full name, one word", "email,name", "ravi@corp.example.com,Ravi", results.WouldDelete, false},
		{"full name, one word shared", "email,name", "s21@corp.example.com,Seed21 Smith", results.Ambiguous, true},
		{"no name columns", "email", "s21@corp.example.com", results.WouldDelete, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := e.offboarder(offboard.Config{})
			plan := o.Decide(e.halt(make(chan struct{})), e.list(tc.header+"\n"+tc.row+"\n"))
			r := plan.Rows[0]
			if r.Status != tc.status {
				t.Fatalf("status %s (%s), want %s", r.Status, r.Message, tc.status)
			}
			var notes strings.Builder
			plan.WriteNotes(&notes)
			if listed := strings.Contains(notes.String(), "match only in part"); listed != tc.partial {
				t.Errorf("listed as a partial match: %v, want %v\n%s", listed, tc.partial, notes.String())
			}
		})
	}
}

// The dry run (and the prompt) list by name, before anything happens,
// users on a call, admins and names that match only in part.
func TestDryRunListsWhoToLookAt(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	seeded := e.srv.Seed(
		exoteltest.SeedUser{FirstName: "Busy", LastName: "Agent", Email: "busy@corp.example.com", ActiveCall: "CA77"},
		exoteltest.SeedUser{FirstName: "Boss", LastName: "One", Email: "boss1@corp.example.com", Role: "admin"},
		exoteltest.SeedUser{FirstName: "Boss", LastName: "Two", Email: "boss2@corp.example.com", Role: "admin"},
		exoteltest.SeedUser{FirstName: "Seed21", LastName: "User21", Email: "s21@corp.example.com"},
		exoteltest.SeedUser{FirstName: "Plain", LastName: "Agent", Email: "plain@corp.example.com"},
	)
	var notes strings.Builder
	list := "email,name\nbusy@corp.example.com,\nboss1@corp.example.com,\ns21@corp.example.com,Seed21 Smith\nplain@corp.example.com,\n"
	_, lines := e.runGuarded(list, offboard.Config{AllowAdmins: true}, offboard.Guards{DryRun: true, Notes: &notes})
	resultstest.Status(t, 1, lines[1], string(results.Protected), "on a call: rerun later")
	resultstest.Status(t, 2, lines[2], string(results.WouldDelete))
	resultstest.Status(t, 3, lines[3], string(results.Ambiguous), "matches only in part")
	resultstest.Status(t, 4, lines[4], string(results.WouldDelete))
	for _, want := range []string{
		"On a call, so not deleted (rerun later, or give --include-on-call):\n  row 1: Busy Agent <busy@corp.example.com> (user), call CA77\n",
		"Admins to delete (--allow-admins):\n  row 2: Boss One <boss1@corp.example.com> (admin)\n",
		"Names that match only in part, so not deleted (ambiguous):\n  row 3: the row names \"Seed21 Smith\" but it matches user " + seeded[3].ID,
	} {
		if !strings.Contains(notes.String(), want) {
			t.Errorf("notes lack %q:\n%s", want, notes.String())
		}
	}
	// A plain deletion is no user to look at; it is only in the list of
	// who would be deleted, which follows.
	toLook, wouldDelete, _ := strings.Cut(notes.String(), "Would delete 2 users")
	if strings.Contains(toLook, "Plain") || !strings.Contains(wouldDelete, "  Plain Agent <plain@corp.example.com> (user)\n") {
		t.Errorf("notes list a plain deletion among the users to look at, or not among those to delete:\n%s", notes.String())
	}
}

// A rerun that backs up the same users again adds no duplicate records;
// a changed record is added.
func TestWriteBackupSkipsRecordsItHolds(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	rows := promptRows(3)
	path := filepath.Join(e.dir, "b.csv")
	if err := offboard.WriteBackup(path, rows[:2]); err != nil {
		t.Fatal(err)
	}
	again := promptRows(3)
	again[0].User.LastLogin = "2025-01-01T10:00:00+05:30" // changes all day: not a new record
	if err := offboard.WriteBackup(path, again); err != nil {
		t.Fatal(err)
	}
	if n := backupRecords(t, path); n != 3 {
		t.Errorf("backup holds %d records, want 3", n)
	}
	renamed := promptRows(1)
	renamed[0].User.FirstName = "Renamed"
	if err := offboard.WriteBackup(path, renamed); err != nil {
		t.Fatal(err)
	}
	if n := backupRecords(t, path); n != 4 {
		t.Errorf("backup holds %d records after a changed one, want 4", n)
	}
}

// haltWith is a run's stop switch over its own limiter.
func (e *env) haltWith(limiter interface{ Stop() }) *halt.Switch {
	sw := halt.New(context.Background(), make(chan struct{}), limiter.Stop)
	e.t.Cleanup(sw.Close)
	return sw
}

// plainAgents are n users who are not admins.
func plainAgents(n int) []exoteltest.SeedUser {
	out := make([]exoteltest.SeedUser, n)
	for i := range out {
		out[i] = exoteltest.SeedUser{FirstName: "Agent", LastName: "No" + strconv.Itoa(i), Email: "agent" + strconv.Itoa(i) + "@corp.example.com"}
	}
	return out
}
