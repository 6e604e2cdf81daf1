package resolve_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

type env struct {
	srv     *exoteltest.Server
	client  *exotel.Client
	limiter *ratelimit.Limiter
	users   []exotel.User
}

// newEnv serves a fake account holding n sample users.
func newEnv(t *testing.T, n int, opts exoteltest.Options) *env {
	t.Helper()
	srv := exoteltest.NewServer(opts)
	t.Cleanup(srv.Close)
	lim, err := ratelimit.New(ratelimit.Config{Rate: 2000, Burst: 8, BaseBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	client, err := srv.NewClient("", lim)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{srv: srv, client: client, limiter: lim}
	if n > 0 {
		e.users = srv.Seed(exoteltest.SampleUsers(n, 1, time.Now())...)
	}
	return e
}

func (e *env) resolver() *resolve.Resolver {
	return resolve.New(e.client, e.limiter, resolve.Config{Workers: 4, MaxAttempts: 8})
}

// mixed names 3k users spread over the account, by id, email and phone
// in turn: row i is user i*step.
func (e *env) mixed(k, step int) []resolve.Ident {
	var ids []resolve.Ident
	for i := range 3 * k {
		u := e.users[i*step]
		switch i % 3 {
		case 0:
			ids = append(ids, resolve.Ident{UserID: u.ID})
		case 1:
			ids = append(ids, resolve.Ident{Email: strings.ToUpper(u.Email)})
		case 2:
			ids = append(ids, resolve.Ident{Phone: u.Devices[0].ContactURI})
		}
	}
	return ids
}

func TestLookupMixedListResolvesWithAHandfulOfGETs(t *testing.T) {
	tests := []struct {
		name      string
		account   int
		rows      int // multiple of 3
		strategy  resolve.Strategy
		wantGETs  int
		wantPerID int // GETs of /users/<id>
	}{
		// 300 users = 6 pages, cheaper than 40 GETs by id + 2 filters.
		{"120 rows, 300 users", 300, 120, resolve.ByListing, 6, 0},
		// 2,000 users = 40 pages; 10 ids (1 on page 0) + 1 + 1 filters cost less.
		{"30 rows, 2000 users", 2000, 30, resolve.ByID, 1 + 9 + 1 + 1, 9},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.account, exoteltest.Options{})
			step := tc.account / tc.rows
			idents := e.mixed(tc.rows/3, step)
			ix, err := e.resolver().Lookup(context.Background(), idents)
			if err != nil {
				t.Fatal(err)
			}
			for i, id := range idents {
				m := ix.Match(id)
				if want := e.users[i*step].ID; m.User == nil || m.User.ID != want {
					t.Fatalf("row %d (%+v): match %+v, want user %s", i, id, m, want)
				}
				if len(m.User.Devices) == 0 {
					t.Errorf("row %d: user without devices: fields=devices was not asked", i)
				}
			}
			gets := e.srv.CountRequests("GET")
			perID := 0
			for _, r := range e.srv.Requests() {
				if r.Method == "GET" && r.Path != e.srv.UsersPath() {
					perID++
				}
			}
			t.Logf("%d rows, %d users: %d GETs (%d by id), strategy %s", tc.rows, tc.account, gets, perID, ix.Strategy)
			if ix.Strategy != tc.strategy || gets > tc.wantGETs || perID != tc.wantPerID || ix.Requests != gets {
				t.Errorf("strategy %s, %d GETs (%d by id, index counted %d); want %s, at most %d (%d by id)",
					ix.Strategy, gets, perID, ix.Requests, tc.strategy, tc.wantGETs, tc.wantPerID)
			}
		})
	}
}

func TestLookupFindsIDsThroughOtherColumnsFirst(t *testing.T) {
	// An export-style list gives id and email: the email batch finds the
	// ids, so no GET by id and no listing.
	e := newEnv(t, 2000, exoteltest.Options{})
	var idents []resolve.Ident
	for i := 0; i < 60; i++ {
		u := e.users[i*30]
		idents = append(idents, resolve.Ident{UserID: u.ID, Email: u.Email, Phone: u.Devices[0].ContactURI})
	}
	ix, err := e.resolver().Lookup(context.Background(), idents)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range idents {
		if m := ix.Match(id); m.User == nil || m.User.ID != id.UserID {
			t.Fatalf("row %d: %+v", i, m)
		}
	}
	// page 0, 2 email batches, 2 phone batches.
	if gets := e.srv.CountRequests("GET"); gets != 5 {
		t.Errorf("GETs = %d, want 5", gets)
	}
}

func TestLookupSingleIDUsesOneGET(t *testing.T) {
	e := newEnv(t, 400, exoteltest.Options{})
	ix, err := e.resolver().Lookup(context.Background(), []resolve.Ident{{UserID: e.users[399].ID}, {UserID: "0123456789abcdef0123456789abcdef"}})
	if err != nil {
		t.Fatal(err)
	}
	// Two ids: page 0 tells the size (8 pages); 2 GETs by id are cheaper.
	if m := ix.Match(resolve.Ident{UserID: e.users[399].ID}); m.User == nil {
		t.Errorf("id not found: %+v", m)
	}
	if m := ix.Match(resolve.Ident{UserID: "0123456789abcdef0123456789abcdef"}); m.Status != results.NotFound {
		t.Errorf("unknown id: %+v, want not_found", m)
	}
	if gets := e.srv.CountRequests("GET"); gets != 3 {
		t.Errorf("GETs = %d, want 3 (page 0 and two by id)", gets)
	}

	e2 := newEnv(t, 400, exoteltest.Options{})
	if _, err := e2.resolver().Lookup(context.Background(), []resolve.Ident{{UserID: e2.users[7].ID}}); err != nil {
		t.Fatal(err)
	}
	if gets := e2.srv.CountRequests("GET"); gets != 1 {
		t.Errorf("one id: GETs = %d, want 1", gets)
	}
}

func TestMatch(t *testing.T) {
	e := newEnv(t, 0, exoteltest.Options{})
	us := e.srv.Seed(
		exoteltest.SeedUser{FirstName: "Asha", LastName: "Rao", Email: "asha@corp.example.com", Phone: "+919876500001"},
		exoteltest.SeedUser{FirstName: "Ravi", LastName: "Nair", Email: "ravi@corp.example.com", Phone: "+919876500002"},
		exoteltest.SeedUser{FirstName: "Nomail", LastName: "Person", Phone: "+919876500003"},
	)
	asha, ravi := us[0], us[1]
	tests := []struct {
		name    string
		id      resolve.Ident
		status  results.Status
		user    string
		message []string
	}{
		{"email", resolve.Ident{Email: "ASHA@corp.example.com"}, "", asha.ID, nil},
		{"all three agree", resolve.Ident{UserID: asha.ID, Email: asha.Email, Phone: "+919876500001"}, "", asha.ID, nil},
		{"nothing matches", resolve.Ident{Email: "gone@corp.example.com", Phone: "+919876500009"}, results.NotFound, "",
			[]string{"no user has email gone@corp.example.com or phone +919876500009"}},
		{"email and phone name different users", resolve.Ident{Email: asha.Email, Phone: "+919876500002"}, results.Ambiguous, "",
			[]string{asha.ID, ravi.ID, "Asha Rao", "Ravi Nair"}},
		{"id and email disagree", resolve.Ident{UserID: ravi.ID, Email: asha.Email}, results.Ambiguous, "",
			[]string{asha.ID, ravi.ID}},
		{"one identifier matches nobody", resolve.Ident{Email: asha.Email, Phone: "+919876500009"}, results.Ambiguous, "",
			[]string{asha.ID, "no user has phone +919876500009"}},
	}
	var idents []resolve.Ident
	for _, tc := range tests {
		idents = append(idents, tc.id)
	}
	ix, err := e.resolver().Lookup(context.Background(), idents)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := ix.Match(tc.id)
			if m.Status != tc.status || (tc.user != "" && (m.User == nil || m.User.ID != tc.user)) {
				t.Fatalf("Match = %+v, want status %q user %q", m, tc.status, tc.user)
			}
			for _, s := range tc.message {
				if !strings.Contains(m.Message, s) {
					t.Errorf("message %q does not mention %q", m.Message, s)
				}
			}
		})
	}
}

func TestLookupRetriesServerErrorsAndStopsOnAuth(t *testing.T) {
	e := newEnv(t, 120, exoteltest.Options{Seed: 3, ServerErrorRate: 0.4, DropBeforeRate: 0.1})
	idents := e.mixed(20, 2)
	ix, err := e.resolver().Lookup(context.Background(), idents)
	if err != nil {
		t.Fatal(err)
	}
	for i, id := range idents {
		if m := ix.Match(id); m.User == nil {
			t.Errorf("row %d unresolved under faults: %+v", i, m)
		}
	}

	bad := newEnv(t, 10, exoteltest.Options{})
	client, _ := bad.srv.NewClient("wrong", bad.limiter)
	_, err = resolve.New(client, bad.limiter, resolve.Config{}).Lookup(context.Background(), []resolve.Ident{{Email: "a@b.example.com"}})
	if !resolve.IsAuth(err) || !resolve.IsRunLevel(err) {
		t.Errorf("wrong token: err = %v, want an auth error", err)
	}
	if n := bad.srv.CountRequests(""); n != 1 {
		t.Errorf("requests after a 401 = %d, want 1 (no retry)", n)
	}
	if msg := exotel.ExplainAuth(err).Error(); !strings.Contains(msg, "EXOTEL_API_TOKEN") || strings.Contains(msg, "wrong") {
		t.Errorf("auth message %q", msg)
	}
}

func TestLookupFailureFailsOnlyItsRows(t *testing.T) {
	e := newEnv(t, 30, exoteltest.Options{})
	e.srv.SetFaults(exoteltest.Faults{ServerErrorRate: 1})
	ix, err := resolve.New(e.client, e.limiter, resolve.Config{MaxAttempts: 2}).Lookup(context.Background(),
		[]resolve.Ident{{Email: e.users[0].Email}})
	if err != nil {
		t.Fatalf("a failing batch is not run-level: %v", err)
	}
	m := ix.Match(resolve.Ident{Email: e.users[0].Email})
	if m.Status != results.Failed || m.Err == nil || !strings.Contains(m.Message, "could not look up email") {
		t.Errorf("Match = %+v, want failed with the lookup's error", m)
	}
	if n := e.srv.CountRequests("GET"); n != 2 {
		t.Errorf("GETs = %d, want 2 (MaxAttempts)", n)
	}
}

func TestReadList(t *testing.T) {
	in := "id,E-mail,Mobile,name\n" +
		"abc123,,,\n" +
		",asha@corp.example.com,,\n" +
		",,098765 43210,\n" +
		",,sip:agent7,\n" +
		"abc/../x,,,\n" +
		",not-an-email,,\n" +
		",,+91-98765-ABCDE,\n" +
		",,,Only A Name\n"
	list, err := resolve.ReadList("leavers.csv", strings.NewReader(in), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		id      resolve.Ident
		problem string
	}{
		{resolve.Ident{UserID: "abc123"}, ""},
		{resolve.Ident{Email: "asha@corp.example.com"}, ""},
		{resolve.Ident{Phone: "+919876543210"}, ""},
		{resolve.Ident{Phone: "sip:agent7"}, ""},
		{resolve.Ident{}, "id \"abc/../x\": not a user id"},
		{resolve.Ident{}, "E-mail \"not-an-email\": has no @"},
		{resolve.Ident{}, "letters are not allowed"},
		{resolve.Ident{}, "no user_id, email or phone"},
	}
	if len(list.Rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(list.Rows), len(want))
	}
	for i, w := range want {
		r := list.Rows[i]
		if r.Ident != w.id || (w.problem == "") != (len(r.Problems) == 0) || !strings.Contains(r.Message(), w.problem) {
			t.Errorf("row %d: ident %+v, problems %q; want %+v, %q", i+1, r.Ident, r.Message(), w.id, w.problem)
		}
	}

	if _, err := resolve.ReadList("x.csv", strings.NewReader("first_name,last_name\nA,B\n"), roster.Options{}); err == nil ||
		!strings.Contains(err.Error(), "user_id, email or phone") {
		t.Errorf("no lookup column: err = %v", err)
	}
}

func TestClaims(t *testing.T) {
	c := resolve.Claims{}
	if _, dup := c.Claim("u1", 1); dup {
		t.Fatal("first claim is a duplicate")
	}
	first, dup := c.Claim("u1", 5)
	if !dup || first != 1 || resolve.SameUserMessage(first) != "same user as row 1" {
		t.Errorf("second claim: %d, %v", first, dup)
	}
}

func ExampleWho() {
	fmt.Println(resolve.Who(&exotel.User{FirstName: "Asha", LastName: "Rao", Email: "asha@corp.example.com", Role: "admin"}))
	// Output: Asha Rao <asha@corp.example.com> (admin)
}

// ParseIdent is the only check offboard and update make of a row's
// identifiers, so it refuses what roster's Validator refuses there: a row
// with more cells than the header, and a spreadsheet's error value.
func TestReadListRefusesShiftedRowsAndErrorValues(t *testing.T) {
	in := "Emp Code;Official Email;Mobile No.\r\n" +
		"E1;asha@corp.example.com;98450 12345\r\n" +
		"E2;vikram@corp.example.com;98450 12346;\r\n" +
		"E3;#N/A;98450 12347\r\n" +
		"#REF!;meera@corp.example.com;#VALUE!\r\n"
	list, err := resolve.ReadList("leavers.csv", strings.NewReader(in), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		row     int
		problem string
	}{
		{"valid", 1, ""},
		{"more cells than the header", 2, "has 4 cells, the header has 3 (the extra ones empty): a semicolon"},
		{"#N/A email", 3, `Official Email "#N/A": is a spreadsheet error value`},
		{"#VALUE! phone", 4, `Mobile No. "#VALUE!": is a spreadsheet error value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := list.Rows[tc.row-1]
			if (tc.problem == "") != (len(r.Problems) == 0) || !strings.Contains(r.Message(), tc.problem) {
				t.Errorf("row %d problems %q, want %q", tc.row, r.Message(), tc.problem)
			}
		})
	}
	if got := list.Rows[2].Ident; got.Email != "" || got.Phone != "+919845012347" {
		t.Errorf("row 3 ident = %+v: an error value is no email, the phone stays", got)
	}
}

// ReadRows reads a list opened with the user's options, and ReadList
// refuses, as every row command does, an unrecognised column of emails.
func TestReadRowsWithOptions(t *testing.T) {
	in := "Emp;Login\nE1;asha@corp.example.com\n"
	if _, err := resolve.ReadList("x.csv", strings.NewReader(in), roster.Options{}); err == nil ||
		!strings.Contains(err.Error(), `"Login"`) {
		t.Errorf("ReadList of an unrecognised email column: err = %v, want it named", err)
	}
	rd, err := roster.NewReaderWith(strings.NewReader(in), roster.ReadOptions{Map: []string{"Login=email"}})
	if err != nil {
		t.Fatal(err)
	}
	list, err := resolve.ReadRows("x.csv", rd, roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Rows) != 1 || list.Rows[0].Ident.Email != "asha@corp.example.com" {
		t.Errorf("rows = %+v, want asha by the mapped email", list.Rows)
	}
}
