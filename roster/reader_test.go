package roster

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// readAll reads every record of in, stopping at the first error other than EOF.
func readAll(in io.Reader) (*Header, []Record, error) {
	r, err := NewReader(in)
	if err != nil {
		return nil, nil, err
	}
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r.Header(), recs, nil
		}
		if err != nil {
			return r.Header(), recs, err
		}
		recs = append(recs, rec)
	}
}

func TestReader(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		header     []string // Header.Names
		want       []Record
		wantErr    string // from NewReader or Next
		wantRecsOK bool   // records before the error are still checked
	}{
		{
			name:   "plain",
			in:     "first_name,last_name\nRahul,Sharma\nPriya,Nair\n",
			header: []string{"first_name", "last_name"},
			want: []Record{
				{Row: 1, Line: 2, Raw: []string{"Rahul", "Sharma"}},
				{Row: 2, Line: 3, Raw: []string{"Priya", "Nair"}},
			},
		},
		{
			name:   "UTF-8 BOM",
			in:     "\ufefffirst_name,last_name\nRahul,Sharma\n",
			header: []string{"first_name", "last_name"},
			want:   []Record{{Row: 1, Line: 2, Raw: []string{"Rahul", "Sharma"}}},
		},
		{
			name:   "BOM before a quoted header",
			in:     "\ufeff\"first_name\",\"last_name\"\nRahul,Sharma\n",
			header: []string{"first_name", "last_name"},
			want:   []Record{{Row: 1, Line: 2, Raw: []string{"Rahul", "Sharma"}}},
		},
		{
			name:   "CRLF line endings",
			in:     "first_name,last_name\r\nRahul,Sharma\r\nPriya,Nair\r\n",
			header: []string{"first_name", "last_name"},
			want: []Record{
				{Row: 1, Line: 2, Raw: []string{"Rahul", "Sharma"}},
				{Row: 2, Line: 3, Raw: []string{"Priya", "Nair"}},
			},
		},
		{
			name:   "no final newline",
			in:     "name\nRahul Sharma",
			header: []string{"name"},
			want:   []Record{{Row: 1, Line: 2, Raw: []string{"Rahul Sharma"}}},
		},
		{
			name:   "quoted comma and newline; line numbers follow",
			in:     "name,device_name\n\"Sharma, Rahul\",\"desk\nphone\"\nPriya Nair,x\n",
			header: []string{"name", "device_name"},
			want: []Record{
				{Row: 1, Line: 2, Raw: []string{"Sharma, Rahul", "desk\nphone"}},
				{Row: 2, Line: 4, Raw: []string{"Priya Nair", "x"}},
			},
		},
		{
			name:   "quoted CRLF inside a cell becomes LF",
			in:     "name,device_name\r\n\"Rahul Sharma\",\"desk\r\nphone\"\r\n",
			header: []string{"name", "device_name"},
			want:   []Record{{Row: 1, Line: 2, Raw: []string{"Rahul Sharma", "desk\nphone"}}},
		},
		{
			name:   "escaped quotes",
			in:     "name\n\"Rahul \"\"RJ\"\" Sharma\"\n",
			header: []string{"name"},
			want:   []Record{{Row: 1, Line: 2, Raw: []string{`Rahul "RJ" Sharma`}}},
		},
		{
			name:   "stray quote inside a cell is kept",
			in:     "first_name,last_name\nConor,O\"Brien\nPriya,Nair\n",
			header: []string{"first_name", "last_name"},
			want: []Record{
				{Row: 1, Line: 2, Raw: []string{"Conor", `O"Brien`}},
				{Row: 2, Line: 3, Raw: []string{"Priya", "Nair"}},
			},
		},
		{
			name:   "trailing blank lines",
			in:     "name\nRahul Sharma\n\n\n   \n,,\n\r\n",
			header: []string{"name"},
			want:   []Record{{Row: 1, Line: 2, Raw: []string{"Rahul Sharma"}}},
		},
		{
			name:   "blank rows in the middle are skipped and not numbered",
			in:     "name,email\nRahul Sharma,r@x.com\n,\n\n \u00a0, \t\nPriya Nair,p@x.com\n",
			header: []string{"name", "email"},
			want: []Record{
				{Row: 1, Line: 2, Raw: []string{"Rahul Sharma", "r@x.com"}},
				{Row: 2, Line: 6, Raw: []string{"Priya Nair", "p@x.com"}},
			},
		},
		{
			name:   "blank rows above the header",
			in:     "\n,,\nname\nRahul Sharma\n",
			header: []string{"name"},
			want:   []Record{{Row: 1, Line: 4, Raw: []string{"Rahul Sharma"}}},
		},
		{
			name:   "short and long rows kept as read",
			in:     "first_name,last_name,email\nRahul\nPriya,Nair,p@x.com,extra, more \n",
			header: []string{"first_name", "last_name", "email"},
			want: []Record{
				{Row: 1, Line: 2, Raw: []string{"Rahul"}},
				{Row: 2, Line: 3, Raw: []string{"Priya", "Nair", "p@x.com", "extra", " more "}},
			},
		},
		{
			name:   "cells are not trimmed in Raw",
			in:     "name\n  Rahul Sharma \n",
			header: []string{"name"},
			want:   []Record{{Row: 1, Line: 2, Raw: []string{"  Rahul Sharma "}}},
		},
		{
			name:   "header only",
			in:     "first_name,last_name\n",
			header: []string{"first_name", "last_name"},
		},
		{
			name:   "multi-line cell within the limit",
			in:     "name,device_name\nRahul Sharma,\"" + strings.Repeat("l\n", maxRecordLines-1) + "l\"\nPriya Nair,x\n",
			header: []string{"name", "device_name"},
			want: []Record{
				{Row: 1, Line: 2, Raw: []string{"Rahul Sharma", strings.Repeat("l\n", maxRecordLines-1) + "l"}},
				{Row: 2, Line: 2 + maxRecordLines, Raw: []string{"Priya Nair", "x"}},
			},
		},
		{
			name:   "closed multi-line cell ending in a line break, at the end of the file",
			in:     "name,notes\nRahul Sharma,\"line\n\"\n",
			header: []string{"name", "notes"},
			want:   []Record{{Row: 1, Line: 2, Raw: []string{"Rahul Sharma", "line\n"}}},
		},
		{
			name:   "closed multi-line cell, CRLF, at the end of the file",
			in:     "name,notes\r\nRahul Sharma,\"a\r\nb\r\n\"\r\n",
			header: []string{"name", "notes"},
			want:   []Record{{Row: 1, Line: 2, Raw: []string{"Rahul Sharma", "a\nb\n"}}},
		},
		{
			name:   "closed multi-line cell, no final newline",
			in:     "name,notes\nRahul Sharma,\"a\nb\"",
			header: []string{"name", "notes"},
			want:   []Record{{Row: 1, Line: 2, Raw: []string{"Rahul Sharma", "a\nb"}}},
		},
		{
			name:   "closed multi-line cell ending in a line break, rows after it",
			in:     "name,notes\nRahul Sharma,\"a\n\"\nPriya Nair,b\n",
			header: []string{"name", "notes"},
			want: []Record{
				{Row: 1, Line: 2, Raw: []string{"Rahul Sharma", "a\n"}},
				{Row: 2, Line: 4, Raw: []string{"Priya Nair", "b"}},
			},
		},
		{
			name:       "unclosed quote, no final newline",
			in:         "name,notes\nRahul Sharma,\"open\nPriya Nair,x",
			header:     []string{"name", "notes"},
			wantErr:    "line 2: a quote is opened and never closed",
			wantRecsOK: true,
		},
		{
			name:       "unclosed quote, CRLF and BOM",
			in:         "\ufeffname,notes\r\nRahul Sharma,\"open\r\nPriya Nair,x\r\n",
			header:     []string{"name", "notes"},
			wantErr:    "line 2: a quote is opened and never closed",
			wantRecsOK: true,
		},
		{
			name:    "unclosed quote in the header",
			in:      "name,\"notes\nRahul Sharma,x\n",
			wantErr: "line 1: a quote is opened and never closed",
		},
		{name: "empty input", in: "", wantErr: "the file is empty"},
		{name: "BOM only", in: "\ufeff", wantErr: "the file is empty"},
		{name: "blank lines only", in: "\n\n,,\n", wantErr: "the file is empty"},
		{name: "xlsx workbook", in: "PK\x03\x04\x14\x00rest", wantErr: "Excel workbook (.xlsx)"},
		{name: "xls workbook", in: "\xd0\xcf\x11\xe0\xa1\xb1", wantErr: "old Excel workbook (.xls)"},
		// UTF-16 with a BOM was refused before issue 10; now it is read.
		{name: "UTF-16LE text", in: "\xff\xfen\x00a\x00", header: []string{"na"}},
		{name: "UTF-16BE text", in: "\xfe\xff\x00n\x00a", header: []string{"na"}},
		{
			name:       "unclosed quote runs to the end of the file",
			in:         "name,notes\nRahul Sharma,ok\nPriya Nair,\"started\nAmit Shah,x\nNeha Rao,y\n",
			header:     []string{"name", "notes"},
			want:       []Record{{Row: 1, Line: 2, Raw: []string{"Rahul Sharma", "ok"}}},
			wantErr:    "line 3: a quote is opened and never closed",
			wantRecsOK: true,
		},
		{
			name:       "quoted cell running too many lines",
			in:         "name,notes\nRahul Sharma,\"" + strings.Repeat("Amit Shah,x\n", maxRecordLines) + "\",y\n",
			header:     []string{"name", "notes"},
			wantErr:    fmt.Sprintf("line 2: one quoted cell runs over %d lines", maxRecordLines+1),
			wantRecsOK: true,
		},
	}
	// The same answers whatever sizes the underlying reads come in.
	readers := []struct {
		name string
		wrap func(io.Reader) io.Reader
	}{
		{"whole", func(r io.Reader) io.Reader { return r }},
		{"one byte", iotest.OneByteReader},
		{"half", iotest.HalfReader},
		{"EOF with data", iotest.DataErrReader},
	}
	for _, tc := range tests {
		for _, rd := range readers {
			t.Run(tc.name+"/"+rd.name, func(t *testing.T) {
				h, recs, err := readAll(rd.wrap(strings.NewReader(tc.in)))
				checkErr(t, err, tc.wantErr)
				if tc.wantErr != "" && !tc.wantRecsOK {
					return
				}
				if !reflect.DeepEqual(h.Names, tc.header) {
					t.Errorf("header = %q, want %q", h.Names, tc.header)
				}
				if !reflect.DeepEqual(recs, tc.want) {
					t.Errorf("records:\n got %+v\nwant %+v", recs, tc.want)
				}
			})
		}
	}
}

func TestReaderErrorIsSticky(t *testing.T) {
	r, err := NewReader(strings.NewReader("name,notes\nRahul,\"open\nPriya,x\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err1 := r.Next()
	_, err2 := r.Next()
	if err1 == nil || err1 == io.EOF || err2 != err1 {
		t.Errorf("Next errors = %v, %v; want the same run-level error twice", err1, err2)
	}
	r, _ = NewReader(strings.NewReader("name\n"))
	for i := 0; i < 3; i++ {
		if _, err := r.Next(); err != io.EOF {
			t.Fatalf("Next #%d = %v, want io.EOF", i, err)
		}
	}
}

// failingReader yields data and then a read error, as a broken pipe or disk would.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("disk on fire")
	t.Run("during the header", func(t *testing.T) {
		_, err := NewReader(&failingReader{err: boom})
		if !errors.Is(err, boom) {
			t.Fatalf("NewReader error = %v, want it to wrap %v", err, boom)
		}
	})
	t.Run("during the rows", func(t *testing.T) {
		_, recs, err := readAll(&failingReader{data: "name\nRahul Sharma\nPriya Nair\n", err: boom})
		if !errors.Is(err, boom) {
			t.Fatalf("error = %v, want it to wrap %v", err, boom)
		}
		if len(recs) > 2 {
			t.Errorf("got %d records, want at most 2", len(recs))
		}
	})
}

func TestReaderRecordTooLong(t *testing.T) {
	// A quote opened early in a large file would otherwise pull all of it into one
	// cell; the budget stops it at about maxRecordBytes.
	in := io.MultiReader(
		strings.NewReader("name,notes\nRahul Sharma,ok\nPriya Nair,\"open"),
		&repeatReader{line: "Amit Shah,x\n", n: 2 * maxRecordBytes / len("Amit Shah,x\n")},
	)
	_, recs, err := readAll(in)
	checkErr(t, err, "the record after line 2 is longer than 1048576 bytes")
	if len(recs) != 1 {
		t.Errorf("got %d records before the error, want 1", len(recs))
	}

	_, err = NewReader(strings.NewReader(strings.Repeat("x", 2*maxRecordBytes)))
	checkErr(t, err, "the first record is longer than")
}

// repeatReader produces line n times without holding the whole text, so a test
// can feed a reader far more data than it should ever keep.
type repeatReader struct {
	line string
	n    int // lines left
	off  int // offset in the current line
	read int // bytes handed out so far
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	total := 0
	for len(p) > 0 && r.n > 0 {
		c := copy(p, r.line[r.off:])
		p, total, r.off = p[c:], total+c, r.off+c
		if r.off == len(r.line) {
			r.off, r.n = 0, r.n-1
		}
	}
	r.read += total
	return total, nil
}

func TestReaderStreams(t *testing.T) {
	t.Run("NewReader", func(t *testing.T) { testReaderStreams(t, NewReader) })
	t.Run("NewReaderWith", func(t *testing.T) {
		// With its look-ahead of the first rows, for a column to check.
		testReaderStreams(t, func(r io.Reader) (*Reader, error) { return NewReaderWith(r, ReadOptions{}) })
	})
}

func testReaderStreams(t *testing.T, open func(io.Reader) (*Reader, error)) {
	// The reader may buffer a little ahead of the record it returns, but never the
	// file: after each record it has consumed at most one buffer beyond it.
	const rows = 50000
	line := "Rahul,Sharma,rahul@example.com,+919876543210,user,x\n"
	src := &repeatReader{line: line, n: rows}
	r, err := open(io.MultiReader(strings.NewReader("first_name,last_name,email,phone,role,notes\n"), src))
	if err != nil {
		t.Fatal(err)
	}
	const slack = 64 << 10
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if ahead := src.read - n*len(line); ahead > slack {
			t.Fatalf("after row %d the reader had read %d bytes ahead", rec.Row, ahead)
		}
	}
	if n != rows {
		t.Errorf("read %d rows, want %d", n, rows)
	}
}

func TestRecordGet(t *testing.T) {
	h := ParseHeader([]string{"first_name", "last_name", "email", "phone", "role"})
	tests := []struct {
		name string
		raw  []string
		f    Field
		want string
	}{
		{name: "trimmed", raw: []string{"  Rahul\t"}, f: FieldFirstName, want: "Rahul"},
		{name: "non-breaking spaces", raw: []string{"\u00a0Rahul\u00a0"}, f: FieldFirstName, want: "Rahul"},
		{name: "zero-width spaces and BOM", raw: []string{"\u200bRahul\ufeff\u200b"}, f: FieldFirstName, want: "Rahul"},
		{name: "inner spaces kept", raw: []string{"Mary  Ann"}, f: FieldFirstName, want: "Mary  Ann"},
		{name: "missing cell in a short row", raw: []string{"Rahul"}, f: FieldEmail, want: ""},
		{name: "absent column", raw: []string{"Rahul", "Sharma", "r@x.com", "1", "user", "x"}, f: FieldDeviceName, want: ""},
		{name: "export's formula quote undone: =", raw: []string{"'=SUM(A1)"}, f: FieldFirstName, want: "=SUM(A1)"},
		{name: "export's formula quote undone: +", raw: []string{"", "", "", "'+919876543210"}, f: FieldPhone, want: "+919876543210"},
		{name: "export's formula quote undone: -", raw: []string{"'-x"}, f: FieldFirstName, want: "-x"},
		{name: "export's formula quote undone: @", raw: []string{"", "", "'@x.com"}, f: FieldEmail, want: "@x.com"},
		{name: "export's formula quote undone: tab", raw: []string{"'\tRahul"}, f: FieldFirstName, want: "Rahul"},
		{name: "export's formula quote undone: CR", raw: []string{"'\rRahul"}, f: FieldFirstName, want: "Rahul"},
		{name: "apostrophe in a name kept", raw: []string{"'Rahul"}, f: FieldFirstName, want: "'Rahul"},
		{name: "lone apostrophe kept", raw: []string{"'"}, f: FieldFirstName, want: "'"},
		{name: "only one quote is removed", raw: []string{"''=x"}, f: FieldFirstName, want: "''=x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (Record{Raw: tc.raw}).Get(h, tc.f); got != tc.want {
				t.Errorf("Get(%v) = %q, want %q", tc.f, got, tc.want)
			}
		})
	}
	if got := (Record{Raw: []string{"x"}}).Get(nil, FieldFirstName); got != "" {
		t.Errorf("Get with a nil header = %q, want empty", got)
	}
}
