package importer

import (
	"context"

	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// CreateOne creates one row's user with import's own create-and-settle
// logic (a lost answer or a conflict is settled by a lookup, never by a
// blind second POST), for a command that runs its own engine and decided
// the row itself: sync's apply. person is the row on its way to the
// importer's target (CCMPerson, or a Target's own). mayExist says an
// earlier run may have created the user, so it is looked up before any
// POST. The importer must have been made with a pacer. The line's Row and
// Input are rec's. Phone-less rows share one phone gate across calls, as
// one import's rows do: once the account refuses a user without a phone
// (400 1402), the next phone-less row is refused without a request.
func (im *Importer) CreateOne(ctx context.Context, sw *halt.Switch, rec roster.Record, person Person, mayExist bool) results.Line {
	r := &run{im: im, halt: sw, phones: im.oneByOne}
	return r.process(ctx, job{rec: rec, person: person, mayExist: mayExist})
}

// CCMPerson is p on its way to the CCM Users API, for CreateOne; nil when
// the importer is not New's.
func (im *Importer) CCMPerson(p roster.Person) Person {
	t, ok := im.target.(*ccm)
	if !ok {
		return nil
	}
	return &ccmPerson{t: t, p: p, req: createRequest(p)}
}
