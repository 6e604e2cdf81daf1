package reconcile

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/webrtc"
)

var testNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// memSink keeps the lines by row.
type memSink struct {
	mu    sync.Mutex
	lines map[int]results.Line
}

func (m *memSink) Write(l results.Line) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lines == nil {
		m.lines = map[int]results.Line{}
	}
	m.lines[l.Row] = l
	return nil
}

// fakeEnv is the fake API with a client of each target.
type fakeEnv struct {
	t   testing.TB
	srv *exoteltest.Server
	dir string
}

func newFakeEnv(t testing.TB) *fakeEnv {
	return newFakeEnvWith(t, exoteltest.Options{})
}

func newFakeEnvWith(t testing.TB, opts exoteltest.Options) *fakeEnv {
	t.Helper()
	opts.APIToken = "test-token"
	srv := exoteltest.NewServer(opts)
	t.Cleanup(srv.Close)
	return &fakeEnv{t: t, srv: srv, dir: t.TempDir()}
}

// limiter is a fresh fast limiter: a stopped run stops its limiter for good.
func (e *fakeEnv) limiter() *ratelimit.Limiter {
	e.t.Helper()
	lim, err := ratelimit.New(ratelimit.Config{Rate: 2000, Burst: 8, BaseBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		e.t.Fatal(err)
	}
	return lim
}

// ccm is the CCM target over a fresh client and limiter.
func (e *fakeEnv) ccm() *CCM {
	e.t.Helper()
	lim := e.limiter()
	c, err := e.srv.NewClient("test-token", lim)
	if err != nil {
		e.t.Fatal(err)
	}
	return NewCCM(c, lim, Account{ID: "test-sid", BaseURL: e.srv.URL()}, Config{})
}

// app is the WebRTC target over a fresh client and limiter.
func (e *fakeEnv) app() *WebRTC { return e.appWith(Config{}) }

func (e *fakeEnv) appWith(cfg Config) *WebRTC {
	e.t.Helper()
	lim := e.limiter()
	c, err := webrtc.New(webrtc.Options{
		BaseURL:     e.srv.URL(),
		Credentials: webrtc.Credentials{Token: exotel.NewSecret("test-webrtc-token"), CustomerID: "test-customer", AppID: "test-app"},
		HTTPClient:  exotel.NewHTTPClient(8, 2*time.Second),
		Pacer:       lim,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return NewWebRTC(webrtc.NewTarget(c, lim, webrtc.TargetConfig{}), lim, Account{ID: "test-customer-test-app", BaseURL: e.srv.URL()}, cfg)
}

func (e *fakeEnv) halt() *halt.Switch {
	sw := halt.New(context.Background(), nil, nil)
	e.t.Cleanup(sw.Close)
	return sw
}

// plan reads csv and the account, and decides.
func (e *fakeEnv) plan(tg Target, csv string, s Settings) *Plan {
	e.t.Helper()
	r, err := ReadRoster("roster.csv", func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(csv)), nil },
		tg, roster.Options{}, roster.ReadOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	l, err := tg.List(context.Background(), e.halt())
	if err != nil {
		e.t.Fatal(err)
	}
	return Decide(r, l, tg, s, nil, testNow)
}

// apply applies p and returns its summary and lines by action.
func (e *fakeEnv) apply(tg Target, p *Plan, cfg ApplyConfig) (*engine.Summary, map[int]results.Line) {
	e.t.Helper()
	if cfg.Backup == "" {
		cfg.Backup = filepath.Join(e.dir, "backup.csv")
	}
	out := &memSink{}
	sum, err := Apply(context.Background(), e.halt(), tg, p, out, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	kept := 0 // lines an earlier apply settled stay as they were
	if cfg.Prior != nil {
		for _, pr := range cfg.Prior.Rows {
			if doneStatus(pr.Status) {
				kept++
			}
		}
	}
	if len(out.lines)+kept != len(p.Actions) {
		e.t.Errorf("%d lines (and %d kept) for %d actions", len(out.lines), kept, len(p.Actions))
	}
	return sum, out.lines
}

// writes lists the requests that are not GETs, in order.
func (e *fakeEnv) writes() []string {
	var out []string
	for _, r := range e.srv.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// lineOf is the line of the action about userID.
func lineOf(t *testing.T, p *Plan, lines map[int]results.Line, userID string) results.Line {
	t.Helper()
	for _, a := range p.Actions {
		if a.UserID == userID {
			return lines[a.N]
		}
	}
	t.Fatalf("no action for %s", userID)
	return results.Line{}
}

// seedCCM fills the account: u1..u6 agents, a1 and a2 admins.
func seedCCM(srv *exoteltest.Server) {
	seed := func(id, first, last, email, phone, role string) exoteltest.SeedUser {
		return exoteltest.SeedUser{ID: id, FirstName: first, LastName: last, Email: email, Phone: phone, Role: role}
	}
	srv.Seed(
		seed("u1", "Asha", "Rao", "asha@corp.com", "+919876500001", "user"),
		seed("u2", "Ravi", "Nair", "ravi@corp.com", "+919876500002", "user"),
		seed("u3", "Meera", "Iyer", "", "+919876500003", "supervisor"),
		seed("u4", "Vikram", "Das", "vikram@corp.com", "+919876500004", "user"),
		seed("u5", "Kavya", "Menon", "kavya@corp.com", "+919876500005", "user"),
		seed("u6", "Arjun", "Pillai", "arjun@corp.com", "+919876500006", "user"),
		seed("a1", "Isha", "Bose", "isha@corp.com", "+919876500007", "admin"),
		seed("a2", "Dev", "Shah", "dev@other.com", "+919876500008", "admin"),
	)
}

// pruneAll plans with --prune and no deletion limits.
func pruneAll(allowAdmins bool) Settings {
	s := defaults()
	s.Prune, s.MaxDelete, s.MaxDeletePercent, s.AllowAdmins = true, 100, 100, allowAdmins
	return s
}

const rosterHead = "first_name,last_name,email,phone,role\n"

func TestApplyWritesThroughTheCommandsAndBacksUpFirst(t *testing.T) {
	e := newFakeEnv(t)
	seedCCM(e.srv)
	tg := e.ccm()
	p := e.plan(tg, rosterHead+
		"Asha,Rao,asha@corp.com,+919876500001,user\n"+ // unchanged
		"Ravi,Nayar,ravi@corp.com,+919876500002,user\n"+ // update
		"Nina,Kapoor,nina@corp.com,+919876500010,user\n"+ // create
		"Vikram,Das,vikram@corp.com,+919876500004,user\n"+
		"Kavya,Menon,kavya@corp.com,+919876500005,user\n"+
		"Arjun,Pillai,arjun@corp.com,+919876500006,user\n", pruneAll(true))
	// Meera and both admins are not listed: Meera and Isha go, Dev is the
	// last admin.
	var locks atomic.Int32
	sum, lines := e.apply(tg, p, ApplyConfig{LockAdmins: func(context.Context) (func(), error) {
		locks.Add(1)
		return func() {}, nil
	}})
	writes := strings.Join(e.writes(), "\n")
	for _, w := range []string{"POST", "PUT " + e.srv.UsersPath() + "/u2", "DELETE " + e.srv.UsersPath() + "/u3", "DELETE " + e.srv.UsersPath() + "/a1"} {
		if !strings.Contains(writes, w) {
			t.Errorf("writes lack %q:\n%s", w, writes)
		}
	}
	if n := len(e.writes()); n != 4 {
		t.Errorf("%d writes, want 4:\n%s", n, writes)
	}
	tests := []struct {
		user   string
		status results.Status
		extra  string // a cell of the record the line carries
	}{
		{"u1", results.Unchanged, ""},
		{"u2", results.Updated, ""},
		{"u3", results.Deleted, "Meera"},
		{"a1", results.Deleted, "Isha"},
		{"a2", results.Protected, ""},
	}
	for _, tc := range tests {
		t.Run(tc.user, func(t *testing.T) {
			l := lineOf(t, p, lines, tc.user)
			if l.Status != tc.status || (tc.extra != "" && !strings.Contains(strings.Join(l.Extra, ","), tc.extra)) {
				t.Errorf("%+v, want %s with %q", l, tc.status, tc.extra)
			}
			if l.Extra[0] != string(p.Actions[l.Row-1].Kind) {
				t.Errorf("action column %q", l.Extra[0])
			}
		})
	}
	if l := lines[3]; l.Status != results.Created || l.UserID == "" {
		t.Errorf("create: %+v", l)
	}
	backup, err := os.ReadFile(filepath.Join(e.dir, "backup.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if b := string(backup); !strings.HasPrefix(b, "user_id,") || !strings.Contains(b, "Meera") || !strings.Contains(b, "Isha") || strings.Count(b, "\n") != 3 {
		t.Errorf("backup:\n%s", b)
	}
	if locks.Load() != 1 {
		t.Errorf("the admin lock was taken %d times, want once", locks.Load())
	}
	if _, ok := e.srv.User("a2"); !ok {
		t.Error("the last admin was deleted")
	}
	if sum.Lookups == 0 {
		t.Error("no re-read was counted")
	}
}

// Each user is judged as it is right before its write, on the fake's own
// knobs: a user put on a call, promoted, renamed or deleted since the plan.
// A create refused because a deleted user held the email advises what a
// sync user can do, not a flag sync does not have.
func TestApplyEmailOfDeletedUserAdvice(t *testing.T) {
	e := newFakeEnv(t)
	e.srv.Tombstone("gone@corp.com")
	tg := e.ccm()
	p := e.plan(tg, rosterHead+"Gone,Again,gone@corp.com,+919876500020,user\n", defaults())
	_, lines := e.apply(tg, p, ApplyConfig{})
	l := lines[1]
	if l.Status != results.Failed {
		t.Fatalf("%+v, want failed", l)
	}
	for _, want := range []string{"deleted user", "put another email in the roster (gone+1@corp.com, say)", "exoroster import --on-email-taken=plus"} {
		if !strings.Contains(l.Message, want) {
			t.Errorf("message %q lacks %q", l.Message, want)
		}
	}
	if strings.Contains(l.Message, "rerun with") {
		t.Errorf("message %q tells a sync user to rerun with an import flag", l.Message)
	}
}

// An update's line says what changed as update's own lines do, in the
// columns' words.
func TestApplyUpdateMessagesReadInTheColumnsWords(t *testing.T) {
	e := newFakeEnv(t)
	seedCCM(e.srv)
	tg := e.ccm()
	p := e.plan(tg, rosterHead+
		"Meera,Iyer,meera@corp.com,+919876500003,supervisor\n"+ // email set
		"Ravi,Nair,ravi@corp.com,+919876500022,user\n", defaults()) // phone re-numbered
	_, lines := e.apply(tg, p, ApplyConfig{})
	for _, tc := range []struct{ user, want string }{
		{"u3", "set email to meera@corp.com"},
		{"u2", "phone +919876500002 → +919876500022 (the new number must be verified again before calls reach it)"},
	} {
		if l := lineOf(t, p, lines, tc.user); l.Status != results.Updated || l.Message != tc.want {
			t.Errorf("%s: %s %q, want updated %q", tc.user, l.Status, l.Message, tc.want)
		}
	}
}

func TestApplyJudgesEachUserRightBeforeItsWrite(t *testing.T) {
	e := newFakeEnv(t)
	seedCCM(e.srv)
	tg := e.ccm()
	p := e.plan(tg, rosterHead+
		"Asha,Rao,asha@corp.com,+919876500001,user\n"+
		"Ravi,Nayar,ravi@corp.com,+919876500002,user\n"+ // update, renamed meanwhile
		"Nina,Kapoor,nina@corp.com,+919876500010,user\n"+ // create
		"Isha,Bose,isha@corp.com,+919876500007,admin\n"+
		"Dev,Shah,dev@other.com,+919876500008,admin\n", pruneAll(false))
	ctx := context.Background()
	client := tg.api.(*exotel.Client)
	rename := func(id, first string) {
		if _, err := client.UpdateUser(ctx, id, exotel.UpdateUserRequest{FirstName: &first}); err != nil {
			t.Fatal(err)
		}
	}
	rename("u2", "Ravindra")
	e.srv.SetActiveCall("u3", "CA9")
	if err := client.DeleteUser(ctx, "u4"); err != nil {
		t.Fatal(err)
	}
	e.srv.SetRole("u5", "admin")
	rename("u6", "Arjuna")
	before := len(e.srv.Requests())

	_, lines := e.apply(tg, p, ApplyConfig{})
	var writes []string
	for _, r := range e.srv.Requests()[before:] {
		if r.Method != http.MethodGet {
			writes = append(writes, r.Method)
		}
	}
	if strings.Join(writes, ",") != "POST" {
		t.Errorf("writes %v, want the create alone", writes)
	}
	tests := []struct {
		name, user string
		status     results.Status
		message    string
	}{
		{"renamed before its update", "u2", results.Stale, "first_name Ravi → Ravindra"},
		{"on a call before its delete", "u3", results.Protected, "on a call now (active_call CA9): not deleted in this run"},
		{"deleted by someone else", "u4", results.NotFound, "already gone"},
		{"promoted to admin", "u5", results.Protected, "became an admin"},
		{"renamed before its delete", "u6", results.Stale, "first_name Arjun → Arjuna"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if l := lineOf(t, p, lines, tc.user); l.Status != tc.status || !strings.Contains(l.Message, tc.message) {
				t.Errorf("%s %q, want %s %q", l.Status, l.Message, tc.status, tc.message)
			}
		})
	}
}

// The users to update and to delete are read again once each, together,
// 50 to a GET by email: never a second read of the same user.
func TestApplyReadsEachUserAgainOnce(t *testing.T) {
	e := newFakeEnv(t)
	var seeds []exoteltest.SeedUser
	var rows strings.Builder
	rows.WriteString(rosterHead)
	for i := range 180 {
		u := exoteltest.SeedUser{FirstName: "Agent", LastName: fmt.Sprint("No", i), Email: fmt.Sprintf("agent%d@corp.com", i),
			Phone: fmt.Sprintf("+9198%08d", 10000000+i), Role: "user"}
		seeds = append(seeds, u)
		switch {
		case i < 10: // renamed in the roster: an update
			fmt.Fprintf(&rows, "Agent,Renamed%d,%s,%s,user\n", i, u.Email, u.Phone)
		case i < 100:
			fmt.Fprintf(&rows, "Agent,%s,%s,%s,user\n", u.LastName, u.Email, u.Phone)
		} // 80 leavers
	}
	e.srv.Seed(seeds...)
	e.srv.Seed(exoteltest.SeedUser{FirstName: "Boss", LastName: "One", Email: "boss@corp.com", Role: "admin"})
	rows.WriteString("Boss,One,boss@corp.com,,admin\n")
	tg := e.ccm()
	p := e.plan(tg, rows.String(), pruneAll(false))
	if p.Counts[Update] != 10 || p.Counts[Delete] != 80 {
		t.Fatalf("counts %v", p.Counts)
	}
	gets := e.srv.CountRequests(http.MethodGet)
	sum, lines := e.apply(tg, p, ApplyConfig{})
	got := e.srv.CountRequests(http.MethodGet) - gets
	// 10 updates and 80 deletions, 90 users read again in batches of 50
	// and 40: one GET by email each.
	if got != 2 || sum.Lookups != got {
		t.Errorf("%d GETs (%d counted), want 2", got, sum.Lookups)
	}
	if sum.Counts[results.Updated] != 10 || sum.Counts[results.Deleted] != 80 {
		t.Errorf("counts %v; line 1 %+v", sum.Counts, lines[1])
	}
}

// An admin goes only under the admin lock, after a fresh count: when the
// other admin left since the plan, this one is the last and stays.
func TestApplyRecountsAdminsBeforeDeletingOne(t *testing.T) {
	e := newFakeEnv(t)
	seedCCM(e.srv)
	tg := e.ccm()
	p := e.plan(tg, rosterHead+
		"Asha,Rao,asha@corp.com,+919876500001,user\n"+
		"Ravi,Nair,ravi@corp.com,+919876500002,user\n"+
		"Meera,Iyer,,+919876500003,supervisor\n"+
		"Vikram,Das,vikram@corp.com,+919876500004,user\n"+
		"Kavya,Menon,kavya@corp.com,+919876500005,user\n"+
		"Arjun,Pillai,arjun@corp.com,+919876500006,user\n"+
		"Dev,Shah,dev@other.com,+919876500008,admin\n", pruneAll(true))
	if lineKind(p, "a1") != Delete {
		t.Fatalf("a1: %s", lineKind(p, "a1"))
	}
	// Another process deletes Dev, the other admin.
	if err := tg.api.(*exotel.Client).DeleteUser(context.Background(), "a2"); err != nil {
		t.Fatal(err)
	}
	var order []string
	_, lines := e.apply(tg, p, ApplyConfig{LockAdmins: func(context.Context) (func(), error) {
		order = append(order, "lock")
		return func() { order = append(order, "unlock") }, nil
	}})
	if l := lineOf(t, p, lines, "a1"); l.Status != results.Protected || !strings.Contains(l.Message, "last remaining admin") {
		t.Errorf("a1: %+v", l)
	}
	if _, ok := e.srv.User("a1"); !ok {
		t.Error("the account's last admin was deleted")
	}
	if strings.Join(order, ",") != "lock,unlock" {
		t.Errorf("lock order %v", order)
	}
}

func lineKind(p *Plan, userID string) Kind {
	for _, a := range p.Actions {
		if a.UserID == userID {
			return a.Kind
		}
	}
	return ""
}

func TestApplyDeletesNothingWithoutItsBackup(t *testing.T) {
	e := newFakeEnv(t)
	seedCCM(e.srv)
	tg := e.ccm()
	p := e.plan(tg, rosterHead+"Asha,Rao,asha@corp.com,+919876500001,user\n", pruneAll(false))
	sum, lines := e.apply(tg, p, ApplyConfig{Backup: filepath.Join(e.dir, "no-such-dir", "backup.csv")})
	if n := e.srv.CountRequests(http.MethodDelete); n != 0 {
		t.Errorf("%d DELETEs without a backup", n)
	}
	if l := lineOf(t, p, lines, "u2"); l.Status != results.Skipped || !strings.Contains(l.Message, "backup") {
		t.Errorf("deletion: %+v", l)
	}
	if sum.Aborted == nil || !strings.Contains(sum.Aborted.Error(), "backup") {
		t.Errorf("aborted: %v", sum.Aborted)
	}
}

func TestApplyResumeKeepsWhatIsDone(t *testing.T) {
	e := newFakeEnv(t)
	seedCCM(e.srv)
	tg := e.ccm()
	p := e.plan(tg, rosterHead+
		"Ravi,Nayar,ravi@corp.com,+919876500002,user\n"+
		"Nina,Kapoor,nina@corp.com,,user\n"+
		"Isha,Bose,isha@corp.com,+919876500007,admin\n"+
		"Dev,Shah,dev@other.com,+919876500008,admin\n"+
		"Vikram,Das,vikram@corp.com,+919876500004,user\n"+
		"Kavya,Menon,kavya@corp.com,+919876500005,user\n"+
		"Arjun,Pillai,arjun@corp.com,+919876500006,user\n", pruneAll(false))
	// The earlier apply created Nina, renamed Ravi (its answer lost) and
	// sent u3's DELETE without an answer; u1's DELETE it never reached.
	ctx := context.Background()
	client := tg.api.(*exotel.Client)
	last := "Nayar"
	if _, err := client.UpdateUser(ctx, "u2", exotel.UpdateUserRequest{LastName: &last}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "Nina", LastName: "Kapoor", Email: "nina@corp.com", Role: "user"}); err != nil {
		t.Fatal(err)
	}
	if err := client.DeleteUser(ctx, "u3"); err != nil {
		t.Fatal(err)
	}
	prior := &results.Prior{Rows: map[int]results.PriorRow{
		2: {Status: results.Created, InputHash: results.InputHash(p.Actions[1].Input)},
		1: {Status: results.Skipped, Attempts: 1, InputHash: results.InputHash(p.Actions[0].Input)},
	}}
	for _, a := range p.Actions {
		if a.UserID == "u3" {
			prior.Rows[a.N] = results.PriorRow{Status: results.Skipped, Attempts: 1, InputHash: results.InputHash(nil)}
		}
	}
	before := len(e.srv.Requests())
	_, lines := e.apply(tg, p, ApplyConfig{Prior: prior})
	var writes []string
	for _, r := range e.srv.Requests()[before:] {
		if r.Method != http.MethodGet {
			writes = append(writes, r.Method+" "+strings.TrimPrefix(r.Path, e.srv.UsersPath()))
		}
	}
	if strings.Join(writes, ",") != "DELETE /u1" {
		t.Errorf("writes %v, want only u1's deletion", writes)
	}
	if l := lines[1]; l.Status != results.Updated || !strings.Contains(l.Message, "already in place") {
		t.Errorf("Ravi: %+v", l)
	}
	if l := lineOf(t, p, lines, "u3"); l.Status != results.Deleted || !strings.Contains(l.Message, "earlier apply") {
		t.Errorf("u3: %+v", l)
	}
	if _, ok := lines[2]; ok {
		t.Error("the create the earlier apply settled was written again")
	}
}

// The WebRTC target writes through the same commands: a plan, its apply
// and a second plan that finds nothing left to do.
func TestApplyWebRTCPlanApplyPlan(t *testing.T) {
	e := newFakeEnv(t)
	e.srv.SeedWebRTC(
		exoteltest.WebRTCUser{UserID: "agent_1", Name: "Asha Rao", Phone: "+919876500001", SIPEnabled: true},
		exoteltest.WebRTCUser{UserID: "agent_2", Name: "Ravi Nair", Phone: "+919876500002", SIPEnabled: true},
		exoteltest.WebRTCUser{UserID: "agent_3", Name: "Meera Iyer", SIPEnabled: false},
	)
	const csv = "user_id,name,phone,sip_enabled\n" +
		"agent_1,Asha Rao,+919876500001,true\n" + // unchanged
		"agent_2,Ravi Nayar,+919876500002,true\n" + // differs: no update on this API
		"agent_4,Nina Kapoor,+919876500010,false\n" // create; agent_3 goes
	s := pruneAll(false)
	s.Match = MatchUserID
	p := e.plan(e.app(), csv, s)
	if p.Counts[Create] != 1 || p.Counts[Delete] != 1 || p.Counts[Differs] != 1 || p.Counts[Unchanged] != 1 {
		t.Fatalf("counts %v", p.Counts)
	}
	sum, lines := e.apply(e.app(), p, ApplyConfig{})
	if sum.Counts[results.Created] != 1 || sum.Counts[results.Deleted] != 1 {
		t.Errorf("counts %v", sum.Counts)
	}
	if l := lineOf(t, p, lines, "agent_3"); l.Status != results.Deleted || !strings.Contains(strings.Join(l.Extra, ","), "Meera Iyer") {
		t.Errorf("deletion: %+v", l)
	}
	if u, ok := e.srv.WebRTCUser("agent_4"); !ok || u.SIPEnabled || u.Name != "Nina Kapoor" {
		t.Errorf("created %+v", u)
	}
	backup, _ := os.ReadFile(filepath.Join(e.dir, "backup.csv"))
	if !strings.HasPrefix(string(backup), strings.Join(webrtc.Columns(), ",")+"\n") || !strings.Contains(string(backup), "agent_3") {
		t.Errorf("backup:\n%s", backup)
	}
	again := e.plan(e.app(), csv, s)
	if n := again.ChangesPending(); n != 0 {
		t.Errorf("%d changes pending after the apply: %v", n, again.Counts)
	}
}

// The app is listed as export lists it: the first page, then the rest
// concurrently, taken in order, one GET a page.
func TestWebRTCListsTheAppInOrder(t *testing.T) {
	e := newFakeEnv(t)
	e.srv.SeedWebRTC(exoteltest.SampleWebRTCUsers(230, 1, testNow)...)
	gets := e.srv.CountRequests(http.MethodGet)
	l, err := e.app().List(context.Background(), e.halt())
	if err != nil {
		t.Fatal(err)
	}
	want := e.srv.WebRTCUsers()
	if len(l.Members) != len(want) {
		t.Fatalf("%d members, want %d", len(l.Members), len(want))
	}
	for i, m := range l.Members {
		if m.ID != want[i].UserID {
			t.Fatalf("member %d is %s, want %s", i, m.ID, want[i].UserID)
		}
	}
	if n := e.srv.CountRequests(http.MethodGet) - gets; n != 5 || l.Requests != 5 {
		t.Errorf("%d GETs (%d counted), want 5 pages of 50", n, l.Requests)
	}
}
