package importer

import (
	"context"
	"testing"

	"github.com/exoroster/exoroster/exotel"
)

// The gate lets one phone-less create find out at a time, and an answer
// that settles nothing lets the next one try.
func TestPhoneGate(t *testing.T) {
	refused := &exotel.APIError{HTTPStatus: 400, Code: exotel.CodeContactURIRequired, Message: "DeviceContactUri is mandatory"}
	serverError := &exotel.APIError{HTTPStatus: 500, Message: "oops"}
	for _, tc := range []struct {
		name    string
		answers []error // answers to successive probes
		want    int     // what enter says afterwards: the refused row, or 0
	}{
		{"created: phones are optional", []error{nil}, 0},
		{"1402: phones are required", []error{refused}, 2},
		{"a 500 settles nothing, the next probe's 1402 does", []error{serverError, refused}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newPhoneGate()
			ctx := context.Background()
			for i, err := range tc.answers {
				if by, e := g.enter(ctx); by != 0 || e != nil {
					t.Fatalf("probe %d: enter = %d, %v; want it let through", i+1, by, e)
				}
				// While a probe is out, another phone-less row waits.
				waiting, cancel := context.WithCancel(ctx)
				cancel()
				if _, e := g.enter(waiting); e == nil {
					t.Fatalf("probe %d: a second row was let through while the first was out", i+1)
				}
				if learned := g.leave(i+2, err); learned != (err == refused) {
					t.Errorf("probe %d: leave says learned %v", i+1, learned)
				}
			}
			if by, err := g.enter(ctx); by != tc.want || err != nil {
				t.Errorf("after the answers enter = %d, %v; want %d", by, err, tc.want)
			}
		})
	}
}
