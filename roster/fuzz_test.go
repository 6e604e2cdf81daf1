package roster

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// More seeds, including crashers once found, live in testdata/fuzz/<FuzzName>/.

func FuzzParseRow(f *testing.F) {
	for _, s := range []string{
		"first_name,last_name,email,phone,role,device_name\nRahul,Sharma,rahul+1@example.com,09876543210,agent,desk\n",
		"\ufeffname,Mobile\r\n\"Sharma, Rahul\",+91-98765-43210\r\n\r\n,\r\nPriya Nair,98765 43211\r\n",
		"name,email\nMadonna,m@x.com\nM C,M@X.COM\n",
		"first_name,last_name\nConor,O\"Brien\n\"open,x\n",
		"name,phone\n'=cmd Sharma,'+919876543210\nx y,sip:agent\n",
		"email;phone\na@b.c;1\n",
		"PK\x03\x04",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		h := r.Header()
		_, _ = h.CheckForImport(), h.CheckForLookup()
		v := NewValidator(h, Options{})
		lastRow, lastLine := 0, 0
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if err.Error() == "" {
					t.Fatal("run-level error with no text")
				}
				break
			}
			if rec.Row != lastRow+1 || rec.Line <= lastLine {
				t.Fatalf("record Row %d Line %d after Row %d Line %d", rec.Row, rec.Line, lastRow, lastLine)
			}
			lastRow, lastLine = rec.Row, rec.Line
			p, probs := v.Check(rec)
			for _, pr := range probs {
				if pr.Column == "" || pr.Reason == "" {
					t.Fatalf("problem without column or reason: %+v", pr)
				}
			}
			if len(probs) == 0 {
				checkPerson(t, p)
			}
		}
	})
}

// checkPerson asserts what the importer relies on for a row with no problems.
func checkPerson(t *testing.T, p Person) {
	t.Helper()
	if CheckName(p.FirstName) != nil || CheckName(p.LastName) != nil {
		t.Fatalf("accepted bad names %q %q", p.FirstName, p.LastName)
	}
	if p.Phone != "" && !isE164(p.Phone) {
		t.Fatalf("accepted phone %q is not E.164", p.Phone)
	}
	if p.Phone != "" && p.SIPContact != "" {
		t.Fatalf("both a phone %q and a SIP contact %q", p.Phone, p.SIPContact)
	}
	if p.Email != "" && strings.Count(p.Email, "@") != 1 {
		t.Fatalf("accepted email %q has not exactly one @", p.Email)
	}
	switch p.Role {
	case "admin", "supervisor", "user":
	default:
		t.Fatalf("accepted role %q", p.Role)
	}
	if CheckDeviceName(p.DeviceName) != nil {
		t.Fatalf("accepted bad device name %q", p.DeviceName)
	}
}

func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] == '0' {
		return false
	}
	return strings.Trim(s[1:], "0123456789") == ""
}

func FuzzPhone(f *testing.F) {
	for _, s := range []string{
		"09876543210", "98765 43211", "+91-98765-43213", "(098765) 43210", "0091 98765 43210",
		"919876543210", "+91-98765-ABCDE", "+0 123", "123", "12345678901234567890", "9.87654E+09",
		"+1 202 555 0147", "+44 20 7946 0958", "sip:agent", "", "+", "٩٨٧٦٥", "\xff",
	} {
		f.Add(s, "IN")
	}
	f.Add("(202) 555-0147", "us")
	f.Add("020 7946 0958", "GB")
	f.Add("12345", "")
	f.Add("12345", "ZZ")
	f.Add("12345", "001")
	f.Fuzz(func(t *testing.T, raw, region string) {
		got, err := NormalizePhone(raw, region)
		if err != nil {
			if got != "" || err.Error() == "" {
				t.Fatalf("NormalizePhone(%q, %q) = %q, %v", raw, region, got, err)
			}
			return
		}
		if !isE164(got) {
			t.Fatalf("NormalizePhone(%q, %q) = %q, not E.164", raw, region, got)
		}
		if strings.IndexFunc(raw, unicode.IsLetter) >= 0 {
			t.Fatalf("NormalizePhone(%q, %q) accepted letters", raw, region)
		}
		// E.164 must read back as itself, whatever the default region.
		for _, r := range []string{region, "IN", "US"} {
			if again, err := NormalizePhone(got, r); again != got || err != nil {
				t.Fatalf("NormalizePhone(%q, %q) = %q, %v; not stable", got, r, again, err)
			}
		}
	})
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{
		"rahul@example.com", "Batman+1@Gmail.com", " a@b.co ", "John <j@x.com>", "a@b@c.com", "no-at",
		"a@localhost", "a b@c.com", ".a@b.com", "a..b@c.com", "a@-b.com", "राहुल@example.com",
		"a@b.c", "\u00a0a@b.com\u200b", "a@b.com\x00", "@", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := NormalizeEmail(raw)
		if err != nil {
			if got != "" || err.Error() == "" {
				t.Fatalf("NormalizeEmail(%q) = %q, %v", raw, got, err)
			}
			return
		}
		if got != trimCell(raw) {
			t.Fatalf("NormalizeEmail(%q) = %q, want the trimmed input %q", raw, got, trimCell(raw))
		}
		if strings.IndexFunc(got, unicode.IsSpace) >= 0 || strings.Count(got, "@") != 1 {
			t.Fatalf("NormalizeEmail(%q) accepted %q", raw, got)
		}
		if len(got) > maxEmailLen || !utf8.ValidString(got) || strings.IndexFunc(got, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
			t.Fatalf("NormalizeEmail(%q) accepted %q", raw, got)
		}
		if again, err := NormalizeEmail(got); again != got || err != nil {
			t.Fatalf("NormalizeEmail(%q) = %q, %v; not stable", got, again, err)
		}
		if EmailKey(got) != EmailKey(strings.ToUpper(got)) {
			t.Fatalf("EmailKey(%q) depends on case", got)
		}
	})
}
