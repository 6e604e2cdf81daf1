package offboard

import (
	"context"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/results"
)

// DeleteOne deletes one decided row's user exactly as Delete does (retries
// under the limiter; a 404 after a lost answer counts as deleted), for a
// command that runs its own engine: sync's apply. The caller keeps the
// safety sequence: the backup is written and synced before the first call.
// The line carries the user's snapshot (SnapshotColumns) in Extra.
func (o *Offboarder) DeleteOne(ctx context.Context, sw *halt.Switch, row *Row) results.Line {
	return (&run{o: o, halt: sw}).deleteOne(ctx, row)
}

// Snapshot is u's cells for SnapshotColumns, as a results line carries
// them.
func Snapshot(u *exotel.User) []string { return snapshot(exporter.Columns(), ccmUser{u}) }
