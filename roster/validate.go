package roster

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/exoroster/exoroster/results"
)

// Options tune validation.
type Options struct {
	// DefaultRegion is the region for phone numbers written without +country
	// code; DefaultRegion (IN) when empty.
	DefaultRegion string
	// RequirePhone makes a row without a phone number invalid (validate
	// --require-phone): on accounts where Exotel requires one (error 1402),
	// such a row would fail at the API.
	RequirePhone bool
}

// Person is a row ready for the create-user request. Fields with a problem are
// left empty; send a Person only when Check returned no problems.
type Person struct {
	FirstName, LastName string
	Email               string // as written (case and +tag kept)
	Phone               string // E.164, or "" when the row has none
	Role                string // admin, supervisor or user
	DeviceName          string
	SIPContact          string // the phone cell when it held a sip: URI; Phone is then ""
}

// Problem is one reason a row cannot be imported.
type Problem struct {
	// Column is the header as written in the file, or the canonical field name
	// (Field.String) when the file has no such column. Problems with a name split
	// from the name column are reported on the first or last name column, so
	// usually on first_name or last_name; an empty name cell on the name column.
	Column string
	Value  string // the trimmed value that was refused
	Reason string // short, lower-case, human
}

// String renders the problem for a results file or a log line.
func (p Problem) String() string {
	if p.Value == "" {
		return p.Column + ": " + p.Reason
	}
	return p.Column + " " + strconv.Quote(p.Value) + ": " + p.Reason
}

// Validator checks rows and remembers the emails and phones it has seen, to catch
// a person listed twice. It is not safe for concurrent use; a Checker runs
// one over many goroutines.
type Validator struct {
	h            *Header
	export       bool // h.IsExport: names are taken as the API stored them
	region       string
	requirePhone bool
	phones       *phoneRules
	seen         *seen
}

// NewValidator returns a Validator for rows read with header h.
func NewValidator(h *Header, opts Options) *Validator {
	if h == nil {
		h = ParseHeader(nil)
	}
	region := strings.ToUpper(opts.DefaultRegion)
	if region == "" {
		region = DefaultRegion
	}
	return &Validator{h: h, export: h.IsExport(), region: region, requirePhone: opts.RequirePhone,
		phones: newPhoneRules(region), seen: newSeen()}
}

// Checked is a record and what Check found in it.
type Checked struct {
	Record   Record
	Person   Person
	Problems []Problem

	// What settle needs to look the row's email and phone up: where in
	// Problems a duplicate's problem goes (-1 when there is nothing to
	// look up) and the cells as written, for its message.
	emailAt, phoneAt     int
	emailCell, phoneCell string
}

// Check validates one record and returns the Person to create, with every
// problem of the row (nil when it is fine).
func (v *Validator) Check(rec Record) (Person, []Problem) {
	c := v.inspect(rec)
	v.settle(&c)
	return c.Person, c.Problems
}

// inspect checks everything about rec that does not depend on other rows.
// It only reads the Validator, so normalisers may call it at once.
func (v *Validator) inspect(rec Record) Checked {
	h := v.h
	first, last, probs := v.names(rec)
	c := Checked{Record: rec, Person: Person{FirstName: first, LastName: last}, emailAt: -1, phoneAt: -1}
	p := &c.Person
	add := func(f Field, value string, err error) {
		probs = append(probs, Problem{Column: h.Column(f), Value: value, Reason: err.Error()})
	}
	if pr, bad := h.Overflow(rec); bad {
		probs = append(probs, pr)
	}

	if s := rec.Get(h, FieldEmail); s != "" {
		if spreadsheetError(s) {
			add(FieldEmail, s, errSpreadsheet)
		} else if email, err := NormalizeEmail(s); err != nil {
			add(FieldEmail, s, err)
		} else {
			p.Email = email
			c.emailAt, c.emailCell = len(probs), s
		}
	}

	switch s := rec.Get(h, FieldPhone); {
	case s == "":
		if v.requirePhone {
			add(FieldPhone, "", reason("is required: this account needs a phone number for every user (--require-phone)"))
		}
	case spreadsheetError(s):
		add(FieldPhone, s, errSpreadsheet)
	case IsSIPURI(s):
		if err := checkSIP(s); err != nil {
			add(FieldPhone, s, err)
		} else if v.requirePhone {
			add(FieldPhone, s, reason("is a SIP address, and this account needs a phone number for every user (--require-phone)"))
		} else {
			p.SIPContact = s
		}
	default:
		if phone, err := v.phones.normalize(s, v.region); err != nil {
			add(FieldPhone, s, err)
		} else {
			p.Phone = phone
			c.phoneAt, c.phoneCell = len(probs), s
		}
	}

	s := rec.Get(h, FieldRole)
	if spreadsheetError(s) {
		add(FieldRole, s, errSpreadsheet)
	} else if role, err := NormalizeRole(s); err != nil {
		add(FieldRole, s, err)
	} else {
		p.Role = role
	}

	s = rec.Get(h, FieldDeviceName)
	if i, ok := h.Index(FieldDeviceName); ok && v.export && i < len(rec.Raw) {
		// As the API stored it, like the names: export's quote is
		// undone and a leading =, +, - or @ came from the API.
		if s = results.Restore(rec.Raw[i]); !utf8.ValidString(s) {
			add(FieldDeviceName, s, reason("is not valid UTF-8 text"))
		} else {
			p.DeviceName = s
		}
	} else if spreadsheetError(s) {
		add(FieldDeviceName, s, errSpreadsheet)
	} else if err := CheckDeviceName(s); err != nil {
		add(FieldDeviceName, s, err)
	} else {
		p.DeviceName = s
	}
	c.Problems = probs
	return c
}

// settle looks c's email and phone up among the rows settled before it,
// remembers them, and adds a problem for each that an earlier row had.
// Rows must be settled in input order, one at a time, for "duplicate of
// row N" to name the first row.
func (v *Validator) settle(c *Checked) {
	if c.emailAt < 0 && c.phoneAt < 0 {
		return
	}
	email, phone := "", ""
	if c.emailAt >= 0 {
		email = c.Person.Email
	}
	if c.phoneAt >= 0 {
		phone = c.Person.Phone
	}
	emailDup, phoneDup := v.seen.add(c.Record.Row, email, phone)
	// The phone's problem goes in first: it is never before the email's.
	if phoneDup.found {
		c.Problems = slices.Insert(c.Problems, c.phoneAt, v.dupProblem(FieldPhone, c.phoneCell, phoneDup.row, "phone"))
	}
	if emailDup.found {
		c.Problems = slices.Insert(c.Problems, c.emailAt, v.dupProblem(FieldEmail, c.emailCell, emailDup.row, "email"))
	}
	c.emailAt, c.phoneAt = -1, -1
}

func (v *Validator) dupProblem(f Field, cell string, row int, what string) Problem {
	return Problem{Column: v.h.Column(f), Value: cell, Reason: "duplicate of row " + strconv.Itoa(row) + " (same " + what + ")"}
}

// names finds the first and last name: from their own columns, or split from the
// name column when the file has none or both cells are empty. In an export
// (Header.IsExport) they are the cells exactly as the API stored them, made
// safe for spreadsheets on the way out and restored here (results.Restore):
// untrimmed, and even when they start with =, +, -, @, a tab or a newline,
// which an HR file's names may not. They must only be there.
func (v *Validator) names(rec Record) (first, last string, probs []Problem) {
	h := v.h
	if v.export {
		exact := func(f Field) string {
			i, ok := h.Index(f)
			if !ok || i >= len(rec.Raw) {
				return ""
			}
			s := results.Restore(rec.Raw[i])
			switch {
			case strings.TrimSpace(s) == "":
				probs = append(probs, Problem{Column: h.Column(f), Reason: "is required"})
			case !utf8.ValidString(s):
				probs = append(probs, Problem{Column: h.Column(f), Value: s, Reason: "is not valid UTF-8 text"})
			}
			return s
		}
		return exact(FieldFirstName), exact(FieldLastName), probs
	}
	first, last = rec.Get(h, FieldFirstName), rec.Get(h, FieldLastName)
	oneWord := ""
	if first == "" && last == "" && h.Has(FieldName) {
		full := rec.Get(h, FieldName)
		if full == "" && !h.Has(FieldFirstName) && !h.Has(FieldLastName) {
			// One empty name cell is one problem, not two about absent columns.
			return "", "", []Problem{{Column: h.Column(FieldName), Reason: "is required"}}
		}
		if spreadsheetError(full) {
			return "", "", []Problem{{Column: h.columnOf(rec, FieldName), Value: full, Reason: errSpreadsheet.Error()}}
		}
		first, last = SplitName(full)
		if first != "" && last == "" {
			oneWord = full
		}
	}
	if err := checkNameCell(first); err != nil {
		probs = append(probs, Problem{Column: h.columnOf(rec, FieldFirstName), Value: first, Reason: err.Error()})
		first = ""
	}
	if oneWord != "" {
		probs = append(probs, Problem{Column: h.Column(FieldLastName), Value: oneWord, Reason: "last name is required (the name has one word)"})
	} else if err := checkNameCell(last); err != nil {
		probs = append(probs, Problem{Column: h.columnOf(rec, FieldLastName), Value: last, Reason: err.Error()})
		last = ""
	}
	return first, last, probs
}

// errSpreadsheet is the reason for a cell holding #N/A and its kind.
const errSpreadsheet = reason("is a spreadsheet error value, not data: fix the formula or the cell and export again")

// checkNameCell is CheckName, with a spreadsheet's error value named as such
// rather than accepted as a name of letters.
func checkNameCell(s string) error {
	if spreadsheetError(s) {
		return errSpreadsheet
	}
	return CheckName(s)
}

// Overflow reports a row with more cells than the header: in CSV a separator
// inside an unquoted value, which shifts every cell after it, or in a
// workbook a value right of the table. The row is invalid rather than
// silently trimmed; in CSV even empty extra cells count, since a shifted row
// can end in an empty one.
func (h *Header) Overflow(rec Record) (Problem, bool) {
	if h == nil {
		return Problem{}, false
	}
	width := len(h.Names)
	if width == 0 || len(rec.Raw) <= width { // no header to measure against
		return Problem{}, false
	}
	last := -1
	for i := len(rec.Raw) - 1; i >= width; i-- {
		if trimCell(rec.Raw[i]) != "" {
			last = i
			break
		}
	}
	if h.Source.Format == formatXLSX {
		if last < 0 {
			return Problem{}, false
		}
		return Problem{Column: "row", Reason: "has a value in column " + columnLetters(last+1) +
			", right of the header's last column " + columnLetters(width) + ": give that column a header, or clear the cell"}, true
	}
	sep := "a comma"
	switch h.Source.Delimiter {
	case ';':
		sep = "a semicolon"
	case '\t':
		sep = "a tab"
	case '|':
		sep = "a |"
	}
	reason := "has " + strconv.Itoa(len(rec.Raw)) + " cells, the header has " + strconv.Itoa(width) + ": " + sep + " inside an unquoted value?"
	if last < 0 {
		reason = "has " + strconv.Itoa(len(rec.Raw)) + " cells, the header has " + strconv.Itoa(width) +
			" (the extra ones empty): " + sep + " inside an unquoted value, or one too many at the end of the line?"
	}
	return Problem{Column: "row", Reason: reason}, true
}

// columnLetters is a spreadsheet's name for column n (1-based): A, Z, AA.
func columnLetters(n int) string {
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('A' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}
