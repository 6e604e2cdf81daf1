package reconcile

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/webrtc"
)

// WebRTC is the WebRTC integrations app users API as a sync target,
// through the target's one adapter (webrtc.Target) as import, offboard and
// export use it. The API has no update: a user whose name, phone or
// sip_enabled differs from its row is reported as differs, never changed.
// Users are matched by the caller's user_id, which also settles a create
// whose answer was lost.
type WebRTC struct {
	tg      *webrtc.Target
	pacer   Pacer
	account Account
	cfg     Config
	im      *importer.Importer
}

var _ Target = (*WebRTC)(nil)

// NewWebRTC returns the WebRTC target for acct (ID: customer-app). tg is
// the app's adapter; pacer is the limiter its client shares, and may be nil
// (with tg made without a client) for a target that only reads rosters and
// compares.
func NewWebRTC(tg *webrtc.Target, pacer Pacer, acct Account, cfg Config) *WebRTC {
	cfg.Workers = engine.Workers(cfg.Workers)
	cfg.MaxAttempts = engine.MaxAttempts(cfg.MaxAttempts)
	acct.Target = "webrtc"
	w := &WebRTC{tg: tg, pacer: pacer, account: acct, cfg: cfg}
	if pacer != nil {
		w.im = importer.NewFor(tg, pacer, importer.Config{Workers: cfg.Workers, MaxAttempts: cfg.MaxAttempts, Logger: cfg.Logger})
	}
	return w
}

// Account is the app the client talks to.
func (w *WebRTC) Account() Account { return w.account }

// Matches: by user_id only; the app knows no email, and its phone is data.
func (w *WebRTC) Matches() []Match { return []Match{MatchUserID} }

// Scoped: app users have neither roles nor emails.
func (w *WebRTC) Scoped() bool { return false }

// CallerIDs: the caller chooses user_id; one nobody has is a new user.
func (w *WebRTC) CallerIDs() bool { return true }

// CheckHeader asks for a name column, as the target's import does.
func (w *WebRTC) CheckHeader(h *roster.Header) error { return webrtc.CheckHeader(h) }

// NewChecker reads rows with the target's own validator.
func (w *WebRTC) NewChecker(h *roster.Header, opts roster.Options) func(roster.Record) *Want {
	v := webrtc.NewValidator(h, opts)
	return func(rec roster.Record) *Want {
		p, probs := v.Check(rec)
		id := p.UserID
		if id == "" {
			// An invalid row (a second row with the same user_id) still
			// keeps its user from deletion.
			id = rec.Get(h, roster.FieldUserID)
		}
		wt := &Want{Rec: rec, Ident: resolve.Ident{UserID: id}, Problems: probs, Person: p, Who: webrtcWho(p.Name, id)}
		if len(probs) == 0 {
			sip := p.SIPEnabled
			wt.New = &NewUser{UserID: p.UserID, Name: p.Name, Phone: p.Phone, SIPEnabled: &sip}
		}
		return wt
	}
}

func webrtcWho(name, id string) string {
	if id == "" {
		return name
	}
	return strings.TrimSpace(name + " [" + id + "]")
}

// List reads the whole app as export does (exporter.RunList): the first
// page alone, to learn the total, then the rest concurrently, taken in
// order.
func (w *WebRTC) List(_ context.Context, sw *halt.Switch) (*Listing, error) {
	var sink appUsers
	sum, err := exporter.RunList[webrtc.User](sw, appLister{w.tg}, w.pacer,
		exporter.Config{Workers: w.cfg.Workers, MaxAttempts: w.cfg.MaxAttempts, Logger: w.cfg.Logger}, &sink)
	if err == nil {
		err = listedWhole(sum, "app")
	}
	if err != nil {
		return nil, err
	}
	l := &Listing{Requests: sum.Requests}
	if n := sum.Missing + sum.RecordErrors + sink.unnamed; n > 0 {
		l.Notes = append(l.Notes, fmt.Sprintf("%d of the users the app counted did not come back with a readable user_id: "+
			"they are neither compared nor deleted", n))
	}
	for _, u := range sink.users {
		l.Members = append(l.Members, webrtcMember(u))
	}
	return l, nil
}

// appLister is the app's list as export pages it, each line holding its
// user.
type appLister struct{ *webrtc.Target }

func (l appLister) Line(u *webrtc.User) exporter.Line {
	c := *u
	return appLine{Record: webrtc.NewRecord(c), u: &c}
}

type appLine struct {
	webrtc.Record
	u *webrtc.User
}

// appUsers keeps the listed users.
type appUsers struct {
	users   []*webrtc.User
	unnamed int // users without a user_id: they cannot be matched or deleted
}

func (s *appUsers) WriteLine(l exporter.Line) error {
	u := l.(appLine).u
	if u.UserID == "" {
		s.unnamed++
		return nil
	}
	s.users = append(s.users, u)
	return nil
}

// webrtcMember is u as a plan sees it: name, phone, sip_enabled and
// updated_at are fingerprinted.
func webrtcMember(u *webrtc.User) *Member {
	m := &Member{ID: u.UserID, Who: webrtcWho(u.Name, u.UserID), User: u}
	if p := u.E164(); p != "" {
		m.Phones = []string{p}
	}
	m.Seen = NewSeen(map[string]string{"updated_at": u.UpdatedAt, "name": u.Name, "phone": u.E164(),
		"sip_enabled": boolText(u.SIPEnabled)})
	return m
}

func boolText(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// whyNoUpdate is every difference's reason on this target.
const whyNoUpdate = "the WebRTC app users API cannot change a user (it has no update)"

// Compare lists every difference as one the API cannot make.
func (w *WebRTC) Compare(wt *Want, m *Member, _ Settings) Comparison {
	p := wt.Person.(webrtc.Person)
	u := m.User.(*webrtc.User)
	var c Comparison
	if a, b := strings.Join(strings.Fields(p.Name), " "), strings.Join(strings.Fields(u.Name), " "); a != b {
		c.Differs = append(c.Differs, Change{Field: "name", Old: u.Name, New: p.Name, Why: whyNoUpdate})
	}
	if u.E164() != p.Phone {
		c.Differs = append(c.Differs, Change{Field: "phone", Old: u.E164(), New: p.Phone, Why: whyNoUpdate})
	}
	if u.SIPEnabled != nil && *u.SIPEnabled != p.SIPEnabled {
		c.Differs = append(c.Differs, Change{Field: "sip_enabled", Old: boolText(u.SIPEnabled),
			New: strconv.FormatBool(p.SIPEnabled), Why: whyNoUpdate})
	}
	return c
}

// Create creates the user with import's create-and-settle logic, through
// the app's adapter: user_id is the idempotency key, so a create whose
// answer was lost, that an earlier apply may have made, or that the app
// refuses as a duplicate, is settled by a GET of that user_id, never by a
// blind second POST.
func (w *WebRTC) Create(ctx context.Context, sw *halt.Switch, a *Action, mayExist bool) results.Line {
	n := a.New
	p := webrtc.Person{UserID: n.UserID, Name: n.Name, Phone: n.Phone, SIPEnabled: n.SIPEnabled == nil || *n.SIPEnabled}
	return w.im.CreateOne(ctx, sw, roster.Record{Row: a.N, Raw: a.Input}, w.tg.Person(p), mayExist)
}

// Offboarder is offboard's, through the app's adapter.
func (w *WebRTC) Offboarder(allowAdmins bool) *offboard.Offboarder {
	return offboard.NewFor(w.tg, w.pacer, offboard.Config{Workers: w.cfg.Workers, MaxAttempts: w.cfg.MaxAttempts,
		AllowAdmins: allowAdmins, Logger: w.cfg.Logger})
}

// Refresh re-reads the users by user_id, one GET each, concurrently (the
// API has no filter), through the app's adapter; or, when that takes no
// more requests, lists the app whole.
func (w *WebRTC) Refresh(ctx context.Context, sw *halt.Switch, actions []*Action, accountUsers int) (map[string]*Member, map[string]error, int, error) {
	pages := (accountUsers + webrtc.PreferredPageSize - 1) / webrtc.PreferredPageSize
	if len(actions) > max(pages, 1) {
		return refreshByListing(ctx, sw, w)
	}
	members := make([]offboard.Member, len(actions))
	for i, a := range actions {
		members[i] = webrtc.NewMember(&webrtc.User{UserID: a.UserID})
	}
	got, errs, n, err := w.tg.Reread(sw.Context(), members)
	switch {
	case resolve.IsAuth(err):
		return nil, nil, n, webrtc.ExplainAuth(err)
	case err != nil:
		return nil, nil, n, err
	}
	fresh := make(map[string]*Member, len(got))
	for id, m := range got {
		fresh[id] = webrtcMember(webrtc.UserOf(m))
	}
	return fresh, errs, n, nil
}

// Offboard is m as offboard describes an app user.
func (w *WebRTC) Offboard(m *Member) offboard.Member { return webrtc.NewMember(m.User.(*webrtc.User)) }

// Deleting is the user as the plan's record has it.
func (w *WebRTC) Deleting(a *Action) offboard.Member {
	f := a.Seen.Fields
	u := &webrtc.User{UserID: a.UserID, Name: f["name"], Phone: f["phone"]}
	return planned{Member: webrtc.NewMember(u), a: a, seen: func(now offboard.Member) *Seen {
		return webrtcMember(webrtc.UserOf(now)).Seen
	}}
}
