package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/updater"
)

// CCMAPI is what a CCM sync needs from Exotel; *exotel.Client has it.
type CCMAPI interface {
	importer.API
	updater.API
	offboard.API
}

// Pacer is the shared limiter; *ratelimit.Limiter has it.
type Pacer = importer.Pacer

// Config tunes a target's requests.
type Config struct {
	Workers     int // concurrent requests; default engine.DefaultWorkers
	MaxAttempts int // per request, 429s included; default engine.DefaultMaxAttempts
	Logger      *slog.Logger
}

// CCM is the CCM Users API as a sync target. Every write goes through the
// command that owns it: importer's create-and-settle, updater's PUTs,
// offboard's deletion sequence and backup.
type CCM struct {
	api     CCMAPI
	pacer   Pacer
	account Account
	cfg     Config
	im      *importer.Importer
	up      *updater.Updater
	res     *resolve.Resolver
}

// The halves of a sync target CCM is.
var (
	_ Target  = (*CCM)(nil)
	_ Updater = (*CCM)(nil)
)

// NewCCM returns the CCM target for acct. api and pacer may be nil for a
// target that only reads rosters and compares (tests).
func NewCCM(api CCMAPI, pacer Pacer, acct Account, cfg Config) *CCM {
	cfg.Workers = engine.Workers(cfg.Workers)
	cfg.MaxAttempts = engine.MaxAttempts(cfg.MaxAttempts)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	acct.Target = "ccm"
	c := &CCM{api: api, pacer: pacer, account: acct, cfg: cfg}
	if api != nil && pacer != nil {
		// A sync never creates local+1@domain: the next plan would not
		// find that user by the roster's email and would create it again.
		c.im = importer.New(api, pacer, importer.Config{Workers: cfg.Workers, MaxAttempts: cfg.MaxAttempts,
			OnEmailTaken: importer.EmailTakenFail, EmailTakenAdvice: syncEmailAdvice, Logger: cfg.Logger})
		c.up = updater.New(api, pacer, updater.Config{Workers: cfg.Workers, MaxAttempts: cfg.MaxAttempts, Logger: cfg.Logger})
		c.res = resolve.New(api, pacer, resolve.Config{Workers: cfg.Workers, MaxAttempts: cfg.MaxAttempts, Logger: cfg.Logger})
	}
	return c
}

// syncEmailAdvice is what sync and apply advise for a roster email a
// deleted user held: they have no --on-email-taken flag, and a user made
// as local+1@domain would not match the roster's email next time, so the
// fix is the roster's email, or import's plus policy followed by that.
func syncEmailAdvice(plus string) string {
	return "put another email in the roster (" + plus + ", say), or create the user with " +
		"exoroster import --on-email-taken=plus and put the email it reports in the roster"
}

// Account is the account the client talks to.
func (c *CCM) Account() Account { return c.account }

// Matches: by email then phone (default), or one of email, phone, user_id.
func (c *CCM) Matches() []Match { return []Match{MatchEmailPhone, MatchEmail, MatchPhone, MatchUserID} }

// Scoped: CCM users have roles and emails.
func (c *CCM) Scoped() bool { return true }

// CallerIDs: Exotel makes the ids; one nobody has is a mistake.
func (c *CCM) CallerIDs() bool { return false }

// CheckHeader asks for what import asks for: name columns.
func (c *CCM) CheckHeader(h *roster.Header) error { return h.CheckForImport() }

// NewChecker reads rows as import does; a user_id column, when the roster
// has one, is read as offboard reads it.
func (c *CCM) NewChecker(h *roster.Header, opts roster.Options) func(roster.Record) *Want {
	v := roster.NewValidator(h, opts)
	idCol := h.Column(roster.FieldUserID)
	return func(rec roster.Record) *Want {
		p, probs := v.Check(rec)
		id, idProbs := resolve.ParseIdent(h, rec, opts.DefaultRegion)
		for _, pr := range idProbs {
			if h.Has(roster.FieldUserID) && pr.Column == idCol {
				probs = append(probs, pr) // the validator does not read user_id
			}
		}
		w := &Want{Rec: rec, Ident: id, Problems: probs, Role: p.Role, Email: p.Email, Person: p}
		w.Who = personWho(p)
		if len(probs) == 0 {
			w.New = &NewUser{FirstName: p.FirstName, LastName: p.LastName, Email: p.Email, Phone: p.Phone,
				SIPContact: p.SIPContact, Role: p.Role, DeviceName: p.DeviceName}
		}
		return w
	}
}

// personWho describes a row's person as resolve.Who describes a user.
func personWho(p roster.Person) string {
	who := strings.TrimSpace(p.FirstName + " " + p.LastName)
	switch {
	case p.Email != "":
		who += " <" + p.Email + ">"
	case p.Phone != "":
		who += " <" + p.Phone + ">"
	}
	return strings.TrimSpace(who)
}

// List reads the whole account through the exporter: ceil(users/50) bulk
// GETs, concurrently, with devices, last_login and active_call.
func (c *CCM) List(_ context.Context, sw *halt.Switch) (*Listing, error) {
	ex := exporter.New(c.api, c.pacer, exporter.Config{Workers: c.cfg.Workers, MaxAttempts: c.cfg.MaxAttempts, Logger: c.cfg.Logger})
	var sink userSink
	sum, err := ex.Run(sw, &sink)
	if err == nil {
		err = listedWhole(sum, "account")
	}
	if err != nil {
		return nil, err
	}
	// Only what bears on the plan: export's audit notes are export's.
	l := &Listing{Requests: sum.Requests}
	if sum.Missing > 0 || sum.RecordErrors > 0 {
		l.Notes = append(l.Notes, fmt.Sprintf("%d of the users the API counted did not come back readable (the account changed during the listing, "+
			"or the API marked records as failed): they are neither compared nor deleted, and a row naming one is planned as a create, "+
			"which apply settles by a lookup", sum.Missing+sum.RecordErrors))
	}
	for _, u := range sink.users {
		l.Members = append(l.Members, ccmMember(u))
	}
	return l, nil
}

// ErrInterrupted is List's error when the user stopped the listing.
var ErrInterrupted = errors.New("interrupted while listing the account; nothing was changed")

// listedWhole refuses a listing a plan cannot rest on, of either target:
// one the user stopped (ErrInterrupted), or one that may be missing users.
// what names the listed whole: the account, the app.
func listedWhole(sum *exporter.Summary, what string) error {
	if sum.Interrupted {
		return ErrInterrupted
	}
	if sum.Incomplete() || sum.RepeatedPages > 0 {
		return fmt.Errorf("the %s could not be listed whole (%s): a plan must see every user; try again",
			what, strings.Join(sum.Notes(), "; "))
	}
	return nil
}

// userSink keeps the exporter's users.
type userSink struct{ users []*exotel.User }

func (s *userSink) Write(r exporter.Record) error {
	if u := r.User(); u != nil {
		s.users = append(s.users, u)
	}
	return nil
}

// ccmMember is u as a plan sees it. The fingerprint holds what update and
// delete depend on: names, email, role, the first phone device, and
// date_updated.
func ccmMember(u *exotel.User) *Member {
	m := &Member{ID: u.ID, Who: resolve.Who(u), Email: u.Email, Role: strings.ToLower(u.Role), OnCall: u.ActiveCall, User: u}
	for _, d := range u.Devices {
		m.Phones = append(m.Phones, d.ContactURI)
	}
	f := map[string]string{"date_updated": u.DateUpdated, "first_name": u.FirstName, "last_name": u.LastName,
		"email": u.Email, "role": u.Role, "phone": ""}
	if d := updater.FirstTel(u); d != nil {
		f["phone"], f["phone_device"] = d.ContactURI, strconv.FormatInt(d.ID, 10)
	}
	m.Seen = NewSeen(f)
	return m
}

// Compare: names, an unset email and the first phone device's number can
// change; a role cannot (and an admin's is protected); an email set to
// another value never can, so that row is not this user's.
func (c *CCM) Compare(w *Want, m *Member, s Settings) Comparison {
	p := w.Person.(roster.Person)
	u := m.User.(*exotel.User)
	var cmp Comparison
	if p.Email != "" && u.Email != "" && roster.EmailKey(p.Email) != roster.EmailKey(u.Email) {
		cmp.Conflict = fmt.Sprintf("the row's user %s has email %s, the roster says %s, and Exotel never changes an email once set",
			m.label(), u.Email, p.Email)
		return cmp
	}
	if p.FirstName != u.FirstName {
		cmp.Changes = append(cmp.Changes, Change{Field: "first_name", Old: u.FirstName, New: p.FirstName})
	}
	if p.LastName != u.LastName {
		cmp.Changes = append(cmp.Changes, Change{Field: "last_name", Old: u.LastName, New: p.LastName})
	}
	if p.Email != "" && u.Email == "" {
		cmp.Changes = append(cmp.Changes, Change{Field: "email", New: p.Email})
	}
	switch {
	case p.Phone != "" && !u.HasContact(p.Phone):
		if d := updater.FirstTel(u); d != nil {
			cmp.Changes = append(cmp.Changes, Change{Field: "phone", Old: d.ContactURI, New: p.Phone, DeviceID: d.ID})
		} else {
			cmp.Differs = append(cmp.Differs, Change{Field: "phone", New: p.Phone,
				Why: "the user has no phone device to re-number, and the API cannot add one"})
		}
	case p.SIPContact != "" && !u.HasContact(p.SIPContact):
		cmp.Differs = append(cmp.Differs, Change{Field: "phone", New: p.SIPContact,
			Why: "Exotel makes SIP devices itself; the API cannot add one"})
	}
	if role := strings.ToLower(u.Role); p.Role != "" && p.Role != role {
		d := Change{Field: "role", Old: role, New: p.Role, Why: "the API cannot change a role: change it on the dashboard"}
		cmp.Differs = append(cmp.Differs, d)
		if role == roleAdmin && !s.AllowAdmins {
			cmp.Protect = "admin on Exotel, but the roster says role " + p.Role +
				": admins are protected from role changes without --allow-admins (and the API cannot change a role)"
		}
	}
	return cmp
}

// Refresh re-reads the users by their email (else their phone) with the
// bulk GET's filters, 50 a request, and looks up by id the few it could
// not find that way; or, when that takes no more requests, lists the
// account whole.
func (c *CCM) Refresh(ctx context.Context, sw *halt.Switch, actions []*Action, accountUsers int) (map[string]*Member, map[string]error, int, error) {
	fresh, errs := map[string]*Member{}, map[string]error{}
	requests := 0
	var byID []resolve.Ident
	keyOf := func(a *Action) (resolve.Key, string) {
		switch f := a.Seen.Fields; {
		case f["email"] != "":
			return resolve.KeyEmail, f["email"]
		case f["phone"] != "":
			return resolve.KeyPhone, f["phone"]
		}
		return resolve.KeyUserID, a.UserID
	}
	// A small account is cheaper to list whole than to look up by
	// email and by phone.
	byKind := map[resolve.Key]int{}
	for _, a := range actions {
		k, _ := keyOf(a)
		byKind[k]++
	}
	filters := batches(byKind[resolve.KeyEmail]) + batches(byKind[resolve.KeyPhone]) + byKind[resolve.KeyUserID]
	if batches(accountUsers) <= filters {
		return refreshByListing(ctx, sw, c)
	}
	var idents []resolve.Ident
	for _, a := range actions {
		k, v := keyOf(a)
		id := resolve.Ident{}
		switch k {
		case resolve.KeyEmail:
			id.Email = v
		case resolve.KeyPhone:
			id.Phone = v
		default:
			id.UserID = v
		}
		idents = append(idents, id)
	}
	ix, err := c.res.Lookup(sw.Context(), idents)
	requests += ix.Requests
	if err != nil {
		return nil, nil, requests, explainCCM(err)
	}
	for _, a := range actions {
		k, v := keyOf(a)
		users, err := ix.Users(k, v)
		if err != nil {
			errs[a.UserID] = err
			continue
		}
		found := false
		for _, u := range users {
			if u.ID == a.UserID {
				fresh[a.UserID], found = ccmMember(u), true
			}
		}
		if !found && k != resolve.KeyUserID {
			byID = append(byID, resolve.Ident{UserID: a.UserID}) // its email or phone moved: by id
		}
	}
	if len(byID) > 0 {
		ix, err := c.res.Lookup(sw.Context(), byID)
		requests += ix.Requests
		if err != nil {
			return nil, nil, requests, explainCCM(err)
		}
		for _, id := range byID {
			users, err := ix.Users(resolve.KeyUserID, id.UserID)
			switch {
			case err != nil:
				errs[id.UserID] = err
			case len(users) == 1:
				fresh[id.UserID] = ccmMember(users[0])
			}
		}
	}
	return fresh, errs, requests, nil
}

// refreshByListing is a Refresh, of either target, that lists the account
// whole: when few users are to be read again among many, or the API has no
// cheaper way, that is the fewest requests.
func refreshByListing(ctx context.Context, sw *halt.Switch, p Planner) (map[string]*Member, map[string]error, int, error) {
	l, err := p.List(ctx, sw)
	if err != nil {
		return nil, nil, 0, err
	}
	fresh := make(map[string]*Member, len(l.Members))
	for _, m := range l.Members {
		fresh[m.ID] = m
	}
	return fresh, map[string]error{}, l.Requests, nil
}

// batches is how many requests of 50 n values take.
func batches(n int) int { return (n + exotel.MaxPageSize - 1) / exotel.MaxPageSize }

func explainCCM(err error) error {
	if resolve.IsAuth(err) {
		return exotel.ExplainAuth(err)
	}
	return err
}

// Create creates the user with import's create-and-settle logic.
func (c *CCM) Create(ctx context.Context, sw *halt.Switch, a *Action, mayExist bool) results.Line {
	n := a.New
	p := roster.Person{FirstName: n.FirstName, LastName: n.LastName, Email: n.Email, Phone: n.Phone,
		Role: n.Role, DeviceName: n.DeviceName, SIPContact: n.SIPContact}
	return c.im.CreateOne(ctx, sw, roster.Record{Row: a.N, Raw: a.Input}, c.im.CCMPerson(p), mayExist)
}

// Update sends the changes with update's PUT logic: one user PUT for the
// names and email, one device PUT for the number.
func (c *CCM) Update(ctx context.Context, sw *halt.Switch, a *Action, m *Member, changes []Change) results.Line {
	u := m.User.(*exotel.User)
	var e updater.Edit
	for _, ch := range changes {
		v := ch.New
		switch ch.Field {
		case "first_name":
			e.Req.FirstName = &v
		case "last_name":
			e.Req.LastName = &v
		case "email":
			e.Req.Email = &v
			if ch.Old == "" {
				e.UserChanges = append(e.UserChanges, updater.EmailChange(v))
				continue
			}
		case "phone":
			for i := range u.Devices {
				if u.Devices[i].ID == ch.DeviceID {
					e.Device = &u.Devices[i]
				}
			}
			if e.Device == nil {
				return results.Line{Status: results.Failed, UserID: u.ID,
					Message: fmt.Sprintf("the user has no device %d any more: nothing was sent; plan again", ch.DeviceID)}
			}
			e.Phone, e.DeviceChange = v, updater.PhoneChange(ch.Old, v)
			continue
		}
		e.UserChanges = append(e.UserChanges, ch.String())
	}
	return c.up.Send(ctx, sw, roster.Record{Row: a.N, Raw: a.Input}, u, e)
}

// Offboarder is offboard's, over the same API and limiter.
func (c *CCM) Offboarder(allowAdmins bool) *offboard.Offboarder {
	return offboard.New(c.api, c.pacer, offboard.Config{Workers: c.cfg.Workers, MaxAttempts: c.cfg.MaxAttempts,
		AllowAdmins: allowAdmins, Logger: c.cfg.Logger})
}

// Offboard is m as offboard describes a CCM user.
func (c *CCM) Offboard(m *Member) offboard.Member { return offboard.CCMMember(m.User.(*exotel.User)) }

// Deleting is the user as the plan's record has it.
func (c *CCM) Deleting(a *Action) offboard.Member {
	f := a.Seen.Fields
	u := &exotel.User{ID: a.UserID, FirstName: f["first_name"], LastName: f["last_name"], Email: f["email"], Role: f["role"]}
	if f["phone"] != "" {
		id, _ := strconv.ParseInt(f["phone_device"], 10, 64)
		u.Devices = []exotel.Device{{ID: id, ContactURI: f["phone"]}}
	}
	return planned{Member: offboard.CCMMember(u), a: a, seen: func(now offboard.Member) *Seen {
		return ccmMember(offboard.UserOf(now)).Seen
	}}
}
