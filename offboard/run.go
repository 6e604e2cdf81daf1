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
	// Notes hears the sentences that explain a stop (stderr); nil: none.
	Notes io.Writer
}

// Result is how an offboard run ended.
type Result struct {
	Plan    *Plan
	Summary *engine.Summary
	// Deleting: every guard passed and the DELETEs began.
	Deleting bool
}

// Run offboards list: it decides every row (GETs only), then applies the
// guards in this order, each before any DELETE, and only then deletes:
//
//  1. a plan the run could not finish (credentials refused, an interrupt)
//     deletes nothing;
//  2. a dry run records would_delete and deletes nothing;
//  3. more deletions than MaxDelete delete nothing;
//  4. Confirm must answer yes;
//  5. the users' records are appended to Backup and synced.
//
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
	plan := o.Decide(sw, list)
	res := &Result{Plan: plan}
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
			return refuse("the deletion was not confirmed", errors.New("nothing was deleted: the confirmation was not given"))
		}
	}
	if len(toDelete) > 0 {
		if err := writeBackup(g.Backup, o.columns, toDelete); err != nil {
			return refuse("the backup could not be written", err)
		}
	}
	res.Deleting = true
	var err error
	res.Summary, err = o.Delete(ctx, sw, plan, out)
	return res, err
}
