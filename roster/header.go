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
	// Notes are warnings about the header, such as a second column for a field
	// that lost to the preference rule; each names the column it is about.
	Notes []string
	// Source says how the file was read: format, encoding, separator, sheet.
	// It is zero for a Header made by ParseHeader.
	Source Source

	cols     [fieldCount]int    // cell index + 1; 0 means absent
	colName  [fieldCount]string // trimmed header of the column, for messages
	fallback [fieldCount]int    // cell index + 1 read when cols' cell is empty (a preferred name's backing)
	columns  []column           // every header cell and what became of it, for Describe
	// ambiguous pairs each losing column with the winner it was as good as:
	// only column order chose, so Open refuses the file unless --map decides.
	ambiguous []ambiguity
}

// column is what became of one header cell.
type column struct {
	index int
	name  string // trimmed
	class colClass
	use   columnUse
	field Field
	why   string // for the ignored list: why a recognised column is not read
}

type columnUse int

const (
	useNone     columnUse = iota // empty header cell
	useField                     // read as field
	useFallback                  // read as field when the chosen column is empty
	useLost                      // recognised, but another column fills its field
	useIgnored                   // --ignore-column or --map …=ignore
	useOther                     // another person's contact, or a fax
	useUnknown                   // not recognised
	useQuiet                     // exoroster's own output columns
)

type ambiguity struct {
	field Field
	a, b  column
}

// ParseHeader matches header cells to fields. It never fails: whether the columns
// are enough is for CheckForImport or CheckForLookup to say.
func ParseHeader(names []string) *Header {
	return parseHeader(names, nil)
}

// parseHeader matches header cells to fields, with the user's --map and
// --ignore-column entries (by cell index) taking precedence over recognition.
func parseHeader(names []string, user map[int]MapEntry) *Header {
	h := &Header{Names: append([]string(nil), names...)}
	if len(h.Names) > 0 {
		h.Names[0] = strings.TrimPrefix(h.Names[0], "\ufeff")
	}
	var unknown map[string]bool // a map, not a scan, so a hostile header stays linear
	h.columns = make([]column, len(h.Names))
	// best[f] is the index in h.columns of the column chosen for f, plus one.
	var best [fieldCount]int
	for i, name := range h.Names {
		c := column{index: i, name: trimCell(name)}
		if e, ok := user[i]; ok {
			if e.Ignore {
				c.use, c.why = useIgnored, e.From
			} else {
				c.use, c.field = useField, e.Field
				c.class = colClass{kind: kindField, field: e.Field, rank: -1, why: e.From}
			}
		} else {
			c.class = classify(name)
			switch c.class.kind {
			case kindField:
				c.use, c.field = useField, c.class.field
			case kindQuiet:
				c.use = useQuiet
			case kindOther:
				c.use, c.why = useOther, c.class.why
			default:
				if c.name != "" {
					c.use = useUnknown
				}
			}
		}
		h.columns[i] = c
		switch c.use {
		case useField:
			h.choose(&best, i)
		case useOther, useUnknown:
			if !unknown[c.name] {
				if unknown == nil {
					unknown = map[string]bool{}
				}
				unknown[c.name] = true
				h.Unknown = append(h.Unknown, c.name)
			}
		}
	}
	for f := Field(0); f < fieldCount; f++ {
		if best[f] != 0 {
			c := h.columns[best[f]-1]
			h.cols[f] = c.index + 1
			h.colName[f] = c.name
		}
	}
	h.chooseFallbacks()
	h.noteLosers()
	return h
}

// choose weighs column i against the one chosen so far for its field: the
// lower rank wins, and of two equal ones the first.
func (h *Header) choose(best *[fieldCount]int, i int) {
	c := &h.columns[i]
	f := c.field
	if best[f] == 0 {
		best[f] = i + 1
		return
	}
	cur := &h.columns[best[f]-1]
	if c.class.rank < cur.class.rank {
		cur.use = useLost
		best[f] = i + 1
		return
	}
	c.use = useLost
}

// noteLosers explains every recognised column that another one beat, once
// the winners are final, and records the ties that only column order decided.
func (h *Header) noteLosers() {
	for i := range h.columns {
		lose := &h.columns[i]
		if lose.use != useLost {
			continue
		}
		f := lose.field
		win := h.columns[h.cols[f]-1]
		lose.why = label(f) + " is " + strconv.Quote(win.name)
		if win.class.rank == lose.class.rank {
			h.ambiguous = append(h.ambiguous, ambiguity{field: f, a: win, b: *lose})
		}
		col := "column " + strconv.Itoa(lose.index+1) + " " + strconv.Quote(lose.name)
		winCol := "column " + strconv.Itoa(win.index+1) + " " + strconv.Quote(win.name)
		var note string
		switch {
		case win.class.rank < 0:
			note = col + " is ignored: " + win.class.why + " reads " + label(f) + " from " + winCol
		case lose.index > win.index:
			note = col + " is a second " + label(f) + " column and is ignored; " + winCol + " is used"
		default:
			note = col + " is ignored: " + winCol + " is used for " + label(f) + ", as " +
				win.class.why + " is preferred to " + lose.class.why
		}
		h.Notes = append(h.Notes, note)
	}
}

// chooseFallbacks backs a preferred name with the plain or legal one: HR
// systems leave "Preferred Name" blank unless it differs, so a row whose
// preferred cell is empty reads the first name instead of being invalid.
func (h *Header) chooseFallbacks() {
	for _, f := range []Field{FieldFirstName, FieldLastName, FieldName} {
		if h.cols[f] == 0 || h.columns[h.cols[f]-1].class.rank != rankPreferred {
			continue
		}
		back := -1
		for i, c := range h.columns {
			if c.use == useLost && c.field == f && c.class.rank > rankPreferred &&
				(back < 0 || c.class.rank < h.columns[back].class.rank) {
				back = i
			}
		}
		if back < 0 {
			continue
		}
		h.columns[back].use = useFallback
		h.fallback[f] = back + 1
	}
}

// label is a field's name in the column mapping: the canonical name, except
// that the phone is "phone" rather than the API's device_contact_uri.
func label(f Field) string {
	switch f {
	case FieldPhone:
		return "phone"
	}
	return f.String()
}

// FieldForHeader reports which field a header cell names, by the same rules
// as ParseHeader (by its words; case, punctuation and annotations ignored).
func FieldForHeader(name string) (Field, bool) {
	c := classify(name)
	return c.field, c.kind == kindField
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
				return " (the header is one cell containing " + strconv.Quote(sep) + ": save the file as comma-separated CSV, or pass --delimiter " + strconv.Quote(sep) + ")"
			}
		}
	}
	for _, name := range h.Names {
		if s := trimCell(name); strings.Contains(s, "@") || (s != "" && (s[0] == '+' || (s[0] >= '0' && s[0] <= '9'))) {
			return " (the first line looks like data: add a header line such as first_name,last_name,email,phone)"
		}
	}
	var cells []string
	for _, name := range h.Names {
		if s := trimCell(name); s != "" {
			cells = append(cells, s)
		}
	}
	if len(cells) == 1 && len(h.Names) > 0 {
		return " (the header has one cell, " + strconv.Quote(cells[0]) + ": if it is a title above the table, delete it so that the column names come first)"
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

// Describe is the column mapping in one line, for a run to print first:
//
//	columns: first_name ← "First Name", email ← "Official Email", phone ← "Mobile Phone"; ignored: "Designation", "Personal Email" (email is "Official Email")
//
// Every header cell is accounted for: read, or listed as ignored with the
// reason when it was recognised. Exoroster's own output columns (status,
// input_*, …) are not listed.
func (h *Header) Describe() string {
	if h == nil {
		return "columns: none"
	}
	var b strings.Builder
	b.WriteString("columns: ")
	n := 0
	for f := Field(0); f < fieldCount; f++ {
		if h.cols[f] == 0 {
			continue
		}
		if n > 0 {
			b.WriteString(", ")
		}
		n++
		b.WriteString(label(f))
		b.WriteString(" ← ")
		b.WriteString(strconv.Quote(h.colName[f]))
		if h.fallback[f] != 0 {
			b.WriteString(" (else ")
			b.WriteString(strconv.Quote(h.columns[h.fallback[f]-1].name))
			b.WriteString(")")
		}
	}
	if n == 0 {
		b.WriteString("none recognised")
	}
	n = 0
	for _, c := range h.columns {
		switch c.use {
		case useLost, useIgnored, useOther, useUnknown:
		default:
			continue
		}
		if n == 0 {
			b.WriteString("; ignored: ")
		} else {
			b.WriteString(", ")
		}
		n++
		if n > maxDescribed {
			b.WriteString("and " + strconv.Itoa(h.countIgnored()-maxDescribed) + " more")
			break
		}
		b.WriteString(strconv.Quote(c.name))
		if c.why != "" {
			b.WriteString(" (")
			b.WriteString(c.why)
			b.WriteString(")")
		}
	}
	return b.String()
}

// maxDescribed bounds the ignored list, so a header of thousands of cells
// still prints one readable line.
const maxDescribed = 40

func (h *Header) countIgnored() int {
	n := 0
	for _, c := range h.columns {
		switch c.use {
		case useLost, useIgnored, useOther, useUnknown:
			n++
		}
	}
	return n
}

// checkAmbiguous refuses two columns that are equally good for one field
// ("Email" and "E-mail"): which one is meant is the user's to say.
func (h *Header) checkAmbiguous() error {
	if len(h.ambiguous) == 0 {
		return nil
	}
	a := h.ambiguous[0]
	return &ColumnError{
		Columns: []string{a.a.name, a.b.name},
		msg: "columns " + strconv.Itoa(a.a.index+1) + " " + strconv.Quote(a.a.name) + " and " +
			strconv.Itoa(a.b.index+1) + " " + strconv.Quote(a.b.name) + " could both be the " + label(a.field) +
			" column: choose one with --map " + strconv.Quote(a.b.name+"="+label(a.field)) +
			" or --ignore-column " + strconv.Quote(a.b.name),
	}
}
