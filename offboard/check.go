package offboard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// checks is the state of a Run's deletions, which judge each user as they
// are at the moment of deletion rather than at the lookup: the batch's
// users are read again right before their DELETEs, and an admin's deletion
// re-counts the account's admins, one admin at a time, under the account's
// admin lock.
type checks struct {
	g Guards
	// deleting: a batch passed its checks and backup, so DELETEs began.
	deleting atomic.Bool
	// requests counts the GETs the checks spent.
	requests atomic.Int64

	// adminMu serialises admin deletions in this process: each re-counts
	// and deletes before the next re-counts. The admin lock (g.LockAdmins)
	// does the same across processes; it is taken at the first admin
	// deletion and held until the run's deletions end.
	adminMu      sync.Mutex
	unlockAdmins func()
	lockRefusal  string // why the admin lock could not be had; sticky
}

// release frees the admin lock, if it was taken.
func (c *checks) release() {
	c.adminMu.Lock()
	defer c.adminMu.Unlock()
	if c.unlockAdmins != nil {
		c.unlockAdmins()
		c.unlockAdmins = nil
	}
}

// feed hands the rows to delete to the workers in batches of up to 50, in
// input order, each batch checked first (checkBatch).
func (r *run) feedChecked(ctx context.Context, feed *engine.Feed[*Row], todo []*Row) {
	for start := 0; start < len(todo); start += exotel.MaxPageSize {
		batch := todo[start:min(start+exotel.MaxPageSize, len(todo))]
		if r.halt.Stopping() {
			for _, row := range batch {
				feed.Send(row) // records the skip
			}
			continue
		}
		keep, lines := r.checkBatch(ctx, batch)
		for _, l := range lines {
			feed.Line(l)
		}
		for _, row := range keep {
			feed.Send(row)
		}
	}
}

// checkBatch readies a batch of up to 50 rows to delete: their users are
// read again (at most one GET per 50 by email or phone, a GET by id for a
// user with neither or whose email or phone no longer finds them), then
// judged and backed up (judge). lines are the settled rows', and the
// skips of a batch the run stopped on.
func (r *run) checkBatch(ctx context.Context, batch []*Row) (keep []*Row, lines []results.Line) {
	members := make([]Member, len(batch))
	for i, row := range batch {
		members[i] = row.member()
	}
	fresh, failed, n, err := r.o.target.Reread(ctx, members)
	r.checks.requests.Add(int64(n))
	if err != nil {
		r.stopOn(err)
		for _, row := range batch {
			lines = append(lines, skippedWhy(row, "not deleted: the run stopped before the user was read again"))
		}
		return nil, lines
	}
	return r.judge(batch, fresh, failed)
}

// judge settles, with a line, each row of batch whose user is gone,
// changed since the lookup, or now on a call, on the records just read
// again (fresh by ID; failed: those that could not be read); the others'
// fresh records are appended to the backup and synced, and only then
// returned, to be deleted.
func (r *run) judge(batch []*Row, fresh map[string]Member, failed map[string]error) (keep []*Row, lines []results.Line) {
	c := r.checks
	for _, row := range batch {
		id := row.member().ID()
		if l, settled := r.settle(row, fresh[id], failed[id]); settled {
			lines = append(lines, l)
			continue
		}
		keep = append(keep, row)
	}
	if len(keep) > 0 && c.g.Backup != "" {
		if err := writeBackup(c.g.Backup, r.o.columns, keep); err != nil {
			r.halt.Abort(err)
			for _, row := range keep {
				lines = append(lines, skippedWhy(row, "not deleted: the backup could not be written"))
			}
			return nil, lines
		}
	}
	if len(keep) > 0 {
		c.deleting.Store(true)
	}
	return keep, lines
}

// stopOn stops the run for a run-level lookup error, with the sentence
// that explains it.
func (r *run) stopOn(err error) {
	switch {
	case resolve.IsAuth(err):
		r.halt.Abort(r.o.target.ExplainAuth(err))
	case exotel.IsMisconfiguration(err):
		r.halt.Abort(exotel.ExplainMisconfiguration(err))
	case r.halt.Stopping():
	default:
		r.halt.Abort(err)
	}
}

// settle decides a row on its user's fresh record f (nil: gone; lookupErr:
// it could not be read). It returns the row's final line, or settled false
// when the row may go ahead; then the row holds f.
func (r *run) settle(row *Row, f Member, lookupErr error) (l results.Line, settled bool) {
	was := row.member()
	final := func(st results.Status, msg string) (results.Line, bool) { return row.lineAs(st, msg), true }
	switch {
	case lookupErr != nil:
		row.Err = lookupErr
		return final(results.Failed, "not deleted: could not read the user again right before deleting: "+lookupErr.Error())
	case f == nil:
		return final(results.NotFound, "already gone: "+was.Who()+" was no longer in the account when read again before deleting")
	}
	row.setMember(f)
	changes := was.Changes(f)
	switch {
	case f.Admin() && !was.Admin() && !r.o.cfg.AllowAdmins:
		return final(results.Protected, "became an admin since it was looked up: not deleted without --allow-admins")
	case len(changes) > 0:
		return final(results.Stale, "not deleted: the user changed since it was looked up ("+strings.Join(changes, "; ")+
			"); rerun to decide on the current record")
	case f.OnCall() != "" && !r.o.cfg.IncludeOnCall:
		row.why = noteOnCall
		msg := onCallMessage(f.OnCall())
		if advice := r.checks.g.OnCallAdvice; advice != "" {
			msg = "on a call now (active_call " + f.OnCall() + "): " + advice
		}
		return final(results.Protected, msg)
	}
	return results.Line{}, false
}

// Changes lists what differs between two records of a user in what a
// deletion was decided on: names, email, role and devices (not logins,
// calls or availability, which change all day).
func Changes(was, now *exotel.User) []string {
	var out []string
	diff := func(what, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s %q → %q", what, a, b))
		}
	}
	diff("first_name", was.FirstName, now.FirstName)
	diff("last_name", was.LastName, now.LastName)
	if roster.EmailKey(was.Email) != roster.EmailKey(now.Email) {
		diff("email", was.Email, now.Email)
	}
	diff("role", was.Role, now.Role)
	diff("devices", devicesKey(was), devicesKey(now))
	return out
}

func devicesKey(u *exotel.User) string {
	parts := make([]string, len(u.Devices))
	for i, d := range u.Devices {
		parts[i] = fmt.Sprintf("%d %s", d.ID, d.ContactURI)
	}
	return strings.Join(parts, ", ")
}

// deleteAdmin deletes an admin's row under the admin lock, after counting
// the account's admins from a fresh listing of the whole account (one GET
// per 50 users): it refuses when the deletion would leave the account
// without an admin, or when this user changed since the batch was read.
// Admin deletions run one at a time, so each count sees the one before.
func (r *run) deleteAdmin(ctx context.Context, row *Row) results.Line {
	c := r.checks
	c.adminMu.Lock()
	defer c.adminMu.Unlock()
	if r.halt.Stopping() {
		return skipped(row, 0, false)
	}
	if why := r.lockAdmins(); why != "" {
		if r.halt.Stopping() {
			return skipped(row, 0, false)
		}
		return row.lineAs(results.Protected, "admin not deleted: "+why)
	}
	all, complete, n, err := r.o.target.Account(r.halt.Context())
	c.requests.Add(int64(n))
	switch {
	case resolve.IsRunLevel(err) || exotel.IsMisconfiguration(err):
		r.stopOn(err)
		if exotel.KindOf(err) == exotel.KindAuth {
			return row.lineAs(results.Failed, "credentials refused; run stopped: "+err.Error())
		}
		return skippedWhy(row, "not deleted: the run stopped while the account's admins were being counted")
	case err != nil || !complete:
		why := "could not list the whole account to count its admins right before deleting"
		if err != nil {
			why += " (" + err.Error() + ")"
		}
		return row.lineAs(results.Protected, "admin not deleted: "+why)
	}
	id := row.member().ID()
	var fresh Member
	admins := 0
	for _, m := range all {
		if m.ID() == id {
			fresh = m
		}
		if m.Admin() {
			admins++
		}
	}
	l, settled := r.settle(row, fresh, nil)
	if settled {
		return l
	}
	if admins <= 1 {
		return row.lineAs(results.Protected, fmt.Sprintf("would remove the last remaining admin of the account (counted again right before deleting: it has %d); "+
			"an account must keep one admin, so this row is kept even with --allow-admins", admins))
	}
	return r.deleteOne(ctx, row)
}

// lockAdmins takes the account's admin lock at the first admin deletion
// and keeps it; it returns why it could not, once and for every later
// admin. Called with adminMu held.
func (r *run) lockAdmins() string {
	c := r.checks
	if c.unlockAdmins != nil || c.g.LockAdmins == nil {
		return ""
	}
	if c.lockRefusal != "" {
		return c.lockRefusal
	}
	unlock, err := c.g.LockAdmins(r.halt.Context())
	if err != nil {
		if errors.Is(err, context.Canceled) || r.halt.Stopping() {
			return "the run stopped while waiting for the account's admin lock"
		}
		c.lockRefusal = err.Error()
		return c.lockRefusal
	}
	c.unlockAdmins = unlock
	return ""
}

// skippedWhy is the skipped line of a row to delete, with why.
func skippedWhy(row *Row, why string) results.Line {
	return row.lineAs(results.Skipped, why+": "+row.member().Who())
}
