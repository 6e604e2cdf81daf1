package roster

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readerRows counts what a Reader hands out, the way CountRows must agree
// with: Next until io.EOF. err is the Reader's, opening or reading.
func readerRows(in []byte, opts ReadOptions) (int, error) {
	c, err := opts.compile()
	if err != nil {
		return 0, err
	}
	r, err := newReader(bytes.NewReader(in), c, false)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n := 0
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		// importer.PrepareFor takes a counted file's last row number to be
		// its count: that holds only while the Reader numbers CSV rows
		// without gaps.
		if rec.Row != n {
			return n, fmt.Errorf("row %d is numbered %d", n, rec.Row)
		}
	}
}

func TestCountRows(t *testing.T) {
	long := "name,email\n" + strings.Repeat("x", countLineMax) + ",a@b.c\nPriya,p@x.com\n"
	tests := []struct {
		name   string
		in     string
		opts   ReadOptions
		rows   int
		reader bool // CountRows leaves it to the Reader (ok false)
	}{
		{name: "LF", in: "name,email\nRahul,r@x.com\nPriya,p@x.com\n", rows: 2},
		{name: "no final line end", in: "name,email\nRahul,r@x.com\nPriya,p@x.com", rows: 2},
		{name: "CRLF", in: "name,email\r\nRahul,r@x.com\r\nPriya,p@x.com\r\n", rows: 2},
		{name: "CR only", in: "name,email\rRahul,r@x.com\rPriya,p@x.com\r", rows: 2},
		{name: "CR only, no final line end", in: "name,email\rRahul,r@x.com\rPriya,p@x.com", rows: 2},
		{name: "mixed line ends", in: "name,email\r\nRahul,r@x.com\nPriya,p@x.com\rAsha,a@x.com", rows: 3},
		{name: "header only", in: "name,email\n", rows: 0},
		{name: "BOM", in: "\ufeffname,email\nRahul,r@x.com\n", rows: 1},
		{name: "BOM, --encoding utf-8", in: "\ufeffname,email\nRahul,r@x.com\n", opts: ReadOptions{Encoding: "utf-8"}, rows: 1},
		{name: "BOM before a quoted header", in: "\ufeff\"name\",\"email\"\n\"Rahul\",\"r@x.com\"\n", rows: 1},
		{name: "blank rows above the header", in: "\n,,\n  ,\t\nname,email\nRahul,r@x.com\n", rows: 1},
		{name: "blank rows between and after", in: "name,email\n\nRahul,r@x.com\n , \n,\n\u00a0,\u200b\n\ufeff\nPriya,p@x.com\n\n\n", rows: 2},
		{name: "a quote inside a cell is text", in: "name,email\nConor O\"Brien,c@x.com\nx,\" \"\n", rows: 2},
		{name: "quoted separator", in: "name,email\n\"Sharma, Rahul\",r@x.com\n", rows: 1},
		{name: "quoted blank cells", in: "name,email\n\"  \",\"\"\n\"\",\n,\"\"\nRahul,r@x.com\n", rows: 1},
		{name: "quoted quote is not blank", in: "name,email\n\"\"\"\",\n", rows: 1},
		{name: "quoted separator alone is not blank", in: "name,email\n\",\",\n", rows: 1},
		{name: "quoted tab with tab separator is blank", in: "name\temail\n\"\t\"\t\nRahul\tr@x.com\n", rows: 1},
		{name: "tab-only line with tab separator", in: "name\temail\n\t\t\nRahul\tr@x.com\n", rows: 1},
		{name: "semicolon sniffed", in: "name;email\n;\nRahul;r@x.com\n\"a;b\";x\n", rows: 2},
		{name: "--delimiter pipe", in: "name|email\n|\nRahul|r@x.com\n", opts: ReadOptions{Delimiter: "|"}, rows: 1},
		{name: "lazy quote inside a quoted cell", in: "name,email\n\"ab\"c\",x\n\" \" \",\n", rows: 2},
		{name: "quoted cell closed at the end of the file", in: "name,email\n\"Rahul\",\"r@x.com\"", rows: 1},
		{name: "broken UTF-8 bytes", in: "name,email\nJos\xe9 \xc3\xa9,j@x.com\n\xff,\n", rows: 2},
		{name: "NUL is not blank", in: "name,email\n\x00,\n", rows: 1},
		{name: "empty file", in: "", rows: 0},

		{name: "quoted line break", in: "name,email\n\"Rahul\nKumar\",r@x.com\n", reader: true},
		{name: "quoted CR", in: "name,email\n\"Rahul\rKumar\",r@x.com\n", reader: true},
		{name: "escaped quote then line end", in: "name,email\n\"ab\"\"\nPriya,p@x.com\n", reader: true},
		{name: "a lone quote opens a cell", in: "name,email\n\"\nPriya,p@x.com\n", reader: true},
		{name: "a quote and a space stay open", in: "name,email\n\"  \"  ,\nPriya,p@x.com\n", reader: true},
		{name: "unclosed quote", in: "name,email\nRahul,\"r@x.com\nPriya,p@x.com\n", reader: true},
		{name: "unclosed quote on the last line", in: "name,email\nRahul,\"r@x.com", reader: true},
		{name: "line over 64 KiB", in: long, reader: true},
		{name: "Windows-1252", in: "name,email\nJos\xe9,j@x.com\n", reader: true},
		{name: "--encoding windows-1252", in: "name,email\nJose,j@x.com\n", opts: ReadOptions{Encoding: "windows-1252"}, reader: true},
		{name: "UTF-16LE", in: string(utf16Bytes("name,email\nRahul,r@x.com\n", binary.LittleEndian, true)), reader: true},
		{name: "UTF-16BE", in: string(utf16Bytes("name,email\nRahul,r@x.com\n", binary.BigEndian, true)), reader: true},
		{name: "workbook", in: "PK\x03\x04rest", reader: true},
		{name: "old workbook", in: "\xd0\xcf\x11\xe0rest", reader: true},
		{name: "--sheet", in: "name,email\n", opts: ReadOptions{Sheet: "Staff"}, reader: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, wrap := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.OneByteReader, iotest.HalfReader} {
				rows, ok, err := CountRows(wrap(strings.NewReader(tc.in)), tc.opts)
				if err != nil {
					t.Fatal(err)
				}
				if ok == tc.reader {
					t.Fatalf("ok = %v, want %v", ok, !tc.reader)
				}
				if !ok {
					continue
				}
				if rows != tc.rows {
					t.Errorf("CountRows = %d, want %d", rows, tc.rows)
				}
				want, err := readerRows([]byte(tc.in), tc.opts)
				if err != nil && tc.in != "" {
					t.Fatalf("the Reader failed where CountRows counted: %v", err)
				}
				if rows != want {
					t.Errorf("CountRows = %d, the Reader %d", rows, want)
				}
			}
		})
	}
}

func TestCountRowsBadOption(t *testing.T) {
	for _, opts := range []ReadOptions{{Encoding: "ebcdic"}, {Delimiter: ":"}} {
		if _, _, err := CountRows(strings.NewReader("a,b\n"), opts); err == nil {
			t.Errorf("%+v: no error", opts)
		}
	}
}

// FuzzCountRows checks CountRows against the Reader: where it counts, the
// Reader reads the same number of rows without an error.
func FuzzCountRows(f *testing.F) {
	for _, s := range []string{
		"name,email\nRahul,r@x.com\n\n , \nPriya,p@x.com",
		"\ufeffname;email\r\n\"Sharma; R\";r@x.com\r\n\"\"\"\";\r\n",
		"name\temail\r\t\rRahul\tr@x.com\r",
		"name,email\n\"ab\"c\",x\n\" \" \",\n\"open,x\n",
		"name,email\n\"a\"\"\nb\",x\n",
		"name,email\nJos\xe9,j@x.com\n",
		"\n\u00a0,\u200b\nname|email\n",
	} {
		f.Add([]byte(s), uint8(0))
	}
	delims := []string{"", ",", ";", "tab", "|"}
	f.Fuzz(func(t *testing.T, data []byte, opt uint8) {
		opts := ReadOptions{Delimiter: delims[int(opt)%len(delims)]}
		if opt&0x80 != 0 {
			opts.Encoding = "utf-8"
		}
		rows, ok, err := CountRows(bytes.NewReader(data), opts)
		if err != nil {
			t.Fatal(err)
		}
		want, rerr := readerRows(data, opts)
		if !ok {
			return
		}
		if rerr != nil {
			// A file the Reader cannot open is refused before anyone
			// counts; one it cannot read to the end must not be counted.
			if _, herr := readerHeader(data, opts); herr == nil {
				t.Fatalf("CountRows counted %d rows of a file the Reader stops on: %v", rows, rerr)
			}
			return
		}
		if rows != want {
			t.Fatalf("CountRows = %d, the Reader %d", rows, want)
		}
	})
}

// readerHeader opens data as the Reader would, reading only the header.
func readerHeader(data []byte, opts ReadOptions) (*Header, error) {
	c, err := opts.compile()
	if err != nil {
		return nil, err
	}
	r, err := newReader(bytes.NewReader(data), c, false)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Header(), nil
}

// FuzzLineEnds checks the stream's line ends against the window's
// (oneLineEnd), however the reads split the text.
func FuzzLineEnds(f *testing.F) {
	for _, s := range []string{"a\r\nb\rc\n", "\r\r\n\n\r", "\r", "x\r\n\r\ny\r"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		want := oneLineEnd(data)
		for _, wrap := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.OneByteReader, iotest.HalfReader} {
			got, err := io.ReadAll(&lineEnds{r: wrap(bytes.NewReader(data))})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("lineEnds(%q) = %q, want %q", data, got, want)
			}
		}
	})
}
