package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// ApplyConfig tunes an apply.
type ApplyConfig struct {
	Workers  int // concurrent requests; default engine.DefaultWorkers
	Progress engine.Progress
	// Backup is the file deleted users' records are appended to, and
	// synced, before each batch's DELETEs.
	Backup string
	// LockAdmins takes the account's admin-delete lock, shared with
	// offboard (offboard.Guards.LockAdmins); nil: admin deletions are
	// serialised within this process only.
	LockAdmins func(ctx context.Context) (unlock func(), err error)
	// Prior is an earlier apply's results file of the same plan, for
	// --resume: actions it settled for good are not done again.
	Prior *results.Prior
}

// Layout is an apply results file's layout: the leading columns, the
// action and its roster row, a deleted user's record (as offboard writes
// it), then the roster's columns. Roster columns that import reads are
// renamed input_<name>, so importing the results file re-creates people
// from the records alone.
// header is the roster's, as read (Plan.Roster.Header).
func Layout(header []string, t Writer) results.Layout {
	extra := append([]string{"action", "roster_row"}, t.Offboarder(false).SnapshotColumns()...)
	in := make([]string, len(header))
	for i, name := range header {
		in[i] = name
		if _, ok := roster.FieldForHeader(name); ok {
			in[i] = "input_" + strings.TrimSpace(name)
		}
	}
	return results.Layout{Extra: extra, Input: in}
}

// OKStatuses are the apply statuses that need no attention: the writes
// done, and what the plan decided to leave alone (a protected user, a
// difference the API cannot make, a user --prune was not asked to delete).
func OKStatuses() []results.Status {
	return []results.Status{results.Created, results.Exists, results.Updated, results.Unchanged,
		results.Deleted, results.NotFound, StatusUnmanaged, results.Protected, StatusDiffers}
}

// doneStatus: a write an earlier apply settled for good.
func doneStatus(s results.Status) bool {
	return slices.Contains([]results.Status{results.Created, results.Exists, results.Updated, results.Deleted, results.NotFound}, s)
}

// KeepOnResume says which lines of an earlier apply a resumed one keeps:
// the writes it settled. Everything else is decided again.
func KeepOnResume(_ int, p results.PriorRow) bool { return doneStatus(p.Status) }

// AppliedOf is what the state file remembers of an applied plan.
func AppliedOf(p *Plan, at time.Time) Applied {
	return Applied{Roster: p.Roster.Path, SHA256: p.Roster.SHA256, Rows: p.Roster.Rows, At: at.UTC().Truncate(time.Second)}
}

// onCallAdvice ends the line of a user kept at deletion time because of a
// call: sync has no --include-on-call.
const onCallAdvice = "not deleted in this run; a later run deletes it"

// job is one write on its way to a worker.
type job struct {
	a        *Action
	m        *Member       // update: the user as re-read just now
	changes  []Change      // update: what is still to change
	mayExist bool          // create: an earlier apply may have made the user
	row      *offboard.Row // delete: checked by the deleter, holding the fresh record
}

// applyRun is one Apply's shared state.
type applyRun struct {
	t       Target
	p       *Plan
	cfg     ApplyConfig
	sw      *halt.Switch
	del     *offboard.Deleter
	off     *offboard.Offboarder
	lookups int // GETs of the re-reads before writing
}

// Apply carries out exactly p's actions and writes one line per action to
// out (row: the action's number). Creates go first, then updates and
// deletes, each through the command that owns it. Right before it changes
// or deletes users it reads them again, once each, 50 to a batch (Refresh):
// an update whose user moved since the plan is stale and left untouched;
// deletions take offboard's sequence (offboard.Deleter): a user that is
// gone, changed (stale), became an admin or is on a call is not deleted,
// the others' records are appended to cfg.Backup and synced before their
// DELETEs, and an admin goes only under the account's admin lock, after a
// fresh count of its admins. The caller has checked the plan (CheckApply).
// Once sw flips nothing new is sent and the rest are skipped; the error is
// run-level only (the results file, or a resume that belongs to another
// plan).
func Apply(ctx context.Context, sw *halt.Switch, t Target, p *Plan, out engine.Sink, cfg ApplyConfig) (*engine.Summary, error) {
	r := &applyRun{t: t, p: p, cfg: cfg, sw: sw, off: t.Offboarder(p.Settings.AllowAdmins)}
	r.del = r.off.NewDeleter(sw, offboard.Guards{Backup: cfg.Backup, LockAdmins: cfg.LockAdmins, OnCallAdvice: onCallAdvice})
	defer r.del.Close()
	settled := map[results.Status]int{}
	total := len(p.Actions)
	if cfg.Prior != nil {
		for row, pr := range cfg.Prior.Rows {
			if row <= len(p.Actions) && doneStatus(pr.Status) {
				total--
				settled[pr.Status]++
			}
		}
	}
	sum, err := engine.Run(ctx, sw, out, engine.Spec[*job]{
		Workers:  cfg.Workers,
		Total:    total,
		Settled:  settled,
		OK:       OKStatuses(),
		Progress: cfg.Progress,
		Produce:  r.feed,
		Work:     r.work,
		Skip:     r.skip,
	})
	sum.Lookups = r.lookups + r.del.Requests()
	return sum, err
}

func (r *applyRun) prior(n int) (results.PriorRow, bool) {
	if r.cfg.Prior == nil {
		return results.PriorRow{}, false
	}
	pr, ok := r.cfg.Prior.Rows[n]
	return pr, ok
}

// feed records the actions that need no request and hands the creates on;
// then, 50 users at a time (updates first, then deletions), it reads the
// users again, hands on the updates still to make and the deletions
// offboard's checks let through.
func (r *applyRun) feed(ctx context.Context, feed *engine.Feed[*job]) error {
	var creates, checks []*Action
	var deletes []*Action
	for _, a := range r.p.Actions {
		pr, seen := r.prior(a.N)
		if seen && pr.InputHash != results.InputHash(a.Input) {
			return fmt.Errorf("the results file's row %d was written for another plan: use a new --results file", a.N)
		}
		if seen && doneStatus(pr.Status) {
			continue // settled by the earlier apply; its line was kept
		}
		switch a.Kind {
		case Create:
			creates = append(creates, a)
		case Update:
			checks = append(checks, a)
		case Delete:
			deletes = append(deletes, a)
		default:
			feed.Line(r.settledLine(a))
		}
	}
	checks = append(checks, deletes...)

	for _, a := range creates {
		pr, seen := r.prior(a.N)
		// Resuming, a create the results do not mention may have been in
		// flight when the earlier apply died; one whose answer was lost
		// may have been carried out.
		mayExist := r.cfg.Prior != nil && (!seen || (pr.Attempts > 0 && pr.HTTPStatus == 0))
		feed.Send(&job{a: a, mayExist: mayExist})
	}
	for start := 0; start < len(checks); start += exotel.MaxPageSize {
		r.checkBatch(ctx, feed, checks[start:min(start+exotel.MaxPageSize, len(checks))])
	}
	return nil
}

// checkBatch reads up to 50 users to update or delete again, once each,
// right before their writes: an update whose user moved since the plan is
// stale and untouched; deletions are judged by offboard (Deleter.Check).
func (r *applyRun) checkBatch(ctx context.Context, feed *engine.Feed[*job], batch []*Action) {
	var updates, deletes []*Action
	for _, a := range batch {
		if a.Kind == Delete {
			deletes = append(deletes, a)
		} else {
			updates = append(updates, a)
		}
	}
	rows := make([]*offboard.Row, len(deletes))
	byRow := make(map[*offboard.Row]*Action, len(deletes))
	for i, a := range deletes {
		rows[i] = r.off.Row(roster.Record{Row: a.N, Raw: a.Input}, r.t.Deleting(a))
		byRow[rows[i]] = a
	}
	skipAll := func() {
		for _, a := range updates {
			feed.Send(&job{a: a}) // records the skip: the switch has flipped
		}
		for _, row := range rows {
			feed.Line(r.decorateDelete(byRow[row], r.del.Skip(row)))
		}
	}
	if r.sw.Stopping() {
		skipAll()
		return
	}
	fresh, errs, n, err := r.t.Refresh(ctx, r.sw, batch, r.p.AccountUsers)
	r.lookups += n
	if err != nil {
		if !r.sw.Stopping() {
			r.sw.Abort(err)
		}
		skipAll()
		return
	}
	for _, a := range updates {
		if j := r.checkUpdate(feed, a, fresh[a.UserID], errs[a.UserID]); j != nil {
			feed.Send(j)
		}
	}
	offFresh, offFailed := map[string]offboard.Member{}, map[string]error{}
	for _, a := range deletes {
		if m := fresh[a.UserID]; m != nil {
			offFresh[a.UserID] = r.t.Offboard(m)
		} else if err := errs[a.UserID]; err != nil {
			offFailed[a.UserID] = err
		}
	}
	keep, lines := r.del.Check(rows, offFresh, offFailed)
	for _, l := range lines {
		feed.Line(r.decorateDelete(r.p.Actions[l.Row-1], l))
	}
	for _, row := range keep {
		feed.Send(&job{a: byRow[row], row: row})
	}
}

// checkUpdate compares an update's user, just read again (m; nil: gone),
// with the plan's record: it returns the update still to send, or records
// the action's line and returns nil.
func (r *applyRun) checkUpdate(feed *engine.Feed[*job], a *Action, m *Member, readErr error) *job {
	if _, ok := r.t.(Updater); !ok {
		feed.Line(r.line(a, results.Failed, "the "+r.p.Account.Target+" target cannot change a user: nothing was sent"))
		return nil
	}
	if readErr != nil && m == nil {
		feed.Line(r.line(a, results.Failed, fmt.Sprintf("could not re-read the user before it was changed (%v): not changed", readErr)))
		return nil
	}
	if m == nil {
		feed.Line(r.line(a, results.Stale, "the user no longer exists (deleted since the plan): nothing was sent; plan again"))
		return nil
	}
	diff := compareSeen(a, m)
	switch {
	case len(diff.stale) > 0:
		feed.Line(r.line(a, results.Stale, fmt.Sprintf("the user changed since the plan (%s): not changed; plan again",
			strings.Join(diff.stale, "; "))))
	case len(diff.remaining) == 0:
		l := r.line(a, results.Updated, "already in place, made by an earlier apply: "+changeList(a.Changes))
		l.HTTPStatus = 200
		feed.Line(l)
	default:
		return &job{a: a, m: m, changes: diff.remaining}
	}
	return nil
}

// seenDiff is how a re-read user compares with the plan's record.
type seenDiff struct {
	stale     []string // fields someone else changed
	remaining []Change // planned changes not yet in place
}

// compareSeen compares a's record as planned with m's now. A field that
// moved to the value the plan sets it to is ours (an earlier apply's);
// any other move makes the user stale, and so does a new date_updated when
// nothing of ours explains it.
func compareSeen(a *Action, m *Member) seenDiff {
	planned := map[string]Change{}
	for _, c := range a.Changes {
		planned[c.Field] = c
	}
	old, now := a.Seen.Fields, m.Seen.Fields
	keys := make([]string, 0, len(old)+len(now))
	for k := range old {
		keys = append(keys, k)
	}
	for k := range now {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var d seenDiff
	ours := false
	for _, k := range keys {
		if isDate(k) || sameField(k, old[k], now[k]) {
			continue
		}
		if c, ok := planned[k]; ok && sameField(k, now[k], c.New) {
			ours = true
			continue
		}
		d.stale = append(d.stale, k+" "+orNone(old[k])+" → "+orNone(now[k]))
	}
	for _, k := range keys {
		// A date the plan's listing did not give (the WebRTC list has no
		// updated_at) cannot be compared.
		if isDate(k) && old[k] != "" && len(d.stale) == 0 && !ours && old[k] != now[k] {
			d.stale = append(d.stale, k+" "+orNone(old[k])+" → "+orNone(now[k]))
		}
	}
	for _, c := range a.Changes {
		if !sameField(c.Field, now[c.Field], c.New) {
			d.remaining = append(d.remaining, c)
		}
	}
	return d
}

// isDate reports a record's last-changed date (ccm date_updated, webrtc
// updated_at): compareSeen looks at it last, once it knows whether a
// change of ours explains it.
func isDate(k string) bool { return k == "date_updated" || k == "updated_at" }

func sameField(k, a, b string) bool {
	if k == "email" {
		return roster.EmailKey(a) == roster.EmailKey(b)
	}
	return a == b
}

func changeList(cs []Change) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, "; ")
}

// work does one write through the target.
func (r *applyRun) work(ctx context.Context, j *job) results.Line {
	switch j.a.Kind {
	case Create:
		return r.decorate(j.a, r.t.Create(ctx, r.sw, j.a, j.mayExist))
	case Update:
		return r.decorate(j.a, r.t.(Updater).Update(ctx, r.sw, j.a, j.m, j.changes))
	}
	return r.decorateDelete(j.a, r.del.Delete(ctx, j.row))
}

// skip is the line of a job the run stopped before.
func (r *applyRun) skip(j *job) results.Line {
	if j.row != nil {
		return r.decorateDelete(j.a, r.del.Skip(j.row))
	}
	return r.line(j.a, results.Skipped, "not done: the run stopped first")
}

// decorate makes a target's line an apply line: the action's number and
// roster cells, and the action and roster row in front of the target's own
// extra columns (a deleted user's record).
func (r *applyRun) decorate(a *Action, l results.Line) results.Line {
	l.Row, l.Input = a.N, a.Input
	if l.UserID == "" {
		l.UserID = a.UserID
	}
	l.Extra = append([]string{string(a.Kind), rosterRow(a)}, l.Extra...)
	return l
}

// decorateDelete is decorate for a deletion's line. Resuming, a user gone
// whose earlier DELETE got no answer was deleted by that DELETE.
func (r *applyRun) decorateDelete(a *Action, l results.Line) results.Line {
	if pr, ok := r.prior(a.N); ok && l.Status == results.NotFound && pr.Attempts > 0 && pr.HTTPStatus == 0 {
		l.Status, l.HTTPStatus = results.Deleted, 200
		l.Message = "deleted by the earlier apply, whose answer was lost: the user is gone"
	}
	return r.decorate(a, l)
}

// line is a line apply writes itself.
func (r *applyRun) line(a *Action, st results.Status, msg string) results.Line {
	return results.Line{Row: a.N, Status: st, UserID: a.UserID, Message: msg, Input: a.Input,
		Extra: []string{string(a.Kind), rosterRow(a)}}
}

// settledLine is the line of an action that sends nothing.
func (r *applyRun) settledLine(a *Action) results.Line {
	st := map[Kind]results.Status{
		Unchanged: results.Unchanged, Unmanaged: StatusUnmanaged, Protected: results.Protected,
		Invalid: results.Invalid, Conflict: StatusConflict, Differs: StatusDiffers,
	}[a.Kind]
	msg := a.Reason
	if a.Kind == Unchanged {
		msg = "nothing to change"
	}
	return r.line(a, st, msg)
}

func rosterRow(a *Action) string {
	if a.Row == 0 {
		return ""
	}
	return strconv.Itoa(a.Row)
}
