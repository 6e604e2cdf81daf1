package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/results"
)

// attempt tracks one row through its requests.
type attempt struct {
	j        job
	attempts int   // creates sent
	lastErr  error // the last create's error
	// uncertain: a create of ours got no answer after it was sent, so the
	// user may exist; it must be looked up before another create.
	uncertain bool
	// ours: some earlier create of this row may have made the user (a
	// lost answer or a 5xx), so a matching user found later is counted
	// as created by this run rather than pre-existing.
	ours  bool
	notes []string
	// classify reports retries of creates that got no answer, once per
	// attempt number and outage (exotel.Client.Retrying).
	classify func(error) ratelimit.Verdict
}

// process creates one row's user and returns its results line.
func (r *run) process(ctx context.Context, j job) results.Line {
	a := &attempt{j: j}
	if j.mayExist {
		a.uncertain, a.ours = true, true
		a.notes = append(a.notes, "an earlier run may have created this user")
	}
	a.notes = append(a.notes, j.person.Notes()...)
	if j.checked {
		if j.found != nil {
			return r.settleFound(a, j.found)
		}
		a.uncertain = false // looked up already: nobody has it
	}
	if a.uncertain && !j.person.CanLookUp() && !r.im.cfg.RetryUnverifiable {
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
		phoneless := j.person.PhoneGated()
		if phoneless {
			switch by, err := r.phones.enter(r.halt.Context()); {
			case err != nil:
				return r.interrupted(a)
			case by != 0:
				return r.phoneRequired(a, by)
			}
		}
		u, err := j.person.Create(ctx)
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

// handleCreateError decides what follows a failed create: a final line, or
// (done false) another attempt.
func (r *run) handleCreateError(ctx context.Context, a *attempt, err error) (results.Line, bool) {
	if exotel.IsMisconfiguration(err) {
		// The first request met what waiting cannot fix: stop the run.
		r.halt.Abort(exotel.ExplainMisconfiguration(err))
		return r.interrupted(a), true
	}
	if a.classify == nil {
		a.classify = exotel.Classifier(r.im.target, r.im.cfg.MaxAttempts)
	}
	a.classify(err) // reports a retried request that got no answer
	if exotel.MayHaveApplied(err) {
		a.ours = true // a 5xx or a lost answer may still have created the user
	}
	switch exotel.KindOf(err) {
	case exotel.KindThrottled:
		return results.Line{}, false // the shared limiter holds everyone
	case exotel.KindAuth:
		r.halt.Abort(r.im.target.ExplainAuth(err))
		return r.failed(a, "credentials refused; run stopped"), true
	case exotel.KindConflict:
		return r.resolveConflict(ctx, a, err)
	case exotel.KindServer:
		// A 5xx may come after the user was made. A row with an email
		// or phone is settled by the 409 its next create draws; one with
		// neither would be made twice, so it gets the lost answer's rule.
		if !a.j.person.CanLookUp() && !r.im.cfg.RetryUnverifiable {
			a.uncertain = true
			return r.failed(a, "the API answered with a server error, so the user may have been created; "+
				"the row has neither email nor phone to check, so it was not sent again "+
				"(check the dashboard, or rerun with --retry-unverifiable)"), true
		}
	case exotel.KindTransport:
		if exotel.IsAmbiguous(err) {
			canLookUp := a.j.person.CanLookUp()
			if !canLookUp && !r.im.cfg.RetryUnverifiable {
				a.uncertain = true
				return r.failed(a, "no answer after the request was sent, so the user may have been created; "+
					"the row has neither email nor phone to check, so it was not sent again "+
					"(check the dashboard, or rerun with --retry-unverifiable)"), true
			}
			a.uncertain = canLookUp
		}
		if ctx.Err() != nil {
			return r.interrupted(a), true
		}
	default:
		// 400 and other refusals: sending the same row again will not
		// help.
		if isPhoneRequired(err) && a.j.person.PhoneGated() {
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
	if c, ok := a.j.person.(*ccmPerson); ok && c.p.SIPContact != "" {
		msg = fmt.Sprintf("not sent: the row has a SIP address but no phone number, and this account needs one for every user "+
			"(Exotel refused row %d without one: 400 %s); add a phone and import again", by, exotel.CodeContactURIRequired)
	}
	return results.Line{Row: a.j.rec.Row, Status: results.Skipped, Attempts: a.attempts, Message: msg, Input: a.j.rec.Raw}
}

// checkBeforeRetry looks the row's user up after a create whose answer was
// lost. settled is true when the lookup decided the row. Lookups are GETs,
// so they run under the run's stop context.
func (r *run) checkBeforeRetry(ctx context.Context, a *attempt) (results.Line, bool) {
	u, err := a.j.person.Find(r.halt.Context())
	if err != nil {
		if r.stoppedBy(ctx, err) {
			return r.interrupted(a), true
		}
		if exotel.KindOf(err) == exotel.KindAuth {
			r.halt.Abort(r.im.target.ExplainAuth(err))
			return r.failed(a, "credentials refused; run stopped"), true
		}
		return r.failed(a, "could not check whether the user exists after a lost answer (%v); not sent again", err), true
	}
	a.uncertain = false
	if u == nil {
		return results.Line{}, false // nobody has it: safe to create
	}
	return r.settleFound(a, u), true
}

// settleFound decides a row whose user a lookup found.
func (r *run) settleFound(a *attempt, u User) results.Line {
	if why := a.j.person.Mismatch(u); why != "" {
		return r.failed(a, "%s", why)
	}
	status := results.Exists
	if a.ours {
		status = results.Created
		a.notes = append(a.notes, "confirmed by lookup after an answer was lost")
	}
	return r.createdLine(a, u, status)
}

// resolveConflict handles a create refused as a duplicate: the Person finds
// who holds what the row asked for, or changes its request for another try.
func (r *run) resolveConflict(ctx context.Context, a *attempt, conflict error) (results.Line, bool) {
	u, retry, why, err := a.j.person.Conflict(r.halt.Context(), conflict)
	switch {
	case err != nil:
		if r.stoppedBy(ctx, err) {
			return r.interrupted(a), true
		}
		return r.failed(a, "conflict, and the lookup of the existing user failed: %v", err), true
	case u != nil:
		return r.settleFound(a, u), true
	case retry:
		return results.Line{}, false
	}
	return r.failed(a, "%s", why), true
}

// stoppedBy reports whether err came from the run stopping (Ctrl-C, an
// abort, or ctx ending) rather than from the request itself.
func (r *run) stoppedBy(ctx context.Context, err error) bool {
	return ratelimit.WasNotSent(err) || r.halt.Stopping() || ctx.Err() != nil
}

// createdLine records a created or existing user.
func (r *run) createdLine(a *attempt, u User, status results.Status) results.Line {
	userID, deviceID, notes := a.j.person.Settled(u, status)
	a.notes = append(a.notes, notes...)
	line := results.Line{Row: a.j.rec.Row, Status: status, UserID: userID, DeviceID: deviceID,
		Attempts: a.attempts, Message: strings.Join(a.notes, "; "), Input: a.j.rec.Raw}
	if status == results.Created || status == results.Exists {
		line.HTTPStatus = 200
	}
	return line
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
