package roster

import (
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
// a person listed twice. It is not safe for concurrent use.
type Validator struct {
	h      *Header
	export bool // h.IsExport: names are taken as the API stored them
	region string
	emails map[string]int // EmailKey → first row
	phones map[string]int // E.164 → first row
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
	return &Validator{h: h, export: h.IsExport(), region: region, emails: map[string]int{}, phones: map[string]int{}}
}

// Check validates one record and returns the Person to create, with every
// problem of the row (nil when it is fine).
func (v *Validator) Check(rec Record) (Person, []Problem) {
	h := v.h
	first, last, probs := v.names(rec)
	p := Person{FirstName: first, LastName: last}
	add := func(f Field, value string, err error) {
		probs = append(probs, Problem{Column: h.Column(f), Value: value, Reason: err.Error()})
	}

	if s := rec.Get(h, FieldEmail); s != "" {
		if email, err := NormalizeEmail(s); err != nil {
			add(FieldEmail, s, err)
		} else {
			p.Email = email
			if row, dup := v.seen(v.emails, EmailKey(email), rec.Row); dup {
				add(FieldEmail, s, reason("duplicate of row "+strconv.Itoa(row)+" (same email)"))
			}
		}
	}

	if s := rec.Get(h, FieldPhone); s != "" {
		if IsSIPURI(s) {
			if err := checkSIP(s); err != nil {
				add(FieldPhone, s, err)
			} else {
				p.SIPContact = s
			}
		} else if phone, err := NormalizePhone(s, v.region); err != nil {
			add(FieldPhone, s, err)
		} else {
			p.Phone = phone
			if row, dup := v.seen(v.phones, phone, rec.Row); dup {
				add(FieldPhone, s, reason("duplicate of row "+strconv.Itoa(row)+" (same phone)"))
			}
		}
	}

	s := rec.Get(h, FieldRole)
	if role, err := NormalizeRole(s); err != nil {
		add(FieldRole, s, err)
	} else {
		p.Role = role
	}

	s = rec.Get(h, FieldDeviceName)
	if err := CheckDeviceName(s); err != nil {
		add(FieldDeviceName, s, err)
	} else {
		p.DeviceName = s
	}
	return p, probs
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
		first, last = SplitName(full)
		if first != "" && last == "" {
			oneWord = full
		}
	}
	if err := CheckName(first); err != nil {
		probs = append(probs, Problem{Column: h.Column(FieldFirstName), Value: first, Reason: err.Error()})
		first = ""
	}
	if oneWord != "" {
		probs = append(probs, Problem{Column: h.Column(FieldLastName), Value: oneWord, Reason: "last name is required (the name has one word)"})
	} else if err := CheckName(last); err != nil {
		probs = append(probs, Problem{Column: h.Column(FieldLastName), Value: last, Reason: err.Error()})
		last = ""
	}
	return first, last, probs
}

// seen registers key for row and reports the earlier row that had it. Keys are
// cloned so the map does not keep whole CSV records alive.
func (v *Validator) seen(m map[string]int, key string, row int) (int, bool) {
	if first, ok := m[key]; ok {
		return first, true
	}
	m[strings.Clone(key)] = row
	return 0, false
}
