package importer

import (
	"context"

	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// CreateOne creates one row's user with import's own create-and-settle
// logic (a lost answer or a 409 is settled by a lookup, never by a blind
// second POST), for a command that runs its own engine and decided the row
// itself: sync's apply. mayExist says an earlier run may have created the
// user, so it is looked up before any POST. The importer must have been
// made with an API and a pacer. The line's Row and Input are rec's.
func (im *Importer) CreateOne(ctx context.Context, sw *halt.Switch, rec roster.Record, p roster.Person, mayExist bool) results.Line {
	person := &ccmPerson{t: im.target.(*ccm), p: p, req: createRequest(p)}
	r := &run{im: im, halt: sw, phones: newPhoneGate()}
	return r.process(ctx, job{rec: rec, person: person, mayExist: mayExist})
}
