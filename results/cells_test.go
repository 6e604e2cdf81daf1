package results

import "testing"

func TestIsE164(t *testing.T) {
	for s, want := range map[string]bool{
		"+919876543210": true, "+14155550100": true, "+12345678": true,
		"+0123456789": false, "919876543210": false, "+91 98765": false, "+1234567": false,
		"+1234567890123456": false, "sip:agent1": false, "": false, "+": false,
	} {
		if got := IsE164(s); got != want {
			t.Errorf("IsE164(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestSafeCell(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cell  string
		phone bool
		want  string
	}{
		{name: "E.164 in a phone column stays", cell: "+919876543210", phone: true, want: "+919876543210"},
		{name: "E.164 elsewhere is quoted", cell: "+919876543210", phone: false, want: "'+919876543210"},
		{name: "a formula in a phone column is quoted", cell: "+91 cmd", phone: true, want: "'+91 cmd"},
		{name: "plain text stays", cell: "Rahul", phone: false, want: "Rahul"},
		{name: "a formula is quoted", cell: "=1+1", phone: false, want: "'=1+1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := SafeCell(tc.cell, tc.phone); got != tc.want {
				t.Errorf("SafeCell(%q, %v) = %q, want %q", tc.cell, tc.phone, got, tc.want)
			}
		})
	}
}
