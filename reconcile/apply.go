package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// ApplyConfig tunes an apply.
type ApplyConfig struct {
	Workers  int // concurrent requests; default engine.DefaultWorkers
	Progress engine.Progress
	// Backup is the file deleted users' records are appended to, and
	// synced, before the first DELETE.
	Backup string
	// Prior is an earlier apply's results file of the same plan, for
	// --resume: actions it settled for good are not done again.
	Prior *results.Prior
}

// Layout is an apply results file's layout: the leading columns, the
// action and its roster row, a deleted user's record, then the roster's
// columns. Roster columns that import reads are renamed input_<name>, so
// importing the results file re-creates people from the records alone.
func Layout(p *Plan, t Writer) results.Layout {
	extra := append([]string{"action", "roster_row"}, t.SnapshotColumns()...)
	in := make([]string, len(p.Roster.Header))
	for i, name := range p.Roster.Header {
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

// job is one write on its way to a worker.
type job struct {
	a        *Action
	m        *Member  // update, delete: the user as re-read just now
	changes  []Change // update: what is still to change
	mayExist bool     // create: an earlier apply may have made the user
}

// applyRun is one Apply's shared state.
type applyRun struct {
	t       Target
	p       *Plan
	cfg     ApplyConfig
	sw      *halt.Switch
	lookups int
}

// Apply carries out exactly p's actions and writes one line per action to
// out (row: the action's number). Before it changes or deletes a user it
// re-reads it (batched) and leaves it untouched, as stale, when its record
// moved since the plan; deleted users' records go to cfg.Backup, synced,
// before the first DELETE. Creates go first, then updates, then deletes.
// The caller has checked the plan (CheckApply). Once sw flips nothing new
// is sent and the rest are skipped; the error is run-level only (the
// results file, or a resume that belongs to another plan).
func Apply(ctx context.Context, sw *halt.Switch, t Target, p *Plan, out engine.Sink, cfg ApplyConfig) (*engine.Summary, error) {
	r := &applyRun{t: t, p: p, cfg: cfg, sw: sw}
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
		Skip:     func(j *job) results.Line { return r.line(j.a, j.m, results.Skipped, "not done: the run stopped first") },
	})
	sum.Lookups = r.lookups
	return sum, err
}

func (r *applyRun) prior(n int) (results.PriorRow, bool) {
	if r.cfg.Prior == nil {
		return results.PriorRow{}, false
	}
	pr, ok := r.cfg.Prior.Rows[n]
	return pr, ok
}

// feed records the actions that need no request, re-reads the users to
// change or delete, writes the backup, then hands the writes on.
func (r *applyRun) feed(ctx context.Context, feed *engine.Feed[*job]) error {
	var creates, checks []*Action
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
		case Update, Delete:
			checks = append(checks, a)
		default:
			feed.Line(r.settledLine(a))
		}
	}

	var jobs []*job
	for _, a := range creates {
		pr, seen := r.prior(a.N)
		// Resuming, a create the results do not mention may have been in
		// flight when the earlier apply died; one whose answer was lost
		// may have been carried out.
		mayExist := r.cfg.Prior != nil && (!seen || (pr.Attempts > 0 && pr.HTTPStatus == 0))
		jobs = append(jobs, &job{a: a, mayExist: mayExist})
	}
	if len(checks) > 0 {
		fresh, errs, n, err := r.t.Refresh(ctx, r.sw, checks, r.p.AccountUsers)
		r.lookups = n
		if err != nil {
			if !r.sw.Stopping() {
				r.sw.Abort(err)
			}
			for _, a := range checks {
				jobs = append(jobs, &job{a: a}) // recorded as skipped: the switch has flipped
			}
		} else {
			jobs = append(jobs, r.checkAll(feed, checks, fresh, errs)...)
		}
	}
	var doomed []*Member
	for _, j := range jobs {
		if j.a.Kind == Delete && j.m != nil {
			doomed = append(doomed, j.m)
		}
	}
	if len(doomed) > 0 && !r.sw.Stopping() {
		if err := r.t.Backup(r.cfg.Backup, doomed); err != nil {
			r.sw.Abort(fmt.Errorf("nothing was deleted: %w", err))
		}
	}
	for _, j := range jobs {
		feed.Send(j)
	}
	return nil
}

// checkAll compares each re-read user with the plan's record: a user that
// moved is stale and untouched. It returns the writes still to do, updates
// before deletes.
func (r *applyRun) checkAll(feed *engine.Feed[*job], checks []*Action, fresh map[string]*Member, errs map[string]error) []*job {
	var updates, deletes []*job
	for _, a := range checks {
		m := fresh[a.UserID]
		verb := "changed"
		if a.Kind == Delete {
			verb = "deleted"
		}
		if err := errs[a.UserID]; err != nil && m == nil {
			l := r.line(a, nil, results.Failed, fmt.Sprintf("could not re-read the user before it was %s (%v): not %s", verb, err, verb))
			feed.Line(l)
			continue
		}
		if m == nil {
			feed.Line(r.gone(a))
			continue
		}
		diff := compareSeen(a, m)
		switch {
		case len(diff.stale) > 0:
			feed.Line(r.line(a, m, Stale, fmt.Sprintf("the user changed since the plan (%s): not %s; plan again",
				strings.Join(diff.stale, "; "), verb)))
		case a.Kind == Delete && m.OnCall != "":
			feed.Line(r.line(a, m, results.Protected, "on a call now ("+m.OnCall+"): not deleted in this run; a later run deletes it"))
		case a.Kind == Delete:
			deletes = append(deletes, &job{a: a, m: m})
		case len(diff.remaining) == 0:
			l := r.line(a, m, results.Updated, "already in place, made by an earlier apply: "+changeList(a.Changes))
			l.HTTPStatus = 200
			feed.Line(l)
		default:
			updates = append(updates, &job{a: a, m: m, changes: diff.remaining})
		}
	}
	return append(updates, deletes...)
}

// gone is the line of a user the re-read did not find.
func (r *applyRun) gone(a *Action) results.Line {
	if a.Kind == Update {
		return r.line(a, nil, Stale, "the user no longer exists (deleted since the plan): nothing was sent; plan again")
	}
	if pr, ok := r.prior(a.N); ok && pr.Attempts > 0 && pr.HTTPStatus == 0 {
		l := r.line(a, nil, results.Deleted, "deleted by the earlier apply, whose answer was lost: the user is gone")
		l.HTTPStatus = 200
		return l
	}
	return r.line(a, nil, results.NotFound, "already gone: deleted since the plan")
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
	var l results.Line
	switch j.a.Kind {
	case Create:
		l = r.t.Create(ctx, r.sw, j.a, j.mayExist)
	case Update:
		l = r.t.Update(ctx, r.sw, j.a, j.m, j.changes)
	case Delete:
		l = r.t.Delete(ctx, r.sw, j.a, j.m)
	}
	return r.decorate(j.a, l)
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

// line is a line apply writes itself.
func (r *applyRun) line(a *Action, m *Member, st results.Status, msg string) results.Line {
	l := results.Line{Row: a.N, Status: st, UserID: a.UserID, Message: msg, Input: a.Input,
		Extra: []string{string(a.Kind), rosterRow(a)}}
	if m != nil && a.Kind == Delete {
		l.Extra = append(l.Extra, r.t.Snapshot(m)...)
	}
	return l
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
	return r.line(a, nil, st, msg)
}

func rosterRow(a *Action) string {
	if a.Row == 0 {
		return ""
	}
	return strconv.Itoa(a.Row)
}
