package importer

import (
	"context"
	"errors"
	"sync"

	"github.com/exoroster/exoroster/exotel"
)

// phoneGate learns from the account whether it creates users without a
// phone. Some accounts refuse them all (400 1402), and a roster exported from
// HR often has many such rows: until the first answer to a phone-less create
// is in, the other phone-less rows wait rather than spend a request each on
// the same refusal. After a refusal they are skipped; after a success they
// go as fast as any row. Rows with a phone never wait.
type phoneGate struct {
	mu sync.Mutex
	// known: an answer settled it; refusedRow is then the row Exotel
	// refused for want of a phone, or 0 when it created one without.
	known      bool
	refusedRow int
	// probing: a phone-less create is in flight while the answer is unknown.
	probing bool
	// changed is closed, and replaced, whenever probing or known changes.
	changed chan struct{}
}

func newPhoneGate() *phoneGate { return &phoneGate{changed: make(chan struct{})} }

// enter is called before a phone-less create. It returns the row whose
// refusal showed the account needs a phone (the create must not be sent),
// or 0 when it may be sent: the caller must then call leave with its
// answer. It waits while another phone-less create is finding out; err is
// ctx's when the run stops first.
func (g *phoneGate) enter(ctx context.Context) (refusedRow int, err error) {
	for {
		g.mu.Lock()
		switch {
		case g.known:
			row := g.refusedRow
			g.mu.Unlock()
			return row, nil
		case !g.probing:
			g.probing = true
			g.mu.Unlock()
			return 0, nil
		}
		wait := g.changed
		g.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// leave records the answer to a phone-less create that enter let through:
// a user created settles that phones are optional, a 1402 that they are
// required (learned is then true, once per run); any other answer settles
// nothing and lets the next row try.
func (g *phoneGate) leave(row int, err error) (learned bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.known {
		return false
	}
	g.probing = false
	switch {
	case err == nil:
		g.known = true
	case isPhoneRequired(err):
		g.known, g.refusedRow, learned = true, row, true
	}
	close(g.changed)
	g.changed = make(chan struct{})
	return learned
}

// isPhoneRequired reports the API's 400 1402: the account needs a device
// contact (a phone number) for every user it creates.
func isPhoneRequired(err error) bool {
	var ae *exotel.APIError
	return errors.As(err, &ae) && ae.HTTPStatus == 400 && ae.Code == exotel.CodeContactURIRequired
}
