package roster

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
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
		if err == nil {
			checkRows(t, r, Options{})
		}
		// The strict path reads the same bytes the same way, or stops on the
		// columns with an error that says so.
		r, err = NewReaderWith(bytes.NewReader(data), ReadOptions{})
		if err != nil {
			if err.Error() == "" {
				t.Fatal("error with no text")
			}
			return
		}
		checkRows(t, r, Options{RequirePhone: len(data)%2 == 0})
	})
}

// checkRows reads every record and validates it, asserting what callers rely
// on: rows in order, problems with a column and a reason, valid rows clean.
func checkRows(t *testing.T, r *Reader, opts Options) {
	t.Helper()
	defer r.Close()
	h := r.Header()
	_, _ = h.CheckForImport(), h.CheckForLookup()
	if d := r.Describe(); !strings.HasPrefix(d, "file: ") || !strings.Contains(d, "\ncolumns: ") {
		t.Fatalf("Describe = %q", d)
	}
	v := NewValidator(h, opts)
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
		csvRows := h.Source.Format == formatCSV
		if (csvRows && rec.Row != lastRow+1) || (!csvRows && rec.Row <= lastRow) || rec.Line <= lastLine {
			t.Fatalf("record Row %d Line %d after Row %d Line %d", rec.Row, rec.Line, lastRow, lastLine)
		}
		lastRow, lastLine = rec.Row, rec.Line
		p, probs := v.Check(rec)
		for _, pr := range probs {
			if pr.Column == "" || pr.Reason == "" {
				t.Fatalf("problem without column or reason: %+v", pr)
			}
		}
		if _, over := h.Overflow(rec); over && len(probs) == 0 {
			t.Fatalf("row %d has cells beyond the header but no problem: %q", rec.Row, rec.Raw)
		}
		if len(probs) == 0 {
			checkPerson(t, p)
			if opts.RequirePhone && p.Phone == "" {
				t.Fatalf("row %d valid without a phone under RequirePhone", rec.Row)
			}
		}
	}
}

// FuzzOpen reads arbitrary bytes with the options a user may force, and a
// --map whose text is fuzzed too.
func FuzzOpen(f *testing.F) {
	for _, s := range []string{
		"Employee Name;Official Email;Mobile No.\r\nRahul Sharma;r@corp.example.com;98450 12345\r\n",
		"first_name\tlast_name\rRahul\tSharma\r",
		"name|phone|Alt No\nRahul Sharma|9845012345|9845012346\n",
		"\xff\xfen\x00a\x00m\x00e\x00\n\x00x\x00 \x00y\x00",
		"name,email\nJos\xe9 Rao,j@example.com\n",
		"name,Email,E-mail\nx y,a@b.example.com,c@d.example.com\n",
	} {
		f.Add([]byte(s), uint8(0), "")
	}
	f.Add([]byte("name,Alt No\nRahul Sharma,9845012345\n"), uint8(0), "Alt No=phone")
	f.Add([]byte("name;x\nRahul Sharma;1\n"), uint8(9), "x=ignore")
	f.Add(xlsxSeed(f), uint8(0), "")
	f.Fuzz(func(t *testing.T, data []byte, choice uint8, mapSpec string) {
		encodings := [...]string{"", "utf-8", "utf-16le", "utf-16be", "windows-1252"}
		delimiters := [...]string{"", ",", ";", "tab", "|"}
		opts := ReadOptions{
			Encoding:   encodings[int(choice)%len(encodings)],
			Delimiter:  delimiters[int(choice/8)%len(delimiters)],
			SampleRows: 1 + int(choice%5),
		}
		if mapSpec != "" {
			opts.Map = []string{mapSpec}
		}
		r, err := NewReaderWith(bytes.NewReader(data), opts)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("error with no text")
			}
			return
		}
		checkRows(t, r, Options{})
	})
}

// xlsxSeed is a small workbook for the fuzzers to start from.
func xlsxSeed(f *testing.F) []byte {
	w := excelize.NewFile()
	defer w.Close()
	_ = w.SetSheetRow("Sheet1", "A1", &[]any{"Name", "Mobile", "Email"})
	_ = w.SetSheetRow("Sheet1", "A2", &[]any{"Rahul Sharma", 919845011111, "r@example.com"})
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzHeaderWords: recognising a header never panics, stays bounded, and
// ParseHeader accounts for every cell.
func FuzzHeaderWords(f *testing.F) {
	for _, s := range []string{
		"First Name [Required]", "Phone (Mobile)", "officialEmailID", "E-mail", "Mobile No.", "(((", "[",
		"Emergency Contact No", "New Mobile Number", "*", "EmpName", "Preferred Name", "\u202eeman",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if w := headerWords(name); len(w) > maxHeaderWords+1 {
			t.Fatalf("headerWords(%q) has %d words", name, len(w))
		}
		c := classify(name)
		if c.kind == kindField && (c.field < 0 || c.field >= fieldCount) {
			t.Fatalf("classify(%q) = field %d", name, c.field)
		}
		h := ParseHeader([]string{name, name, "x"})
		if len(h.columns) != 3 {
			t.Fatalf("%d columns for 3 cells", len(h.columns))
		}
		_ = h.Describe()
		_ = h.checkAmbiguous()
	})
}

// FuzzMap: a --map value either parses to entries with real fields, or is a
// usage error.
func FuzzMap(f *testing.F) {
	for _, s := range []string{"Mobile No.=phone,Official Email=email", "a=b=c", "=", ",,", "x=ignore", "#2=name"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		entries, err := ParseMap(spec)
		if err != nil {
			if !errors.As(err, new(*UsageError)) || err.Error() == "" {
				t.Fatalf("ParseMap(%q): %T %v", spec, err, err)
			}
			return
		}
		for _, e := range entries {
			if e.Header == "" || (!e.Ignore && (e.Field < 0 || e.Field >= fieldCount)) {
				t.Fatalf("ParseMap(%q) gave %+v", spec, e)
			}
		}
		if _, err := resolveMapping([]string{"Mobile No.", "Official Email", "a=b"}, entries); err != nil && !errors.As(err, new(*UsageError)) {
			t.Fatalf("resolveMapping: %T %v", err, err)
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
