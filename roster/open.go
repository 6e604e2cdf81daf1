package roster

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/exoroster/exoroster/roster/xlsx"
)

// ReadOptions are the command-line choices about reading a roster file. The
// zero value detects everything and maps nothing.
type ReadOptions struct {
	// Map holds --map values, each "Header=field" entries separated by commas.
	Map []string
	// MapFile is a --map-file path: one "Header=field" a line.
	MapFile string
	// Ignore holds --ignore-column values: headers to leave unread on purpose.
	Ignore []string
	// Encoding forces the text encoding (--encoding): utf-8, utf-16le,
	// utf-16be or windows-1252. "" detects it.
	Encoding string
	// Delimiter forces the CSV separator (--delimiter): , ; | or tab. ""
	// detects it from the header line.
	Delimiter string
	// Sheet names the .xlsx sheet to read (--sheet); "" is the first visible one.
	Sheet string
	// Region is the default region for phone numbers (--default-region), used
	// here only to tell whether an unrecognised column holds phone numbers.
	Region string
	// SampleRows is how many rows Open reads ahead to check unrecognised
	// columns; 0 means DefaultSampleRows.
	SampleRows int
}

// DefaultSampleRows is how many data rows Open looks at before handing out
// the first: enough to see what an unrecognised column holds, few enough that
// the check costs nothing and memory stays flat.
const DefaultSampleRows = 100

// maxSampleBytes bounds the cells held by the look-ahead, whatever the rows.
const maxSampleBytes = 1 << 20

// compiled is ReadOptions checked and parsed.
type compiled struct {
	entries   []MapEntry
	enc       textEncoding
	delim     rune
	sheet     string
	region    string
	sample    int
	sheetFlag bool
}

// Check parses and checks the options without reading the roster: map syntax
// and field names, encoding and separator names. Its errors are *UsageError,
// except that an unreadable --map-file is a plain error.
func (o ReadOptions) Check() error {
	_, err := o.compile()
	return err
}

func (o ReadOptions) compile() (compiled, error) {
	c := compiled{sheet: o.Sheet, sheetFlag: o.Sheet != "", region: o.Region, sample: o.SampleRows}
	if c.sample <= 0 {
		c.sample = DefaultSampleRows
	}
	for _, m := range o.Map {
		entries, err := ParseMap(m)
		if err != nil {
			return c, err
		}
		c.entries = append(c.entries, entries...)
	}
	if o.MapFile != "" {
		f, err := os.Open(o.MapFile)
		if err != nil {
			return c, fmt.Errorf("cannot read --map-file: %w", err)
		}
		entries, err := ParseMapFile(o.MapFile, f)
		f.Close()
		if err != nil {
			return c, err
		}
		c.entries = append(c.entries, entries...)
	}
	for _, name := range o.Ignore {
		if trimCell(name) == "" {
			return c, usageErrorf("--ignore-column needs a column name")
		}
		c.entries = append(c.entries, MapEntry{Header: trimCell(name), Ignore: true, From: "--ignore-column"})
	}
	var err error
	if c.enc, err = parseEncoding(o.Encoding); err != nil {
		return c, err
	}
	if c.delim, err = ParseDelimiter(o.Delimiter); err != nil {
		return c, err
	}
	return c, nil
}

// Open opens a roster file, CSV or .xlsx (told by its content, not its name:
// a workbook saved as .csv is read as the workbook it is), reads its header
// with opts applied, and checks the columns before any row is handed out.
//
// Its errors: *UsageError for a bad option or a --map naming a header the
// file lacks (exit 2); *ColumnError for two columns equally fit for one field
// or an unrecognised column holding phone numbers or emails (the run stops);
// any other error for a file that cannot be read. Close the Reader when done.
func Open(path string, opts ReadOptions) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	r, err := NewReaderWith(f, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	if r.closer == nil {
		r.closer = f
	} else {
		r.closer = multiCloser{r.closer, f}
	}
	return r, nil
}

// NewReaderWith is Open for a reader the caller opened (importer hashes the
// bytes as they are read). Close the Reader to release a workbook's
// temporary files; reading to the end does so too.
func NewReaderWith(r io.Reader, opts ReadOptions) (*Reader, error) {
	c, err := opts.compile()
	if err != nil {
		return nil, err
	}
	return newReader(r, c, true)
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var errs []error
	for _, c := range m {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// newReader reads the header. strict adds what Open promises beyond
// NewReader: the user's mapping applied and the columns checked.
func newReader(in io.Reader, c compiled, strict bool) (*Reader, error) {
	budget := &budgetReader{r: in, left: maxRecordBytes}
	raw := bufio.NewReaderSize(budget, sniffWindow)
	head, err := raw.Peek(sniffWindow)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	rd := &Reader{}
	var src Source
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		budget.left = math.MaxInt // a workbook is read whole, then streamed by row
		sheet, err := xlsx.Open(raw, c.sheet)
		var noSheet *xlsx.NoSheetError
		if errors.As(err, &noSheet) {
			return nil, usageErrorf("--sheet: %v", err)
		}
		if err != nil {
			return nil, fmt.Errorf("the file looks like an Excel workbook (.xlsx) but cannot be read: %w", err)
		}
		rd.src, rd.sheetRows, rd.closer = sheetSource{sheet}, true, sheet
		src = Source{Format: formatXLSX, Sheet: sheet.Name()}
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0")):
		return nil, errors.New("the file is an old Excel workbook (.xls) or a password-protected one: " +
			"save it as .xlsx without a password, or as \"CSV UTF-8\", and try again")
	default:
		if c.sheetFlag {
			return nil, usageErrorf("--sheet %q: the file is CSV text, not an .xlsx workbook", c.sheet)
		}
		d, delim := decideText(head, c)
		if d.refusal != nil {
			return nil, d.refusal
		}
		if _, err := raw.Discard(d.bomLen); err != nil {
			return nil, fmt.Errorf("reading the header: %w", err)
		}
		tail := &tailReader{r: &lineEnds{r: d.decodeReader(raw)}}
		cr := csv.NewReader(tail)
		cr.Comma = delim
		cr.FieldsPerRecord = -1 // short and long rows are handled per cell
		cr.ReuseRecord = false  // callers keep Raw
		cr.LazyQuotes = true    // a stray quote in a name (O"Brien) must not end the run
		rd.src = &csvSource{csv: cr, budget: budget, tail: tail}
		src = Source{Format: formatCSV, Encoding: d.name, Delimiter: delim,
			ForcedEncoding: c.enc != encAuto, ForcedDelimiter: c.delim != 0}
	}

	for {
		rec, err := rd.src.read()
		if err == io.EOF {
			rd.Close()
			return nil, errors.New("the file is empty: it needs a header line such as first_name,last_name,email,phone")
		}
		if err != nil {
			rd.Close()
			return nil, err
		}
		// Spreadsheets often leave rows of empty cells above the table.
		if isBlank(rec.Raw) {
			continue
		}
		user, err := resolveMapping(rec.Raw, c.entries)
		if err != nil {
			rd.Close()
			return nil, err
		}
		rd.header = parseHeader(rec.Raw, user)
		rd.header.Source = src
		break
	}
	if !strict {
		return rd, nil
	}
	if err := rd.header.checkAmbiguous(); err != nil {
		rd.Close()
		return nil, err
	}
	if err := rd.checkUnrecognised(c); err != nil {
		rd.Close()
		return nil, err
	}
	return rd, nil
}

// decideText chooses how CSV text starting with head is decoded and
// separated: the encoding, and the separator given or sniffed from the
// header line. CountRows decides by the same rules as newReader.
func decideText(head []byte, c compiled) (decision, rune) {
	d := decideEncoding(head, c.enc)
	if d.refusal != nil {
		return d, 0
	}
	delim := c.delim
	if delim == 0 {
		delim = sniffDelimiter(oneLineEnd(d.decodeWindow(evenFor(d, head))))
	}
	return d, delim
}

// evenFor trims a UTF-16 window to whole code units.
func evenFor(d decision, head []byte) []byte {
	if (d.enc == encUTF16LE || d.enc == encUTF16BE) && len(head)%2 == 1 {
		return head[:len(head)-1]
	}
	return head
}

// oneLineEnd makes CR and CRLF line ends LF, as lineEnds does for the stream.
func oneLineEnd(b []byte) []byte {
	if bytes.IndexByte(b, '\r') < 0 {
		return b
	}
	return bytes.ReplaceAll(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
}

// sheetSource adapts an xlsx sheet to the record source.
type sheetSource struct{ s *xlsx.Sheet }

func (x sheetSource) read() (Record, error) {
	row, cells, err := x.s.Next()
	if err != nil {
		return Record{}, err
	}
	return Record{Line: row, Raw: cells}, nil
}

// checkUnrecognised reads the first rows ahead (they are handed out by Next
// as usual) and refuses a column that nothing recognised but whose values
// look like phone numbers or emails: dropping it would lose what the user
// meant to give. A sample, not the whole file, so that the check runs before
// any request and the reader still streams; a contact column shows what it
// holds in its first rows.
func (r *Reader) checkUnrecognised(c compiled) error {
	h := r.header
	var cols []int
	for i, col := range h.columns {
		if col.use == useUnknown && !ownColumn(col.name) {
			cols = append(cols, i)
		}
	}
	if len(cols) == 0 {
		return nil
	}
	bytesHeld := 0
	for len(r.ahead) < c.sample && bytesHeld < maxSampleBytes {
		rec, err := r.nextFromSource()
		if err != nil {
			break // EOF, or an error Next reports in its turn
		}
		r.ahead = append(r.ahead, rec)
		for _, cell := range rec.Raw {
			bytesHeld += len(cell)
		}
	}
	type finding struct {
		name, holds string
	}
	var found []finding
	for _, i := range cols {
		nonEmpty, phones, emails := 0, 0, 0
		for _, rec := range r.ahead {
			if i >= len(rec.Raw) {
				continue
			}
			s := cleanCell(rec.Raw[i])
			if s == "" {
				continue
			}
			nonEmpty++
			switch {
			case looksLikeEmail(s):
				emails++
			case looksLikePhone(s, c.region):
				phones++
			}
		}
		switch {
		case emails > 0 && emails*2 > nonEmpty:
			found = append(found, finding{h.columns[i].name, "emails"})
		case phones > 0 && phones*2 > nonEmpty:
			found = append(found, finding{h.columns[i].name, "phone numbers"})
		}
	}
	if len(found) == 0 {
		return nil
	}
	var b strings.Builder
	names := make([]string, len(found))
	for i, f := range found {
		names[i] = f.name
	}
	first := found[0]
	field := "phone"
	if first.holds == "emails" {
		field = "email"
	}
	if len(found) == 1 {
		b.WriteString("column " + strconv.Quote(first.name) + " holds " + first.holds + " but is not a column exoroster recognises: say what it is")
	} else {
		b.WriteString("columns ")
		for i, f := range found {
			switch {
			case i == len(found)-1:
				b.WriteString(" and ")
			case i > 0:
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(f.name) + " (" + f.holds + ")")
		}
		b.WriteString(" hold contact details but are not columns exoroster recognises: say what each is")
	}
	b.WriteString(" with --map " + strconv.Quote(first.name+"="+field) + ", or leave it out with --ignore-column " + strconv.Quote(first.name))
	return &ColumnError{Columns: names, msg: b.String()}
}

// nextFromSource is Next without the look-ahead queue.
func (r *Reader) nextFromSource() (Record, error) {
	ahead := r.ahead
	r.ahead = nil
	rec, err := r.Next()
	r.ahead = ahead
	return rec, err
}

// looksLikeEmail is a cell an email column would hold.
func looksLikeEmail(s string) bool {
	if strings.IndexByte(s, '@') < 0 {
		return false
	}
	_, err := NormalizeEmail(s)
	return err == nil
}

// looksLikePhone is a cell a phone column would hold: phone characters only,
// and a number valid in the region (or with its country code). Employee codes,
// PIN codes, dates and amounts fail; so do most account numbers.
func looksLikePhone(s, region string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == ' ' || c == '-' || c == '(' || c == ')' || c == '+' || c == '.':
		default:
			return false
		}
	}
	if digits < 7 || digits > 15 {
		return false
	}
	// A spreadsheet's decimal (9845012345.0) is still a phone column.
	if i := strings.LastIndexByte(s, '.'); i >= 0 && i+1 < len(s) && strings.Trim(s[i+1:], "0") == "" {
		s = s[:i]
	}
	_, err := NormalizePhone(s, region)
	return err == nil
}

// ownColumn reports whether name is a column exoroster writes itself beside
// the fields it reads: update's old_email and old_phone (the values before a
// change, which an undo reads), and input_* (a row's cells as given, in
// offboard's results). They hold contact details on purpose and are read by
// the command that wrote them, not guessed at.
func ownColumn(name string) bool {
	k := headerKey(name)
	return strings.HasPrefix(k, "old ") || strings.HasPrefix(k, "input ")
}
