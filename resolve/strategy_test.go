package resolve_test

import (
	"testing"

	"github.com/exoroster/exoroster/resolve"
)

// A summary says how users were found in words, not the strategy's name.
func TestStrategyWords(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    resolve.Strategy
		want string
	}{
		{"filters", resolve.ByFilters, "by email and phone"},
		{"by id", resolve.ByID, "by id"},
		{"listing", resolve.ByListing, "a listing of the account"},
		{"by id and a listing", resolve.ByID + "+" + resolve.ByListing, "by id and a listing of the account"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.s.Words(); got != tc.want {
				t.Errorf("%q.Words() = %q, want %q", tc.s, got, tc.want)
			}
		})
	}
}
