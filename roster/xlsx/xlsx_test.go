package xlsx

import "testing"

func TestValue(t *testing.T) {
	s := &Sheet{}
	tests := []struct {
		name, stored, shown, want string
	}{
		{"text", "Rahul Sharma", "Rahul Sharma", "Rahul Sharma"},
		{"text that looks like a decimal stays as written", "9845012345.0", "9845012345.0", "9845012345.0"},
		{"number shown in scientific notation", "919845011111", "9.20E+11", "919845011111"},
		{"number stored in scientific notation", "9.19845011111E+11", "919845011111", "919845011111"},
		{"number with a display format", "1234.5", "₹1,234.50", "1234.5"},
		{"built-in short date", "44931", "1/5/23", "2023-01-05"},
		{"custom date", "44931", "05-Jan-2023", "2023-01-05"},
		{"dotted date", "44931", "05.01.2023", "2023-01-05"},
		{"date and time", "44931.5", "1/5/23 12:00", "2023-01-05T12:00:00"},
		{"time", "0.75", "18:00", "18:00:00"},
		{"boolean", "1", "TRUE", "TRUE"},
		{"boolean false", "0", "FALSE", "FALSE"},
		{"a number that is not a date", "5", "5.00", "5"},
		{"text with a text format", "Rahul", "Mr. Rahul", "Rahul"},
		{"error value", "#N/A", "#N/A", "#N/A"},
		{"empty", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.value(tc.stored, tc.shown); got != tc.want {
				t.Errorf("value(%q, %q) = %q, want %q", tc.stored, tc.shown, got, tc.want)
			}
		})
	}
}

func TestLooksLikeDate(t *testing.T) {
	for d, want := range map[string]bool{
		"1/5/23": true, "05-Jan-2023": true, "2023-01-05": true, "10:30 AM": true, "05.01.2023": true,
		"9.20E+11": false, "1,234.50": false, "-5": false, "May": false, "12.5": false, "": false,
	} {
		if got := looksLikeDate(d); got != want {
			t.Errorf("looksLikeDate(%q) = %v, want %v", d, got, want)
		}
	}
}
