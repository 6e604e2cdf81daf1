package offboard

import (
	"context"
	"slices"

	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
)

// Target is an API whose users offboard deletes. Offboard owns the run:
// deciding every row before anything is deleted, the guards, the DELETEs
// under the shared limiter, the results file and the backup. A Target
// answers only what depends on its API: who the rows name, how one user is
// deleted, and what a user's record looks like. The CCM Users API is built
// in (New); the webrtc package has the WebRTC integrations app users API's
// (use NewFor).
type Target interface {
	// Find looks up the users that the identifiers of the list's valid
	// rows name, with GETs only. The error is run-level only (credentials
	// refused, the run stopping: see resolve.IsRunLevel); a lookup that
	// fails otherwise fails the rows that need it, through Match. Found
	// is never nil, so its Requests can be reported.
	Find(ctx context.Context, idents []resolve.Ident) (Found, error)
	// Reread reads members again right before they are deleted: fresh
	// holds, by ID, those still in the account, failed the errors of
	// those that could not be read; requests counts the GETs sent. The
	// error is run-level only.
	Reread(ctx context.Context, members []Member) (fresh map[string]Member, failed map[string]error, requests int, err error)
	// Account lists the whole account, for counting its admins right
	// before an admin's deletion: complete is false when the listing
	// cannot prove it holds everyone.
	Account(ctx context.Context) (all []Member, complete bool, requests int, err error)
	// Delete deletes one user by Member.ID: nil, or an error of
	// exotel.KindNotFound when the user is gone.
	Delete(ctx context.Context, id string) error
	// Columns is the header of the target's export: the backup's, and,
	// less user_id and device_id, the results file's copy of each user.
	Columns() []string
	// Identifiers names what a row may find its user by, for messages:
	// "user_id, email and phone".
	Identifiers() string
	// ExplainAuth is the one sentence a run stops with when the API
	// refuses its credentials (an exotel.KindAuth error).
	ExplainAuth(err error) error
}

// Found is what a Find learnt.
type Found interface {
	// Match is the one user every identifier of id names, or why there is
	// none (not_found, ambiguous, failed).
	Match(id resolve.Ident) Match
	// Admins returns the ids of the account's current admins, listing the
	// whole account if it must. listed is false when it could not be
	// listed whole; an error that resolve.IsRunLevel stops the run.
	Admins(ctx context.Context) (ids map[string]bool, listed bool, err error)
	// Requests counts the GETs sent so far, retries included.
	Requests() int
	// Strategy names how the users were found, for the summary.
	Strategy() resolve.Strategy
}

// Match is the one user a row names, or why there is none.
type Match struct {
	User    Member
	Status  results.Status // when User is nil: not_found, ambiguous or failed
	Message string
	Err     error // a failed lookup's error, for http_status and error_code
}

// Member is a user a row names, as its target describes it.
type Member interface {
	ID() string       // what Delete takes
	DeviceID() string // for the results line; "" when the target has none
	Who() string      // for people: "First Last <email> (role)"
	IDAndName() string
	Name() string // the user's full name
	// Names are the user's first and last names, for the check against
	// the row's (a target with one name splits it as a roster does).
	Names() (first, last string)
	Admin() bool    // protected unless --allow-admins
	OnCall() string // the call the user is on; "" when none or unknown
	// Changes lists what differs between m and now, a fresh record of the
	// same user, in what a deletion is decided on.
	Changes(now Member) []string
	// Record is the user's export line: cells in Target.Columns order,
	// made safe for a spreadsheet.
	Record() []string
}

// snapshotColumns are the export's columns less user_id and device_id,
// which the results file's leading columns already hold; a column that
// would take a leading column's name (the WebRTC export's status) is called
// user_<name>.
func snapshotColumns(columns []string) []string {
	var out []string
	for _, c := range columns {
		switch {
		case c == "user_id" || c == "device_id":
		case slices.Contains(results.Columns(), c):
			out = append(out, "user_"+c)
		default:
			out = append(out, c)
		}
	}
	return out
}

// snapshot returns m's cells for snapshotColumns(columns).
func snapshot(columns []string, m Member) []string {
	if m == nil {
		return nil
	}
	cells := m.Record()
	out := make([]string, 0, len(cells))
	for i, c := range columns {
		if c != "user_id" && c != "device_id" && i < len(cells) {
			out = append(out, cells[i])
		}
	}
	return out
}
