package offboard

import (
	"context"
	"fmt"
	"strings"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/resolve"
)

// ccm is offboard's built-in Target: Exotel's CCM Users API, whose users
// the resolve package finds by user_id, email or phone.
type ccm struct {
	api API
	res *resolve.Resolver
}

func (t *ccm) Find(ctx context.Context, idents []resolve.Ident) (Found, error) {
	ix, err := t.res.Lookup(ctx, idents)
	return &ccmFound{res: t.res, ix: ix}, err
}

func (t *ccm) Delete(ctx context.Context, id string) error { return t.api.DeleteUser(ctx, id) }

// Retrying reports the retries of DELETEs that got no answer on the
// client's log, when the client does (exotel.Classifier).
func (t *ccm) Retrying(maxAttempts int) func(error) ratelimit.Verdict {
	return exotel.Classifier(t.api, maxAttempts)
}

// Reread reads the users again with reread, cheapest first.
func (t *ccm) Reread(ctx context.Context, members []Member) (map[string]Member, map[string]error, int, error) {
	users := make([]*exotel.User, len(members))
	for i, m := range members {
		users[i] = m.(ccmUser).u
	}
	fresh, failed, n, err := t.reread(ctx, users)
	if err != nil {
		return nil, nil, n, err
	}
	out := make(map[string]Member, len(fresh))
	for id, u := range fresh {
		out[id] = ccmUser{u}
	}
	return out, failed, n, nil
}

// Account lists the whole account.
func (t *ccm) Account(ctx context.Context) ([]Member, bool, int, error) {
	ix, err := t.res.Account(ctx)
	if err != nil {
		return nil, false, ix.Requests, err
	}
	all := ix.All()
	out := make([]Member, len(all))
	for i, u := range all {
		out[i] = ccmUser{u}
	}
	return out, ix.Complete(), ix.Requests, nil
}

// reread looks users up again, each by the cheapest identifier it had: its
// email, else its first device's contact, batched 50 to a GET; then by id
// those that were not found so (gone, or their email or number changed) or
// had neither. fresh holds the users found, by id; failed the lookup
// errors of users that could not be read. The error is run-level only.
func (t *ccm) reread(ctx context.Context, users []*exotel.User) (fresh map[string]*exotel.User, failed map[string]error, requests int, err error) {
	fresh, failed = map[string]*exotel.User{}, map[string]error{}
	key := func(u *exotel.User) (resolve.Key, string) {
		if u.Email != "" {
			return resolve.KeyEmail, u.Email
		}
		if d := u.PrimaryDevice(); d != nil && d.ContactURI != "" && !strings.ContainsRune(d.ContactURI, ',') {
			return resolve.KeyPhone, d.ContactURI
		}
		return resolve.KeyUserID, u.ID
	}
	var first []resolve.Ident
	for _, u := range users {
		switch k, v := key(u); k {
		case resolve.KeyEmail:
			first = append(first, resolve.Ident{Email: v})
		case resolve.KeyPhone:
			first = append(first, resolve.Ident{Phone: v})
		}
	}
	ix, err := t.res.Lookup(ctx, first)
	requests += ix.Requests
	if err != nil {
		return nil, nil, requests, err
	}
	var byID []resolve.Ident
	for _, u := range users {
		k, v := key(u)
		if k != resolve.KeyUserID {
			if _, err := ix.Users(k, v); err != nil {
				failed[u.ID] = err
				continue
			}
			if f := ix.User(u.ID); f != nil {
				fresh[u.ID] = f
				continue
			}
		}
		byID = append(byID, resolve.Ident{UserID: u.ID})
	}
	if len(byID) == 0 {
		return fresh, failed, requests, nil
	}
	ix, err = t.res.Lookup(ctx, byID)
	requests += ix.Requests
	if err != nil {
		return nil, nil, requests, err
	}
	for _, id := range byID {
		if _, err := ix.Users(resolve.KeyUserID, id.UserID); err != nil {
			failed[id.UserID] = err
			continue
		}
		if f := ix.User(id.UserID); f != nil {
			fresh[id.UserID] = f
		}
	}
	return fresh, failed, requests, nil
}

func (t *ccm) Columns() []string { return exporter.Columns() }

func (t *ccm) Identifiers() string { return "user_id, email and phone" }

func (t *ccm) ExplainAuth(err error) error { return exotel.ExplainAuth(err) }

type ccmFound struct {
	res *resolve.Resolver
	ix  *resolve.Index
}

func (f *ccmFound) Match(id resolve.Ident) Match {
	m := f.ix.Match(id)
	out := Match{Status: m.Status, Message: m.Message, Err: m.Err}
	if m.User != nil {
		out.User = ccmUser{m.User}
	}
	return out
}

// Admins lists the whole account, unless the lookup already did, and
// counts its admins.
func (f *ccmFound) Admins(ctx context.Context) (map[string]bool, bool, error) {
	if err := f.res.Complete(ctx, f.ix); err != nil {
		return nil, false, err
	}
	if !f.ix.Complete() {
		return nil, false, nil // broken records: the count cannot be trusted
	}
	current := map[string]bool{}
	for _, u := range f.ix.All() {
		if u.Role == exotel.RoleAdmin {
			current[u.ID] = true
		}
	}
	return current, true, nil
}

func (f *ccmFound) Requests() int { return f.ix.Requests }

func (f *ccmFound) Strategy() resolve.Strategy { return f.ix.Strategy }

// ccmUser is a CCM user as a Member.
type ccmUser struct{ u *exotel.User }

func (c ccmUser) ID() string { return c.u.ID }

func (c ccmUser) DeviceID() string {
	if d := c.u.PrimaryDevice(); d != nil {
		return fmt.Sprint(d.ID)
	}
	return ""
}

func (c ccmUser) Who() string                 { return resolve.Who(c.u) }
func (c ccmUser) IDAndName() string           { return resolve.IDAndName(c.u) }
func (c ccmUser) Name() string                { return c.u.FirstName + " " + c.u.LastName }
func (c ccmUser) Names() (first, last string) { return c.u.FirstName, c.u.LastName }
func (c ccmUser) Admin() bool                 { return c.u.Role == exotel.RoleAdmin }
func (c ccmUser) OnCall() string              { return c.u.ActiveCall }
func (c ccmUser) Record() []string            { return exporter.NewRecord(*c.u).Cells() }
func (c ccmUser) Changes(now Member) []string { return Changes(c.u, now.(ccmUser).u) }
