package offboard

import (
	"context"
	"fmt"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exporter"
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

func (c ccmUser) Who() string       { return resolve.Who(c.u) }
func (c ccmUser) IDAndName() string { return resolve.IDAndName(c.u) }
func (c ccmUser) Name() string      { return c.u.FirstName + " " + c.u.LastName }
func (c ccmUser) Admin() bool       { return c.u.Role == exotel.RoleAdmin }
func (c ccmUser) Record() []string  { return exporter.NewRecord(*c.u).Cells() }

func (c ccmUser) Note() string {
	if c.u.ActiveCall != "" {
		return "was on a call (" + c.u.ActiveCall + ") when looked up"
	}
	return ""
}
