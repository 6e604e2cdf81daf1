package offboard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
)

// DefaultMaxDelete is --max-delete's default.
const DefaultMaxDelete = 50

// Confirmer asks whether the users of rows may be deleted. It returns an
// error when stop closes before an answer comes (an interrupt).
type Confirmer interface {
	Confirm(rows []*Row, stop <-chan struct{}) (bool, error)
}

// Guards stand between a decided plan and the first DELETE.
type Guards struct {
	// DryRun records who would be deleted and deletes nobody.
	DryRun bool
	// MaxDelete: more deletions than this delete nothing; default
	// DefaultMaxDelete.
	MaxDelete int
	// Confirm asks before anything is deleted; nil deletes without asking
	// (--yes).
	Confirm Confirmer
	// Backup is the file the records of the users to delete are appended
	// to, and synced, before the first DELETE.
	Backup string
	// Notes hears the sentences that explain a stop, and the rows a person
	// should see by name before anything is deleted (stderr); nil: none.
	Notes io.Writer
	// LockAdmins takes the account's admin lock, which every process
	// deleting an admin of the account holds while it does (see
	// runlock.Named): Run calls it before its first admin deletion and the
	// returned unlock when its deletions end. It may wait, until ctx ends.
	// nil: admin deletions are serialised within this process only.
	LockAdmins func(ctx context.Context) (unlock func(), err error)
	// Resume is the earlier run's results file being continued: rows it
	// settled (KeepOnResume) are neither looked up nor written again.
	Resume *results.Prior
	// OnCallAdvice is what a row kept at deletion time, because its user
	// is now on a call, says to do; "" for offboard's own (rerun later,
	// or --include-on-call).
	OnCallAdvice string
}

// Result is how an offboard run ended.
type Result struct {
	Plan    *Plan
	Summary *engine.Summary
	// Deleting: every guard passed and the DELETEs began.
	Deleting bool
	// Rechecks counts the GETs spent reading users again right before
	// deleting them and re-counting admins.
	Rechecks int
}

// ErrNotConfirmed is Summary.Aborted when the person asked did not confirm
// the deletion: nothing is wrong, and running again is how to go on.
var ErrNotConfirmed = errors.New("nothing was deleted: the confirmation was not given")

// Run offboards list: it decides every row (GETs only), then applies the
// guards in this order, each before any DELETE, and only then deletes:
//
//  1. a plan the run could not finish (credentials refused, an interrupt)
//     deletes nothing;
//  2. a dry run records would_delete and deletes nothing;
//  3. more deletions than MaxDelete delete nothing;
//  4. Confirm must answer yes;
//  5. in batches of up to 50, right before their DELETEs, the users are
//     read again: one that is gone, changed (stale), became an admin or is
//     now on a call is not deleted; the others' records are appended to
//     Backup and synced;
//  6. before each admin's DELETE, under the account's admin lock
//     (LockAdmins), the account's admins are counted again from a fresh
//     listing, and the last one is kept.
//
// Before the dry run's record and the confirmation, the rows a person
// should see (users on a call, admins, names that match only in part) are
// listed on Notes by name.
// Every row gets one line in out whatever happens. A guard that refuses
// aborts sw with the reason, which ends up in Summary.Aborted; an interrupt
// ends up in Summary.Interrupted. Summary.Elapsed spans both phases. The
// error is for out only.
func (o *Offboarder) Run(ctx context.Context, sw *halt.Switch, list *resolve.List, out engine.Sink, g Guards) (*Result, error) {
	start := time.Now()
	res, err := o.run(ctx, sw, list, out, g)
	res.Summary.Elapsed = time.Since(start)
	return res, err
}

func (o *Offboarder) run(ctx context.Context, sw *halt.Switch, list *resolve.List, out engine.Sink, g Guards) (*Result, error) {
	notes := g.Notes
	if notes == nil {
		notes = io.Discard
	}
	maxDelete := g.MaxDelete
	if maxDelete < 1 {
		maxDelete = DefaultMaxDelete
	}
	settled := map[results.Status]int{}
	if g.Resume != nil {
		list = withoutSettled(list, g.Resume, settled)
	}
	plan := o.Decide(sw, list)
	plan.Settled = settled
	res := &Result{Plan: plan}
	if plan.Aborted == nil && !plan.Interrupted {
		plan.WriteNotes(notes)
	}
	toDelete := plan.ToDelete()
	// keep writes the plan without deleting: rows to delete get status.
	keep := func(status results.Status, why string) (*Result, error) {
		var err error
		res.Summary, err = o.Record(ctx, sw, plan, out, status, why)
		return res, err
	}
	refuse := func(why string, cause error) (*Result, error) {
		sw.Abort(cause)
		return keep(results.Skipped, "not deleted: "+why)
	}

	switch {
	case plan.Aborted != nil:
		return keep(results.Skipped, "not deleted: the run stopped")
	case plan.Interrupted:
		fmt.Fprintln(notes, "Interrupted while looking users up; nothing was deleted.")
		return keep(results.Skipped, "not deleted: the run was interrupted")
	case g.DryRun:
		writeWouldDelete(notes, toDelete)
		if len(toDelete) > maxDelete {
			fmt.Fprintf(notes, "note: %d users would be deleted, more than --max-delete %d: a real run would delete nothing\n",
				len(toDelete), maxDelete)
		}
		return keep(results.WouldDelete, "")
	case len(toDelete) > maxDelete:
		why := fmt.Sprintf("%d users would be deleted, more than --max-delete %d, so nothing was deleted", len(toDelete), maxDelete)
		return refuse(why, errors.New(why+": raise --max-delete if that many is right"))
	case len(toDelete) > 0 && g.Confirm != nil:
		ok, err := g.Confirm.Confirm(toDelete, sw.Done())
		switch {
		case err != nil && !sw.Stopping():
			return refuse("the confirmation could not be read", fmt.Errorf("nothing was deleted: the confirmation could not be read: %w", err))
		case err != nil:
			fmt.Fprintln(notes)
			fmt.Fprintln(notes, "Interrupted; nothing was deleted.")
			return keep(results.Skipped, "not deleted: the run was interrupted")
		case !ok:
			return refuse("the deletion was not confirmed", ErrNotConfirmed)
		}
	}
	c := &checks{g: g}
	var err error
	res.Summary, err = o.finish(ctx, sw, plan, out, finishing{deleting: true, checks: c})
	c.release()
	res.Deleting = c.deleting.Load()
	res.Rechecks = int(c.requests.Load())
	return res, err
}

// withoutSettled is list without the rows an earlier run settled for good,
// whose statuses it counts into settled.
func withoutSettled(list *resolve.List, prior *results.Prior, settled map[results.Status]int) *resolve.List {
	out := &resolve.List{Name: list.Name, Header: list.Header}
	for _, lr := range list.Rows {
		if p, ok := prior.Rows[lr.Rec.Row]; ok && KeepOnResume(lr.Rec.Row, p) {
			settled[p.Status]++
			continue
		}
		out.Rows = append(out.Rows, lr)
	}
	return out
}
