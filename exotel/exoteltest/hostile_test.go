package exoteltest_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
)

func TestListFaults(t *testing.T) {
	tests := []struct {
		name      string
		fault     exoteltest.ListFault
		wantTotal int
		// wantFirst: the ids each offset's page starts at, as indexes
		// into the seeded users; -1 for an empty page.
		wantFirst map[int]int
	}{
		{"honest", exoteltest.ListFault{}, 120, map[int]int{0: 0, 50: 50, 100: 100, 150: -1}},
		{"same page forever", exoteltest.ListFault{RepeatFirstPage: true}, 120, map[int]int{0: 0, 50: 0, 5000: 0}},
		{"empty with a large total", exoteltest.ListFault{Empty: true, Total: 100000}, 100000, map[int]int{0: -1, 50: -1}},
		{"a total that lies", exoteltest.ListFault{Total: 7}, 7, map[int]int{0: 0, 100: 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, exoteltest.Options{})
			ids := seedN(s, 120)
			s.SetListFault(tc.fault)
			c := newClient(t, s, 5*time.Second)
			for offset, first := range tc.wantFirst {
				p, err := c.ListUsers(context.Background(), exotel.ListOptions{Offset: offset, Limit: 50})
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != tc.wantTotal || p.Count != len(p.Users) {
					t.Errorf("offset %d: total %d, count %d for %d users; want total %d", offset, p.Total, p.Count, len(p.Users), tc.wantTotal)
				}
				switch {
				case first < 0 && len(p.Users) != 0:
					t.Errorf("offset %d: %d users, want none", offset, len(p.Users))
				case first >= 0 && (len(p.Users) == 0 || p.Users[0].ID != ids[first]):
					t.Errorf("offset %d: page does not start with user %d", offset, first)
				}
			}
		})
	}
}

func TestSeedRawValues(t *testing.T) {
	s := start(t, exoteltest.Options{})
	seeded := s.Seed(
		exoteltest.SeedUser{FirstName: "Odd", LastName: "Call", Raw: map[string]json.RawMessage{
			"active_call": json.RawMessage(`{"sid":"ca1"}`), "last_login": json.RawMessage(`1690000000`)}},
		exoteltest.SeedUser{FirstName: "Plain", LastName: "User"},
	)
	c := newClient(t, s, 5*time.Second)
	p, err := c.ListUsers(context.Background(), exotel.ListOptions{Limit: 50, Fields: []string{"devices", "active_call", "last_login"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Users) != 2 || len(p.Errors) != 0 {
		t.Fatalf("page: %d users, errors %v", len(p.Users), p.Errors)
	}
	odd := p.Users[0]
	if odd.ActiveCall != `{"sid":"ca1"}` || odd.LastLogin != "1690000000" ||
		!slices.Equal(odd.OddFields(), []string{"active_call", "last_login"}) {
		t.Errorf("odd user = %+v", odd)
	}
	if p.Users[1].Odd != nil {
		t.Errorf("plain user has odd fields: %v", p.Users[1].Odd)
	}
	// A single GET carries them too, even unasked; Users shows the
	// stored values.
	u, err := c.GetUser(context.Background(), seeded[0].ID)
	if err != nil || u.ActiveCall != `{"sid":"ca1"}` {
		t.Errorf("GetUser = %+v, %v", u, err)
	}
	if got := s.Users()[0]; got.ActiveCall != "" || got.Odd != nil {
		t.Errorf("Users()[0] = %+v", got)
	}
}
