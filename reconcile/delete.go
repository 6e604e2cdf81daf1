package reconcile

import (
	"strings"

	"github.com/exoroster/exoroster/offboard"
)

// planned is a user to delete as the plan saw it, as offboard's deletion
// sequence judges it: the user is stale when a field the plan fingerprinted
// moved since. A plan file holds the fingerprinted fields only, not the
// whole record, so the backup and the results line take the record read
// right before the DELETE.
type planned struct {
	offboard.Member // the target's own, made from the plan's record
	a               *Action
	// seen is a fresh record of the target as a plan sees it.
	seen func(offboard.Member) *Seen
}

func (p planned) Who() string { return p.a.Who }

// Admin is whether the plan saw an admin: a user promoted since is
// protected unless --allow-admins.
func (p planned) Admin() bool { return strings.EqualFold(p.a.Seen.Fields["role"], roleAdmin) }

// OnCall is none: the plan protected users on a call, and offboard judges
// the call on the fresh record.
func (p planned) OnCall() string { return "" }

// Changes names the fingerprinted fields that moved since the plan (a new
// date of last change among them, when nothing else explains it).
func (p planned) Changes(now offboard.Member) []string {
	return compareSeen(p.a, &Member{Seen: p.seen(now)}).stale
}

// Record is none: the plan did not keep the record, and a line written
// before the user is read again (gone, or unreadable) has no record to
// show.
func (p planned) Record() []string { return nil }

// DeviceID is none, for the same reason.
func (p planned) DeviceID() string { return "" }
