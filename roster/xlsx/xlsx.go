// Package xlsx reads the rows of one sheet of an .xlsx workbook as text, the
// way a roster needs them: a number by its value (the mobile stored as
// 919845011111 reads "919845011111", whatever the display format), a date as
// ISO text, a formula by its cached value, and one row at a time, so memory
// does not grow with the sheet.
package xlsx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

const (
	// MaxBytes bounds the workbook file read into memory. The zip is small
	// next to what it unpacks to; rosters are far below this.
	MaxBytes = 256 << 20
	// maxUnzipped bounds what the workbook may unpack to, against zip bombs.
	maxUnzipped = 2 << 30
	// maxXMLInMemory is the largest sheet excelize keeps in memory; a larger
	// one goes to a temporary file that Close removes.
	maxXMLInMemory = 16 << 20
)

// NoSheetError is a --sheet naming a sheet the workbook lacks.
type NoSheetError struct {
	Name   string
	Sheets []string // the workbook's sheets, in order
}

func (e *NoSheetError) Error() string {
	return fmt.Sprintf("the workbook has no sheet %q; its sheets are %s", e.Name, quoteAll(e.Sheets))
}

// Sheet streams the rows of one worksheet.
type Sheet struct {
	file     *excelize.File
	name     string
	raw      *excelize.Rows // cell values as stored
	shown    *excelize.Rows // the same rows formatted, to tell dates and booleans
	row      int
	date1904 bool
}

// Open reads a workbook from r and opens sheet, or the first visible sheet when
// sheet is "". A sheet name matches exactly or, failing that, ignoring case.
func Open(r io.Reader, sheet string) (*Sheet, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("the workbook is larger than %d MB: save the sheet as CSV UTF-8", MaxBytes>>20)
	}
	f, err := excelize.OpenReader(strings.NewReader(string(data)), excelize.Options{
		UnzipSizeLimit:    maxUnzipped,
		UnzipXMLSizeLimit: maxXMLInMemory,
	})
	if err != nil {
		return nil, err
	}
	s, err := openSheet(f, sheet)
	if err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

func openSheet(f *excelize.File, want string) (*Sheet, error) {
	list := f.GetSheetList()
	name := ""
	if want == "" {
		for _, n := range list {
			if visible, err := f.GetSheetVisible(n); err == nil && visible {
				name = n
				break
			}
		}
		if name == "" && len(list) > 0 {
			name = list[0]
		}
		if name == "" {
			return nil, errors.New("the workbook has no sheets")
		}
	} else {
		for _, n := range list {
			if n == want {
				name = n
			}
		}
		for _, n := range list {
			if name == "" && strings.EqualFold(n, want) {
				name = n
			}
		}
		if name == "" {
			return nil, &NoSheetError{Name: want, Sheets: list}
		}
	}
	s := &Sheet{file: f, name: name}
	if props, err := f.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		s.date1904 = *props.Date1904
	}
	var err error
	if s.raw, err = f.Rows(name); err != nil {
		return nil, fmt.Errorf("reading sheet %q: %w", name, err)
	}
	if s.shown, err = f.Rows(name); err != nil {
		s.raw.Close()
		return nil, fmt.Errorf("reading sheet %q: %w", name, err)
	}
	return s, nil
}

// Name is the sheet being read.
func (s *Sheet) Name() string { return s.name }

// Next returns the next row's number (1-based, the sheet's own) and its cells
// from column A, without trailing empty cells; an empty row has no cells.
// It returns io.EOF after the last row.
func (s *Sheet) Next() (int, []string, error) {
	if !s.raw.Next() {
		if err := s.raw.Error(); err != nil {
			return 0, nil, fmt.Errorf("reading sheet %q after row %d: %w", s.name, s.row, err)
		}
		return 0, nil, io.EOF
	}
	s.shown.Next()
	s.row++
	raw, err := s.raw.Columns(excelize.Options{RawCellValue: true})
	if err != nil {
		return 0, nil, fmt.Errorf("reading sheet %q row %d: %w", s.name, s.row, err)
	}
	shown, err := s.shown.Columns()
	if err != nil {
		return 0, nil, fmt.Errorf("reading sheet %q row %d: %w", s.name, s.row, err)
	}
	for i, v := range raw {
		d := ""
		if i < len(shown) {
			d = shown[i]
		}
		raw[i] = s.value(v, d)
	}
	for len(raw) > 0 && raw[len(raw)-1] == "" {
		raw = raw[:len(raw)-1]
	}
	return s.row, raw, nil
}

// value decides a cell's text from its stored value v and its displayed
// text d. Text is taken as stored (a text format cannot add to it); a number
// by its value, never by its display format, except that a date or time
// shows as ISO text and a boolean as TRUE or FALSE.
func (s *Sheet) value(v, d string) string {
	if v == d {
		return v // text, or a number displayed as stored
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || strings.TrimSpace(v) != v {
		return v
	}
	switch {
	case (v == "1" && d == "TRUE") || (v == "0" && d == "FALSE"):
		return d
	case looksLikeDate(d):
		if t, err := excelize.ExcelDateToTime(n, s.date1904); err == nil {
			switch {
			case n < 1:
				return t.Format("15:04:05")
			case n == math.Trunc(n):
				return t.Format("2006-01-02")
			}
			return t.Format("2006-01-02T15:04:05")
		}
	}
	return canonicalNumber(v)
}

// canonicalNumber writes a stored number without exponent or trailing
// decimals: 9.19845011111E+11 is 919845011111. Plain digits are returned as
// they are, so no precision is lost beyond what the file holds.
func canonicalNumber(v string) string {
	if v == "" || strings.Trim(v, "0123456789") == "" || !strings.ContainsAny(v, ".eE") {
		return v
	}
	n, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(n, 0) || math.IsNaN(n) || strings.ContainsAny(v, " \t") {
		return v
	}
	return strconv.FormatFloat(n, 'f', -1, 64)
}

// looksLikeDate reports whether a number's displayed text is a date or a
// time: 05/01/2024, 5-Jan-24, 2024-01-05, 10:30 AM, 05.01.2024.
func looksLikeDate(d string) bool {
	if strings.IndexAny(d, "0123456789") < 0 {
		return false
	}
	if strings.ContainsAny(d, "/:") {
		return true
	}
	l := strings.ToLower(d)
	for _, m := range [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		if strings.Contains(l, m) {
			return true
		}
	}
	// digits, separator, digits, the same separator, digits
	for _, sep := range []string{"-", "."} {
		parts := strings.Split(strings.TrimSpace(d), sep)
		if len(parts) == 3 && allDigits(parts[0]) && allDigits(parts[1]) && allDigits(parts[2]) {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// Close releases the workbook and any temporary files it unpacked to.
func (s *Sheet) Close() error {
	s.raw.Close()
	s.shown.Close()
	return s.file.Close()
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
