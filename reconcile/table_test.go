package reconcile

import (
	"fmt"
	"strings"
	"testing"
)

// The table lists every change but only the first few users it leaves
// alone, then counts the rest and says where the whole plan is.
func TestWriteTableCapsUnmanaged(t *testing.T) {
	tests := []struct {
		name      string
		unmanaged int
		saved     string
		listed    int    // unmanaged lines naming a user
		more      string // the count line, "" for none
	}{
		{"few are all listed", QuietLines, "", QuietLines, ""},
		{"one over is listed too", QuietLines + 1, "", QuietLines + 1, ""},
		{"many are counted", 241, "", QuietLines, "… and 236 more (see --out plan.json)"},
		{"the count names the saved plan", 241, "/tmp/p.json", QuietLines, "… and 236 more (see /tmp/p.json)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &Plan{Account: Account{Target: "ccm", ID: "sid"}, Settings: defaults()}
			for i := range 30 {
				p.Actions = append(p.Actions, &Action{Kind: Create, Row: i + 1, New: &NewUser{FirstName: "New", LastName: fmt.Sprint(i)}})
			}
			for i := range tc.unmanaged {
				p.Actions = append(p.Actions, &Action{Kind: Unmanaged, Who: fmt.Sprintf("User %d", i), Reason: "not in the roster"})
			}
			p.count()
			var b strings.Builder
			if err := p.WriteTable(&b, tc.saved); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if n := strings.Count(out, "\ncreate     row"); n != 30 {
				t.Errorf("%d create lines, want all 30:\n%s", n, out)
			}
			if n := strings.Count(out, ": not in the roster"); n != tc.listed {
				t.Errorf("%d unmanaged users listed, want %d:\n%s", n, tc.listed, out)
			}
			if tc.more == "" && strings.Contains(out, "more (") {
				t.Errorf("a count line for a short list:\n%s", out)
			}
			if tc.more != "" && !strings.Contains(out, tc.more) {
				t.Errorf("no %q:\n%s", tc.more, out)
			}
		})
	}
}
