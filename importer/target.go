package importer

import (
	"context"

	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// Target is an API the importer creates users in. The importer owns the
// run: reading and resuming, when to send, retry, look up or give up, and
// the results file. A Target answers only what depends on its API: how a
// roster row reads, and how one person is created and a doubt about them
// settled. The CCM Users API is built in (New); the webrtc package has the
// WebRTC integrations app users API's (use NewFor).
type Target interface {
	Rows
	// FindAll looks up the users of up to 50 persons (from this target's
	// Checker) before they are created, for a resume or --check-existing:
	// users[i] is persons[i]'s user, nil when nobody has it, and
	// checked[i] is false when the lookup could not tell; err is a lookup
	// that failed as a whole. ctx ends when the run stops: lookups are
	// safe to abandon.
	FindAll(ctx context.Context, persons []Person) (users []User, checked []bool, err error)
	// ExplainAuth is the one sentence a run stops with when the API
	// refuses its credentials (an exotel.KindAuth error).
	ExplainAuth(err error) error
}

// Rows is how a target reads a roster.
type Rows interface {
	// CheckHeader refuses a roster this target cannot read: a run-level
	// error naming the missing column.
	CheckHeader(h *roster.Header) error
	// NewChecker checks the rows read with header h, in file order; it
	// remembers what it has seen, to catch a person listed twice.
	NewChecker(h *roster.Header, opts roster.Options) Checker
}

// Checker validates one row: the Person to create, or every problem.
type Checker interface {
	Check(rec roster.Record) (Person, []roster.Problem)
}

// CheckedRow is one row read and checked.
type CheckedRow struct {
	Rec      roster.Record
	Person   Person
	Problems []roster.Problem
}

// RowStream hands a file's rows back checked, in file order; Next returns
// io.EOF after the last. Close releases it, also when stopping early.
type RowStream interface {
	Next() (CheckedRow, error)
	Close()
}

// StreamChecker is a Checker that can check a whole source on several
// goroutines and still hand the rows back in order, with exactly what Check
// would say of each (CCM's, on roster.Checker).
type StreamChecker interface {
	Checker
	Stream(src roster.RecordSource) RowStream
}

// CheckAll returns src's rows checked by c: on every CPU when c can, else
// one by one. validate and import read a roster through it, so both say
// the same of every row.
func CheckAll(src roster.RecordSource, c Checker) RowStream {
	if sc, ok := c.(StreamChecker); ok {
		return sc.Stream(src)
	}
	return &oneByOne{src: src, c: c}
}

// oneByOne checks each row as it is read.
type oneByOne struct {
	src roster.RecordSource
	c   Checker
}

func (o *oneByOne) Next() (CheckedRow, error) {
	rec, err := o.src.Next()
	if err != nil {
		return CheckedRow{}, err
	}
	p, problems := o.c.Check(rec)
	return CheckedRow{Rec: rec, Person: p, Problems: problems}, nil
}

func (o *oneByOne) Close() {}

// Person is one valid row on its way to the API. A Person sends the
// requests and judges what they found; its methods are called from one
// goroutine at a time.
type Person interface {
	// Describe says what a dry run would create: "would create …".
	Describe() string
	// Notes go on the row's line whatever happens.
	Notes() []string
	// PhoneGated reports whether the row sends no phone to an API that may
	// refuse every user without one (CCM's 400 1402): such rows wait for
	// the answer to the first of them, and are skipped after a refusal.
	PhoneGated() bool
	// CanLookUp reports whether Find can tell if the person's user
	// exists. A person who cannot be looked up is not sent again after a
	// lost answer, unless Config.RetryUnverifiable.
	CanLookUp() bool
	// Create sends one create request. ctx is the caller's: a request
	// already sent may finish after the run stops.
	Create(ctx context.Context) (User, error)
	// Find looks the person's user up: nil when nobody has it.
	Find(ctx context.Context) (User, error)
	// Conflict settles a create the API refused as a duplicate
	// (exotel.KindConflict): u is the user who holds what the person asked
	// for; else retry is true when the create should be sent again as
	// Conflict has changed it, else why says why the row fails. err is a
	// failed lookup.
	Conflict(ctx context.Context, refused error) (u User, retry bool, why string, err error)
	// Mismatch says why u, found holding what the person asked for, is
	// someone else; "" when u is the person.
	Mismatch(u User) string
	// Settled describes u, created or found existing (status), for the
	// row's line: its ids, and notes to add.
	Settled(u User, status results.Status) (userID, deviceID string, notes []string)
}

// User is a user as a target's API returned it. The importer only hands
// it back to the Person that found it; nil is nobody.
type User any
