package roster

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
)

// Header is the parsed header line: which cell holds which Field.
type Header struct {
	// Names are the header cells exactly as read (a leading BOM removed).
	Names []string
	// Unknown lists headers that match no field and are not exoroster's own output
	// columns, trimmed, each once. Report them once per run; they are never fatal.
	Unknown []string
	// Notes are warnings about the header, such as a second column for a field.
	Notes []string

	cols    [fieldCount]int    // cell index + 1; 0 means absent
	colName [fieldCount]string // trimmed header of the column, for messages
}

// ParseHeader matches header cells to fields. It never fails: whether the columns
// are enough is for CheckForImport or CheckForLookup to say.
func ParseHeader(names []string) *Header {
	h := &Header{Names: append([]string(nil), names...)}
	var unknown map[string]bool // a map, not a scan, so a hostile header stays linear
	if len(h.Names) > 0 {
		h.Names[0] = strings.TrimPrefix(h.Names[0], "\ufeff")
	}
	for i, name := range h.Names {
		k := headerKey(name)
		if k == "" {
			continue
		}
		shown := trimCell(name)
		f, ok := fieldForKey(k)
		switch {
		case ok && h.cols[f] == 0:
			h.cols[f] = i + 1
			h.colName[f] = shown
		case ok:
			first := h.cols[f] - 1
			h.Notes = append(h.Notes, "column "+strconv.Itoa(i+1)+" "+strconv.Quote(shown)+
				" is a second "+f.String()+" column and is ignored; column "+
				strconv.Itoa(first+1)+" "+strconv.Quote(h.colName[f])+" is used")
		case isQuietKey(k):
		case !unknown[shown]:
			if unknown == nil {
				unknown = map[string]bool{}
			}
			unknown[shown] = true
			h.Unknown = append(h.Unknown, shown)
		}
	}
	return h
}

// FieldForHeader reports which field a header cell names, by the same rules
// as ParseHeader (aliases, case and punctuation ignored).
func FieldForHeader(name string) (Field, bool) {
	return fieldForKey(headerKey(name))
}

// IsExport reports whether the file is exoroster's own record of users:
// an export, an offboard backup or an offboard results file, recognised by
// columns only exoroster writes (user_id, email_verified, date_created and
// date_updated). Its values came from the API, so a Validator takes its
// names exactly as the API stored them (see Validator.Check).
func (h *Header) IsExport() bool {
	if h == nil || !h.Has(FieldUserID) {
		return false
	}
	want := map[string]bool{"email verified": false, "date created": false, "date updated": false}
	for _, name := range h.Names {
		if _, ok := want[headerKey(name)]; ok {
			want[headerKey(name)] = true
		}
	}
	return want["email verified"] && want["date created"] && want["date updated"]
}

// Has reports whether the file has a column for f.
func (h *Header) Has(f Field) bool {
	_, ok := h.Index(f)
	return ok
}

// Index returns the cell index of f's column.
func (h *Header) Index(f Field) (int, bool) {
	if h == nil || f < 0 || f >= fieldCount || h.cols[f] == 0 {
		return -1, false
	}
	return h.cols[f] - 1, true
}

// Column names f's column for messages: the header as written in the file, or the
// canonical field name when the file has no such column.
func (h *Header) Column(f Field) string {
	if h != nil && f >= 0 && f < fieldCount && h.cols[f] != 0 {
		return h.colName[f]
	}
	return f.String()
}

// CheckForImport returns a run-level error when the file has no usable name
// columns: import needs first_name and last_name, or a single name column.
func (h *Header) CheckForImport() error {
	first, last := h.Has(FieldFirstName), h.Has(FieldLastName)
	switch {
	case h.Has(FieldName) || (first && last):
		return nil
	case first:
		return errors.New("no last name column: the file needs last_name (or surname) or a single name column")
	case last:
		return errors.New("no first name column: the file needs first_name (or given name) or a single name column")
	}
	return errors.New("no name columns: the file needs first_name and last_name columns, or a single name column" + h.hint())
}

// CheckForLookup returns a run-level error when the file has no column to find
// existing users by (user_id, email or phone), as offboard and update need.
func (h *Header) CheckForLookup() error {
	if h.Has(FieldUserID) || h.Has(FieldEmail) || h.Has(FieldPhone) {
		return nil
	}
	return errors.New("no column to find users by: the file needs user_id, email or phone" + h.hint())
}

// hint guesses why a header matched nothing, for the two mistakes that are common:
// a file saved with another separator, and a file with no header line at all.
func (h *Header) hint() string {
	if h == nil {
		return ""
	}
	for f := Field(0); f < fieldCount; f++ {
		if h.cols[f] != 0 {
			return ""
		}
	}
	if len(h.Names) == 1 {
		for _, sep := range []string{";", "\t", "|"} {
			if strings.Contains(h.Names[0], sep) {
				return " (the header is one cell containing " + strconv.Quote(sep) + ": save the file as comma-separated CSV)"
			}
		}
	}
	for _, name := range h.Names {
		if s := trimCell(name); strings.Contains(s, "@") || (s != "" && (s[0] == '+' || (s[0] >= '0' && s[0] <= '9'))) {
			return " (the first line looks like data: add a header line such as first_name,last_name,email,phone)"
		}
	}
	return ""
}

// headerKey normalises a header for matching: trimmed, lower case, and with '_',
// '-', '.' and runs of spaces all reduced to one space, so that "First Name",
// "first_name" and "FIRST-NAME" compare equal.
func headerKey(s string) string {
	s = trimCell(s)
	var b strings.Builder
	b.Grow(len(s))
	gap := false
	for _, r := range s {
		if r == '_' || r == '-' || r == '.' || isTrimRune(r) {
			gap = true
			continue
		}
		if gap && b.Len() > 0 {
			b.WriteByte(' ')
		}
		gap = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
