package offboard_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/results/resultstest"
	"github.com/exoroster/exoroster/roster"
)

type env struct {
	t       *testing.T
	srv     *exoteltest.Server
	client  *exotel.Client
	limiter *ratelimit.Limiter
	dir     string
	users   []exotel.User
	// sw is the switch halt made last, for a hook on the fake to wait on.
	sw atomic.Pointer[halt.Switch]
}

func newEnv(t *testing.T, opts exoteltest.Options) *env {
	t.Helper()
	srv := exoteltest.NewServer(opts)
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, dir: t.TempDir()}
	e.client, e.limiter = e.connect("test-token")
	return e
}

// admins counts the account's admins now.
func (e *env) admins() int {
	n := 0
	for _, u := range e.srv.Users() {
		if u.Role == "admin" {
			n++
		}
	}
	return n
}

// connect returns a client with a fresh limiter (a stopped run stops its
// limiter for good).
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

// seed fills the account with n sample users (admins at 0, 40, 80, ...).
func (e *env) seed(n int) {
	e.users = e.srv.Seed(exoteltest.SampleUsers(n, 1, time.Now())...)
}

// agents returns n users of the account that are not admins.
func (e *env) agents(n int) []exotel.User {
	var out []exotel.User
	for _, u := range e.users {
		if u.Role != "admin" && len(out) < n {
			out = append(out, u)
		}
	}
	return out
}

func (e *env) file(name, content string) string {
	e.t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

func (e *env) list(content string) *resolve.List {
	e.t.Helper()
	l, err := resolve.ReadList("leavers.csv", strings.NewReader(content), roster.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

// halt returns the stop switch of one run, flipped when interrupt closes.
func (e *env) halt(interrupt <-chan struct{}) *halt.Switch {
	sw := halt.New(context.Background(), interrupt, e.limiter.Stop)
	e.t.Cleanup(sw.Close)
	e.sw.Store(sw)
	return sw
}

func (e *env) offboarder(cfg offboard.Config) *offboard.Offboarder {
	if cfg.Workers == 0 {
		cfg.Workers = 4
	}
	return offboard.New(e.client, e.limiter, cfg)
}

type outcome struct {
	plan  *offboard.Plan
	sum   *engine.Summary
	lines map[int]map[string]string
	path  string
}

// run decides and deletes (or, when record is not "", only records).
func (e *env) run(content string, cfg offboard.Config, record results.Status, interrupt <-chan struct{}) outcome {
	e.t.Helper()
	o := e.offboarder(cfg)
	list := e.list(content)
	sw := e.halt(interrupt)
	plan := o.Decide(sw, list)
	path := filepath.Join(e.dir, fmt.Sprintf("out-%d.csv", time.Now().UnixNano()))
	out, err := results.Create(path, plan.Layout())
	if err != nil {
		e.t.Fatal(err)
	}
	var sum *engine.Summary
	if record != "" {
		sum, err = o.Record(context.Background(), sw, plan, out, record, "")
	} else {
		sum, err = o.Delete(context.Background(), sw, plan, out)
	}
	if err != nil {
		e.t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		e.t.Fatal(err)
	}
	return outcome{plan: plan, sum: sum, lines: resultstest.Complete(e.t, path, len(list.Rows)), path: path}
}

func (o outcome) status(t *testing.T, row int, want results.Status, msg ...string) map[string]string {
	t.Helper()
	return resultstest.Status(t, row, o.lines[row], string(want), msg...)
}

func deletedIDs(srv *exoteltest.Server) []string {
	var ids []string
	for _, u := range srv.Deleted() {
		ids = append(ids, u.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestOffboardDeletesTheListedUsersAndOnlyThem(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.seed(200)
	u := e.users
	list := "user_id,email,phone,first_name\n" +
		u[1].ID + ",,,\n" + // 1 by id
		"," + strings.ToUpper(u[2].Email) + ",,\n" + // 2 by email, any case
		",,0" + u[3].Devices[0].ContactURI[3:] + ",\n" + // 3 by a national number
		u[4].ID + "," + u[4].Email + "," + u[4].Devices[0].ContactURI + "," + u[4].FirstName + "\n" + // 4 all agree
		",gone@corp.example.com,,\n" + // 5 not_found
		"," + u[5].Email + "," + u[6].Devices[0].ContactURI + ",\n" + // 6 ambiguous: two users
		u[0].ID + ",,,\n" + // 7 admin: protected
		",,+91-98765-ABCDE,\n" + // 8 invalid phone
		"," + u[1].Email + ",,\n" + // 9 same user as row 1
		"," + u[7].Email + ",,Somebody\n" + // 10 names disagree: ambiguous
		",,,\n" // blank rows are not rows
	o := e.run(list, offboard.Config{}, "", nil)

	o.status(t, 1, results.Deleted, "deleted "+u[1].FirstName)
	o.status(t, 2, results.Deleted)
	o.status(t, 3, results.Deleted)
	o.status(t, 4, results.Deleted)
	o.status(t, 5, results.NotFound, "no user has email gone@corp.example.com")
	o.status(t, 6, results.Ambiguous, u[5].ID, u[6].ID)
	o.status(t, 7, results.Protected, "--allow-admins")
	o.status(t, 8, results.Invalid, "letters are not allowed")
	o.status(t, 9, results.Invalid, "same user as row 1")
	o.status(t, 10, results.Ambiguous, "Somebody")

	want := []string{u[1].ID, u[2].ID, u[3].ID, u[4].ID}
	slices.Sort(want)
	if got := deletedIDs(e.srv); !slices.Equal(got, want) {
		t.Errorf("deleted %v, want exactly %v", got, want)
	}
	if n := e.srv.CountRequests("DELETE"); n != 4 {
		t.Errorf("DELETEs = %d, want 4", n)
	}
	// The deleted rows carry the snapshot: everything import needs.
	l := o.lines[2]
	d := u[2].Devices[0]
	if l["user_id"] != u[2].ID || l["device_id"] != strconv.FormatInt(d.ID, 10) || l["http_status"] != "200" ||
		l["attempts"] != "1" || l["first_name"] != u[2].FirstName || l["last_name"] != u[2].LastName ||
		l["email"] != u[2].Email || l["role"] != u[2].Role || l["device_contact_uri"] != d.ContactURI ||
		l["device_name"] != d.Name || l["email_verified"] == "" || l["date_created"] == "" {
		t.Errorf("row 2 line = %v, want the user's full record", l)
	}
	// Input columns that import would read are renamed, kept as read.
	if l["input_email"] != strings.ToUpper(u[2].Email) || l["input_user_id"] != "" {
		t.Errorf("row 2 input cells = %v", l)
	}
	if o.sum.OK() {
		t.Error("summary OK with ambiguous, protected and invalid rows")
	}
	// Deciding needed no listing of the account: one GET for each kind of
	// identifier (a single id is one GET by id).
	if n := e.srv.CountRequests("GET"); n > 4 {
		t.Errorf("GETs = %d, want at most 4", n)
	}
}

func TestOffboardRerunOfAFinishedListDeletesNothing(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.seed(100)
	var b strings.Builder
	b.WriteString("id,email,mobile\n")
	for i := 1; i <= 30; i++ {
		switch u := e.users[i]; i % 3 {
		case 0:
			b.WriteString(u.ID + ",,\n")
		case 1:
			b.WriteString("," + u.Email + ",\n")
		default:
			b.WriteString(",," + u.Devices[0].ContactURI + "\n")
		}
	}
	first := e.run(b.String(), offboard.Config{}, "", nil)
	if got := first.sum.Counts[results.Deleted]; got != 30 || !first.sum.OK() {
		t.Fatalf("first run: %v", first.sum.Counts)
	}
	deletes := e.srv.CountRequests("DELETE")

	second := e.run(b.String(), offboard.Config{}, "", nil)
	for row := 1; row <= 30; row++ {
		second.status(t, row, results.NotFound)
	}
	if n := e.srv.CountRequests("DELETE"); n != deletes {
		t.Errorf("the rerun sent %d DELETEs", n-deletes)
	}
	if !second.sum.OK() {
		t.Errorf("rerun summary not OK: %v", second.sum.Counts)
	}
}

func TestOffboardDryRunSendsNoDelete(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.seed(60)
	o := e.run("email\n"+e.users[1].Email+"\n"+e.users[2].Email+"\n", offboard.Config{}, results.WouldDelete, nil)
	o.status(t, 1, results.WouldDelete, "would delete "+e.users[1].FirstName)
	l := o.status(t, 2, results.WouldDelete)
	if l["first_name"] != e.users[2].FirstName {
		t.Errorf("dry run line lacks the snapshot: %v", l)
	}
	for _, r := range e.srv.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("dry run sent %s %s", r.Method, r.Path)
		}
	}
	if len(e.srv.Users()) != 60 {
		t.Error("dry run changed the account")
	}
}

func TestOffboardAdmins(t *testing.T) {
	admin := func(first, email string) exoteltest.SeedUser {
		return exoteltest.SeedUser{FirstName: first, LastName: "Admin", Email: email, Role: "admin"}
	}
	t.Run("protected without --allow-admins, and no listing", func(t *testing.T) {
		e := newEnv(t, exoteltest.Options{})
		e.srv.Seed(admin("One", "one@corp.example.com"), admin("Two", "two@corp.example.com"))
		e.seed(120)
		o := e.run("email\none@corp.example.com\n", offboard.Config{}, "", nil)
		o.status(t, 1, results.Protected, "admin")
		if n := e.srv.CountRequests("GET"); n != 1 {
			t.Errorf("GETs = %d, want 1: admins are counted only when one is to be deleted", n)
		}
		if o.plan.Admins != -1 {
			t.Errorf("Admins = %d, want -1 (not counted)", o.plan.Admins)
		}
	})
	t.Run("the last admin stays, even with --allow-admins", func(t *testing.T) {
		e := newEnv(t, exoteltest.Options{})
		e.srv.Seed(admin("One", "one@corp.example.com"), admin("Two", "two@corp.example.com"))
		e.seed(120) // admins at 0, 40 and 80: five in all
		var b strings.Builder
		b.WriteString("email\none@corp.example.com\ntwo@corp.example.com\n")
		for _, i := range []int{0, 40, 80} {
			b.WriteString(e.users[i].Email + "\n")
		}
		b.WriteString(e.users[1].Email + "\n")
		o := e.run(b.String(), offboard.Config{AllowAdmins: true}, "", nil)
		for row := 1; row <= 4; row++ {
			o.status(t, row, results.Deleted)
		}
		o.status(t, 5, results.Protected, "last remaining admin", "even with --allow-admins")
		o.status(t, 6, results.Deleted)
		if o.plan.Admins != 5 {
			t.Errorf("Admins = %d, want 5", o.plan.Admins)
		}
		if left := e.admins(); left != 1 {
			t.Errorf("%d admins left, want 1", left)
		}
		// Counting took the whole listing: 122 users, 3 pages.
		if n := e.srv.CountRequests("GET"); n != 1+3 {
			t.Errorf("GETs = %d, want 4 (email batch and the listing)", n)
		}
	})
	t.Run("a lone admin is never deleted", func(t *testing.T) {
		e := newEnv(t, exoteltest.Options{})
		e.srv.Seed(admin("Only", "only@corp.example.com"), exoteltest.SeedUser{FirstName: "A", LastName: "Gent", Email: "a@corp.example.com"})
		o := e.run("email\nonly@corp.example.com\n", offboard.Config{AllowAdmins: true}, "", nil)
		o.status(t, 1, results.Protected, "last remaining admin of the account (it has 1)")
		if n := e.srv.CountRequests("DELETE"); n != 0 {
			t.Errorf("DELETEs = %d", n)
		}
	})
}

func TestOffboardDeleteAnswering404IsNotFound(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.seed(20)
	o := e.offboarder(offboard.Config{})
	sw := e.halt(nil)
	plan := o.Decide(sw, e.list("email\n"+e.users[3].Email+"\n"+e.users[4].Email+"\n"))
	// Someone else deletes user 3 between the lookup and the DELETE.
	if err := e.client.DeleteUser(context.Background(), e.users[3].ID); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.dir, "out.csv")
	out, _ := results.Create(path, plan.Layout())
	sum, err := o.Delete(context.Background(), sw, plan, out)
	out.Close()
	if err != nil {
		t.Fatal(err)
	}
	lines := resultstest.Complete(t, path, 2)
	if l := lines[1]; l["status"] != "not_found" || l["http_status"] != "404" || !strings.Contains(l["message"], "already gone") {
		t.Errorf("row 1 = %v, want not_found after a 404", l)
	}
	if l := lines[2]; l["status"] != "deleted" {
		t.Errorf("row 2 = %v", l)
	}
	if !sum.OK() {
		t.Errorf("a 404 is not a failure: %v", sum.Counts)
	}
}

func TestOffboardUnderFaultsEveryoneEndsDeleted(t *testing.T) {
	const n = 40
	e := newEnv(t, exoteltest.Options{Seed: 11, ServerErrorRate: 0.25, DropAfterRate: 0.15, DropBeforeRate: 0.05,
		FaultMethods: []string{"DELETE"},
		Limit:        exoteltest.Limit{Rate: 400, Window: time.Second, Burst: 3}})
	e.seed(n + 10)
	var b strings.Builder
	b.WriteString("email\n")
	for _, u := range e.agents(n) {
		b.WriteString(u.Email + "\n")
	}
	o := e.run(b.String(), offboard.Config{Workers: 6, MaxAttempts: 30}, "", nil)
	if got := o.sum.Counts[results.Deleted]; got != n {
		t.Errorf("deleted %d, want %d: %v", got, n, o.sum.Counts)
	}
	if got := len(e.srv.Deleted()); got != n {
		t.Errorf("server deleted %d, want %d", got, n)
	}
	retried, confirmed := 0, 0
	for _, l := range o.lines {
		if a, _ := strconv.Atoi(l["attempts"]); a > 1 {
			retried++
		}
		if strings.Contains(l["message"], "answer was lost") {
			confirmed++
		}
	}
	if retried == 0 || confirmed == 0 || e.srv.Throttled() == 0 {
		t.Errorf("faults did not show: %d rows retried, %d confirmed by a 404, %d 429s", retried, confirmed, e.srv.Throttled())
	}
}

func TestOffboardGivesUpAsFailed(t *testing.T) {
	e := newEnv(t, exoteltest.Options{ServerErrorRate: 1, FaultMethods: []string{"DELETE"}})
	e.seed(5)
	o := e.run("email\n"+e.users[1].Email+"\n", offboard.Config{MaxAttempts: 3}, "", nil)
	l := o.status(t, 1, results.Failed, "gave up after 3 attempts", "may have been deleted")
	if l["attempts"] != "3" || l["http_status"] != "" || l["error_code"] != "1004" {
		t.Errorf("failed line = %v", l)
	}
}

func TestOffboardInterrupt(t *testing.T) {
	t.Run("before the first DELETE", func(t *testing.T) {
		e := newEnv(t, exoteltest.Options{})
		e.seed(20)
		o := e.offboarder(offboard.Config{})
		stop := make(chan struct{})
		sw := e.halt(stop)
		plan := o.Decide(sw, e.list("email\n"+e.users[1].Email+"\n"+e.users[2].Email+"\n"))
		close(stop)
		<-sw.Done()
		out, _ := results.Create(filepath.Join(e.dir, "out.csv"), plan.Layout())
		sum, _ := o.Delete(context.Background(), sw, plan, out)
		out.Close()
		if !sum.Interrupted || sum.Counts[results.Skipped] != 2 || e.srv.CountRequests("DELETE") != 0 {
			t.Errorf("summary %+v, DELETEs %d", sum, e.srv.CountRequests("DELETE"))
		}
	})
	t.Run("in the middle", func(t *testing.T) {
		e := newEnv(t, exoteltest.Options{Latency: 20 * time.Millisecond})
		e.seed(60)
		stop := make(chan struct{})
		var once sync.Once
		e.srv.SetOnRequest(func(r *http.Request) {
			if r.Method == http.MethodDelete {
				once.Do(func() { close(stop) })
				// Answer no DELETE until the switch has flipped: then only
				// what the two workers had already sent can be deleted,
				// however slowly the machine flips it.
				<-e.sw.Load().Done()
			}
		})
		var b strings.Builder
		b.WriteString("email\n")
		for _, u := range e.agents(50) {
			b.WriteString(u.Email + "\n")
		}
		o := e.run(b.String(), offboard.Config{Workers: 2}, "", stop)
		deleted, skipped := o.sum.Counts[results.Deleted], o.sum.Counts[results.Skipped]
		if !o.sum.Interrupted || deleted < 1 || deleted > 3 || deleted+skipped != 50 {
			t.Errorf("interrupted run: %v", o.sum.Counts)
		}
		if got := len(e.srv.Deleted()); got != deleted {
			t.Errorf("server deleted %d, results say %d", got, deleted)
		}
	})
	t.Run("while looking up", func(t *testing.T) {
		// The lookup would take a minute: the interrupt comes while the
		// fake holds it, whatever the machine's speed.
		e := newEnv(t, exoteltest.Options{Latency: time.Minute})
		e.seed(20)
		stop := make(chan struct{})
		var once sync.Once
		e.srv.SetOnRequest(func(*http.Request) { once.Do(func() { close(stop) }) })
		plan := e.offboarder(offboard.Config{}).Decide(e.halt(stop), e.list("email\n"+e.users[1].Email+"\n"))
		if !plan.Interrupted || len(plan.ToDelete()) != 0 {
			t.Errorf("plan after an interrupt: interrupted %v, %d to delete", plan.Interrupted, len(plan.ToDelete()))
		}
	})
}

func TestOffboardStopsOnRefusedCredentials(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.seed(5)
	e.client, e.limiter = e.connect("wrong-token")
	plan := e.offboarder(offboard.Config{}).Decide(e.halt(nil), e.list("email\n"+e.users[1].Email+"\n"))
	if plan.Aborted == nil || !strings.Contains(plan.Aborted.Error(), "EXOTEL_API_TOKEN") {
		t.Errorf("Aborted = %v", plan.Aborted)
	}
	if strings.Contains(fmt.Sprint(plan.Aborted), "wrong-token") {
		t.Error("the token leaked into the error")
	}
}

// The results file, and the backup, are enough to re-create the deleted
// people with import. Exotel never frees a deleted user's email, so they
// come back as local+1@domain.
func TestOffboardSnapshotReimports(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.seed(30)
	gone := []exotel.User{e.users[1], e.users[2], e.users[9]} // 9 is a supervisor
	list := "phone,name\n" + gone[0].Devices[0].ContactURI + "," + gone[0].FirstName + "\n" +
		gone[1].Devices[0].ContactURI + ",\n" +
		"+919999999999,Nobody Here\n" + // not_found: must not be re-created
		gone[2].Devices[0].ContactURI + ",\n"
	o := e.run(list, offboard.Config{}, "", nil)
	if o.sum.Counts[results.Deleted] != 3 {
		t.Fatalf("offboard: %v", o.sum.Counts)
	}
	backup := filepath.Join(e.dir, "backup.csv")
	if err := offboard.WriteBackup(backup, o.plan.ToDelete()); err != nil {
		t.Fatal(err)
	}

	for _, source := range []string{o.path, backup} {
		t.Run(filepath.Base(source), func(t *testing.T) {
			before := len(e.srv.Users())
			sum := reimport(t, e, source)
			if got := sum.Counts[results.Created]; got != 3 {
				t.Errorf("import created %d, want 3: %v", got, sum.Counts)
			}
			if got := len(e.srv.Users()) - before; got != 3 {
				t.Errorf("account grew by %d, want 3", got)
			}
		})
		// The second source meets the first's re-created users: +2.
		for _, u := range gone {
			at := strings.LastIndexByte(u.Email, '@')
			plus := u.Email[:at] + "+1" + u.Email[at:]
			if source == backup {
				plus = u.Email[:at] + "+2" + u.Email[at:]
			}
			back, ok := e.srv.UserByEmail(plus)
			if !ok {
				t.Fatalf("%s was not re-created as %s", u.Email, plus)
			}
			if back.FirstName != u.FirstName || back.LastName != u.LastName || back.Role != u.Role ||
				len(back.Devices) != 1 || back.Devices[0].ContactURI != u.Devices[0].ContactURI || back.Devices[0].Name != u.Devices[0].Name {
				t.Errorf("re-created %+v, want the record of %+v", back, u)
			}
			// Free the number for the next source.
			if source == o.path {
				if err := e.client.DeleteUser(context.Background(), back.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func reimport(t *testing.T, e *env, path string) *engine.Summary {
	t.Helper()
	in := importer.Input{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
	plan, err := importer.Prepare(in, roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := results.Create(path+".import.csv", plan.Layout())
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	sum, err := importer.New(e.client, e.limiter, importer.Config{OnEmailTaken: importer.EmailTakenPlus}).
		Run(context.Background(), e.halt(nil), plan, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

func TestWriteBackupAppendsAndRefusesForeignFiles(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.seed(5)
	plan := e.offboarder(offboard.Config{}).Decide(e.halt(nil),
		e.list("email\n"+e.users[1].Email+"\n"+e.users[2].Email+"\n"))
	rows := plan.ToDelete()
	path := filepath.Join(e.dir, "b.csv")
	if err := offboard.WriteBackup(path, rows[:1]); err != nil {
		t.Fatal(err)
	}
	if err := offboard.WriteBackup(path, rows[1:]); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) != 3 || !slices.Equal(recs[0], exporter.Columns()) || recs[2][0] != e.users[2].ID {
		t.Errorf("backup = %q, %v; want export's header and both users", recs, err)
	}
	foreign := e.file("foreign.csv", "name,email\nA,b\n")
	if err := offboard.WriteBackup(foreign, rows); err == nil || !strings.Contains(err.Error(), "not an offboard backup") {
		t.Errorf("foreign file: %v", err)
	}
}
