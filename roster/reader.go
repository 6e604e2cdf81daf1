package roster

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// maxRecordBytes bounds one record, so that an unclosed quote cannot pull the
	// rest of a large file into memory.
	maxRecordBytes = 1 << 20
	// maxRecordLines is the most physical lines one record may span. A roster has
	// no reason for long multi-line cells; a record running this long is almost
	// always a quote that was opened and never closed, swallowing the rows after it.
	maxRecordLines = 20
)

// Record is one data row of the file.
type Record struct {
	// Row identifies the row in results and messages: for CSV the 1-based data
	// row (blank rows are not counted); for .xlsx the spreadsheet's own row
	// number, as the user sees it beside the sheet. Rows increase but, in a
	// workbook, need not be consecutive.
	Row  int
	Line int      // physical line where the record starts (1-based; for .xlsx the sheet row)
	Raw  []string // cells exactly as read, untrimmed, including any beyond the header
}

// Get returns f's cell, cleaned (see cleanCell), or "" when the file has no such
// column or this row is short. A preferred name left blank reads the name
// column that backs it (see Header.Describe).
func (rec Record) Get(h *Header, f Field) string {
	i, ok := h.Index(f)
	if !ok {
		return ""
	}
	var s string
	if i < len(rec.Raw) {
		s = cleanCell(rec.Raw[i])
	}
	if s == "" && h.fallback[f] != 0 {
		if j := h.fallback[f] - 1; j < len(rec.Raw) {
			s = cleanCell(rec.Raw[j])
		}
	}
	return s
}

// column returns the header of the column f's value in rec came from: the
// chosen one, or the one backing it when the chosen cell was empty.
func (h *Header) columnOf(rec Record, f Field) string {
	if i, ok := h.Index(f); ok && h.fallback[f] != 0 && (i >= len(rec.Raw) || cleanCell(rec.Raw[i]) == "") {
		return h.columns[h.fallback[f]-1].name
	}
	return h.Column(f)
}

// Reader streams the records of a roster file, CSV or .xlsx. It holds one
// record at a time, plus the few it read ahead to check the columns (Open).
type Reader struct {
	src       source
	header    *Header
	ahead     []Record // records read ahead, handed out first
	row       int
	sheetRows bool  // Row is the sheet's row number, not a count
	err       error // sticky: once reading fails, it keeps failing
	closer    io.Closer
}

// source yields raw records, blank ones included, each with its Line.
type source interface {
	read() (Record, error)
}

// NewReader reads the header line of a roster file with the default options:
// the encoding and separator detected, an .xlsx workbook's first sheet. It
// fails when the input is empty, has no header, or cannot be read as a roster
// (an old .xls workbook). Unlike Open and NewReaderWith it does not refuse
// ambiguous or unrecognised contact columns: it is for callers that only need
// the rows.
func NewReader(r io.Reader) (*Reader, error) {
	return newReader(r, compiled{}, false)
}

// Header returns the header read by NewReader.
func (r *Reader) Header() *Header { return r.header }

// Describe is what a run prints first: how the file was read and which
// column fills which field (see Header.Describe).
func (r *Reader) Describe() string {
	return "file: " + r.header.Source.String() + "\n" + r.header.Describe()
}

// Next returns the next non-blank record, io.EOF after the last one, or a
// run-level error (with its line) when the file cannot be read further.
func (r *Reader) Next() (Record, error) {
	if len(r.ahead) > 0 {
		rec := r.ahead[0]
		r.ahead[0] = Record{}
		r.ahead = r.ahead[1:]
		return rec, nil
	}
	for r.err == nil {
		rec, err := r.src.read()
		if err != nil {
			r.err = err
			r.Close() // a caller that stops at EOF need not remember to
			break
		}
		if isBlank(rec.Raw) {
			continue
		}
		r.row++
		rec.Row = r.row
		if r.sheetRows {
			rec.Row = rec.Line
		}
		return rec, nil
	}
	return Record{}, r.err
}

// Close releases the file Open opened and a workbook's temporary files. It is
// safe to call more than once, and Next calls it at the end of the input.
func (r *Reader) Close() error {
	c := r.closer
	r.closer = nil
	if c == nil {
		return nil
	}
	return c.Close()
}

// csvSource reads CSV text through the budget, decoding and line-end layers.
type csvSource struct {
	csv      *csv.Reader
	budget   *budgetReader
	tail     *tailReader
	lastLine int // start line of the last record read, for error messages
}

// read returns the next csv record, whatever its content, with its line.
func (r *csvSource) read() (Record, error) {
	r.budget.left = maxRecordBytes
	raw, err := r.csv.Read()
	if err != nil {
		return Record{}, r.runError(err)
	}
	line, _ := r.csv.FieldPos(0)
	r.lastLine = line
	if err := r.checkSpan(raw, line); err != nil {
		return Record{}, err
	}
	return Record{Line: line, Raw: raw}, nil
}

// runError turns a csv error into a run-level error that says where it happened.
func (r *csvSource) runError(err error) error {
	var pe *csv.ParseError
	switch {
	case err == io.EOF:
		return io.EOF
	case errors.As(err, new(tooLongError)):
		where := "the first record"
		if r.lastLine > 0 {
			where = "the record after line " + strconv.Itoa(r.lastLine)
		}
		return fmt.Errorf("%s is longer than %d bytes: check for a quote that is never closed", where, maxRecordBytes)
	case errors.As(err, &pe):
		return fmt.Errorf("reading the CSV: %w", err) // its text has the line and column
	}
	return fmt.Errorf("reading the CSV after line %d: %w", r.lastLine, err)
}

// checkSpan catches a quote that is opened and never closed. LazyQuotes makes csv
// accept it, and the cell then swallows the rows after it; without this check
// those rows would vanish without a word when the cell is in an ignored column.
func (r *csvSource) checkSpan(raw []string, line int) error {
	breaks := 0
	for _, c := range raw {
		breaks += strings.Count(c, "\n")
	}
	if breaks == 0 {
		return nil
	}
	// Only a quoted cell holds a line break. If the last one ran to the end of the
	// input and the input does not end with its closing quote, it was never closed.
	t := r.tail
	atEOF := t.eof && r.csv.InputOffset() == t.total
	if atEOF && strings.Contains(raw[len(raw)-1], "\n") && !t.endsWithQuote() {
		return fmt.Errorf("line %d: a quote is opened and never closed, so the rest of the file would be read as one cell", line)
	}
	if breaks >= maxRecordLines {
		return fmt.Errorf("line %d: one quoted cell runs over %d lines: check for a quote that is never closed", line, breaks+1)
	}
	return nil
}

func isBlank(raw []string) bool {
	for _, c := range raw {
		if trimCell(c) != "" {
			return false
		}
	}
	return true
}

// budgetReader fails once more than left bytes are read; the CSV source
// refills it before each record, so it bounds the size of a single record.
type budgetReader struct {
	r    io.Reader
	left int
}

type tooLongError struct{}

func (tooLongError) Error() string { return "record too long" }

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, tooLongError{}
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}

// tailReader remembers how the decoded text ends, for checkSpan: how many
// bytes it has handed to csv, its last bytes, and whether the input ended.
type tailReader struct {
	r     io.Reader
	total int64
	tail  [3]byte // the last bytes read, tail[2] the very last
	eof   bool
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.total += int64(n)
	if n >= len(t.tail) {
		copy(t.tail[:], p[n-len(t.tail):n])
	} else if n > 0 {
		copy(t.tail[:], t.tail[n:])
		copy(t.tail[len(t.tail)-n:], p[:n])
	}
	if err == io.EOF {
		t.eof = true
	}
	return n, err
}

// endsWithQuote reports whether the input ends with '"', optionally followed by
// a line break: how a quoted last cell ends when it is closed.
func (t *tailReader) endsWithQuote() bool {
	b := t.tail
	switch {
	case t.total >= 1 && b[2] == '"':
		return true
	case t.total >= 2 && b[2] == '\n' && b[1] == '"':
		return true
	}
	return t.total >= 3 && b[2] == '\n' && b[1] == '\r' && b[0] == '"'
}

// isTrimRune is whitespace, including the non-breaking space, plus the invisible
// characters that copy-paste leaves at the edges of cells (zero-width spaces and
// joiners, word joiner, BOM).
func isTrimRune(r rune) bool {
	switch r {
	case '\u200b', '\u200c', '\u200d', '\u2060', '\ufeff':
		return true
	}
	return unicode.IsSpace(r)
}

// trimCell trims isTrimRune from both ends. Most cells need no trimming, so it
// checks the end bytes before paying for a rune-wise trim.
func trimCell(s string) string {
	if s == "" {
		return s
	}
	if a, z := s[0], s[len(s)-1]; a > ' ' && a < utf8.RuneSelf && z > ' ' && z < utf8.RuneSelf {
		return s
	}
	return strings.TrimFunc(s, isTrimRune)
}

// cleanCell trims a cell and undoes the formula neutralisation exoroster's export
// applies: it writes '=foo for =foo so a spreadsheet will not run it, and a
// re-import must read =foo again.
func cleanCell(s string) string {
	s = trimCell(s)
	if len(s) >= 2 && s[0] == '\'' {
		switch s[1] {
		case '=', '+', '-', '@', '\t', '\r', '\n': // CR reads as LF once line ends are made one
			return trimCell(s[1:])
		}
	}
	return s
}
