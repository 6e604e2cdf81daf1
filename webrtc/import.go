package webrtc

import (
	"context"
	"strconv"
	"strings"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// CheckHeader refuses a roster without a name column.
func (t *Target) CheckHeader(h *roster.Header) error { return CheckHeader(h) }

// NewChecker reads this target's rows: user_id, name, phone, sip_enabled.
func (t *Target) NewChecker(h *roster.Header, opts roster.Options) importer.Checker {
	return &checker{t: t, v: NewValidator(h, opts)}
}

type checker struct {
	t *Target
	v *Validator
}

func (c *checker) Check(rec roster.Record) (importer.Person, []roster.Problem) {
	p, problems := c.v.Check(rec)
	return &person{t: c.t, p: p}, problems
}

// person is one row on its way to the app. Its user_id is the key the API
// finds users by, so every doubt (a lost answer, a 5xx, a duplicate) is
// settled with one GET /users/{user_id}.
type person struct {
	t *Target
	p Person
}

func (c *person) Describe() string {
	parts := []string{c.p.Name}
	if c.p.Phone != "" {
		parts = append(parts, c.p.Phone)
	}
	if c.p.SIPEnabled {
		parts = append(parts, "SIP enabled")
	} else {
		parts = append(parts, "SIP disabled")
	}
	return "would create " + c.p.UserID + ": " + strings.Join(parts, ", ")
}

func (c *person) Notes() []string { return nil }

// PhoneGated is false: the document makes phone optional.
func (c *person) PhoneGated() bool { return false }

func (c *person) CanLookUp() bool { return true }

// Create sends the row. Any 400 is handed back as a conflict, to be
// settled by a GET: the API answers a taken user_id with 400, as it does
// bad input, and its message need not say which.
func (c *person) Create(ctx context.Context) (importer.User, error) {
	u, err := c.t.c.CreateUser(ctx, c.p.Request())
	if err != nil {
		if ae := exotel.AsAPIError(err); ae != nil && ae.Kind == exotel.KindInvalid && ae.HTTPStatus == 400 {
			dup := *ae
			dup.Kind = exotel.KindConflict
			return nil, &dup
		}
		return nil, err
	}
	return u, nil
}

func (c *person) Find(ctx context.Context) (importer.User, error) {
	u, _, err := c.t.get(ctx, c.p.UserID)
	if u == nil {
		return nil, err
	}
	return u, nil
}

// Conflict looks up who holds the row's user_id. When nobody does, the
// 400 was about the row itself.
func (c *person) Conflict(ctx context.Context, _ error) (importer.User, bool, string, error) {
	u, _, err := c.t.get(ctx, c.p.UserID)
	switch {
	case err != nil:
		return nil, false, "", err
	case u != nil:
		return u, false, "", nil
	}
	return nil, false, "the API refused the row and no user has user_id " + c.p.UserID + ", so it is not a duplicate", nil
}

// Mismatch names what differs between the row and the user holding its
// user_id: the name, or the phone.
func (c *person) Mismatch(found importer.User) string {
	u := found.(*User)
	diffs := Differences(c.p, *u)
	if len(diffs) == 0 {
		return ""
	}
	return "user_id " + c.p.UserID + " already belongs to another user (" + u.Name + "): " + strings.Join(diffs, "; ")
}

// Settled notes an existing user whose sip_enabled differs from the row's,
// which the API cannot change.
func (c *person) Settled(found importer.User, status results.Status) (string, string, []string) {
	u := found.(*User)
	var notes []string
	if status == results.Exists && u.SIPEnabled != nil && *u.SIPEnabled != c.p.SIPEnabled {
		notes = append(notes, "sip_enabled is "+strconv.FormatBool(*u.SIPEnabled)+" on the app, "+
			strconv.FormatBool(c.p.SIPEnabled)+" in the roster")
	}
	return c.p.UserID, "", notes
}

// FindAll looks the persons' users up by user_id, one GET each, Workers at
// a time: the API has no filter to find several at once. A row whose GET
// failed stays unchecked.
func (t *Target) FindAll(ctx context.Context, persons []importer.Person) ([]importer.User, []bool, error) {
	users, checked := make([]importer.User, len(persons)), make([]bool, len(persons))
	ids := make([]string, len(persons))
	for i, p := range persons {
		ids[i] = p.(*person).p.UserID
	}
	l, err := t.getAll(ctx, ids)
	if err != nil {
		return users, checked, err
	}
	for i, id := range ids {
		u, asked := l.users[id]
		if !asked {
			continue
		}
		if u != nil {
			users[i] = u
		}
		checked[i] = true
	}
	return users, checked, nil
}

// Person is p on its way to the app, for a command that read the row
// itself and creates it through importer.CreateOne (sync's apply).
func (t *Target) Person(p Person) importer.Person { return &person{t: t, p: p} }
