package main

import (
	"strings"
	"testing"
)

func TestDisplayValueCutsLongValues(t *testing.T) {
	long := strings.Repeat("a", 59) + "é" + "tail that is not shown"
	tests := []struct{ name, in, want string }{
		{"empty", "", "(empty)"},
		{"short", "98123", `"98123"`},
		{"sixty", strings.Repeat("x", 60), `"` + strings.Repeat("x", 60) + `"`},
		{"sixty-one", strings.Repeat("x", 61), `"` + strings.Repeat("x", 60) + `"…`},
		{"cut at a character, not a byte", long, `"` + strings.Repeat("a", 59) + `é"…`},
		{"line break", "a\nb", `"a\nb"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := displayValue(tc.in); got != tc.want {
				t.Errorf("displayValue = %s, want %s", got, tc.want)
			}
		})
	}
}

// The table of a roster with a pasted paragraph stays readable.
func TestValidateTableCutsLongValues(t *testing.T) {
	dir := t.TempDir()
	para := strings.Repeat("This is a very long note pasted into the role column. ", 5)
	input := writeFile(t, dir, "r.csv", "first_name,last_name,email,phone,role\nAsha,Rao,asha@x.com,+919800000001,"+para+"\n")
	c := newCLI(t, nil)
	if code := c.run(nil, "validate", input); code != ExitRowsNotDone {
		t.Fatalf("exit %d: %s", code, c.stderr.String())
	}
	out := c.stdout.String()
	if !strings.Contains(out, `"`+para[:60]+`"…`) || strings.Contains(out, para[:61]) {
		t.Errorf("table:\n%s", out)
	}
}
