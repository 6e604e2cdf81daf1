package webrtc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// account is a list of user ids served by a scripted PageFunc.
type account struct {
	ids      []string
	size     int  // entries per page the server sends at most
	noTotal  bool // leave total out
	ignore   bool // ignore offset: always the first page
	shrinkAt int  // after this many calls, drop the last user (a deletion meanwhile); 0: never
	calls    []int
}

func (a *account) fetch(_ context.Context, offset int) (*Page, error) {
	a.calls = append(a.calls, offset)
	if a.shrinkAt > 0 && len(a.calls) == a.shrinkAt+1 {
		a.ids = a.ids[:len(a.ids)-1]
	}
	if a.ignore {
		offset = 0
	}
	end := min(len(a.ids), offset+a.size)
	p := &Page{Asked: a.size, Limit: a.size, Offset: offset, Total: len(a.ids), HasTotal: !a.noTotal}
	for i := offset; i < end; i++ {
		p.Users = append(p.Users, User{UserID: a.ids[i]})
	}
	p.Count = len(p.Users)
	return p, nil
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("u%03d", i)
	}
	return out
}

func TestWalk(t *testing.T) {
	for _, tc := range []struct {
		name     string
		acct     *account
		users    int
		offsets  string
		repeated bool
	}{
		{name: "empty", acct: &account{size: 50}, offsets: "[0]"},
		{name: "one page", acct: &account{ids: ids(3), size: 50}, users: 3, offsets: "[0]"},
		{name: "exact pages stop at total", acct: &account{ids: ids(100), size: 50}, users: 100, offsets: "[0 50]"},
		{name: "last page short", acct: &account{ids: ids(120), size: 50}, users: 120, offsets: "[0 50 100]"},
		{name: "no total ends on a short page", acct: &account{ids: ids(120), size: 50, noTotal: true},
			users: 120, offsets: "[0 50 100]"},
		{name: "no total and exact pages ends on an empty page", acct: &account{ids: ids(100), size: 50, noTotal: true},
			users: 100, offsets: "[0 50 100]"},
		{name: "a deletion meanwhile", acct: &account{ids: ids(101), size: 50, shrinkAt: 1},
			users: 100, offsets: "[0 50]"},
		{name: "server ignores offset, total ends it", acct: &account{ids: ids(100), size: 50, ignore: true},
			users: 50, offsets: "[0 50]"},
		{name: "server ignores offset and has more", acct: &account{ids: ids(500), size: 50, ignore: true},
			users: 50, offsets: "[0 50]", repeated: true},
		{name: "server ignores offset, no total", acct: &account{ids: ids(500), size: 50, ignore: true, noTotal: true},
			users: 50, offsets: "[0 50]", repeated: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]bool{}
			var dup []string
			err := Walk(context.Background(), tc.acct.fetch, func(p *Page) error {
				for _, u := range p.Users {
					if got[u.UserID] {
						dup = append(dup, u.UserID)
					}
					got[u.UserID] = true
				}
				return nil
			})
			var rep *RepeatedPageError
			if tc.repeated != errors.As(err, &rep) || (!tc.repeated && err != nil) {
				t.Fatalf("Walk: %v (repeated: want %v)", err, tc.repeated)
			}
			if len(got) != tc.users || len(dup) > 0 {
				t.Errorf("visited %d users (duplicates %v), want %d", len(got), dup, tc.users)
			}
			if fmt.Sprint(tc.acct.calls) != tc.offsets {
				t.Errorf("offsets asked %v, want %s", tc.acct.calls, tc.offsets)
			}
		})
	}
}

func TestWalkMovesByWhatCame(t *testing.T) {
	// A server that sends 20 when asked for 50: the walk moves on by 20.
	a := &account{ids: ids(45), size: 20}
	fetch := func(ctx context.Context, off int) (*Page, error) {
		p, err := a.fetch(ctx, off)
		p.Asked = 50
		return p, err
	}
	n := 0
	err := Walk(context.Background(), fetch, func(p *Page) error { n += len(p.Users); return nil })
	if err != nil || n != 45 || fmt.Sprint(a.calls) != "[0 20 40]" {
		t.Errorf("err %v, %d users, offsets %v", err, n, a.calls)
	}
}

func TestWalkPassesUsersWithoutIDsAndStops(t *testing.T) {
	// Entries without a user_id (or unreadable ones) cannot be told apart:
	// they are passed on, but a page of nothing else ends the walk.
	calls := 0
	fetch := func(context.Context, int) (*Page, error) {
		calls++
		return &Page{Users: []User{{Name: "nameless"}}, Count: 2, Unreadable: 1, Asked: 2, Total: 1000, HasTotal: true}, nil
	}
	n := 0
	err := Walk(context.Background(), fetch, func(p *Page) error { n += len(p.Users); return nil })
	var rep *RepeatedPageError
	if !errors.As(err, &rep) || calls != 1 || n != 1 {
		t.Errorf("err %v after %d calls and %d users", err, calls, n)
	}
	if !strings.Contains(err.Error(), "offset 0") {
		t.Errorf("message: %v", err)
	}
}

func TestWalkReturnsErrors(t *testing.T) {
	boom := errors.New("boom")
	a := &account{ids: ids(120), size: 50}
	if err := Walk(context.Background(), a.fetch, func(*Page) error { return boom }); err != boom {
		t.Errorf("visit error: %v", err)
	}
	failing := func(context.Context, int) (*Page, error) { return nil, boom }
	if err := Walk(context.Background(), failing, func(*Page) error { return nil }); err != boom {
		t.Errorf("fetch error: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	a = &account{ids: ids(120), size: 50}
	if err := Walk(ctx, a.fetch, func(*Page) error { return nil }); !errors.Is(err, context.Canceled) || len(a.calls) != 0 {
		t.Errorf("cancelled: %v after %v", err, a.calls)
	}
}
