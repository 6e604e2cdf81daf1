package roster

import (
	"strings"
	"testing"
)

// checkErr fails unless err matches want: nil for "", else an error whose text
// contains want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q, want it to contain %q", err, want)
	}
}

func TestNormalizePhone(t *testing.T) {
	tests := []struct {
		name, in, region string
		want             string
		wantErr          string
	}{
		// Written the ways Indian spreadsheets write mobiles; all read in IN.
		{name: "national prefix 0", in: "09876543210", want: "+919876543210"},
		{name: "ten digits with space", in: "98765 43211", want: "+919876543211"},
		{name: "plus and hyphens", in: "+91-98765-43213", want: "+919876543213"},
		{name: "parentheses", in: "(098765) 43210", want: "+919876543210"},
		{name: "IDD 00 prefix", in: "0091 98765 43210", want: "+919876543210"},
		{name: "country code without plus", in: "919876543210", want: "+919876543210"},
		{name: "dots and slash", in: "98765.432/10", want: "+919876543210"},
		{name: "non-breaking space between groups", in: "98765\u00a043210", want: "+919876543210"},
		{name: "surrounding spaces", in: "  +91 98765 43210\t", want: "+919876543210"},
		{name: "already E.164", in: "+919876543210", want: "+919876543210"},
		{name: "US number with IN default", in: "+1 202 555 0147", want: "+12025550147"},
		{name: "UK number", in: "+44 20 7946 0958", want: "+442079460958"},
		{name: "a spreadsheet's decimal", in: "9845012345.0", wantErr: "ends in a decimal point (such as .0), so a spreadsheet has stored it as a number"},
		{name: "a spreadsheet's decimal with country code", in: "+919845012345.00", wantErr: "ends in a decimal point"},
		{name: "a spreadsheet's decimal, 12 digits", in: "919845012345.0", wantErr: "ends in a decimal point"},
		{name: "dotted groups ending in zeros are not a decimal", in: "98450.12300", want: "+919845012300"},
		{name: "UK number with (0)", in: "+44 (0)20 7946 0958", want: "+442079460958"},
		{name: "US national with US default", in: "(202) 555-0147", region: "US", want: "+12025550147"},
		{name: "lower-case region", in: "020 7946 0958", region: "gb", want: "+442079460958"},
		{name: "empty region means IN", in: "09876543210", region: "", want: "+919876543210"},

		{name: "vanity letters", in: "+91-98765-ABCDE", wantErr: "letters are not allowed in a phone number"},
		{name: "extension", in: "98765 43210 x123", wantErr: "letters are not allowed in a phone number"},
		{name: "ext word", in: "+91 98765 43210 ext 5", wantErr: "letters are not allowed"},
		{name: "Devanagari letters", in: "९८७६५ अ", wantErr: "letters are not allowed"},
		{name: "Excel scientific notation", in: "9.87654E+09", wantErr: "scientific notation"},
		{name: "scientific with comma", in: "9,87654E+09", wantErr: "scientific notation"},
		{name: "scientific lower case", in: "9.87654e9", wantErr: "scientific notation"},
		{name: "country code 0", in: "+0 123", wantErr: "country codes do not start with 0"},
		{name: "country code 00", in: "+0091 98765 43210", wantErr: "country codes do not start with 0"},
		{name: "unknown country code", in: "+999 1234567", wantErr: "the country code is not valid"},
		{name: "too short", in: "123", wantErr: "too short to be a phone number"},
		{name: "two digits", in: "12", wantErr: "too short to be a phone number"},
		{name: "too short with country code", in: "+91 12345", wantErr: "too short to be a phone number"},
		{name: "too short after country code", in: "+44 1", wantErr: "too short to be a phone number"},
		{name: "US one digit short", in: "+1 202 555 014", wantErr: "too short to be a phone number"},
		{name: "US one digit long", in: "+1 202 555 01477", wantErr: "too long to be a phone number"},
		{name: "non-geographic code named by number", in: "+979 1234 5678", wantErr: "not a valid phone number for +979"},
		{name: "valid non-geographic number", in: "+800 1234 5678", want: "+80012345678"},
		{name: "20 digits", in: "12345678901234567890", wantErr: "too long to be a phone number"},
		{name: "19 digits", in: "1234567890123456789", wantErr: "too long to be a phone number"},
		{name: "not valid for IN", in: "5555555555", wantErr: "not a valid phone number for IN"},
		{name: "one digit short for IN", in: "+91 98765 4321", wantErr: "not a valid phone number for IN"},
		{name: "not valid for US", in: "+1 555 555 5555", wantErr: "not a valid phone number for US"},
		{name: "plus in the middle", in: "+91 98765+43210", wantErr: "+ is only allowed at the start"},
		{name: "country code in parentheses", in: "(+91) 98765 43210", want: "+919876543210"},
		{name: "two pluses", in: "++91 98765 43210", wantErr: "+ is only allowed at the start"},
		{name: "plus only", in: "+", wantErr: "has no digits"},
		{name: "punctuation only", in: "--", wantErr: "has no digits"},
		{name: "underscore", in: "98765_43210", wantErr: `the character '_' is not allowed`},
		{name: "hash", in: "#98765", wantErr: `the character '#' is not allowed`},
		{name: "Arabic-Indic digits", in: "٩٨٧٦٥٤٣٢١٠", wantErr: "is not allowed in a phone number"},
		{name: "invalid UTF-8", in: "98765\xff43210", wantErr: "is not allowed in a phone number"},
		{name: "two numbers", in: "9876543210, 9876543211", wantErr: `the character ',' is not allowed`},
		{name: "empty", in: "", wantErr: "is empty"},
		{name: "spaces only", in: "   ", wantErr: "is empty"},
		{name: "unknown region", in: "09876543210", region: "XX", wantErr: `default region "XX" is unknown`},
		{name: "unknown region but plus", in: "+919876543210", region: "XX", want: "+919876543210"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizePhone(tc.in, tc.region)
			checkErr(t, err, tc.wantErr)
			if got != tc.want {
				t.Errorf("NormalizePhone(%q, %q) = %q, want %q", tc.in, tc.region, got, tc.want)
			}
		})
	}
}

func TestIsSIPURI(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"sip:arjuns2d853099", true},
		{"SIP:agent@pbx.example.com", true},
		{"  sip:agent", true},
		{"sip:", true}, // a SIP cell, though not a valid one: checkSIP says so
		{"sips:agent", false},
		{"+919876543210", false},
		{"si", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := IsSIPURI(tc.in); got != tc.want {
				t.Errorf("IsSIPURI(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestNormalizeEmail(t *testing.T) {
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 60) + ".com" // 258 bytes
	tests := []struct {
		name, in string
		want     string
		wantErr  string
	}{
		{name: "plain", in: "rahul@example.com", want: "rahul@example.com"},
		{name: "plus tag kept as written", in: "Batman+1@Gmail.com", want: "Batman+1@Gmail.com"},
		{name: "plus word", in: "name+sales@corp.co.in", want: "name+sales@corp.co.in"},
		{name: "trimmed", in: "  rahul@example.com\u00a0", want: "rahul@example.com"},
		{name: "dots in local part", in: "first.middle.last@example.com", want: "first.middle.last@example.com"},
		{name: "all atext", in: "!#$%&'*+/=?^_`{|}~-@example.com", want: "!#$%&'*+/=?^_`{|}~-@example.com"},
		{name: "hyphen inside label", in: "a@my-corp.example.com", want: "a@my-corp.example.com"},
		{name: "digits in domain", in: "a@123.example.com", want: "a@123.example.com"},
		{name: "64-byte local part", in: strings.Repeat("a", 64) + "@x.com", want: strings.Repeat("a", 64) + "@x.com"},

		{name: "display name", in: "John <j@x.com>", wantErr: "without a display name"},
		{name: "angle brackets only", in: "<j@x.com>", wantErr: "without a display name"},
		{name: "two @", in: "a@b@example.com", wantErr: "more than one @"},
		{name: "two addresses", in: "a@x.com,b@y.com", wantErr: "more than one @"},
		{name: "no @", in: "rahul.example.com", wantErr: "has no @"},
		{name: "no dot in domain", in: "rahul@localhost", wantErr: "the domain has no dot"},
		{name: "space inside", in: "rahul sharma@example.com", wantErr: "spaces are not allowed"},
		{name: "non-breaking space inside", in: "rahul\u00a0sharma@example.com", wantErr: "spaces are not allowed"},
		{name: "tab inside", in: "rahul\t@example.com", wantErr: "spaces are not allowed"},
		{name: "leading dot", in: ".rahul@example.com", wantErr: "cannot start or end with a dot"},
		{name: "trailing dot in local", in: "rahul.@example.com", wantErr: "cannot start or end with a dot"},
		{name: "consecutive dots", in: "ra..hul@example.com", wantErr: "two dots in a row"},
		{name: "consecutive dots in domain", in: "rahul@example..com", wantErr: "the domain has an empty part"},
		{name: "domain starts with dot", in: "rahul@.example.com", wantErr: "the domain has an empty part"},
		{name: "domain ends with dot", in: "rahul@example.com.", wantErr: "the domain has an empty part"},
		{name: "label starts with hyphen", in: "rahul@-example.com", wantErr: "cannot start or end with a hyphen"},
		{name: "label ends with hyphen", in: "rahul@example-.com", wantErr: "cannot start or end with a hyphen"},
		{name: "underscore in domain", in: "rahul@ex_ample.com", wantErr: `the character '_' is not allowed in the domain`},
		{name: "comma in local part", in: "ra,hul@example.com", wantErr: `the character ',' is not allowed before the @`},
		{name: "quoted local part", in: `"rahul"@example.com`, wantErr: `the character '"' is not allowed before the @`},
		{name: "unicode local part", in: "राहुल@example.com", wantErr: "non-ASCII characters"},
		{name: "unicode domain", in: "rahul@exämple.com", wantErr: "non-ASCII characters"},
		{name: "invalid UTF-8", in: "rahul\xff@example.com", wantErr: "non-ASCII characters"},
		{name: "control character", in: "rahul\x00@example.com", wantErr: "control characters"},
		{name: "one-letter TLD", in: "rahul@example.c", wantErr: "two or more letters"},
		{name: "numeric TLD", in: "rahul@10.0.0.1", wantErr: "two or more letters"},
		{name: "IP literal", in: "rahul@[10.0.0.1]", wantErr: `the character '[' is not allowed in the domain`},
		{name: "nothing before @", in: "@example.com", wantErr: "nothing before the @"},
		{name: "nothing after @", in: "rahul@", wantErr: "nothing after the @"},
		{name: "65-byte local part", in: strings.Repeat("a", 65) + "@x.com", wantErr: "longer than 64 characters"},
		{name: "64-byte label", in: "a@" + strings.Repeat("b", 64) + ".com", wantErr: "longer than 63 characters"},
		{name: "too long", in: long, wantErr: "longer than 254 characters"},
		{name: "empty", in: "", wantErr: "is empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NormalizeEmail(tc.in)
			checkErr(t, err, tc.wantErr)
			if got != tc.want {
				t.Errorf("NormalizeEmail(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestEmailKey(t *testing.T) {
	if a, b := EmailKey("Batman+1@Gmail.COM"), EmailKey("batman+1@gmail.com"); a != b {
		t.Errorf("EmailKey differs by case: %q vs %q", a, b)
	}
	if a, b := EmailKey("batman+1@gmail.com"), EmailKey("batman+2@gmail.com"); a == b {
		t.Errorf("EmailKey merges different plus tags: %q", a)
	}
}

func TestNormalizeRole(t *testing.T) {
	tests := []struct {
		in, want, wantErr string
	}{
		{in: "", want: "user"},
		{in: "   ", want: "user"},
		{in: "user", want: "user"},
		{in: "Agent", want: "user"},
		{in: "agent", want: "user"},
		{in: "admin", want: "admin"},
		{in: "Admin", want: "admin"},
		{in: "ADMIN", want: "admin"},
		{in: " supervisor ", want: "supervisor"},
		{in: "SUPERVISOR", want: "supervisor"},
		{in: "manager", wantErr: "not a role: use admin, supervisor, user (or agent)"},
		{in: "super visor", wantErr: "not a role"},
		{in: "admins", wantErr: "not a role"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizeRole(tc.in)
			checkErr(t, err, tc.wantErr)
			if got != tc.want {
				t.Errorf("NormalizeRole(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSplitName(t *testing.T) {
	tests := []struct {
		name, in, first, last string
	}{
		{"two words", "Rahul Sharma", "Rahul", "Sharma"},
		{"three words", "Mary Ann Smith", "Mary Ann", "Smith"},
		{"last comma first", "Smith, John", "John", "Smith"},
		{"last comma first, two first names", "Smith, Mary Ann", "Mary Ann", "Smith"},
		{"comma without space", "Smith,John", "John", "Smith"},
		{"space before comma", "Smith , John", "John", "Smith"},
		{"two commas fall back to words", "Smith, John, Jr.", "Smith, John,", "Jr."},
		{"one word", "Madonna", "Madonna", ""},
		{"collapses runs of spaces", "  Rahul \t  Kumar   Sharma ", "Rahul Kumar", "Sharma"},
		{"non-breaking spaces", "Rahul\u00a0Sharma", "Rahul", "Sharma"},
		{"Devanagari", "राहुल शर्मा", "राहुल", "शर्मा"},
		{"apostrophe", "Mary O'Brien", "Mary", "O'Brien"},
		{"empty", "", "", ""},
		{"spaces only", "   ", "", ""},
		{"comma only", ",", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first, last := SplitName(tc.in)
			if first != tc.first || last != tc.last {
				t.Errorf("SplitName(%q) = %q, %q; want %q, %q", tc.in, first, last, tc.first, tc.last)
			}
		})
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{name: "plain", in: "Rahul"},
		{name: "apostrophe", in: "O'Brien"},
		{name: "apostrophe D'Souza", in: "D'Souza"},
		{name: "hyphen", in: "Jean-Luc"},
		{name: "Devanagari", in: "राहुल"},
		{name: "Tamil", in: "முருகன்"},
		{name: "Chinese", in: "王"},
		{name: "accented", in: "José"},
		{name: "dot and space", in: "K. S."},
		{name: "digits after letters", in: "Support-Rahul 2"},
		{name: "leading digit", in: "2Pac"},
		{name: "64 runes", in: strings.Repeat("ह", 64)},

		{name: "empty", in: "", wantErr: "is required"},
		{name: "digits only", in: "12345", wantErr: "must contain a letter"},
		{name: "punctuation only", in: "...", wantErr: "must contain a letter"},
		{name: "formula =", in: "=HYPERLINK(\"x\")", wantErr: "cannot start with =, +, - or @"},
		{name: "formula +", in: "+Rahul", wantErr: "cannot start with"},
		{name: "formula -", in: "-Rahul", wantErr: "cannot start with"},
		{name: "formula @", in: "@Rahul", wantErr: "cannot start with"},
		{name: "email in name", in: "rahul@example.com", wantErr: "looks like an email address"},
		{name: "markup", in: "<b>Rahul</b>", wantErr: "cannot contain < or >"},
		{name: "tab", in: "Rahul\tSharma", wantErr: "control character"},
		{name: "NUL", in: "Rahul\x00", wantErr: "control character"},
		{name: "newline", in: "Rahul\nSharma,x@y.com", wantErr: "line break"},
		{name: "65 runes", in: strings.Repeat("ह", 65), wantErr: "longer than 64 characters"},
		{name: "invalid UTF-8 (a Windows-1252 file)", in: "Jos\xe9", wantErr: "not valid UTF-8"},
		{name: "right-to-left override", in: "Rahul\u202eamrahS", wantErr: "contains a hidden text-direction character (U+202E), which can disguise the text: remove it"},
		{name: "left-to-right embedding", in: "\u202aRahul", wantErr: "hidden text-direction character (U+202A)"},
		{name: "first strong isolate", in: "Ra\u2068hul", wantErr: "hidden text-direction character (U+2068)"},
		{name: "pop directional isolate", in: "Rahul\u2069x", wantErr: "hidden text-direction character (U+2069)"},
		{name: "zero-width space inside", in: "Ra\u200bhul", wantErr: "contains a zero-width character (U+200B)"},
		{name: "word joiner inside", in: "Ra\u2060hul", wantErr: "zero-width character (U+2060)"},
		{name: "zero-width joiner in Latin", in: "Ra\u200dhul", wantErr: "zero-width character (U+200D)"},
		{name: "left-to-right mark", in: "Rahul\u200e", wantErr: "invisible formatting character (U+200E)"},
		{name: "soft hyphen", in: "Ra\u00adhul", wantErr: "invisible formatting character (U+00AD)"},
		{name: "zero-width non-joiner in Hindi is writing, not hiding", in: "क्\u200cष"},
		{name: "zero-width joiner in Malayalam", in: "അവന്\u200d"},
		{name: "zero-width joiner in Malayalam, mid-word", in: "ന്\u200dറ"},
		{name: "replacement character from a bad decode", in: "Jos\ufffd", wantErr: "could not be read: check the file's encoding (--encoding)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, CheckName(tc.in), tc.wantErr)
		})
	}
}

func TestCheckDeviceName(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{name: "empty is fine", in: ""},
		{name: "plain", in: "Rahul's phone"},
		{name: "digits only is fine", in: "1234"},
		{name: "64 runes", in: strings.Repeat("d", 64)},
		{name: "65 runes", in: strings.Repeat("d", 65), wantErr: "longer than 64 characters"},
		{name: "control", in: "desk\x07", wantErr: "control character"},
		{name: "invalid UTF-8", in: "\xff", wantErr: "not valid UTF-8"},
		{name: "formula =", in: "=HYPERLINK(\"x\")", wantErr: "cannot start with =, +, - or @ (a spreadsheet formula)"},
		{name: "formula +", in: "+91 desk", wantErr: "cannot start with"},
		{name: "formula -", in: "-desk", wantErr: "cannot start with"},
		{name: "formula @", in: "@desk", wantErr: "cannot start with"},
		{name: "a formula character later is fine", in: "desk +1"},
		{name: "right-to-left override", in: "desk\u202e", wantErr: "hidden text-direction character"},
		{name: "zero-width space", in: "de\u200bsk", wantErr: "zero-width character"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, CheckDeviceName(tc.in), tc.wantErr)
		})
	}
}

func TestCheckRegion(t *testing.T) {
	tests := []struct {
		in, wantErr string
	}{
		{in: "IN"},
		{in: "gb"},
		{in: "US"},
		{in: "XX", wantErr: `unknown region "XX"`},
		{in: "", wantErr: "unknown region"},
		{in: "INDIA", wantErr: "unknown region"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			checkErr(t, CheckRegion(tc.in), tc.wantErr)
		})
	}
}

func TestCheckSIP(t *testing.T) {
	tests := []struct {
		in, wantErr string
	}{
		{in: "sip:arjuns2d853099"},
		{in: "sip:agent@pbx.example.com"},
		{in: "sip:", wantErr: "nothing after sip:"},
		{in: "sip:agent one", wantErr: "no spaces"},
		{in: "sip:agënt", wantErr: "no spaces"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			checkErr(t, checkSIP(tc.in), tc.wantErr)
		})
	}
}

func TestIsSpreadsheetError(t *testing.T) {
	for s, want := range map[string]bool{
		"#N/A": true, " #n/a ": true, "#REF!": true, "#VALUE!": true, "#DIV/0!": true, "#NAME?": true,
		"#NUM!": true, "#NULL!": true, "#SPILL!": true, "#CALC!": true, "#GETTING_DATA": true,
		"#": false, "#1": false, "#NA": false, "#REF": false, "N/A": false, "": false, "#hashtag": false,
	} {
		if got := IsSpreadsheetError(s); got != want {
			t.Errorf("IsSpreadsheetError(%q) = %v, want %v", s, got, want)
		}
	}
}
