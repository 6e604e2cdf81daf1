package reconcile

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/webrtc"
)

// WebRTCAPI is what a WebRTC sync needs; *webrtc.Client has it.
type WebRTCAPI interface {
	CreateUser(ctx context.Context, req webrtc.CreateUserRequest) (*webrtc.User, error)
	GetUser(ctx context.Context, userID string) (*webrtc.User, error)
	DeleteUser(ctx context.Context, userID string) error
	ListPage(ctx context.Context, offset int) (*webrtc.Page, error)
}

// WebRTC is the WebRTC integrations app users API as a sync target. The
// API has no update: a user whose name, phone or sip_enabled differs from
// its row is reported as differs, never changed. Users are matched by the
// caller's user_id, which also settles a create whose answer was lost.
type WebRTC struct {
	api     WebRTCAPI
	pacer   Pacer
	account Account
	cfg     Config
}

// NewWebRTC returns the WebRTC target for acct (ID: customer-app). api and
// pacer may be nil for a target that only reads rosters and compares.
func NewWebRTC(api WebRTCAPI, pacer Pacer, acct Account, cfg Config) *WebRTC {
	cfg.Workers = engine.Workers(cfg.Workers)
	cfg.MaxAttempts = engine.MaxAttempts(cfg.MaxAttempts)
	acct.Target = "webrtc"
	return &WebRTC{api: api, pacer: pacer, account: acct, cfg: cfg}
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

// List walks the whole app, page by page.
func (w *WebRTC) List(_ context.Context, sw *halt.Switch) (*Listing, error) {
	l := &Listing{}
	total, unreadable := 0, 0
	err := webrtc.Walk(sw.Context(), w.fetch(&l.Requests), func(p *webrtc.Page) error {
		for i := range p.Users {
			u := p.Users[i]
			if u.UserID == "" {
				unreadable++ // cannot be matched, compared or deleted
				continue
			}
			l.Members = append(l.Members, webrtcMember(&u))
		}
		unreadable += p.Unreadable
		if p.HasTotal {
			total = p.Total
		}
		return nil
	})
	switch {
	case err != nil && sw.Stopping() && sw.Cause() == nil:
		return nil, ErrInterrupted
	case exotel.KindOf(err) == exotel.KindAuth:
		return nil, webrtc.ExplainAuth(err)
	case err != nil:
		return nil, fmt.Errorf("listing the app's users failed: %w", err)
	}
	if unreadable > 0 {
		l.Notes = append(l.Notes, fmt.Sprintf("%d app users came back without a readable user_id: they are neither compared nor deleted", unreadable))
	}
	if seen := len(l.Members) + unreadable; total > seen {
		return nil, fmt.Errorf("the app could not be listed whole (%d of the %d users it counts came back): a plan must see every user; try again", seen, total)
	}
	return l, nil
}

// fetch is one page under the shared limiter's retry loop.
func (w *WebRTC) fetch(requests *int) webrtc.PageFunc {
	return func(ctx context.Context, offset int) (*webrtc.Page, error) {
		var p *webrtc.Page
		n, err := w.pacer.Retry(ctx, w.cfg.MaxAttempts, exotel.RetryVerdict, func() error {
			var err error
			p, err = w.api.ListPage(ctx, offset)
			return err
		})
		*requests += n
		return p, err
	}
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

// Refresh re-reads the users: one GET each when that is cheaper than
// listing the app (the API has no filter), else a walk of the whole app.
func (w *WebRTC) Refresh(ctx context.Context, sw *halt.Switch, actions []*Action, accountUsers int) (map[string]*Member, map[string]error, int, error) {
	fresh, errs := map[string]*Member{}, map[string]error{}
	pages := (accountUsers + webrtc.PreferredPageSize - 1) / webrtc.PreferredPageSize
	if len(actions) > max(pages, 1) {
		l, err := w.List(ctx, sw)
		if err != nil {
			return nil, nil, 0, err
		}
		for _, m := range l.Members {
			fresh[m.ID] = m
		}
		return fresh, errs, l.Requests, nil
	}
	requests := 0
	for _, a := range actions {
		u, n, err := w.get(sw.Context(), a.UserID)
		requests += n
		switch {
		case err == nil:
			fresh[a.UserID] = webrtcMember(u)
		case exotel.KindOf(err) == exotel.KindNotFound:
		case exotel.KindOf(err) == exotel.KindAuth:
			return nil, nil, requests, webrtc.ExplainAuth(err)
		case resolve.IsRunLevel(err):
			return nil, nil, requests, err
		default:
			errs[a.UserID] = err
		}
	}
	return fresh, errs, requests, nil
}

// get fetches one user under the limiter; 404 is an answer, not retried.
func (w *WebRTC) get(ctx context.Context, id string) (*webrtc.User, int, error) {
	var u *webrtc.User
	n, err := w.pacer.Retry(ctx, w.cfg.MaxAttempts, notFoundStops, func() error {
		var err error
		u, err = w.api.GetUser(ctx, id)
		return err
	})
	return u, n, err
}

func notFoundStops(err error) ratelimit.Verdict {
	if exotel.KindOf(err) == exotel.KindNotFound {
		return ratelimit.Stop
	}
	return exotel.RetryVerdict(err)
}

// Create maps the user into the app. user_id is the idempotency key: a
// create whose answer was lost, or that an earlier apply may have made, or
// that the app calls a duplicate, is settled by a GET of that user_id,
// never by a blind second POST.
func (w *WebRTC) Create(ctx context.Context, sw *halt.Switch, a *Action, mayExist bool) results.Line {
	n := a.New
	sip := n.SIPEnabled == nil || *n.SIPEnabled
	p := webrtc.Person{UserID: n.UserID, Name: n.Name, Phone: n.Phone, SIPEnabled: sip}
	attempts := 0
	ours, check := mayExist, mayExist
	var lastErr error
	line := func(st results.Status, msg string) results.Line {
		l := results.Line{Status: st, UserID: p.UserID, Attempts: attempts, Message: msg}
		if st == results.Created || st == results.Exists {
			l.HTTPStatus = 200
		} else if ae := exotel.AsAPIError(lastErr); ae != nil && !check {
			l.HTTPStatus, l.ErrorCode = ae.HTTPStatus, ae.Code
		}
		return l
	}
	settle := func(u *webrtc.User) results.Line {
		if diffs := webrtc.Differences(p, *u); len(diffs) > 0 {
			return line(results.Failed, "user_id "+p.UserID+" already belongs to a different user: "+strings.Join(diffs, "; "))
		}
		if ours {
			return line(results.Created, "confirmed by a lookup after an answer was lost")
		}
		return line(results.Exists, "")
	}
	for {
		if check {
			u, _, err := w.get(sw.Context(), p.UserID)
			switch {
			case err == nil:
				return settle(u)
			case exotel.KindOf(err) == exotel.KindNotFound:
				check = false // nobody has it: safe to POST
			case ratelimit.WasNotSent(err) || sw.Stopping():
				return line(results.Skipped, "stopped before the create was settled; a resume looks the user up first")
			default:
				return line(results.Failed, fmt.Sprintf("could not check whether user_id %s exists (%v): not sent again", p.UserID, err))
			}
		}
		if attempts >= w.cfg.MaxAttempts {
			return line(results.Failed, fmt.Sprintf("gave up after %d attempts: %v", attempts, lastErr))
		}
		_, err := w.api.CreateUser(ctx, p.Request())
		if ratelimit.WasNotSent(err) {
			return line(results.Skipped, "not sent: the run stopped first")
		}
		attempts++
		if err == nil {
			return line(results.Created, "")
		}
		lastErr = err
		if exotel.MayHaveApplied(err) {
			ours, check = true, true
		}
		switch exotel.KindOf(err) {
		case exotel.KindThrottled:
			continue // the shared limiter holds everyone
		case exotel.KindAuth:
			sw.Abort(webrtc.ExplainAuth(err))
			return line(results.Failed, "credentials refused; run stopped")
		case exotel.KindConflict:
			check = true
			if attempts > 1 && !ours {
				return line(results.Failed, "the app says user_id "+p.UserID+" exists, but it cannot be found: "+err.Error())
			}
			continue
		case exotel.KindInvalid:
			// A duplicate may come as a 400 that does not say so: a GET
			// tells.
			if u, _, gerr := w.get(sw.Context(), p.UserID); gerr == nil {
				return settle(u)
			}
			return line(results.Failed, err.Error())
		case exotel.KindServer, exotel.KindTransport:
		default:
			return line(results.Failed, err.Error())
		}
		if err := w.pacer.Backoff(sw.Context(), attempts); err != nil {
			return line(results.Skipped, "stopped between attempts; a resume looks the user up first")
		}
	}
}

// Update is never planned on this target.
func (w *WebRTC) Update(_ context.Context, _ *halt.Switch, a *Action, _ *Member, _ []Change) results.Line {
	return results.Line{Status: results.Failed, UserID: a.UserID, Message: whyNoUpdate}
}

// Delete removes the user from the app. A repeat that answers 404 after a
// lost answer means our first DELETE went through.
func (w *WebRTC) Delete(ctx context.Context, sw *halt.Switch, a *Action, m *Member) results.Line {
	var mayHave bool
	attempts, err := w.pacer.Retry(sw.Context(), w.cfg.MaxAttempts, notFoundStops, func() error {
		err := w.api.DeleteUser(ctx, m.ID)
		mayHave = mayHave || exotel.MayHaveApplied(err)
		return err
	})
	l := results.Line{UserID: m.ID, Attempts: attempts, Extra: w.Snapshot(m)}
	if ae := exotel.AsAPIError(err); ae != nil {
		l.HTTPStatus, l.ErrorCode = ae.HTTPStatus, ae.Code
	}
	switch {
	case err == nil:
		l.Status, l.HTTPStatus, l.Message = results.Deleted, 200, "deleted "+m.Who
	case exotel.KindOf(err) == exotel.KindNotFound && mayHave:
		l.Status, l.Message = results.Deleted, "deleted "+m.Who+": an earlier attempt's answer was lost and the repeat answered 404"
	case exotel.KindOf(err) == exotel.KindNotFound:
		l.Status, l.Message = results.NotFound, "already gone: DELETE answered 404"
	case exotel.KindOf(err) == exotel.KindAuth:
		sw.Abort(webrtc.ExplainAuth(err))
		l.Status, l.Message = results.Failed, "credentials refused; run stopped"
	case ratelimit.WasNotSent(err), sw.Stopping() && exotel.RetryVerdict(err) != ratelimit.Stop:
		l.Status, l.Message = results.Skipped, "not deleted: the run stopped first"
		if mayHave {
			l.Message += "; an attempt's answer was lost, so the user may be gone: a resume checks"
			l.HTTPStatus = 0
		}
	default:
		l.Status, l.Message = results.Failed, err.Error()
		if mayHave {
			l.HTTPStatus = 0
			l.Message += "; the user may have been deleted anyway: a resume checks"
		}
	}
	return l
}

// Backup appends the records to path in the target's export format
// (which its import reads) and syncs the file.
func (w *WebRTC) Backup(path string, ms []*Member) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("cannot write the backup: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot write the backup: %w", err)
	}
	var buf strings.Builder
	cw := csv.NewWriter(&buf)
	if info.Size() == 0 {
		cw.Write(webrtc.Columns())
	} else {
		header, err := csv.NewReader(bufio.NewReader(io.NewSectionReader(f, 0, 1<<20))).Read()
		if err != nil || !slices.Equal(header, webrtc.Columns()) {
			return fmt.Errorf("%s exists and is not a webrtc backup: choose another --backup", path)
		}
	}
	for _, m := range ms {
		cw.Write(webrtc.NewRecord(*m.User.(*webrtc.User)).Cells())
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("cannot write the backup: %w", err)
	}
	if _, err := f.WriteString(buf.String()); err != nil {
		return fmt.Errorf("cannot write the backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cannot write the backup: %w", err)
	}
	return errors.Join(f.Close())
}

// SnapshotColumns are the export's columns less user_id, which the
// leading columns hold; its status is app_status there, beside the
// results' own status.
func (w *WebRTC) SnapshotColumns() []string {
	cols := slices.Clone(webrtc.Columns()[1:])
	for i, c := range cols {
		if slices.Contains(results.Columns(), c) {
			cols[i] = "app_" + c
		}
	}
	return cols
}

// Snapshot is m's export cells less user_id.
func (w *WebRTC) Snapshot(m *Member) []string {
	return webrtc.NewRecord(*m.User.(*webrtc.User)).Cells()[1:]
}
