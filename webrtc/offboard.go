package webrtc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// RowReader is an opened roster (*roster.Reader).
type RowReader interface {
	Header() *roster.Header
	Next() (roster.Record, error)
}

// ReadRows reads a list of app users to find, for offboard: by user_id, or
// by phone when a row has no user_id. A row that gives both must name one
// user by them. Its errors are run-level: an unreadable file, or one with
// neither column.
func ReadRows(name string, rd RowReader, opts roster.Options) (*resolve.List, error) {
	h := rd.Header()
	if !h.Has(roster.FieldUserID) && !h.Has(roster.FieldPhone) {
		return nil, fmt.Errorf("%s: no user_id or phone column: the webrtc target finds users by user_id, or by phone", name)
	}
	if h.Has(roster.FieldEmail) {
		h.Notes = append(h.Notes, "column "+h.Column(roster.FieldEmail)+" is not used: the app's users have no email")
	}
	region := opts.DefaultRegion
	if region == "" {
		region = roster.DefaultRegion
	}
	list := &resolve.List{Name: name, Header: h}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return list, nil
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", name, err)
		}
		row := resolve.Row{Rec: rec}
		add := func(f roster.Field, value, reason string) {
			row.Problems = append(row.Problems, roster.Problem{Column: h.Column(f), Value: value, Reason: reason})
		}
		if s := rec.Get(h, roster.FieldUserID); s != "" {
			if reason := checkUserID(s); reason != "" {
				add(roster.FieldUserID, s, reason)
			} else {
				row.Ident.UserID = s
			}
		}
		if s := rec.Get(h, roster.FieldPhone); s != "" {
			if roster.IsSIPURI(s) {
				add(roster.FieldPhone, s, "is a SIP address: the app's users are found by their PSTN phone")
			} else if phone, err := roster.NormalizePhone(s, region); err != nil {
				add(roster.FieldPhone, s, err.Error())
			} else {
				row.Ident.Phone = phone
			}
		}
		if row.Ident.Empty() && len(row.Problems) == 0 {
			row.Problems = append(row.Problems, roster.Problem{Column: "user_id, phone",
				Reason: "the row has no user_id or phone to find the user by"})
		}
		list.Rows = append(list.Rows, row)
	}
}

// Find looks the rows' users up: each user_id with its own GET, Workers at
// a time, and the phones of rows without a user_id in one pass over the
// whole list, only when there are such rows.
func (t *Target) Find(ctx context.Context, idents []resolve.Ident) (offboard.Found, error) {
	f := &found{byPhone: map[string][]*User{}, strategy: resolve.ByID}
	var ids []string
	byPhone := false
	for _, id := range idents {
		switch {
		case id.UserID != "":
			if !slices.Contains(ids, id.UserID) {
				ids = append(ids, id.UserID)
			}
		case id.Phone != "":
			byPhone = true
		}
	}
	l, err := t.getAll(ctx, ids)
	f.lookup = l
	if err != nil || !byPhone {
		return f, err
	}
	if len(ids) == 0 {
		f.strategy = resolve.ByListing
	} else {
		f.strategy = resolve.ByID + "+" + resolve.ByListing
	}
	err = Walk(ctx, t.fetchPage(&f.requests), func(p *Page) error {
		t.size.note(p)
		f.unreadable += p.Unreadable
		for i := range p.Users {
			u := &p.Users[i]
			if phone := u.E164(); phone != "" {
				f.byPhone[phone] = append(f.byPhone[phone], u)
			}
		}
		return nil
	})
	if resolve.IsRunLevel(err) {
		return f, err
	}
	f.listErr = err
	return f, nil
}

// found is what a Find learnt.
type found struct {
	*lookup
	byPhone    map[string][]*User // E.164 → users, from the listing
	listErr    error              // the listing failed: phones cannot be found
	unreadable int                // list entries that were not users
	strategy   resolve.Strategy
}

func (f *found) Requests() int              { return f.requests }
func (f *found) Strategy() resolve.Strategy { return f.strategy }

// Admins is none: an app's users have no roles.
func (f *found) Admins(context.Context) (map[string]bool, bool, error) {
	return map[string]bool{}, true, nil
}

func (f *found) Match(id resolve.Ident) offboard.Match {
	if id.UserID == "" {
		return f.matchPhone(id.Phone)
	}
	if err := f.errs[id.UserID]; err != nil {
		return offboard.Match{Status: results.Failed, Err: err,
			Message: fmt.Sprintf("could not look up user_id %s: %v", id.UserID, err)}
	}
	u := f.users[id.UserID]
	if u == nil {
		return offboard.Match{Status: results.NotFound, Message: "no user has user_id " + id.UserID}
	}
	if id.Phone != "" && u.E164() != id.Phone {
		has := "has no phone"
		if p := u.E164(); p != "" {
			has = "has phone " + p
		}
		return offboard.Match{Status: results.Ambiguous,
			Message: fmt.Sprintf("user_id %s is user %s, who %s, not %s", id.UserID, member{u}.IDAndName(), has, id.Phone)}
	}
	return offboard.Match{User: member{u}}
}

func (f *found) matchPhone(phone string) offboard.Match {
	users := f.byPhone[phone]
	switch {
	case f.listErr != nil:
		return offboard.Match{Status: results.Failed, Err: f.listErr,
			Message: fmt.Sprintf("could not look up phone %s: listing the app's users failed: %v", phone, f.listErr)}
	case len(users) > 1:
		names := make([]string, len(users))
		for i, u := range users {
			names[i] = member{u}.IDAndName()
		}
		return offboard.Match{Status: results.Ambiguous,
			Message: fmt.Sprintf("phone %s matches %d users: %s", phone, len(users), strings.Join(names, ", "))}
	case len(users) == 1:
		return offboard.Match{User: member{users[0]}}
	case f.unreadable > 0:
		err := errors.New(strconv.Itoa(f.unreadable) + " entries of the users list were not users")
		return offboard.Match{Status: results.Failed, Err: err,
			Message: "could not look up phone " + phone + ": " + err.Error() + ", so its absence is not proven"}
	}
	return offboard.Match{Status: results.NotFound, Message: "no user has phone " + phone}
}

// Delete removes one user from the app.
func (t *Target) Delete(ctx context.Context, id string) error { return t.c.DeleteUser(ctx, id) }

// Reread reads the members again right before they are deleted: by
// user_id, one GET each, or, when a listing of the app takes fewer
// requests, by one pass over the list (see listMembers). A member the
// listing did not show is then read by its user_id: it may be gone, or
// deletions while the listing paged may have moved it past a page.
//
// Only members read earlier by a GET may be read again by listing: a
// listing carries no dates, and the results and backup files record
// created_at and updated_at, which a member found by listing (by phone)
// has only from its GET here.
func (t *Target) Reread(ctx context.Context, members []offboard.Member) (map[string]offboard.Member, map[string]error, int, error) {
	earlier := make(map[string]*User, len(members))
	var dated, byID []string
	for _, m := range members {
		id := m.ID()
		u := UserOf(m)
		if _, dup := earlier[id]; !dup {
			if u != nil && u.CreatedAt != "" {
				dated = append(dated, id)
			} else {
				byID = append(byID, id)
			}
		}
		earlier[id] = u
	}
	fresh := map[string]offboard.Member{}
	requests := 0
	if t.listingPays(len(dated)) {
		listed, n, err := t.listMembers(ctx, dated)
		requests += n
		if resolve.IsRunLevel(err) {
			return nil, nil, requests, err
		}
		// Any other failure of the listing leaves its unread members to
		// their GETs.
		for _, id := range dated {
			if u := listed[id]; u != nil {
				fresh[id] = member{withDates(u, earlier[id])}
			} else {
				byID = append(byID, id)
			}
		}
	} else {
		byID = append(byID, dated...)
	}
	l, err := t.getAll(ctx, byID)
	requests += l.requests
	if err != nil {
		return nil, nil, requests, err
	}
	for id, u := range l.users {
		if u != nil {
			fresh[id] = member{u}
		}
	}
	return fresh, l.errs, requests, nil
}

// listingPays reports whether reading n users by listing the app may take
// fewer requests than n GETs: its pages are fewer, by the size of the app
// at its latest listing; or, that unknown, n is more than one, and the
// first page will tell (its users are read all the same).
func (t *Target) listingPays(n int) bool {
	if n < 2 {
		return false
	}
	size, known := t.size.get()
	return !known || pages(size, t.c.PageSize()) < n
}

// pages is how many pages of size list n users (at least one).
func pages(n, size int) int { return max(1, (n+size-1)/max(size, 1)) }

// errListedEnough ends a listing early: every member was seen, or the
// pages left would cost more requests than reading the rest one by one.
var errListedEnough = errors.New("listed enough")

// listMembers lists the app for the users with these ids and returns those
// it showed, by user_id, and the requests it sent. After each page it goes
// on only while the pages left (by the page's total) are fewer than the
// members not yet seen; without a total, it stops. The error is the listing's; the users seen before
// it are returned all the same.
func (t *Target) listMembers(ctx context.Context, ids []string) (map[string]*User, int, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	listed := map[string]*User{}
	requests := 0
	err := Walk(ctx, t.fetchPage(&requests), func(p *Page) error {
		t.size.note(p)
		for i := range p.Users {
			if u := &p.Users[i]; want[u.UserID] {
				listed[u.UserID] = u
			}
		}
		left := len(want) - len(listed)
		if left == 0 || !p.HasTotal {
			return errListedEnough
		}
		if after := p.Total - (p.Offset + p.Count); after > 0 && pages(after, t.c.PageSize()) >= left {
			return errListedEnough
		}
		return nil
	})
	if errors.Is(err, errListedEnough) {
		err = nil
	}
	return listed, requests, err
}

// withDates is u, read by listing, with the dates a listing does not carry
// taken from earlier, the same user as a GET read it: created_at never
// changes, and updated_at has not when nothing the listing shows has.
func withDates(u, earlier *User) *User {
	if earlier == nil || earlier.UserID != u.UserID {
		return u
	}
	c := *u
	if c.CreatedAt == "" {
		c.CreatedAt = earlier.CreatedAt
	}
	if c.UpdatedAt == "" && c.Name == earlier.Name && c.Phone == earlier.Phone && c.Status == earlier.Status &&
		sameBool(c.SIPEnabled, earlier.SIPEnabled) {
		c.UpdatedAt = earlier.UpdatedAt
	}
	return &c
}

func sameBool(a, b *bool) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }

// appSize is how many users the app held at its latest listing, for
// Reread's choice between GETs and a listing. It is safe for concurrent
// use.
type appSize struct {
	n atomic.Int64 // the count plus one; 0 until a page states a total
}

func (s *appSize) get() (int, bool) {
	n := s.n.Load()
	return int(n - 1), n > 0
}

// note takes in a page's total, when it states one.
func (s *appSize) note(p *Page) {
	if p.HasTotal {
		s.n.Store(int64(max(p.Total, 0)) + 1)
	}
}

// Account lists the whole app; complete is false when an entry of the list
// was not a user.
func (t *Target) Account(ctx context.Context) ([]offboard.Member, bool, int, error) {
	var all []offboard.Member
	requests, unreadable := 0, 0
	err := Walk(ctx, t.fetchPage(&requests), func(p *Page) error {
		t.size.note(p)
		unreadable += p.Unreadable
		for i := range p.Users {
			all = append(all, member{&p.Users[i]})
		}
		return nil
	})
	return all, err == nil && unreadable == 0, requests, err
}

// Columns is the export's header, which the backup of deleted users takes.
func (t *Target) Columns() []string { return Columns() }

// Identifiers are what a row of a list may find its user by.
func (t *Target) Identifiers() string { return "user_id and phone" }

// member is an app user as offboard sees one.
type member struct{ u *User }

func (m member) ID() string       { return m.u.UserID }
func (m member) DeviceID() string { return "" }
func (m member) Name() string     { return m.u.Name }
func (m member) Admin() bool      { return false }
func (m member) OnCall() string   { return "" }
func (m member) Record() []string { return NewRecord(*m.u).Cells() }

// Names splits the user's name as a roster splits a full name.
func (m member) Names() (first, last string) { return roster.SplitName(m.u.Name) }

// Changes names what differs in what a deletion is decided on: the name
// and the phone (not status or device reachability, which change all day).
func (m member) Changes(now offboard.Member) []string {
	n := now.(member).u
	var out []string
	if a, b := strings.Join(strings.Fields(m.u.Name), " "), strings.Join(strings.Fields(n.Name), " "); a != b {
		out = append(out, fmt.Sprintf("name %q → %q", a, b))
	}
	if a, b := m.u.E164(), n.E164(); a != b {
		out = append(out, fmt.Sprintf("phone %q → %q", a, b))
	}
	return out
}

func (m member) IDAndName() string { return m.u.UserID + " (" + strings.TrimSpace(m.u.Name) + ")" }

// Who is "Name <phone> (user_id id)".
func (m member) Who() string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(m.u.Name))
	if p := m.u.E164(); p != "" {
		b.WriteString(" <" + p + ">")
	}
	b.WriteString(" (user_id " + m.u.UserID + ")")
	return b.String()
}

// UserOf is the app user an offboard Member of this target describes; nil
// for another target's Member.
func UserOf(m offboard.Member) *User {
	if w, ok := m.(member); ok {
		return w.u
	}
	return nil
}

// NewMember is u as this target describes a user to offboard.
func NewMember(u *User) offboard.Member { return member{u} }
