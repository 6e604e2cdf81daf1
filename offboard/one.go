package offboard

import (
	"context"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// Deleter deletes users decided elsewhere by the sequence Run deletes
// with, for a command that runs its own engine and reads the users again
// itself (sync's apply, whose one re-read serves its updates too): Check
// judges a batch on the records read right before and backs the rest up,
// Delete sends one. Its methods are safe for concurrent use; Close it when
// the deletions end.
type Deleter struct {
	r *run
}

// NewDeleter returns a Deleter under sw. Of g it uses Backup (written and
// synced before a batch's DELETEs), LockAdmins and OnCallAdvice; the
// Offboarder's Config says whether admins and users on a call may be
// deleted.
func (o *Offboarder) NewDeleter(sw *halt.Switch, g Guards) *Deleter {
	return &Deleter{r: &run{o: o, halt: sw, checks: &checks{g: g}}}
}

// Row is a row whose user m is to be deleted: rec is its line's row and
// input, m the user as the caller decided on it.
func (o *Offboarder) Row(rec roster.Record, m Member) *Row {
	return &Row{Rec: rec, Status: results.WouldDelete, Member: m, Message: "would delete " + m.Who(), columns: o.columns}
}

// Check judges up to 50 rows as Run does right before their DELETEs, on
// their users' records the caller has just read again (fresh by Member ID,
// a user absent from it gone; failed: those that could not be read): a row
// whose user is gone, changed (its Member's Changes), became an admin or is
// now on a call is settled with a line; the others' fresh records are
// appended to the backup and synced, and they are returned, holding those
// records, for Delete. A backup that cannot be written flips the switch
// and settles them as skipped.
func (d *Deleter) Check(batch []*Row, fresh map[string]Member, failed map[string]error) (keep []*Row, lines []results.Line) {
	if d.r.halt.Stopping() {
		for _, row := range batch {
			lines = append(lines, skipped(row, 0, false))
		}
		return nil, lines
	}
	return d.r.judge(batch, fresh, failed)
}

// Delete deletes one row Check returned: an admin only under the
// account's admin lock, after a fresh count of its admins; a repeat that
// answers 404 after a lost answer counts as deleted. The line carries the
// user's record (SnapshotColumns) in Extra.
func (d *Deleter) Delete(ctx context.Context, row *Row) results.Line {
	if row.member().Admin() {
		return d.r.deleteAdmin(ctx, row)
	}
	return d.r.deleteOne(ctx, row)
}

// Skip is the line of a row Check returned that the run stopped before.
func (d *Deleter) Skip(row *Row) results.Line { return skipped(row, 0, false) }

// Requests counts the GETs spent counting admins before their deletion.
func (d *Deleter) Requests() int { return int(d.r.checks.requests.Load()) }

// Close frees the admin lock, if a deletion took it.
func (d *Deleter) Close() { d.r.checks.release() }

// SnapshotColumns name, in a results line, the record of a user of o's
// target: its export's columns less user_id and device_id.
func (o *Offboarder) SnapshotColumns() []string { return snapshotColumns(o.columns) }

// CCMMember is u as offboard's CCM target describes a user.
func CCMMember(u *exotel.User) Member { return ccmUser{u} }

// UserOf is a CCM Member's record; nil for another target's.
func UserOf(m Member) *exotel.User {
	if c, ok := m.(ccmUser); ok {
		return c.u
	}
	return nil
}
