package reconcile

import (
	"context"

	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// Target is one API a sync can manage: what planning needs (Planner) and
// what applying needs (Writer). CCM and WebRTC implement it.
type Target interface {
	Planner
	Writer
}

// Planner reads a target's roster rows, lists its account and compares.
type Planner interface {
	// Account is the account the target's client talks to.
	Account() Account
	// Matches lists the --match modes the target supports, its default
	// first.
	Matches() []Match
	// Scoped reports whether --scope means anything here (roles and
	// emails exist).
	Scoped() bool
	// CallerIDs reports whether user_id is the caller's own choice
	// (webrtc), so a row whose user_id names nobody is a new user rather
	// than a mistake.
	CallerIDs() bool
	// CheckHeader refuses, run-level, a roster the target cannot read.
	CheckHeader(h *roster.Header) error
	// NewChecker returns the row reader for a roster with header h.
	NewChecker(h *roster.Header, opts roster.Options) func(roster.Record) *Want
	// List reads the whole account. Its error is run-level; a listing
	// that may be missing users is an error too.
	List(ctx context.Context, sw *halt.Switch) (*Listing, error)
	// Compare says what making m match w takes.
	Compare(w *Want, m *Member, s Settings) Comparison
}

// Writer does an apply's writes through the commands that own them, for
// both targets alike: a create is importer's create-and-settle
// (importer.CreateOne, through the target's importer.Person), a deletion
// offboard's sequence (offboard.Deleter, through the target's
// offboard.Target). A target whose API changes users is an Updater too.
type Writer interface {
	// Refresh re-reads the users of actions (batched: at most one GET per
	// 50 users where the API allows; accountUsers is the plan's count of
	// the account, for choosing between lookups and a listing) and returns
	// them by id; a user missing from the map is gone. errs holds
	// per-user failures. The error is run-level, explained.
	Refresh(ctx context.Context, sw *halt.Switch, actions []*Action, accountUsers int) (fresh map[string]*Member, errs map[string]error, requests int, err error)
	// Create creates a's user; mayExist: an earlier apply may have.
	Create(ctx context.Context, sw *halt.Switch, a *Action, mayExist bool) results.Line
	// Offboarder deletes the target's users; allowAdmins is the plan's
	// --allow-admins.
	Offboarder(allowAdmins bool) *offboard.Offboarder
	// Deleting is a's user, to be deleted, as the plan saw it: offboard
	// judges its fresh record against it, and its Changes name the plan's
	// fingerprinted fields that moved since.
	Deleting(a *Action) offboard.Member
	// Offboard is m, as Refresh read it, as offboard's target describes it.
	Offboard(m *Member) offboard.Member
}

// Updater is a Writer whose API can change a user (CCM's; the WebRTC app
// users API has no update).
type Updater interface {
	// Update writes changes to m.
	Update(ctx context.Context, sw *halt.Switch, a *Action, m *Member, changes []Change) results.Line
}

// Member is one user of the account as a plan sees it, whatever the target.
type Member struct {
	ID     string
	Who    string   // for people: "First Last <email> (role)"
	Email  string   // "" when none (and on a target without emails)
	Phones []string // contact URIs: E.164 numbers or sip: URIs
	Role   string   // "" on a target without roles
	OnCall string   // active_call; "" when none or unknown
	Seen   *Seen    // the fingerprinted fields
	// User is the target's own record (*exotel.User, *webrtc.User).
	User any
}

// Listing is the whole account.
type Listing struct {
	Members  []*Member // in account order
	Requests int       // GETs spent, retries included
	Notes    []string  // warnings about the listing
}

// Want is one roster row as a target read it.
type Want struct {
	Rec roster.Record
	// Ident holds every identifier the row gives that parses, valid row
	// or not: what it is matched by, and which users it keeps from
	// deletion.
	Ident    resolve.Ident
	Problems []roster.Problem
	New      *NewUser // what a create sends; nil for an invalid row
	Who      string
	// Role and Email place a create in or out of --scope.
	Role, Email string
	// Person is the target's own reading of the row (roster.Person,
	// webrtc.Person), for Compare and Create.
	Person any
}

// Comparison is what making a user match a row takes.
type Comparison struct {
	Changes []Change // what the API can change
	Differs []Change // what differs and cannot be changed, each with Why
	// Conflict: the row cannot be this user's (an email set to another
	// value, which the API never changes).
	Conflict string
	// Protect: a guard keeps the user as it is (an admin's role).
	Protect string
}

// Statuses of apply's results lines that are plan actions of their own.
const (
	StatusConflict  results.Status = "conflict"
	StatusUnmanaged results.Status = "unmanaged"
	StatusDiffers   results.Status = "differs"
)
