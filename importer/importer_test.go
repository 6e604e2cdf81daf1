package importer_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/results/resultstest"
	"github.com/exoroster/exoroster/roster"
)

// env is one test's fake account, client, limiter and files.
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
	e.limiter = newLimiter(t, 2000)
	var err error
	if e.client, err = srv.NewClient("", e.limiter); err != nil {
		t.Fatal(err)
	}
	return e
}

func newLimiter(t *testing.T, perSecond float64) *ratelimit.Limiter {
	t.Helper()
	l, err := ratelimit.New(ratelimit.Config{Rate: perSecond, Burst: 4, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// roster writes a CSV and returns its path.
func (e *env) roster(name, content string) string {
	e.t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// people makes a roster of n valid people: first_name,last_name,email,phone,role.
func people(n int) string {
	var b strings.Builder
	b.WriteString("first_name,last_name,email,phone,role\n")
	for i := range n {
		fmt.Fprintf(&b, "Agent%s,Person,agent%d@corp.example.com,%s,agent\n", letters(i), i, phone(i))
	}
	return b.String()
}

// letters spells i in letters, so names stay names.
func letters(i int) string {
	s := ""
	for {
		s = string(rune('a'+i%26)) + s
		i /= 26
		if i == 0 {
			return s
		}
	}
}

func phone(i int) string { return fmt.Sprintf("98%08d", 10000000+i) }

func input(path string) importer.Input {
	return importer.Input{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

type outcome struct {
	sum   *engine.Summary
	lines map[int]map[string]string // row → column → value
	path  string
}

// importFile runs a whole import of path and reads back its results.
func (e *env) importFile(path string, cfg importer.Config, interrupt <-chan struct{}) outcome {
	e.t.Helper()
	plan, err := importer.Prepare(input(path), cfg.Roster)
	if err != nil {
		e.t.Fatal(err)
	}
	resultsPath := path + ".results.csv"
	out, err := results.Create(resultsPath, plan.Layout())
	if err != nil {
		e.t.Fatal(err)
	}
	im := importer.New(e.client, e.limiter, cfg)
	sw := halt.New(context.Background(), interrupt, e.limiter.Stop)
	defer sw.Close()
	sum, err := im.Run(context.Background(), sw, plan, out, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		e.t.Fatal(err)
	}
	return outcome{sum: sum, lines: resultstest.Complete(e.t, resultsPath, plan.Rows), path: resultsPath}
}

// assertOnce checks that every email was created exactly once on the server.
func (e *env) assertCreatedOnce(n int) {
	e.t.Helper()
	creates := e.srv.CreatesByEmail()
	for i := range n {
		email := fmt.Sprintf("agent%d@corp.example.com", i)
		if c := creates[email]; c != 1 {
			e.t.Errorf("%s created %d times, want exactly once", email, c)
		}
	}
	if got := len(e.srv.Users()); got != n {
		e.t.Errorf("server holds %d users, want %d", got, n)
	}
}

func countStatus(lines map[int]map[string]string, status string) int {
	n := 0
	for _, l := range lines {
		if l["status"] == status {
			n++
		}
	}
	return n
}

func TestImportCreatesEveryValidRowAndRecordsInvalidOnes(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	path := e.roster("roster.csv", "\ufeffFirst Name,Surname,E-mail,Mobile,Role,Device\r\n"+
		"Asha,Rao,asha.rao+sales@corp.example.com,09876543210,Agent,Desk phone\r\n"+
		"Vikram,Nair,vikram@corp.example.com,98765 43211,SUPERVISOR,\r\n"+
		"Meera,Iyer,,+91-98765-43213,admin,\r\n"+
		"Bad,Phone,bad.phone@corp.example.com,+91-98765-ABCDE,user,\r\n"+
		",NoFirst,nofirst@corp.example.com,,user,\r\n"+
		"Dup,Email,ASHA.RAO+sales@corp.example.com,,user,\r\n"+
		"\"Kumar, Jr\",Ravi,ravi@corp.example.com,,manager,\r\n"+
		"\r\n\r\n")
	o := e.importFile(path, importer.Config{Workers: 3}, nil)

	want := map[int]string{1: "created", 2: "created", 3: "created", 4: "invalid", 5: "invalid", 6: "invalid", 7: "invalid"}
	for row, status := range want {
		if got := o.lines[row]["status"]; got != status {
			t.Errorf("row %d status = %q, want %q (message %q)", row, got, status, o.lines[row]["message"])
		}
	}
	if msg := o.lines[6]["message"]; !strings.Contains(msg, "row 1") {
		t.Errorf("duplicate row's message %q does not name row 1", msg)
	}
	if msg := o.lines[7]["message"]; !strings.Contains(msg, "role") {
		t.Errorf("bad role row's message %q does not name the role", msg)
	}
	// Invalid rows never reach the API.
	if n := e.srv.CountRequests("POST"); n != 3 {
		t.Errorf("POSTs = %d, want 3 (invalid rows must not be sent)", n)
	}
	u, ok := e.srv.UserByEmail("asha.rao+sales@corp.example.com")
	if !ok {
		t.Fatal("Asha was not created with her plus-address as written")
	}
	if u.Role != "user" || len(u.Devices) != 1 || u.Devices[0].ContactURI != "+919876543210" || u.Devices[0].Name != "Desk phone" {
		t.Errorf("Asha on the server = %+v, want role user, device +919876543210 named Desk phone", u)
	}
	if l := o.lines[1]; l["user_id"] != u.ID || l["device_id"] == "" || l["http_status"] != "200" || l["attempts"] != "1" {
		t.Errorf("row 1 line = %v", l)
	}
	// The input columns are kept as read, after the contract columns.
	if l := o.lines[2]; l["Mobile"] != "98765 43211" || l["Role"] != "SUPERVISOR" {
		t.Errorf("row 2 input cells = %v, want them as read", l)
	}
	if o.sum.OK() || o.sum.Counts[results.Created] != 3 || o.sum.Counts[results.Invalid] != 4 {
		t.Errorf("summary = %+v", o.sum)
	}
}

// Under 15% server errors and 8% dropped connections (half of them after the
// user was created) every row ends created, nobody twice, and the retries
// show in attempts.
func TestImportUnderFaultsCreatesEveryoneOnce(t *testing.T) {
	const n = 150
	// AllowDuplicates: the server would accept a blind re-send, so a
	// duplicate would really show.
	e := newEnv(t, exoteltest.Options{Seed: 7, ServerErrorRate: 0.15, HTMLErrors: true, AllowDuplicates: true,
		DropBeforeRate: 0.04, DropAfterRate: 0.04, FaultMethods: []string{"POST"}})
	o := e.importFile(e.roster("roster.csv", people(n)), importer.Config{Workers: 6, MaxAttempts: 12}, nil)

	if got := o.sum.Counts[results.Created]; got != n {
		t.Errorf("created = %d, want %d; counts %v", got, n, o.sum.Counts)
	}
	e.assertCreatedOnce(n)
	retried := 0
	for _, l := range o.lines {
		if a, _ := strconv.Atoi(l["attempts"]); a > 1 {
			retried++
		}
	}
	if retried < n/10 {
		t.Errorf("only %d rows show more than one attempt under ~23%% faults", retried)
	}
}

// A POST whose connection dropped after the user was created is looked up
// before any retry: zero duplicates, every row created.
func TestImportLooksUpBeforeRetryingALostCreate(t *testing.T) {
	const n = 100
	e := newEnv(t, exoteltest.Options{Seed: 3, DropAfterRate: 0.10, AllowDuplicates: true, FaultMethods: []string{"POST"}})
	o := e.importFile(e.roster("roster.csv", people(n)), importer.Config{Workers: 4}, nil)
	if got := o.sum.Counts[results.Created]; got != n {
		t.Errorf("created = %d, want %d; counts %v", got, n, o.sum.Counts)
	}
	e.assertCreatedOnce(n)
	confirmed := 0
	for _, l := range o.lines {
		if strings.Contains(l["message"], "confirmed by lookup") {
			confirmed++
			if l["user_id"] == "" {
				t.Errorf("row %s confirmed without its user_id", l["row"])
			}
		}
	}
	if confirmed == 0 {
		t.Error("no row was confirmed by lookup, yet 10% of creates lost their answer")
	}
	// The lookups filtered by the row's email, one GET each.
	for _, r := range e.srv.Requests() {
		if r.Method == "GET" && r.Query.Get("email") == "" {
			t.Errorf("lookup without an email filter: %s?%s", r.Path, r.RawQuery)
		}
	}
}

// A row with neither email nor phone cannot be looked up: after a lost
// answer it must not be sent blind.
func TestImportDoesNotResendUnverifiableRows(t *testing.T) {
	e := newEnv(t, exoteltest.Options{DropAfterRate: 1, FaultMethods: []string{"POST"}})
	path := e.roster("roster.csv", "first_name,last_name\nNo,Contact\n")
	o := e.importFile(path, importer.Config{}, nil)
	l := o.lines[1]
	if l["status"] != "failed" || !strings.Contains(l["message"], "may have been created") || l["http_status"] != "" {
		t.Errorf("row 1 = %v, want failed, http_status empty, saying it may exist", l)
	}
	if n := e.srv.CountRequests("POST"); n != 1 {
		t.Errorf("POSTs = %d, want exactly 1", n)
	}
}

func TestImportConflictsWithExistingUsers(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.srv.Seed(
		exoteltest.SeedUser{FirstName: "Asha", LastName: "Rao", Email: "asha@corp.example.com", Phone: "+919876543210", Role: "admin"},
		exoteltest.SeedUser{FirstName: "Someone", LastName: "Else", Email: "taken@corp.example.com"},
		exoteltest.SeedUser{FirstName: "Phone", LastName: "Owner", Phone: "+919876543299"},
	)
	path := e.roster("roster.csv", "first_name,last_name,email,phone\n"+
		"asha,RAO,Asha@corp.example.com,09876543210\n"+ // the same person: exists
		"Kiran,Das,taken@corp.example.com,\n"+ // email of someone else: failed
		"Lata,Sen,,9876543299\n") // phone of someone else: failed
	o := e.importFile(path, importer.Config{}, nil)
	if l := o.lines[1]; l["status"] != "exists" || l["user_id"] == "" || !strings.Contains(l["message"], "role on Exotel is admin") {
		t.Errorf("row 1 = %v, want exists with its id and the role difference noted", l)
	}
	if l := o.lines[2]; l["status"] != "failed" || l["http_status"] != "409" || l["error_code"] != "1022" ||
		!strings.Contains(l["message"], "Someone Else") {
		t.Errorf("row 2 = %v, want failed 409 1022 naming the holder", l)
	}
	if l := o.lines[3]; l["status"] != "failed" || l["error_code"] != "1021" || !strings.Contains(l["message"], "Phone Owner") {
		t.Errorf("row 3 = %v, want failed 1021 naming the holder", l)
	}
}

// The deleted-email rule: Exotel never frees a deleted user's email.
func TestImportEmailOfDeletedUser(t *testing.T) {
	for _, tc := range []struct {
		name      string
		policy    importer.EmailTaken
		tombs     []string
		status    string
		wantEmail string
		msg       string
	}{
		{"fail by default", "", []string{"gone@corp.example.com"}, "failed", "", "--on-email-taken=plus"},
		{"plus one", importer.EmailTakenPlus, []string{"gone@corp.example.com"}, "created", "gone+1@corp.example.com", "gone+1@corp.example.com"},
		{"plus two", importer.EmailTakenPlus, []string{"gone@corp.example.com", "gone+1@corp.example.com"}, "created",
			"gone+2@corp.example.com", "gone+2@corp.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, exoteltest.Options{})
			e.srv.Tombstone(tc.tombs...)
			path := e.roster("roster.csv", "first_name,last_name,email\nGone,Again,gone@corp.example.com\n")
			o := e.importFile(path, importer.Config{OnEmailTaken: tc.policy}, nil)
			l := o.lines[1]
			if l["status"] != tc.status || !strings.Contains(l["message"], tc.msg) {
				t.Errorf("row = %v, want %s with %q in the message", l, tc.status, tc.msg)
			}
			if tc.wantEmail != "" {
				if u, ok := e.srv.UserByEmail(tc.wantEmail); !ok || u.ID != l["user_id"] {
					t.Errorf("no user %s with the row's id", tc.wantEmail)
				}
			}
		})
	}
}

// A rerun with --on-email-taken=plus finds the +1 user it made last time.
func TestImportPlusRerunFindsItsOwnUser(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.srv.Tombstone("gone@corp.example.com")
	path := e.roster("roster.csv", "first_name,last_name,email\nGone,Again,gone@corp.example.com\n")
	cfg := importer.Config{OnEmailTaken: importer.EmailTakenPlus}
	first := e.importFile(path, cfg, nil)
	second := e.importFile(path, cfg, nil)
	if first.lines[1]["status"] != "created" || second.lines[1]["status"] != "exists" ||
		second.lines[1]["user_id"] != first.lines[1]["user_id"] || len(e.srv.Users()) != 1 {
		t.Errorf("first %v, second %v; want created then exists, one user", first.lines[1], second.lines[1])
	}
}

func TestImportStopsOnAuthFailure(t *testing.T) {
	e := newEnv(t, exoteltest.Options{APIToken: "the-real-token"})
	// env's client uses the options' token; make it wrong.
	bad, err := e.srv.NewClient("wrong", e.limiter)
	if err != nil {
		t.Fatal(err)
	}
	e.client = bad
	const n = 40
	o := e.importFile(e.roster("roster.csv", people(n)), importer.Config{Workers: 2}, nil)
	if o.sum.Aborted == nil || !strings.Contains(o.sum.Aborted.Error(), "EXOTEL_API_TOKEN") {
		t.Errorf("Aborted = %v, want the credentials named", o.sum.Aborted)
	}
	failed, skipped := countStatus(o.lines, "failed"), countStatus(o.lines, "skipped")
	if failed < 1 || failed > 2 || failed+skipped != n {
		t.Errorf("failed %d, skipped %d; want the 1-2 rows in flight failed and the rest skipped", failed, skipped)
	}
	if posts := e.srv.CountRequests("POST"); posts > 2 {
		t.Errorf("%d POSTs after a 401, want the run stopped at once", posts)
	}
}

func TestImportInterruptSkipsTheRest(t *testing.T) {
	e := newEnv(t, exoteltest.Options{Latency: 20 * time.Millisecond})
	e.limiter = newLimiter(t, 50)
	const n = 200
	interrupt := make(chan struct{})
	go func() {
		for len(e.srv.Users()) < 10 {
			time.Sleep(5 * time.Millisecond)
		}
		close(interrupt)
	}()
	o := e.importFile(e.roster("roster.csv", people(n)), importer.Config{Workers: 4}, interrupt)
	if !o.sum.Interrupted {
		t.Error("summary not marked interrupted")
	}
	created, skipped := countStatus(o.lines, "created"), countStatus(o.lines, "skipped")
	if created < 10 || created+skipped != n || skipped == 0 {
		t.Errorf("created %d, skipped %d of %d", created, skipped, n)
	}
	if got := len(e.srv.Users()); got != created {
		t.Errorf("server holds %d users, results say %d created: an in-flight request was lost", got, created)
	}
}

func TestImportDryRunSendsNothing(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	path := e.roster("roster.csv", people(5)+"Bad,Role,x@corp.example.com,,boss\n")
	plan, err := importer.Prepare(input(path), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := results.Create(path+".dry.csv", plan.Layout())
	sum, err := importer.New(nil, nil, importer.Config{DryRun: true}).Run(context.Background(), halt.New(context.Background(), nil, nil), plan, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Close()
	lines := resultstest.Complete(t, path+".dry.csv", 6)
	if countStatus(lines, "would_create") != 5 || lines[6]["status"] != "invalid" || sum.Counts[results.WouldCreate] != 5 {
		t.Errorf("dry run lines = %v", lines)
	}
	if n := len(e.srv.Requests()); n != 0 {
		t.Errorf("dry run sent %d requests", n)
	}
}

// --check-existing looks rows up 50 at a time instead of a POST and a GET
// per existing row.
func TestImportCheckExistingBatchesLookups(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	const n = 120
	for i := 0; i < n; i += 4 {
		e.srv.Seed(exoteltest.SeedUser{FirstName: "Agent" + letters(i), LastName: "Person",
			Email: fmt.Sprintf("agent%d@corp.example.com", i), Phone: "+91" + phone(i)})
	}
	o := e.importFile(e.roster("roster.csv", people(n)), importer.Config{CheckExisting: true}, nil)
	if got := o.sum.Counts[results.Exists]; got != n/4 {
		t.Errorf("exists = %d, want %d", got, n/4)
	}
	if got := o.sum.Counts[results.Created]; got != n-n/4 {
		t.Errorf("created = %d, want %d", got, n-n/4)
	}
	if gets := e.srv.CountRequests("GET"); gets != 3 {
		t.Errorf("GETs = %d, want 3 (120 rows in batches of 50)", gets)
	}
	if posts := e.srv.CountRequests("POST"); posts != n-n/4 {
		t.Errorf("POSTs = %d, want only the %d missing users", posts, n-n/4)
	}
	for _, r := range e.srv.Requests() {
		if r.Method == "GET" && r.Query.Get("limit") != "50" {
			t.Errorf("lookup with limit %q", r.Query.Get("limit"))
		}
	}
}

// halt returns a stop switch for one run that nobody interrupts.
func (e *env) halt() *halt.Switch {
	sw := halt.New(context.Background(), nil, e.limiter.Stop)
	e.t.Cleanup(sw.Close)
	return sw
}
