package updater

import (
	"context"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// Edit is one user's changes as a caller decided them (sync's plan), for
// Send.
type Edit struct {
	Req exotel.UpdateUserRequest // the user PUT; nil fields are not sent
	// UserChanges describe Req's fields for messages, one item each.
	UserChanges []string
	Device      *exotel.Device // the device to re-number, or nil
	Phone       string         // Device's new contact_uri
	// DeviceChange describes the device PUT for messages.
	DeviceChange string
}

// Send makes e's changes to u with update's own PUT logic (the user PUT,
// then the device PUT, each retried under the limiter, a refusal after a
// lost answer checked with a GET) and returns the line, whose Row and Input
// are rec's. It is for a command that runs its own engine: sync's apply.
func (up *Updater) Send(ctx context.Context, sw *halt.Switch, rec roster.Record, u *exotel.User, e Edit) results.Line {
	j := &job{rec: rec, user: u, req: e.Req, device: e.Device, phone: e.Phone,
		changes: append([]string(nil), e.UserChanges...), nUser: len(e.UserChanges)}
	if e.Device != nil {
		j.changes = append(j.changes, e.DeviceChange)
	}
	return (&run{u: up, halt: sw}).apply(ctx, j)
}

// FirstTel is the user's first phone (tel) device: the one whose number
// update changes, or nil.
func FirstTel(u *exotel.User) *exotel.Device { return firstTel(u) }
