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
	wants []want // per row of List
}

// want is what a row asks for; empty fields are left as they are.
type want struct {
	first, last string
	newEmail    string
	newPhone    string
	problems    []roster.Problem
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
	for i, row := range list.Rows {
		p.wants[i] = parseWant(h, row.Rec, opts.DefaultRegion)
	}
	return p
}

// Layout is the results file's layout: the leading columns and the input's.
// An update results file can be fed back to update: its user_id column
// names each row's user.
func (p *Plan) Layout() results.Layout { return results.Layout{Input: p.List.Header.Names} }

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

// describe lists changes for a message.
func describe(changes []string) string { return strings.Join(changes, "; ") }
