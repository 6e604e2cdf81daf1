package roster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
)

func utf16Bytes(s string, order binary.ByteOrder, bom bool) []byte {
	var b bytes.Buffer
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	for _, u := range units {
		_ = binary.Write(&b, order, u)
	}
	return b.Bytes()
}

// readAllWith is readAll through NewReaderWith.
func readAllWith(in io.Reader, opts ReadOptions) (*Reader, []Record, error) {
	r, err := NewReaderWith(in, opts)
	if err != nil {
		return nil, nil, err
	}
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r, recs, nil
		}
		if err != nil {
			return r, recs, err
		}
		recs = append(recs, rec)
	}
}

func TestEncodings(t *testing.T) {
	const text = "First Name,Last Name,Email\r\nJosé,Müller,jose@example.com\r\nZoë,D’Souza,zoe@example.com\r\n"
	want := [][]string{{"José", "Müller", "jose@example.com"}, {"Zoë", "D’Souza", "zoe@example.com"}}
	cp1252 := []byte("First Name,Last Name,Email\r\nJos\xe9,M\xfcller,jose@example.com\r\nZo\xeb,D\x92Souza,zoe@example.com\r\n")
	tests := []struct {
		name     string
		in       []byte
		encoding string // --encoding
		wantEnc  string // Source.Encoding
		want     [][]string
		wantErr  string
	}{
		{name: "UTF-8", in: []byte(text), wantEnc: "UTF-8", want: want},
		{name: "UTF-8 with BOM", in: append([]byte("\xef\xbb\xbf"), text...), wantEnc: "UTF-8 with BOM", want: want},
		{name: "UTF-16LE with BOM", in: utf16Bytes(text, binary.LittleEndian, true), wantEnc: "UTF-16LE", want: want},
		{name: "UTF-16BE with BOM", in: utf16Bytes(text, binary.BigEndian, true), wantEnc: "UTF-16BE", want: want},
		{name: "Windows-1252 detected", in: cp1252, wantEnc: "Windows-1252", want: want},
		{name: "Windows-1252 forced", in: cp1252, encoding: "windows-1252", wantEnc: "Windows-1252", want: want},
		{name: "cp1252 alias", in: cp1252, encoding: "CP1252", wantEnc: "Windows-1252", want: want},
		{name: "UTF-16LE forced, no BOM", in: utf16Bytes(text, binary.LittleEndian, false), encoding: "utf-16le", wantEnc: "UTF-16LE", want: want},
		{name: "UTF-16BE forced, no BOM", in: utf16Bytes(text, binary.BigEndian, false), encoding: "UTF-16BE", wantEnc: "UTF-16BE", want: want},
		{name: "UTF-16 forced, the BOM decides the order", in: utf16Bytes(text, binary.BigEndian, true), encoding: "utf-16le", wantEnc: "UTF-16BE", want: want},
		{name: "UTF-8 forced keeps bad bytes for the rows to refuse", in: cp1252, encoding: "utf-8", wantEnc: "UTF-8",
			want: [][]string{{"Jos\xe9", "M\xfcller", "jose@example.com"}, {"Zo\xeb", "D\x92Souza", "zoe@example.com"}}},
		{name: "UTF-8 with one broken byte stays UTF-8", in: []byte("name,email\nJosé Müller,j@example.com\nZo\xeb Rao,z@example.com\n"), wantEnc: "UTF-8",
			want: [][]string{{"José Müller", "j@example.com"}, {"Zo\xeb Rao", "z@example.com"}}},
		{name: "UTF-16 without a BOM is named", in: utf16Bytes(text, binary.LittleEndian, false), wantErr: "looks like UTF-16 text without a byte-order mark: pass --encoding utf-16le"},
		{name: "neither UTF-8 nor Windows-1252", in: []byte("name,email\nJos\x81 Rao,j@example.com\n"), wantErr: "neither UTF-8 nor Windows-1252"},
		{name: "unknown --encoding", in: []byte(text), encoding: "ebcdic", wantErr: `--encoding "ebcdic": use utf-8, utf-16le, utf-16be or windows-1252`},
	}
	for _, tc := range tests {
		for _, rd := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{{"whole", func(r io.Reader) io.Reader { return r }}, {"one byte", iotest.OneByteReader}} {
			t.Run(tc.name+"/"+rd.name, func(t *testing.T) {
				r, recs, err := readAllWith(rd.wrap(bytes.NewReader(tc.in)), ReadOptions{Encoding: tc.encoding})
				checkErr(t, err, tc.wantErr)
				if err != nil {
					return
				}
				if got := r.Header().Source.Encoding; got != tc.wantEnc {
					t.Errorf("encoding %q, want %q", got, tc.wantEnc)
				}
				if got := r.Header().Names; !reflect.DeepEqual(got, []string{"First Name", "Last Name", "Email"}) && len(got) != 2 {
					t.Errorf("header %q", got)
				}
				var got [][]string
				for _, rec := range recs {
					got = append(got, rec.Raw)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("rows %q\nwant %q", got, tc.want)
				}
			})
		}
	}
}

// Windows-1252 is chosen from the start of the file; a name refused later
// for bad UTF-8 says what to do.
func TestEncodingLateBytes(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("name,email\n")
	for b.Len() < sniffWindow+100 {
		b.WriteString("Rahul Sharma,r@example.com\n")
	}
	b.WriteString("Jos\xe9 Rao,j@example.com\n")
	r, recs, err := readAllWith(bytes.NewReader(b.Bytes()), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header().Source.Encoding; got != "UTF-8" {
		t.Errorf("encoding %q, want UTF-8 (the window was ASCII)", got)
	}
	last := recs[len(recs)-1]
	v := NewValidator(r.Header(), Options{})
	_, probs := v.Check(last)
	if len(probs) != 1 || !strings.Contains(probs[0].Reason, "not valid UTF-8") {
		t.Errorf("late Windows-1252 byte: %v", probs)
	}
}

func TestDelimiters(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		delimiter string
		wantSep   rune
		want      [][]string
		wantErr   string
	}{
		{name: "comma", in: "name,email\nRahul Sharma,r@example.com\n", wantSep: ',', want: [][]string{{"Rahul Sharma", "r@example.com"}}},
		{name: "semicolon (European Excel)", in: "Name;E-mail;Mobile\nSharma, Rahul;r@example.com;98450 12345\n", wantSep: ';',
			want: [][]string{{"Sharma, Rahul", "r@example.com", "98450 12345"}}},
		{name: "tab", in: "First Name\tLast Name\tEmail\nRahul\tSharma\tr@example.com\n", wantSep: '\t',
			want: [][]string{{"Rahul", "Sharma", "r@example.com"}}},
		{name: "pipe", in: "name|email|phone\nRahul Sharma|r@example.com|9845012345\n", wantSep: '|',
			want: [][]string{{"Rahul Sharma", "r@example.com", "9845012345"}}},
		{name: "the one recognising most columns wins over more cells", in: "name,email;note;x\nRahul Sharma,r@example.com;a;b\n", wantSep: ',',
			want: [][]string{{"Rahul Sharma", "r@example.com;a;b"}}},
		{name: "quoted separators in the header do not count", in: "\"name;x\",email\nRahul Sharma,r@example.com\n", wantSep: ',',
			want: [][]string{{"Rahul Sharma", "r@example.com"}}},
		{name: "blank lines above the header are skipped", in: ";;\n\nname;email\nRahul Sharma;r@example.com\n", wantSep: ';',
			want: [][]string{{"Rahul Sharma", "r@example.com"}}},
		{name: "forced", in: "name;email\nRahul Sharma;r@example.com\n", delimiter: ",", wantSep: ',',
			want: [][]string{{"Rahul Sharma;r@example.com"}}},
		{name: "forced tab by name", in: "name\temail\nRahul Sharma\tr@example.com\n", delimiter: "tab", wantSep: '\t',
			want: [][]string{{"Rahul Sharma", "r@example.com"}}},
		{name: "unknown --delimiter", in: "name\n", delimiter: ":", wantErr: `--delimiter ":": use , ; | or tab`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, recs, err := readAllWith(strings.NewReader(tc.in), ReadOptions{Delimiter: tc.delimiter})
			checkErr(t, err, tc.wantErr)
			if err != nil {
				if !errors.As(err, new(*UsageError)) {
					t.Errorf("error is %T, want *UsageError", err)
				}
				return
			}
			if got := r.Header().Source.Delimiter; got != tc.wantSep {
				t.Errorf("separator %q, want %q", got, tc.wantSep)
			}
			var got [][]string
			for _, rec := range recs {
				got = append(got, rec.Raw)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("rows %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestLineEnds(t *testing.T) {
	want := []Record{
		{Row: 1, Line: 2, Raw: []string{"Rahul", "Sharma"}},
		{Row: 2, Line: 3, Raw: []string{"Priya", "Nair"}},
	}
	tests := []struct {
		name string
		in   string
		want []Record
	}{
		{name: "CR only (old Excel for Mac)", in: "first_name,last_name\rRahul,Sharma\rPriya,Nair\r", want: want},
		{name: "CR only, no final line end", in: "first_name,last_name\rRahul,Sharma\rPriya,Nair", want: want},
		{name: "mixed CRLF, LF and CR", in: "first_name,last_name\r\nRahul,Sharma\nPriya,Nair\r", want: want},
		{name: "CR only with a quoted line break", in: "first_name,last_name\r\"Rahul\rKumar\",Sharma\rPriya,Nair\r",
			want: []Record{{Row: 1, Line: 2, Raw: []string{"Rahul\nKumar", "Sharma"}}, {Row: 2, Line: 4, Raw: []string{"Priya", "Nair"}}}},
		{name: "CR only, unclosed quote still caught", in: "first_name,last_name\rRahul,\"Sharma\rPriya,Nair\r"},
	}
	for _, tc := range tests {
		for _, wrap := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.OneByteReader, iotest.HalfReader} {
			_, recs, err := readAllWith(wrap(strings.NewReader(tc.in)), ReadOptions{})
			if tc.want == nil {
				checkErr(t, err, "a quote is opened and never closed")
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !reflect.DeepEqual(recs, tc.want) {
				t.Errorf("%s:\n got %+v\nwant %+v", tc.name, recs, tc.want)
			}
		}
	}
}

func TestOverflowRows(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		reasons []string // one per data row, "" for none
	}{
		{
			name: "comma in an unquoted value",
			in:   "first_name,last_name,email,phone\nRahul,Sharma,r@example.com,9845012345\nPriya,Nair,Jr.,p@example.com,9845012346\n",
			reasons: []string{"",
				"row: has 5 cells, the header has 4: a comma inside an unquoted value?"},
		},
		{
			name:    "a shifted row can end in an empty cell",
			in:      "first_name,last_name,email,device_name\nRahul,Sharma,Jr.,r@example.com,\n",
			reasons: []string{"row: has 5 cells, the header has 4 (the extra ones empty): a comma inside an unquoted value, or one too many at the end of the line?"},
		},
		{
			name:    "as many cells as the header",
			in:      "first_name,last_name\nRahul,Sharma\nPriya,\n",
			reasons: []string{"", ""},
		},
		{
			name:    "semicolon file says semicolon",
			in:      "first_name;last_name\nRahul;Sharma;x\n",
			reasons: []string{"row: has 3 cells, the header has 2: a semicolon inside an unquoted value?"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, recs, err := readAllWith(strings.NewReader(tc.in), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			v := NewValidator(r.Header(), Options{})
			for i, rec := range recs {
				_, probs := v.Check(rec)
				got := ""
				for _, p := range probs {
					if p.Column == "row" {
						got = p.String()
					}
				}
				if got != tc.reasons[i] {
					t.Errorf("row %d: %q, want %q", rec.Row, got, tc.reasons[i])
				}
				if tc.reasons[i] != "" && !reflect.DeepEqual(rec.Raw[len(rec.Raw)-1], strings.Split(strings.Split(tc.in, "\n")[i+1], string(r.Header().Source.Delimiter))[len(rec.Raw)-1]) {
					t.Errorf("row %d was trimmed: %q", rec.Row, rec.Raw)
				}
			}
		})
	}
}

func TestUnrecognisedContactColumns(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		opts    ReadOptions
		wantErr string
	}{
		{
			name: "phones in an unrecognised column",
			in: "Employee Name,Official Email,Alt No\nRahul Sharma,r@corp.example.com,98450 12345\n" +
				"Priya Nair,p@corp.example.com,+91 98450 12346\nAmit Shah,a@corp.example.com,\n",
			wantErr: `column "Alt No" holds phone numbers but is not a column exoroster recognises: ` +
				`say what it is with --map "Alt No=phone", or leave it out with --ignore-column "Alt No"`,
		},
		{
			name: "emails, and phones as spreadsheet decimals",
			in:   "Employee Name,Login,Reach\nRahul Sharma,r@corp.example.com,9845012345.0\nPriya Nair,p@corp.example.com,9845012346.0\n",
			wantErr: `columns "Login" (emails) and "Reach" (phone numbers) hold contact details but are not columns exoroster recognises: ` +
				`say what each is with --map "Login=email", or leave it out with --ignore-column "Login"`,
		},
		{
			name: "acknowledged with --ignore-column",
			in:   "Employee Name,Alt No\nRahul Sharma,98450 12345\n",
			opts: ReadOptions{Ignore: []string{"Alt No"}},
		},
		{
			name: "mapped with --map",
			in:   "Employee Name,Alt No\nRahul Sharma,98450 12345\n",
			opts: ReadOptions{Map: []string{"Alt No=phone"}},
		},
		{
			name: "codes, dates, amounts and PINs are not phones",
			in: "Name,Emp Code,Date of Joining,CTC,PIN,Aadhaar No,Bank Account\n" +
				"Rahul Sharma,100234,2023-01-05,1200000,560001,2345 6789 0123,30123456789\n" +
				"Priya Nair,100235,05/01/2023,950000,560002,3456 7890 1234,30123456790\n",
		},
		{
			name: "a few phones in a notes column are not the column",
			in:   "Name,Remarks\nRahul Sharma,call 9845012345 after 6\nPriya Nair,9845012346\nAmit Shah,on leave\nNeha Rao,new joiner\n",
		},
		{
			name: "another person's phone is recognised as such, not refused",
			in:   "Name,Emergency Contact No,Manager Email\nRahul Sharma,9845012345,boss@corp.example.com\n",
		},
		{
			name:    "found in the first rows of a long file",
			in:      "Name,Alt\n" + strings.Repeat("Rahul Sharma,\n", 40) + "Priya Nair,9845012345\n",
			wantErr: `column "Alt" holds phone numbers`,
		},
		{
			name:    "the region decides what is a phone",
			in:      "Name,Other\nJohn Smith,(202) 555-0147\nJane Doe,(202) 555-0148\n",
			opts:    ReadOptions{Region: "US"},
			wantErr: `column "Other" holds phone numbers`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, recs, err := readAllWith(strings.NewReader(tc.in), tc.opts)
			checkErr(t, err, tc.wantErr)
			if err != nil {
				if !errors.As(err, new(*ColumnError)) {
					t.Errorf("error is %T, want *ColumnError", err)
				}
				return
			}
			if want := strings.Count(tc.in, "\n") - 1; len(recs) != want {
				t.Errorf("read %d rows, want %d: the look-ahead must hand every row out", len(recs), want)
			}
		})
	}
	// The lenient NewReader never refuses for this.
	if _, err := NewReader(strings.NewReader("Employee Name,Alt No\nRahul Sharma,98450 12345\n")); err != nil {
		t.Errorf("NewReader: %v", err)
	}
}

// The look-ahead hands out the sampled rows in order, with their numbers, and
// then the rest; a read error found while sampling comes after them.
func TestLookAheadOrder(t *testing.T) {
	var b strings.Builder
	b.WriteString("name,notes\n")
	for i := range 150 {
		if i%7 == 0 {
			b.WriteString(",\n") // blank rows are not numbered
		}
		b.WriteString("Rahul Sharma,x\n")
	}
	_, recs, err := readAllWith(strings.NewReader(b.String()), ReadOptions{SampleRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	for i, rec := range recs {
		if rec.Row != i+1 {
			t.Fatalf("record %d has Row %d", i, rec.Row)
		}
	}
	if len(recs) != 150 {
		t.Errorf("%d rows, want 150", len(recs))
	}
	_, recs, err = readAllWith(strings.NewReader("name,notes\nRahul Sharma,ok\nPriya Nair,\"open\nAmit Shah,x\n"), ReadOptions{})
	checkErr(t, err, "line 3: a quote is opened and never closed")
	if len(recs) != 1 {
		t.Errorf("%d rows before the error, want 1", len(recs))
	}
}

func TestOpenDescribes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hrms.csv")
	data := []byte("Emp Code;Employee Name;Official Email;Personal Email;Mobile No.;Designation\r\n" +
		"E1;Jos\xe9 Fernandes;jose@corp.example.com;jose@gmail.example.com;98450 12345;Agent\r\n")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	want := "file: CSV, Windows-1252 (detected), separator \";\" (detected)\n" +
		`columns: name ← "Employee Name", email ← "Official Email", phone ← "Mobile No."; ` +
		`ignored: "Emp Code", "Personal Email" (email is "Official Email"), "Designation"`
	if got := r.Describe(); got != want {
		t.Errorf("Describe:\n got %s\nwant %s", got, want)
	}
	if n := r.Header().Notes; len(n) != 1 || !strings.Contains(n[0], `"Personal Email"`) {
		t.Errorf("notes %q: the losing column must be named", n)
	}
	rec, err := r.Next()
	if err != nil || rec.Get(r.Header(), FieldName) != "José Fernandes" {
		t.Errorf("first row %q, %v", rec.Raw, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("second Next = %v, want EOF", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after EOF: %v", err)
	}

	forced, err := Open(path, ReadOptions{Encoding: "windows-1252", Delimiter: ";"})
	if err != nil {
		t.Fatal(err)
	}
	forced.Close()
	if got := forced.Header().Source.String(); got != `CSV, Windows-1252, separator ";"` {
		t.Errorf("forced source: %s", got)
	}
	if _, err := Open(filepath.Join(dir, "missing.csv"), ReadOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	_, err = Open(path, ReadOptions{Sheet: "Sheet1"})
	checkErr(t, err, `--sheet "Sheet1": the file is CSV text, not an .xlsx workbook`)
	if !errors.As(err, new(*UsageError)) {
		t.Errorf("error is %T, want *UsageError", err)
	}
}

func TestReadOptionsCheck(t *testing.T) {
	tests := []struct {
		name    string
		opts    ReadOptions
		wantErr string
	}{
		{name: "zero"},
		{name: "all set", opts: ReadOptions{Map: []string{"a=phone"}, Ignore: []string{"b"}, Encoding: "utf-8", Delimiter: "tab", Sheet: "x"}},
		{name: "bad map", opts: ReadOptions{Map: []string{"a"}}, wantErr: "has no '='"},
		{name: "bad encoding", opts: ReadOptions{Encoding: "latin9"}, wantErr: "--encoding"},
		{name: "bad delimiter", opts: ReadOptions{Delimiter: "::"}, wantErr: "--delimiter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Check()
			checkErr(t, err, tc.wantErr)
			if err != nil && !errors.As(err, new(*UsageError)) {
				t.Errorf("error is %T, want *UsageError", err)
			}
		})
	}
}
