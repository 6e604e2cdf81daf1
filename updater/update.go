package updater

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// API is what updating needs from Exotel; *exotel.Client has it.
type API interface {
	resolve.API
	UpdateUser(ctx context.Context, id string, req exotel.UpdateUserRequest) (*exotel.User, error)
	UpdateDevice(ctx context.Context, userID string, deviceID int64, req exotel.UpdateDeviceRequest) (*exotel.Device, error)
}

// Pacer is the shared limiter's retry loop; *ratelimit.Limiter has it.
type Pacer = resolve.Pacer

// Config tunes a run.
type Config struct {
	Workers     int // concurrent requests; default engine.DefaultWorkers
	MaxAttempts int // per request, 429s included; default engine.DefaultMaxAttempts
	DryRun      bool
	Logger      *slog.Logger
	Progress    engine.Progress
}

// Updater runs updates. Create one with New.
type Updater struct {
	api   API
	pacer Pacer
	cfg   Config
	log   *slog.Logger
	res   *resolve.Resolver
}

// New returns an Updater.
func New(api API, pacer Pacer, cfg Config) *Updater {
	cfg.Workers = engine.Workers(cfg.Workers)
	cfg.MaxAttempts = engine.MaxAttempts(cfg.MaxAttempts)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Updater{api: api, pacer: pacer, cfg: cfg, log: cfg.Logger,
		res: resolve.New(api, pacer, resolve.Config{Workers: cfg.Workers, MaxAttempts: cfg.MaxAttempts, Logger: cfg.Logger})}
}

// OKStatuses are the statuses of rows that need no attention.
func OKStatuses() []results.Status {
	return []results.Status{results.Updated, results.Unchanged, results.WouldUpdate}
}

// job is a row with changes to send.
type job struct {
	rec     roster.Record
	old     []string // the results line's old values (OldColumns)
	user    *exotel.User
	req     exotel.UpdateUserRequest // nil fields are not sent
	device  *exotel.Device           // the device to re-number, or nil
	phone   string                   // its new contact_uri
	changes []string                 // for messages, user changes first
	nUser   int                      // how many of changes the user PUT makes
}

func (j *job) userChange() bool {
	return j.req.FirstName != nil || j.req.LastName != nil || j.req.Email != nil
}

// run holds one Run's shared state.
type run struct {
	u    *Updater
	plan *Plan
	// halt stops the run: its context ends lookups and backoffs, while
	// PUTs use the caller's ctx so one already sent can finish.
	halt    *halt.Switch
	lookups int // GETs spent finding the users
}

// Run finds every row's user, compares the row with the user's record and
// sends the changes (or, in a dry run, describes them), writing one line per
// row to out. Once sw flips lookups are abandoned, PUTs in flight finish,
// and the rest are skipped. The error is for the results file only;
// refused credentials end in Summary.Aborted.
func (up *Updater) Run(ctx context.Context, sw *halt.Switch, plan *Plan, out engine.Sink) (*engine.Summary, error) {
	r := &run{u: up, plan: plan, halt: sw}
	sum, err := engine.Run(ctx, sw, out, engine.Spec[*job]{
		Workers:  up.cfg.Workers,
		Total:    plan.Rows() - len(plan.kept),
		Settled:  plan.settled,
		OK:       OKStatuses(),
		Progress: up.cfg.Progress,
		Produce:  r.feed,
		Work:     r.apply,
		Skip:     func(j *job) results.Line { return skippedLine(j, 0, nil) },
	})
	sum.Lookups = r.lookups
	return sum, err
}

// feed looks every row's user up, records the rows that need no PUT (all of
// them in a dry run), then hands the others to the workers.
func (r *run) feed(ctx context.Context, feed *engine.Feed[*job]) error {
	plan := r.plan
	var idents []resolve.Ident
	for i, row := range plan.List.Rows {
		if plan.kept[row.Rec.Row] || plan.wants[i].nothing != "" {
			continue
		}
		if len(row.Problems) == 0 && len(plan.wants[i].problems) == 0 {
			w := plan.wants[i]
			idents = append(idents, row.Ident, resolve.Ident{Email: w.newEmail, Phone: w.newPhone})
		}
	}
	// Lookups are safe to abandon: ctx ends when the switch flips.
	ix, err := r.u.res.Lookup(ctx, idents)
	r.lookups = ix.Requests
	if err != nil {
		if resolve.IsAuth(err) {
			r.halt.Abort(exotel.ExplainAuth(err))
		}
		if exotel.IsMisconfiguration(err) {
			r.halt.Abort(exotel.ExplainMisconfiguration(err))
		}
		for i, row := range plan.List.Rows {
			if plan.kept[row.Rec.Row] {
				continue
			}
			if _, l := decide(row, plan.wants[i], nil, nil); l != nil {
				feed.Line(*l) // invalid: known without a lookup
				continue
			}
			feed.Line(results.Line{Row: row.Rec.Row, Status: results.Skipped, Input: row.Rec.Raw,
				Message: "not looked up: the run stopped first"})
		}
		return nil
	}

	claims := resolve.Claims{}
	var jobs []*job
	for i, row := range plan.List.Rows {
		if plan.kept[row.Rec.Row] {
			continue
		}
		j, line := decide(row, plan.wants[i], ix, claims)
		switch {
		case line != nil:
			if line.Extra != nil {
				line.Extra = r.old(row.Rec.Row, line.Extra)
			}
			feed.Line(*line)
		case r.u.cfg.DryRun:
			feed.Line(results.Line{Row: row.Rec.Row, Status: results.WouldUpdate, UserID: j.user.ID,
				DeviceID: deviceID(j), Message: "would send: " + describe(j.changes), Input: row.Rec.Raw,
				Extra: r.old(row.Rec.Row, oldValues(j.user))})
		default:
			j.old = r.old(row.Rec.Row, oldValues(j.user))
			jobs = append(jobs, j)
		}
	}
	for _, j := range jobs {
		feed.Send(j)
	}
	return nil
}

// old is the old values for row's line: those an earlier run recorded for
// it, when this run resumes one, else current (the user before this run's
// changes).
func (r *run) old(row int, current []string) []string {
	if prior, ok := r.plan.prior[row]; ok {
		return neutralized(prior)
	}
	return current
}

// oldValues are u's values that update may change, for the OldColumns,
// each made safe to open in a spreadsheet.
func oldValues(u *exotel.User) []string {
	phone := ""
	if d := firstTel(u); d != nil {
		phone = d.ContactURI
	}
	return neutralized([]string{u.FirstName, u.LastName, u.Email, phone})
}

// neutralized is cells made safe to open in a spreadsheet, except an E.164
// number, which stays as it is (as export writes it).
func neutralized(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = results.SafeCell(c, true)
	}
	return out
}

// decide compares a row with its user. It returns the job to send, or the
// row's final line. With a nil ix it only checks the row offline and
// returns neither for a valid row.
func decide(row resolve.Row, w want, ix *resolve.Index, claims resolve.Claims) (*job, *results.Line) {
	line := func(st results.Status, u *exotel.User, format string, args ...any) (*job, *results.Line) {
		l := &results.Line{Row: row.Rec.Row, Status: st, Message: fmt.Sprintf(format, args...), Input: row.Rec.Raw}
		if u != nil {
			l.Extra = oldValues(u)
			l.UserID = u.ID
			if d := u.PrimaryDevice(); d != nil {
				l.DeviceID = strconv.FormatInt(d.ID, 10)
			}
		}
		return nil, l
	}
	if w.nothing != "" {
		return line(results.Unchanged, nil, "%s", w.nothing)
	}
	if len(row.Problems) > 0 || len(w.problems) > 0 {
		probs := append(append([]roster.Problem(nil), row.Problems...), w.problems...)
		return line(results.Invalid, nil, "%s", resolve.Row{Problems: probs}.Message())
	}
	if ix == nil {
		return nil, nil // the lookups never ran
	}
	id := row.Ident
	primary := resolve.KeyUserID
	for _, k := range resolve.Keys() {
		if id.Value(k) != "" {
			primary = k
			break
		}
	}
	pv := id.Value(primary)
	var notes []string
	users, err := ix.Users(primary, pv)
	switch {
	case err != nil:
		return failedLookup(row, primary, pv, err)
	case len(users) > 1:
		return line(results.Ambiguous, nil, "%s %s matches %d users", primary, pv, len(users))
	case len(users) == 0:
		// A rerun after new_email/new_phone took effect: the row's user
		// now has the new value.
		users = movedTo(primary, w, ix)
		if len(users) != 1 {
			return line(results.NotFound, nil, "no user has %s %s%s", primary, pv, hint(id, primary, ix))
		}
		notes = append(notes, fmt.Sprintf("found by new_%s: no user has %s %s any more", primary, primary, pv))
	}
	u := users[0]

	// The other identifier columns: a value another user holds makes the
	// row ambiguous; with new_email/new_phone they only identify, and must
	// be the user's own.
	wantEmail, wantPhone := w.newEmail, w.newPhone
	for _, k := range []resolve.Key{resolve.KeyEmail, resolve.KeyPhone} {
		v := id.Value(k)
		if k == primary || v == "" {
			continue
		}
		onlyIdent := (k == resolve.KeyEmail && w.newEmail != "") || (k == resolve.KeyPhone && w.newPhone != "")
		others, err := ix.Users(k, v)
		if err != nil {
			return failedLookup(row, k, v, err)
		}
		mine := false
		for _, o := range others {
			if o.ID != u.ID {
				return line(results.Ambiguous, u, "%s %s is user %s but %s %s is user %s",
					primary, pv, resolve.IDAndName(u), k, v, resolve.IDAndName(o))
			}
			mine = true
		}
		switch {
		case onlyIdent && !mine:
			return line(results.Ambiguous, u, "%s %s is user %s, who does not have %s %s",
				primary, pv, resolve.IDAndName(u), k, v)
		case !onlyIdent && k == resolve.KeyEmail:
			wantEmail = v
		case !onlyIdent:
			wantPhone = v
		}
	}
	if first, dup := claims.Claim(u.ID, row.Rec.Row); dup {
		return line(results.Invalid, u, "%s", resolve.SameUserMessage(first))
	}
	// new_email and new_phone must not belong to someone else: the API
	// would refuse them (409) anyway.
	for _, nv := range []struct {
		k resolve.Key
		v string
	}{{resolve.KeyEmail, w.newEmail}, {resolve.KeyPhone, w.newPhone}} {
		if nv.v == "" {
			continue
		}
		others, err := ix.Users(nv.k, nv.v)
		if err != nil {
			return failedLookup(row, nv.k, nv.v, err)
		}
		for _, o := range others {
			if o.ID != u.ID {
				return line(results.Failed, u, "new %s %s already belongs to user %s", nv.k, nv.v, resolve.IDAndName(o))
			}
		}
	}

	j := &job{rec: row.Rec, user: u}
	if w.first != "" && w.first != u.FirstName {
		j.req.FirstName = &w.first
		j.changes = append(j.changes, fmt.Sprintf("first_name %s → %s", u.FirstName, w.first))
	}
	if w.last != "" && w.last != u.LastName {
		j.req.LastName = &w.last
		j.changes = append(j.changes, fmt.Sprintf("last_name %s → %s", u.LastName, w.last))
	}
	if wantEmail != "" {
		switch {
		case u.Email == "":
			e := wantEmail
			j.req.Email = &e
			j.changes = append(j.changes, EmailChange(wantEmail))
		case roster.EmailKey(u.Email) != roster.EmailKey(wantEmail):
			return line(results.Failed, u, "email cannot be changed once set (Exotel answers 400 1002): "+
				"the user has %s, the row asks for %s; nothing was sent", u.Email, wantEmail)
		}
	}
	j.nUser = len(j.changes)
	if wantPhone != "" && !u.HasContact(wantPhone) {
		if roster.IsSIPURI(wantPhone) {
			return line(results.Failed, u, "%s is a SIP address the user does not have; update changes phone numbers only; nothing was sent", wantPhone)
		}
		d := firstTel(u)
		if d == nil {
			return line(results.Failed, u, "the user has no phone (tel) device whose number could be changed to %s; nothing was sent", wantPhone)
		}
		j.device, j.phone = d, wantPhone
		j.changes = append(j.changes, PhoneChange(d.ContactURI, wantPhone))
	}
	if len(j.changes) == 0 {
		return line(results.Unchanged, u, "%s", strings.Join(append(notes, "nothing to change"), "; "))
	}
	return j, nil
}

// movedTo finds the user that has the row's new value for the identifying
// column, when the row has one.
func movedTo(primary resolve.Key, w want, ix *resolve.Index) []*exotel.User {
	v := ""
	switch primary {
	case resolve.KeyEmail:
		v = w.newEmail
	case resolve.KeyPhone:
		v = w.newPhone
	}
	if v == "" {
		return nil
	}
	users, err := ix.Users(primary, v)
	if err != nil {
		return nil
	}
	return users
}

// hint explains a row whose identifying email matches nobody while its
// phone names a user: an email is set for good, so that takes new_email.
func hint(id resolve.Ident, primary resolve.Key, ix *resolve.Index) string {
	if primary != resolve.KeyEmail || id.Phone == "" {
		return ""
	}
	users, err := ix.Users(resolve.KeyPhone, id.Phone)
	if err != nil || len(users) != 1 {
		return ""
	}
	return fmt.Sprintf(" (phone %s is user %s; the email column identifies the row: to set this email on that user, put it in a new_email column)",
		id.Phone, resolve.IDAndName(users[0]))
}

func failedLookup(row resolve.Row, k resolve.Key, v string, err error) (*job, *results.Line) {
	l := &results.Line{Row: row.Rec.Row, Status: results.Failed, Input: row.Rec.Raw,
		Message: fmt.Sprintf("could not look up %s %s: %v", k, v, err)}
	if ae := exotel.AsAPIError(err); ae != nil {
		l.HTTPStatus, l.ErrorCode = ae.HTTPStatus, ae.Code
	}
	return nil, l
}

// firstTel is the user's first phone device: the one whose number update
// changes.
func firstTel(u *exotel.User) *exotel.Device {
	for i := range u.Devices {
		if u.Devices[i].Type == "tel" || (u.Devices[i].Type == "" && !roster.IsSIPURI(u.Devices[i].ContactURI)) {
			return &u.Devices[i]
		}
	}
	return nil
}

func deviceID(j *job) string {
	if j.device != nil {
		return strconv.FormatInt(j.device.ID, 10)
	}
	if d := j.user.PrimaryDevice(); d != nil {
		return strconv.FormatInt(d.ID, 10)
	}
	return ""
}

// apply sends a row's changes: the user PUT, then the device PUT. Both are
// safe to repeat, except that a repeat can be refused because the first
// attempt already took effect (an email is then set: 400 1002; a number is
// then taken: 409 1021); after a lost answer such a refusal is checked with
// a GET before the row is called failed.
func (r *run) apply(ctx context.Context, j *job) results.Line {
	attempts := 0
	var done []string
	if j.userChange() {
		n, err := r.put(ctx, func() error {
			_, err := r.u.api.UpdateUser(ctx, j.user.ID, j.req)
			return err
		}, func(u *exotel.User) bool { return userApplied(u, j.req) }, j.user.ID, exotel.CodeEmailNotUpdatable)
		attempts += n
		if err != nil {
			return r.failedLine(j, attempts, nil, err)
		}
		done = append(done, j.changes[:j.nUser]...)
	}
	if j.device != nil {
		if r.halt.Stopping() {
			return skippedLine(j, attempts, done)
		}
		phone := j.phone
		n, err := r.put(ctx, func() error {
			_, err := r.u.api.UpdateDevice(ctx, j.user.ID, j.device.ID, exotel.UpdateDeviceRequest{ContactURI: &phone})
			return err
		}, func(u *exotel.User) bool { return u.HasContact(phone) }, j.user.ID, exotel.CodeDeviceExists)
		attempts += n
		if err != nil {
			return r.failedLine(j, attempts, done, err)
		}
	}
	return results.Line{Row: j.rec.Row, Status: results.Updated, UserID: j.user.ID, DeviceID: deviceID(j),
		HTTPStatus: 200, Attempts: attempts, Message: describe(j.changes), Input: j.rec.Raw, Extra: j.old}
}

// put sends one PUT with retries. When an attempt may have taken effect
// without our hearing of it and a later one is refused with code, applied
// decides from a fresh GET whether the change is in place after all.
func (r *run) put(ctx context.Context, send func() error, applied func(*exotel.User) bool, userID, code string) (int, error) {
	var mayHave bool
	n, err := r.u.pacer.Retry(r.halt.Context(), r.u.cfg.MaxAttempts, exotel.Classifier(r.u.api, r.u.cfg.MaxAttempts), func() error {
		err := send()
		mayHave = mayHave || exotel.MayHaveApplied(err)
		return err
	})
	if ae := exotel.AsAPIError(err); ae != nil && mayHave && ae.Code == code {
		var u *exotel.User
		_, gerr := r.u.pacer.Retry(r.halt.Context(), r.u.cfg.MaxAttempts, exotel.Classifier(r.u.api, r.u.cfg.MaxAttempts), func() error {
			var err error
			u, err = r.u.api.GetUser(ctx, userID, resolve.Fields()...)
			return err
		})
		if gerr == nil && applied(u) {
			return n, nil
		}
	}
	return n, err
}

func userApplied(u *exotel.User, req exotel.UpdateUserRequest) bool {
	return (req.FirstName == nil || u.FirstName == *req.FirstName) &&
		(req.LastName == nil || u.LastName == *req.LastName) &&
		(req.Email == nil || roster.EmailKey(u.Email) == roster.EmailKey(*req.Email))
}

// failedLine records a row whose PUT failed; done lists what did change.
func (r *run) failedLine(j *job, attempts int, done []string, err error) results.Line {
	if exotel.IsMisconfiguration(err) {
		r.halt.Abort(exotel.ExplainMisconfiguration(err))
		return skippedLine(j, attempts, done)
	}
	if exotel.StoppedBeforeDone(err, r.halt.Stopping()) {
		return skippedLine(j, attempts, done)
	}
	l := results.Line{Row: j.rec.Row, Status: results.Failed, UserID: j.user.ID, DeviceID: deviceID(j),
		Attempts: attempts, Input: j.rec.Raw, Extra: j.old}
	msg := err.Error()
	if ae := exotel.AsAPIError(err); ae != nil {
		l.HTTPStatus, l.ErrorCode = ae.HTTPStatus, ae.Code
		msg = ae.Message
		switch {
		case ae.Kind == exotel.KindAuth:
			r.halt.Abort(exotel.ExplainAuth(err))
			msg = "credentials refused; run stopped: " + msg
		case ae.Code == exotel.CodeEmailExists && j.req.Email != nil:
			msg = *j.req.Email + " is taken, by a current or a deleted user (Exotel never frees a deleted user's email): " + msg
		}
	}
	if len(done) > 0 {
		msg = "done: " + describe(done) + "; then failed: " + msg
	}
	l.Message = msg
	return l
}

func skippedLine(j *job, attempts int, done []string) results.Line {
	msg := "not sent: the run stopped first"
	if len(done) > 0 {
		msg = "stopped after: " + describe(done) + "; not sent: " + describe(j.changes[len(done):])
	} else if attempts > 0 {
		msg = "stopped while retrying; the change may or may not have been made"
	}
	return results.Line{Row: j.rec.Row, Status: results.Skipped, UserID: j.user.ID, DeviceID: deviceID(j),
		Attempts: attempts, Message: msg, Input: j.rec.Raw, Extra: j.old}
}
