// Package updater changes existing Exotel users from a list: names, an
// email while the user has none, and the phone number of the user's first
// phone device.
//
// Rows name their user like offboard's (user_id, email or phone; see
// resolve). Every row is compared with the user's current record first: a
// row that changes nothing sends nothing, and a change the API would refuse
// (a second email) fails without a request.
//
// Which column identifies the row: the first given of user_id, email,
// phone. The other two, when given, are what the user should have: an
// email or phone that belongs to no user is a change, one that belongs to
// another user makes the row ambiguous. new_email and new_phone columns
// change the very column that identifies the row (find by phone, change the
// phone); with them, the email and phone columns only identify, and must
// agree with the user.
package updater

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// Plan is an update list read and checked offline.
type Plan struct {
	List *resolve.List
	// Notes are warnings about the header, e.g. columns the API cannot
	// change.
	Notes []string
	// Undo: the list is an update results file, read as the undoing of
	// its changes (see Prepare).
	Undo  bool
	wants []want // per row of List

	// What a resume of an earlier run's results file keeps (SetResume).
	kept    map[int]bool // rows settled for good
	settled map[results.Status]int
	prior   map[int][]string // old values an earlier run recorded, by row
}

// want is what a row asks for; empty fields are left as they are.
type want struct {
	first, last string
	newEmail    string
	newPhone    string
	problems    []roster.Problem
	// nothing: an undo row that changed nobody (no user_id); its message.
	nothing string
}

// OldColumns are the columns every update results line carries after the
// leading ones: the user's values before the row's changes (names, email,
// and the number of the first phone device), so a bad bulk change can be
// undone by feeding the results file back to update.
func OldColumns() []string {
	return []string{"old_first_name", "old_last_name", "old_email", "old_phone"}
}

// Prepare reads a whole update list and checks every row offline. Its
// errors are run-level: an unreadable file, no column to find users by.
func Prepare(name string, r io.Reader, opts roster.Options) (*Plan, error) {
	list, err := resolve.ReadList(name, r, opts)
	if err != nil {
		return nil, err
	}
	return PrepareList(list, opts), nil
}

// PrepareList checks every row of a list already read (resolve.ReadRows,
// for a file opened with the user's --map and the rest) offline.
func PrepareList(list *resolve.List, opts roster.Options) *Plan {
	h := list.Header
	p := &Plan{List: list, wants: make([]want, len(list.Rows))}
	for _, f := range []roster.Field{roster.FieldRole, roster.FieldDeviceName} {
		if h.Has(f) {
			p.Notes = append(p.Notes, fmt.Sprintf("column %q is ignored: Exotel's API cannot change a user's %s", h.Column(f), f))
		}
	}
	if old, ok := oldColumns(h); ok {
		p.readUndo(old)
		return p
	}
	for i, row := range list.Rows {
		p.wants[i] = parseWant(h, row.Rec, opts.DefaultRegion)
	}
	return p
}

// oldColumns finds the old_* columns of an update results file: their cell
// indexes, in OldColumns order, and whether the header has them all and a
// user_id column.
func oldColumns(h *roster.Header) ([]int, bool) {
	idx := make([]int, len(OldColumns()))
	for i, name := range OldColumns() {
		idx[i] = -1
		for j, n := range h.Names {
			if strings.EqualFold(strings.TrimSpace(n), name) {
				idx[i] = j
				break
			}
		}
		if idx[i] < 0 {
			return nil, false
		}
	}
	return idx, h.Has(roster.FieldUserID)
}

// readUndo reads an update results file as the undoing of its changes: each
// row's user (its user_id column, the user the run found) is to get back
// its old_first_name, old_last_name, old_email and old_phone. A blank cell
// leaves that value as it is; the old names are taken as the API stored
// them; the row's other columns are not read. A row with no user_id (the
// run found nobody) changes nothing.
func (p *Plan) readUndo(old []int) {
	p.Undo = true
	h := p.List.Header
	cell := func(rec roster.Record, i int) string {
		if i >= len(rec.Raw) {
			return ""
		}
		return results.Restore(rec.Raw[i])
	}
	// The old_* columns are read here: they are not unknown.
	p.List.Header.Unknown = slices.DeleteFunc(h.Unknown, func(n string) bool {
		for _, c := range OldColumns() {
			if strings.EqualFold(n, c) {
				return true
			}
		}
		return false
	})
	for i := range p.List.Rows {
		row := &p.List.Rows[i]
		id := row.Rec.Get(h, roster.FieldUserID)
		row.Ident, row.Problems = resolve.Ident{UserID: id}, nil
		w := want{first: cell(row.Rec, old[0]), last: cell(row.Rec, old[1]),
			newEmail: strings.TrimSpace(cell(row.Rec, old[2])), newPhone: strings.TrimSpace(cell(row.Rec, old[3]))}
		switch {
		case id == "":
			w = want{nothing: "nothing to undo: the run that wrote this line found no user for the row"}
		case resolve.CheckUserID(id) != nil:
			w.problems = append(w.problems, roster.Problem{Column: h.Column(roster.FieldUserID), Value: id, Reason: resolve.CheckUserID(id).Error()})
		}
		if strings.TrimSpace(w.first) == "" {
			w.first = ""
		}
		if strings.TrimSpace(w.last) == "" {
			w.last = ""
		}
		p.wants[i] = w
	}
}

// Layout is the results file's layout: the leading columns, the user's old
// values, and the input's. An update results file can be fed back to
// update, which then undoes its changes (see Prepare).
func (p *Plan) Layout() results.Layout {
	return results.Layout{Extra: OldColumns(), Input: p.List.Header.Names}
}

// KeepOnResume says which of an earlier run's lines a resumed run keeps:
// rows updated. Every other row is looked up and compared again.
func KeepOnResume(_ int, p results.PriorRow) bool { return p.Status == results.Updated }

// SetResume makes Run continue an earlier run recorded in prior: rows it
// updated are kept (not looked up, not written again), and a row done
// again keeps the old values the earlier run recorded for it (the values
// before any of this list's changes, for undoing).
func (p *Plan) SetResume(prior *results.Prior) {
	p.kept, p.settled, p.prior = map[int]bool{}, map[results.Status]int{}, map[int][]string{}
	for row, pr := range prior.Rows {
		if row < 1 || row > len(p.List.Rows) {
			continue
		}
		if KeepOnResume(row, pr) {
			p.kept[row] = true
			p.settled[pr.Status]++
			continue
		}
		for _, c := range pr.Extra {
			if c != "" {
				p.prior[row] = pr.Extra
				break
			}
		}
	}
}

// Rows is the number of data rows.
func (p *Plan) Rows() int { return len(p.List.Rows) }

func parseWant(h *roster.Header, rec roster.Record, region string) want {
	var w want
	add := func(col, value string, err error) {
		w.problems = append(w.problems, roster.Problem{Column: col, Value: value, Reason: err.Error()})
	}
	// cell returns f's cell, or "" after recording a spreadsheet error
	// value (#N/A), which CheckName would take for a name of letters.
	cell := func(f roster.Field) string {
		s := rec.Get(h, f)
		if roster.IsSpreadsheetError(s) {
			add(h.Column(f), s, resolve.ErrSpreadsheetValue)
			return ""
		}
		return s
	}
	first, last := cell(roster.FieldFirstName), cell(roster.FieldLastName)
	firstCol, lastCol := h.Column(roster.FieldFirstName), h.Column(roster.FieldLastName)
	if first == "" && last == "" && h.Has(roster.FieldName) {
		if full := cell(roster.FieldName); full != "" {
			first, last = roster.SplitName(full)
			firstCol, lastCol = h.Column(roster.FieldName), h.Column(roster.FieldName)
		}
	}
	if first != "" {
		if err := roster.CheckName(first); err != nil {
			add(firstCol, first, err)
		} else {
			w.first = first
		}
	}
	if last != "" {
		if err := roster.CheckName(last); err != nil {
			add(lastCol, last, err)
		} else {
			w.last = last
		}
	}
	if s := cell(roster.FieldNewEmail); s != "" {
		if e, err := roster.NormalizeEmail(s); err != nil {
			add(h.Column(roster.FieldNewEmail), s, err)
		} else {
			w.newEmail = e
		}
	}
	if s := cell(roster.FieldNewPhone); s != "" {
		if roster.IsSIPURI(s) {
			add(h.Column(roster.FieldNewPhone), s, fmt.Errorf("a SIP address cannot be set: update changes phone numbers only"))
		} else if ph, err := roster.NormalizePhone(s, region); err != nil {
			add(h.Column(roster.FieldNewPhone), s, err)
		} else {
			w.newPhone = ph
		}
	}
	return w
}

// describe lists changes for a message. Each change reads on its own, in
// the columns' words: "last_name Rao → Rao-Iyer", "set email to …",
// "phone +91… → +91… (…)".
func describe(changes []string) string { return strings.Join(changes, "; ") }

// EmailChange describes setting the email of a user who has none (the only
// email change the API makes).
func EmailChange(email string) string { return "set email to " + email }

// PhoneChange describes re-numbering a phone device.
func PhoneChange(from, to string) string {
	return "phone " + from + " → " + to + " (the new number must be verified again before calls reach it)"
}
