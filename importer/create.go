package importer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// attempt tracks one row through its requests.
type attempt struct {
	j        job
	req      exotel.CreateUserRequest
	attempts int   // POSTs sent
	lastErr  error // the last POST's error
	// uncertain: a POST of ours got no answer after it was sent, so the
	// user may exist; it must be looked up before another POST.
	uncertain bool
	// ours: some earlier POST of this row may have created the user (a
	// lost answer or a 5xx), so a matching user found later is counted
	// as created by this run rather than pre-existing.
	ours  bool
	plusN int // +N suffix in use; 0 for the address as written
	notes []string
	// classify reports retries of POSTs that got no answer, once per
	// attempt number and outage (exotel.Client.Retrying).
	classify func(error) ratelimit.Verdict
}

// process creates one row's user and returns its results line.
func (r *run) process(ctx context.Context, j job) results.Line {
	a := &attempt{j: j, req: createRequest(j.person)}
	if j.mayExist {
		a.uncertain, a.ours = true, true
		a.notes = append(a.notes, "an earlier run may have created this user")
	}
	if j.person.SIPContact != "" && !j.restore {
		a.notes = append(a.notes, "SIP address "+j.person.SIPContact+" not sent: Exotel creates SIP devices itself")
	}
	if j.checked {
		if j.found != nil {
			return r.settleFound(a, j.found)
		}
		a.uncertain = false // looked up already: nobody has it
	}
	if a.uncertain && !canLookUp(a) && !r.im.cfg.RetryUnverifiable {
		return r.failed(a, "an earlier run may have created this user (its answer was lost, or the run stopped "+
			"with the row in flight) and the row has neither email nor phone to check, so it was not sent "+
			"(check the dashboard, or rerun with --retry-unverifiable)")
	}
	for {
		if a.uncertain {
			if line, settled := r.checkBeforeRetry(ctx, a); settled {
				return line
			}
		}
		if a.attempts >= r.im.cfg.MaxAttempts {
			return r.failed(a, "gave up after %d attempts", a.attempts)
		}
		phoneless := a.req.DeviceContactURI == ""
		if phoneless {
			switch by, err := r.phones.enter(r.halt.Context()); {
			case err != nil:
				return r.interrupted(a)
			case by != 0:
				return r.phoneRequired(a, by)
			}
		}
		u, err := r.im.api.CreateUser(ctx, a.req)
		if phoneless && r.phones.leave(a.j.rec.Row, err) && r.im.cfg.PhoneRequired != nil {
			r.im.cfg.PhoneRequired(a.j.rec.Row)
		}
		if ratelimit.WasNotSent(err) {
			return r.interrupted(a) // the stopped limiter kept it back
		}
		a.attempts++
		if err == nil {
			return r.createdLine(a, u, results.Created)
		}
		a.lastErr = err
		if line, done := r.handleCreateError(ctx, a, err); done {
			return line
		}
	}
}

// handleCreateError decides what follows a failed POST: a final line, or
// (done false) another attempt.
func (r *run) handleCreateError(ctx context.Context, a *attempt, err error) (results.Line, bool) {
	if exotel.IsMisconfiguration(err) {
		// The first request met what waiting cannot fix: stop the run.
		r.halt.Abort(exotel.ExplainMisconfiguration(err))
		return r.interrupted(a), true
	}
	if a.classify == nil {
		a.classify = exotel.Classifier(r.im.api, r.im.cfg.MaxAttempts)
	}
	a.classify(err) // reports a retried request that got no answer
	if exotel.MayHaveApplied(err) {
		a.ours = true // a 5xx or a lost answer may still have created the user
	}
	switch exotel.KindOf(err) {
	case exotel.KindThrottled:
		return results.Line{}, false // the shared limiter holds everyone
	case exotel.KindAuth:
		r.halt.Abort(exotel.ExplainAuth(err))
		return r.failed(a, "credentials refused; run stopped"), true
	case exotel.KindConflict:
		return r.resolveConflict(ctx, a, err)
	case exotel.KindServer:
	case exotel.KindTransport:
		if exotel.IsAmbiguous(err) {
			if !canLookUp(a) && !r.im.cfg.RetryUnverifiable {
				a.uncertain = true
				return r.failed(a, "no answer after the request was sent, so the user may have been created; "+
					"the row has neither email nor phone to check, so it was not sent again "+
					"(check the dashboard, or rerun with --retry-unverifiable)"), true
			}
			a.uncertain = canLookUp(a)
		}
		if ctx.Err() != nil {
			return r.interrupted(a), true
		}
	default:
		// 400 and other refusals: sending the same row again will not
		// help.
		if isPhoneRequired(err) && a.req.DeviceContactURI == "" {
			a.notes = append(a.notes, "this account needs a phone number for every user: "+
				"the other rows without one are skipped, not sent (find them offline with validate --require-phone)")
		}
		return r.failed(a, ""), true
	}
	if a.attempts >= r.im.cfg.MaxAttempts {
		return r.failed(a, "gave up after %d attempts", a.attempts), true
	}
	if err := r.im.pacer.Backoff(r.halt.Context(), a.attempts); err != nil {
		return r.interrupted(a), true
	}
	return results.Line{}, false
}

// phoneRequired records a row without a phone that is not sent because the
// account refused one like it (row by): it would be refused too, and each
// refusal spends a request of the shared rate limit.
func (r *run) phoneRequired(a *attempt, by int) results.Line {
	msg := fmt.Sprintf("not sent: the row has no phone number, and this account needs one for every user "+
		"(Exotel refused row %d without one: 400 %s); add a phone and import again", by, exotel.CodeContactURIRequired)
	if a.j.person.SIPContact != "" {
		msg = fmt.Sprintf("not sent: the row has a SIP address but no phone number, and this account needs one for every user "+
			"(Exotel refused row %d without one: 400 %s); add a phone and import again", by, exotel.CodeContactURIRequired)
	}
	return results.Line{Row: a.j.rec.Row, Status: results.Skipped, Attempts: a.attempts, Message: msg, Input: a.j.rec.Raw}
}

// checkBeforeRetry looks the row's user up after a POST whose answer was
// lost. settled is true when the lookup decided the row.
func (r *run) checkBeforeRetry(ctx context.Context, a *attempt) (results.Line, bool) {
	u, err := r.findOne(a.req.Email, a.j.person.Phone)
	if err != nil {
		if r.stoppedBy(ctx, err) {
			return r.interrupted(a), true
		}
		if exotel.KindOf(err) == exotel.KindAuth {
			r.halt.Abort(exotel.ExplainAuth(err))
			return r.failed(a, "credentials refused; run stopped"), true
		}
		return r.failed(a, "could not check whether the user exists after a lost answer (%v); not sent again", err), true
	}
	a.uncertain = false
	if u == nil {
		return results.Line{}, false // nobody has it: safe to POST
	}
	return r.settleFound(a, u), true
}

// settleFound decides a row whose user a lookup found.
func (r *run) settleFound(a *attempt, u *exotel.User) results.Line {
	if why := mismatch(u, a.j.person, a.req.Email); why != "" {
		return r.failed(a, "%s already belongs to another user (%s %s, id %s): %s",
			identity(a), u.FirstName, u.LastName, u.ID, why)
	}
	status := results.Exists
	if a.ours {
		status = results.Created
		a.notes = append(a.notes, "confirmed by lookup after an answer was lost")
	}
	return r.createdLine(a, u, status)
}

// resolveConflict handles 409: the email (1022) or device (1021) exists.
func (r *run) resolveConflict(ctx context.Context, a *attempt, conflict error) (results.Line, bool) {
	ae := &exotel.APIError{}
	errors.As(conflict, &ae)
	email, phone := a.req.Email, a.j.person.Phone
	switch ae.Code {
	case exotel.CodeEmailExists:
		phone = ""
	case exotel.CodeDeviceExists:
		email = ""
	}
	u, err := r.findOne(email, phone)
	if err != nil {
		if r.stoppedBy(ctx, err) {
			return r.interrupted(a), true
		}
		return r.failed(a, "conflict, and the lookup of the existing user failed: %v", err), true
	}
	if u != nil {
		return r.settleFound(a, u), true
	}
	if ae.Code == exotel.CodeEmailExists && email != "" {
		return r.emailOfDeletedUser(a)
	}
	return r.failed(a, "conflict, but no current user has this row's %s", identity(a)), true
}

// emailOfDeletedUser handles 409 1022 for an address no current user holds:
// a deleted user's, which Exotel never frees.
func (r *run) emailOfDeletedUser(a *attempt) (results.Line, bool) {
	if r.im.cfg.OnEmailTaken != EmailTakenPlus {
		return r.failed(a, "%s belonged to a deleted user and Exotel never frees it; "+
			"rerun with --on-email-taken=plus to use %s", a.req.Email, plusAddress(a.j.person.Email, 1)), true
	}
	if a.plusN >= r.im.cfg.PlusLimit {
		return r.failed(a, "%s through +%d are all taken by deleted users", a.j.person.Email, a.plusN), true
	}
	a.plusN++
	a.req.Email = plusAddress(a.j.person.Email, a.plusN)
	return results.Line{}, false
}

// plusAddress returns local+n@domain.
func plusAddress(email string, n int) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return email
	}
	return email[:at] + "+" + strconv.Itoa(n) + email[at:]
}

// stoppedBy reports whether err came from the run stopping (Ctrl-C, an
// abort, or ctx ending) rather than from the request itself.
func (r *run) stoppedBy(ctx context.Context, err error) bool {
	return ratelimit.WasNotSent(err) || r.halt.Stopping() || ctx.Err() != nil
}

func canLookUp(a *attempt) bool { return a.req.Email != "" || a.j.person.Phone != "" }

func identity(a *attempt) string {
	switch {
	case a.req.Email != "" && a.j.person.Phone != "":
		return "email " + a.req.Email + " or phone " + a.j.person.Phone
	case a.req.Email != "":
		return "email " + a.req.Email
	case a.j.person.Phone != "":
		return "phone " + a.j.person.Phone
	}
	return "identity"
}

// mismatch explains why u is not the person the row describes, or returns
// "" when it is: same names (ignoring case and spacing), same email, and the
// row's phone among u's devices.
func mismatch(u *exotel.User, p roster.Person, email string) string {
	var diffs []string
	if !sameName(u.FirstName, p.FirstName) || !sameName(u.LastName, p.LastName) {
		diffs = append(diffs, fmt.Sprintf("names differ (roster: %s %s)", p.FirstName, p.LastName))
	}
	if email != "" && roster.EmailKey(u.Email) != roster.EmailKey(email) {
		diffs = append(diffs, "email differs ("+orNone(u.Email)+" on Exotel)")
	}
	if p.Phone != "" && !u.HasContact(p.Phone) {
		diffs = append(diffs, "phone "+p.Phone+" is not among its devices")
	}
	return strings.Join(diffs, "; ")
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// notRestored says, for a user re-created from exoroster's own export or
// backup, which of its devices did not come back: a first device that is
// SIP (Exotel creates SIP devices itself, not through the API) and the
// devices after the first (the API creates a user with one device). So a
// restored user is never reported as a plain created.
func notRestored(j job) string {
	var lost []string
	if j.person.SIPContact != "" {
		lost = append(lost, j.person.SIPContact)
	}
	if j.extra != "" {
		lost = append(lost, strings.Split(j.extra, ";")...)
	}
	if !j.restore || len(lost) == 0 {
		return ""
	}
	why := "the API creates a user with one phone device; add the others on the dashboard"
	if j.person.SIPContact != "" {
		why = "the first was a SIP device, which Exotel creates itself, and the API creates a user with at most one phone device"
	}
	return fmt.Sprintf("not restored: %d of the user's devices (%s): %s", len(lost), why, strings.Join(lost, ", "))
}

func createRequest(p roster.Person) exotel.CreateUserRequest {
	return exotel.CreateUserRequest{
		FirstName:        p.FirstName,
		LastName:         p.LastName,
		Email:            p.Email,
		DeviceContactURI: p.Phone,
		Role:             p.Role,
		DeviceName:       p.DeviceName,
	}
}

// createdLine records a created or existing user.
func (r *run) createdLine(a *attempt, u *exotel.User, status results.Status) results.Line {
	if a.plusN > 0 {
		a.notes = append(a.notes, fmt.Sprintf("email used: %s (%s belonged to a deleted user)", a.req.Email, a.j.person.Email))
	}
	if status == results.Exists && u.Role != "" && u.Role != a.req.Role {
		a.notes = append(a.notes, "role on Exotel is "+u.Role+", roster says "+a.req.Role)
	}
	if n := notRestored(a.j); n != "" && status == results.Created {
		a.notes = append(a.notes, n)
	}
	line := results.Line{Row: a.j.rec.Row, Status: status, UserID: u.ID, Attempts: a.attempts,
		Message: strings.Join(a.notes, "; "), Input: a.j.rec.Raw}
	if d := deviceFor(u, a.j.person.Phone); d != nil {
		line.DeviceID = strconv.FormatInt(d.ID, 10)
	}
	if status == results.Created || status == results.Exists {
		line.HTTPStatus = 200
	}
	return line
}

func deviceFor(u *exotel.User, phone string) *exotel.Device {
	for i := range u.Devices {
		if phone != "" && u.Devices[i].ContactURI == phone {
			return &u.Devices[i]
		}
	}
	return u.PrimaryDevice()
}

// failed records a row that could not be created, with the last error's
// status and code. A row whose outcome is unknown keeps http_status empty so
// a resume knows to look it up.
func (r *run) failed(a *attempt, format string, args ...any) results.Line {
	line := results.Line{Row: a.j.rec.Row, Status: results.Failed, Attempts: a.attempts, Input: a.j.rec.Raw}
	var msgs []string
	if format != "" {
		msgs = append(msgs, fmt.Sprintf(format, args...))
	}
	var ae *exotel.APIError
	switch {
	case errors.As(a.lastErr, &ae):
		if !a.uncertain {
			line.HTTPStatus = ae.HTTPStatus
		}
		line.ErrorCode = ae.Code
		msgs = append(msgs, ae.Message)
	case a.lastErr != nil:
		msgs = append(msgs, a.lastErr.Error())
	}
	if a.uncertain {
		msgs = append(msgs, "the user may exist: a resume looks it up before creating")
	}
	line.Message = strings.Join(append(msgs, a.notes...), "; ")
	return line
}

// interrupted records a row the run stopped in the middle of. Unless an
// answer was lost, it keeps the last answer's status, which tells a resume
// that nothing was created.
func (r *run) interrupted(a *attempt) results.Line {
	why := ""
	if a.uncertain || (a.ours && a.attempts > 0) {
		why = "an answer was lost, so the user may exist: a resume looks it up before creating"
	}
	line := skippedLine(a.j, a.attempts, why)
	var ae *exotel.APIError
	if why == "" && errors.As(a.lastErr, &ae) {
		line.HTTPStatus, line.ErrorCode = ae.HTTPStatus, ae.Code
	}
	return line
}
