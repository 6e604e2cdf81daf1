package roster

import (
	"bufio"
	"bytes"
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
	Row  int      // 1-based data row; blank rows are not counted
	Line int      // physical line where the record starts (1-based, the header is line 1 or later)
	Raw  []string // cells exactly as read, untrimmed, including any beyond the header
}

// Get returns f's cell, cleaned (see cleanCell), or "" when the file has no such
// column or this row is short.
func (rec Record) Get(h *Header, f Field) string {
	i, ok := h.Index(f)
	if !ok || i >= len(rec.Raw) {
		return ""
	}
	return cleanCell(rec.Raw[i])
}

// Reader streams the records of a roster CSV. It holds one record at a time.
type Reader struct {
	csv      *csv.Reader
	budget   *budgetReader
	header   *Header
	skipped  int // bytes dropped before csv saw the input (a BOM)
	row      int
	lastLine int   // start line of the last record read, for error messages
	err      error // sticky: once reading fails, it keeps failing
}

// NewReader reads the header line of a roster CSV. It fails when the input is
// empty, has no header, or is plainly not CSV text (an Excel workbook, UTF-16).
func NewReader(r io.Reader) (*Reader, error) {
	budget := &budgetReader{r: r, left: maxRecordBytes}
	br := bufio.NewReader(budget)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading the header: %w", err)
	}
	skipped := 0
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		// Excel's "CSV UTF-8" starts with a BOM; drop it so the first header matches.
		skipped, _ = br.Discard(3)
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, errors.New("the file is an Excel workbook (.xlsx), not CSV: save it as \"CSV UTF-8\" and try again")
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0")):
		return nil, errors.New("the file is an old Excel workbook (.xls), not CSV: save it as \"CSV UTF-8\" and try again")
	case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
		return nil, errors.New("the file is UTF-16 text: save it as \"CSV UTF-8\" and try again")
	}

	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // short and long rows are handled per cell
	cr.ReuseRecord = false  // callers keep Raw
	cr.LazyQuotes = true    // a stray quote in a name (O"Brien) must not end the run
	rd := &Reader{csv: cr, budget: budget, skipped: skipped}

	for {
		rec, err := rd.read()
		if err == io.EOF {
			return nil, errors.New("the file is empty: it needs a header line such as first_name,last_name,email,phone")
		}
		if err != nil {
			return nil, err
		}
		// Spreadsheets often leave rows of empty cells above the table.
		if !isBlank(rec.Raw) {
			rd.header = ParseHeader(rec.Raw)
			return rd, nil
		}
	}
}

// Header returns the header read by NewReader.
func (r *Reader) Header() *Header { return r.header }

// Next returns the next non-blank record, io.EOF after the last one, or a
// run-level error (with its line) when the file cannot be read further.
func (r *Reader) Next() (Record, error) {
	for r.err == nil {
		rec, err := r.read()
		if err != nil {
			r.err = err
			break
		}
		if isBlank(rec.Raw) {
			continue
		}
		r.row++
		rec.Row = r.row
		return rec, nil
	}
	return Record{}, r.err
}

// read returns the next csv record, whatever its content, with its line.
func (r *Reader) read() (Record, error) {
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
func (r *Reader) runError(err error) error {
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
func (r *Reader) checkSpan(raw []string, line int) error {
	breaks := 0
	for _, c := range raw {
		breaks += strings.Count(c, "\n")
	}
	if breaks == 0 {
		return nil
	}
	// Only a quoted cell holds a line break. If the last one ran to the end of the
	// input and the input does not end with its closing quote, it was never closed.
	b := r.budget
	atEOF := b.eof && r.csv.InputOffset()+int64(r.skipped) == b.total
	if atEOF && strings.Contains(raw[len(raw)-1], "\n") && !b.endsWithQuote() {
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

// budgetReader fails once more than left bytes are read; Reader refills it before
// each record, so it bounds the size of a single record. It also remembers how the
// input ends, for checkSpan.
type budgetReader struct {
	r     io.Reader
	left  int
	total int64   // bytes read so far
	tail  [3]byte // the last bytes read, tail[2] the very last
	eof   bool
}

// endsWithQuote reports whether the input ends with '"', optionally followed by
// a line break: how a quoted last cell ends when it is closed.
func (b *budgetReader) endsWithQuote() bool {
	t := b.tail
	switch {
	case b.total >= 1 && t[2] == '"':
		return true
	case b.total >= 2 && t[2] == '\n' && t[1] == '"':
		return true
	}
	return b.total >= 3 && t[2] == '\n' && t[1] == '\r' && t[0] == '"'
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
	b.total += int64(n)
	if n >= len(b.tail) {
		copy(b.tail[:], p[n-len(b.tail):n])
	} else if n > 0 {
		copy(b.tail[:], b.tail[n:])
		copy(b.tail[len(b.tail)-n:], p[:n])
	}
	if err == io.EOF {
		b.eof = true
	}
	return n, err
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
		case '=', '+', '-', '@', '\t', '\r':
			return trimCell(s[1:])
		}
	}
	return s
}
