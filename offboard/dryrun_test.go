package offboard_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/resolve"
)

// A dry run lists who a real run would delete, as the confirmation does:
// the first DryRunNames by name and email, then how many more.
func TestDryRunListsWhoWouldBeDeleted(t *testing.T) {
	for _, tc := range []struct {
		name   string
		n      int
		listed int
		more   string
	}{
		{"a few are all listed", 3, 3, ""},
		{"many are cut at 20", 25, offboard.DryRunNames, "  … and 5 more: see the results file\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, exoteltest.Options{})
			e.seed(40)
			agents := e.agents(tc.n)
			var csv strings.Builder
			csv.WriteString("email\n")
			for _, u := range agents {
				csv.WriteString(u.Email + "\n")
			}
			var notes strings.Builder
			e.runGuarded(csv.String(), offboard.Config{}, offboard.Guards{DryRun: true, Notes: &notes})
			got := notes.String()
			if want := fmt.Sprintf("Would delete %d users (a dry run deletes nothing):\n", tc.n); !strings.Contains(got, want) {
				t.Errorf("notes lack %q:\n%s", want, got)
			}
			for i, u := range agents {
				line := "  " + resolve.Who(&u) + "\n"
				if listed := strings.Contains(got, line); listed != (i < tc.listed) {
					t.Errorf("user %d (%s) listed %v, want %v:\n%s", i, u.Email, listed, i < tc.listed, got)
				}
			}
			if tc.more != "" && !strings.Contains(got, tc.more) {
				t.Errorf("notes lack %q:\n%s", tc.more, got)
			}
			if tc.more == "" && strings.Contains(got, "more:") {
				t.Errorf("a count line for a short list:\n%s", got)
			}
		})
	}
}
