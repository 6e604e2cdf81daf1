package webrtc

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/results"
)

// agents are the members agent_NNN for these numbers, as Find left them
// after reading each by user_id: a GET, so they carry dates.
func agents(nums ...int) []offboard.Member {
	out := make([]offboard.Member, len(nums))
	for i, n := range nums {
		out[i] = NewMember(&User{UserID: fmt.Sprintf("agent_%03d", n),
			CreatedAt: "2026-01-02T03:04:05Z", UpdatedAt: "2026-01-02T03:04:05Z"})
	}
	return out
}

func span(from, to int) []int {
	var out []int
	for n := from; n <= to; n++ {
		out = append(out, n)
	}
	return out
}

// requestCounts splits the requests logged since skip into list calls and
// GETs by user_id.
func requestCounts(srv *exoteltest.Server, skip int) (lists, gets int) {
	for _, r := range srv.Requests()[skip:] {
		switch {
		case r.Method != http.MethodGet:
		case strings.HasSuffix(r.Path, "/users"):
			lists++
		default:
			gets++
		}
	}
	return lists, gets
}

// Reread reads the members again the cheaper way: by listing the app when
// its pages are fewer than the members, else one GET each; a member the
// listing did not show is read by user_id, so a user already gone is one
// GET more.
func TestRereadTakesTheCheaperWay(t *testing.T) {
	tests := []struct {
		name      string
		app       int   // users agent_001… in the app
		gone      []int // deleted before the reread
		sizeKnown bool  // the app was listed before (Account)
		members   []int
		wantLists int
		wantGets  int
	}{
		{name: "50 of 120, the app's size known: 3 pages", app: 120, sizeKnown: true,
			members: span(71, 120), wantLists: 3},
		{name: "50 of 120, the size unknown: the first page tells", app: 120,
			members: span(71, 120), wantLists: 3},
		{name: "50 on the first page of 1,000: one page finds them all", app: 1000, sizeKnown: true,
			members: span(1, 50), wantLists: 1},
		{name: "3 of 10: one page", app: 10, members: []int{2, 5, 9}, wantLists: 1},
		{name: "2 of 120, the size known: 2 GETs beat 3 pages", app: 120, sizeKnown: true,
			members: []int{60, 110}, wantGets: 2},
		{name: "2 of 500, the size unknown: one page to learn it, then GETs", app: 500,
			members: []int{300, 400}, wantLists: 1, wantGets: 2},
		{name: "40 of 2,600: 52 pages would cost more than 40 GETs", app: 2600, sizeKnown: true,
			members: span(1001, 1040), wantGets: 40},
		{name: "one member: one GET", app: 10, members: []int{3}, wantGets: 1},
		{name: "50 of 120, 5 of them gone: 3 pages, then a GET for each user the listing lacks", app: 120,
			gone: []int{52, 60, 70, 80, 99}, sizeKnown: true, members: span(51, 100), wantLists: 3, wantGets: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTargetEnv(t, exoteltest.Options{})
			seedApp(e, tc.app)
			c, _ := fakeClient(t, e.srv, nil, "")
			for _, n := range tc.gone {
				if err := c.DeleteUser(context.Background(), fmt.Sprintf("agent_%03d", n)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.sizeKnown {
				if _, _, _, err := e.tg.Account(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			before := len(e.srv.Requests())
			fresh, failed, n, err := e.tg.Reread(context.Background(), agents(tc.members...))
			if err != nil {
				t.Fatal(err)
			}
			lists, gets := requestCounts(e.srv, before)
			if lists != tc.wantLists || gets != tc.wantGets || n != lists+gets {
				t.Errorf("%d list calls and %d GETs (reported %d), want %d and %d", lists, gets, n, tc.wantLists, tc.wantGets)
			}
			if len(failed) != 0 {
				t.Errorf("failed: %v", failed)
			}
			for _, num := range tc.members {
				id := fmt.Sprintf("agent_%03d", num)
				m, ok := fresh[id]
				switch {
				case slices.Contains(tc.gone, num):
					if ok {
						t.Errorf("%s is gone but was read again as %s", id, m.Who())
					}
				case !ok:
					t.Errorf("%s was not read again", id)
				case m.Name() != fmt.Sprintf("Agent Number%d", num) || UserOf(m).E164() != fmt.Sprintf("+9198%08d", 10000000+num-1):
					t.Errorf("%s read again as %s", id, m.Who())
				}
			}
			if len(fresh) != len(tc.members)-len(tc.gone) {
				t.Errorf("read again %d users, want %d", len(fresh), len(tc.members)-len(tc.gone))
			}
		})
	}
}

// Users deleted while the listing pages move the others to lower offsets,
// so a page can skip a member: it is then read by user_id, never taken for
// gone.
func TestRereadFindsAMemberTheListingSkipped(t *testing.T) {
	e := newTargetEnv(t, exoteltest.Options{})
	seedApp(e, 120)
	other, _ := fakeClient(t, e.srv, nil, "")
	lists := 0
	e.srv.SetOnRequest(func(r *http.Request) {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/users") {
			return
		}
		if lists++; lists == 2 {
			// Before the second page: agent_051, first of the members,
			// moves to offset 49, which the first page has passed.
			if err := other.DeleteUser(context.Background(), "agent_001"); err != nil {
				t.Error(err)
			}
		}
	})
	fresh, failed, _, err := e.tg.Reread(context.Background(), agents(span(51, 100)...))
	e.srv.SetOnRequest(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh) != 50 || len(failed) != 0 {
		t.Errorf("read again %d of 50, failed %v", len(fresh), failed)
	}
	if _, ok := fresh["agent_051"]; !ok {
		t.Error("agent_051, skipped by the listing, was not read again")
	}
	if lists, gets := requestCounts(e.srv, 0); gets != 1 {
		t.Errorf("%d list calls, %d GETs by user_id: want one GET, for agent_051", lists, gets)
	}
}

// A listing carries no dates: a user read again by listing keeps its
// created_at from the earlier GET, and its updated_at while nothing the
// listing shows has changed.
func TestRereadByListingKeepsTheDates(t *testing.T) {
	e := newTargetEnv(t, exoteltest.Options{})
	seedApp(e, 3)
	c, _ := fakeClient(t, e.srv, nil, "")
	var members []offboard.Member
	for _, id := range []string{"agent_001", "agent_002", "agent_003"} {
		u, err := c.GetUser(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if u.CreatedAt == "" || u.UpdatedAt == "" {
			t.Fatalf("the fake's GET gave no dates: %+v", u)
		}
		if id == "agent_002" {
			u.Name = "Renamed Since" // as Find read it; the app has another name now
		}
		members = append(members, NewMember(u))
	}
	before := len(e.srv.Requests())
	fresh, _, _, err := e.tg.Reread(context.Background(), members)
	if err != nil {
		t.Fatal(err)
	}
	if lists, gets := requestCounts(e.srv, before); lists != 1 || gets != 0 {
		t.Fatalf("%d list calls, %d GETs: want the one page", lists, gets)
	}
	for i, m := range members {
		was, now := UserOf(m), UserOf(fresh[m.ID()])
		wantUpdated := was.UpdatedAt
		if i == 1 {
			wantUpdated = ""
		}
		if now.CreatedAt != was.CreatedAt || now.UpdatedAt != wantUpdated {
			t.Errorf("%s: created %q updated %q, want %q and %q", m.ID(), now.CreatedAt, now.UpdatedAt, was.CreatedAt, wantUpdated)
		}
	}
	if got := members[1].Changes(fresh["agent_002"]); len(got) != 1 {
		t.Errorf("changes of agent_002: %v, want the name", got)
	}
}

// Members found by listing the app (by phone) carry no dates, and the
// results and backup files record them: they are read again by user_id,
// whose GET has them, even where a listing would take fewer requests.
func TestRereadGetsMembersFoundByListing(t *testing.T) {
	e := newTargetEnv(t, exoteltest.Options{})
	seedApp(e, 10)
	c, _ := fakeClient(t, e.srv, nil, "")
	got, err := c.GetUser(context.Background(), "agent_002")
	if err != nil {
		t.Fatal(err)
	}
	members := []offboard.Member{NewMember(got)}
	for _, n := range []int{5, 7} {
		members = append(members, NewMember(&User{UserID: fmt.Sprintf("agent_%03d", n), Name: "As Listed"}))
	}
	before := len(e.srv.Requests())
	fresh, failed, n, err := e.tg.Reread(context.Background(), members)
	if err != nil || len(failed) != 0 {
		t.Fatalf("Reread: %v, failed %v", err, failed)
	}
	if lists, gets := requestCounts(e.srv, before); lists != 0 || gets != 3 || n != 3 {
		t.Errorf("%d list calls and %d GETs (reported %d), want 3 GETs: one dated member cannot pay for a listing", lists, gets, n)
	}
	for _, m := range members {
		u := UserOf(fresh[m.ID()])
		if u == nil || u.CreatedAt == "" || u.UpdatedAt == "" {
			t.Errorf("%s read again without its dates: %+v", m.ID(), u)
		}
	}
}

// An offboard of 100 users of a 120-user app: Find reads each user_id (100
// GETs), and the checks before deleting read them again by listing, two
// batches of 50 at 3 pages each, rather than 100 more GETs.
func TestOffboardRereadsByListing(t *testing.T) {
	e := newTargetEnv(t, exoteltest.Options{})
	seedApp(e, 120)
	var list strings.Builder
	list.WriteString("user_id\n")
	for n := 1; n <= 100; n++ {
		fmt.Fprintf(&list, "agent_%03d\n", n)
	}
	res, lines := e.offboard(list.String(), offboard.Guards{MaxDelete: 100}, 4)
	if !res.Deleting {
		t.Fatalf("the DELETEs never began: %v", res.Summary.Aborted)
	}
	for row := 1; row <= 100; row++ {
		if lines[row]["status"] != string(results.Deleted) {
			t.Errorf("row %d: %v", row, lines[row])
		}
	}
	if n := len(e.srv.WebRTCUsers()); n != 20 {
		t.Errorf("%d users left, want 20", n)
	}
	lists, gets := requestCounts(e.srv, 0)
	// Deletions of the first batch while the second is listed can move
	// one of its members past a page; each such member costs a GET.
	t.Logf("%d list calls, %d GETs by user_id (re-reading: %d), %d rechecks reported", lists, gets, gets-100, res.Rechecks)
	if lists > 6 || lists < 2 || gets < 100 || gets+lists >= 200 || res.Rechecks != lists+gets-100 {
		t.Errorf("%d list calls and %d GETs by user_id (%d rechecks): want 100 GETs to find, and pages rather than 100 more GETs to read again",
			lists, gets, res.Rechecks)
	}
}
