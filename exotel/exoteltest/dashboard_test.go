package exoteltest_test

import (
	"context"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
)

func TestSetRole(t *testing.T) {
	clk := newClock(t0())
	s := start(t, exoteltest.Options{Now: clk.Now})
	us := s.Seed(exoteltest.SeedUser{FirstName: "Ben", LastName: "Das", Email: "ben@example.com"})
	clk.Advance(time.Hour)
	for _, tc := range []struct {
		name, id, role string
		wantErr        bool
	}{
		{name: "promote", id: us[0].ID, role: " Admin "},
		{name: "unknown role", id: us[0].ID, role: "owner", wantErr: true},
		{name: "unknown user", id: "0123456789abcdef0123456789abcdef", role: "admin", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.SetRole(tc.id, tc.role); (err != nil) != tc.wantErr {
				t.Errorf("SetRole: %v", err)
			}
		})
	}
	// What the API then answers, with the dashboard's change dated.
	u, err := newClient(t, s, 5*time.Second).GetUser(context.Background(), us[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Role != "admin" || u.DateUpdated != "2021-07-21T22:43:38+05:30" {
		t.Errorf("after SetRole: role %q updated %s", u.Role, u.DateUpdated)
	}
	if n := s.CountRequests(""); n != 1 {
		t.Errorf("%d requests logged: SetRole is not one", n)
	}
}
