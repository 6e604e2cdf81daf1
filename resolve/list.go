// Package resolve turns input rows that name existing users — by user_id,
// email or phone — into those users, for offboard and update.
//
// It spends as few requests as the API allows. Emails and phone numbers are
// looked up with the bulk GET's comma-list filters, up to 50 values a call.
// The bulk GET has no id filter, so ids cost either one GET /users/<id>
// each or a listing of the whole account (one call per 50 users);
// Resolver.Lookup reads the first page of the account to learn its size and
// takes whichever is fewer requests. Every request goes through the shared
// limiter with retries; a refused credential stops the run.
package resolve

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/exoroster/exoroster/roster"
)

// Key is a kind of identifier.
type Key int

// The identifiers, in the order update gives them precedence.
const (
	KeyUserID Key = iota
	KeyEmail
	KeyPhone
)

// Keys lists the identifiers in precedence order.
func Keys() []Key { return []Key{KeyUserID, KeyEmail, KeyPhone} }

func (k Key) String() string {
	switch k {
	case KeyUserID:
		return "user_id"
	case KeyEmail:
		return "email"
	case KeyPhone:
		return "phone"
	}
	return fmt.Sprintf("Key(%d)", int(k))
}

// Ident is what a row gives to find its user. Empty values are absent;
// Email is as written (compare with roster.EmailKey), Phone is E.164 or a
// sip: URI.
type Ident struct {
	UserID string
	Email  string
	Phone  string
}

// Value returns the identifier of kind k.
func (id Ident) Value(k Key) string {
	switch k {
	case KeyUserID:
		return id.UserID
	case KeyEmail:
		return id.Email
	case KeyPhone:
		return id.Phone
	}
	return ""
}

// Empty reports whether the row gives no identifier at all.
func (id Ident) Empty() bool { return id.UserID == "" && id.Email == "" && id.Phone == "" }

// Row is one data row of a list of users.
type Row struct {
	Rec   roster.Record
	Ident Ident
	// Problems say why the row's identifiers cannot be used; such a row is
	// invalid and never looked up.
	Problems []roster.Problem
}

// Message joins the row's problems for a results line.
func (r Row) Message() string {
	msgs := make([]string, len(r.Problems))
	for i, p := range r.Problems {
		msgs[i] = p.String()
	}
	return strings.Join(msgs, "; ")
}

// List is a whole input file. Offboard and update decide on every row
// before they change anything, so the rows are held in memory.
type List struct {
	Name   string
	Header *roster.Header
	Rows   []Row
}

// ReadList reads a list of users to find, detecting its encoding,
// separator and columns (roster.NewReaderWith with no --map). Its errors are
// run-level: an unreadable file, columns roster refuses, or no user_id,
// email or phone column.
func ReadList(name string, r io.Reader, opts roster.Options) (*List, error) {
	rd, err := roster.NewReaderWith(r, roster.ReadOptions{Region: opts.DefaultRegion})
	if err != nil {
		var ce *roster.ColumnError
		if errors.As(err, &ce) {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	return ReadRows(name, rd, opts)
}

// ReadRows reads the rows of a list the caller opened (roster.Open, with
// the user's --map and the rest) and closes rd. Its errors are run-level:
// an unreadable row, or no user_id, email or phone column.
func ReadRows(name string, rd *roster.Reader, opts roster.Options) (*List, error) {
	defer rd.Close()
	h := rd.Header()
	if err := h.CheckForLookup(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	list := &List{Name: name, Header: h}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return list, nil
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", name, err)
		}
		id, probs := ParseIdent(h, rec, opts.DefaultRegion)
		list.Rows = append(list.Rows, Row{Rec: rec, Ident: id, Problems: probs})
	}
}

// ErrSpreadsheetValue is the reason for a cell holding a spreadsheet's error
// value (#N/A, #REF!) where a value was meant.
var ErrSpreadsheetValue = errors.New("is a spreadsheet error value, not data: fix the formula or the cell and export again")

// ParseIdent reads a record's user_id, email and phone cells. Every cell
// given must be valid: a row that names its user wrongly is not guessed at,
// nor is one with more cells than the header (its cells may have shifted).
func ParseIdent(h *roster.Header, rec roster.Record, region string) (Ident, []roster.Problem) {
	var id Ident
	var probs []roster.Problem
	add := func(f roster.Field, value string, err error) {
		probs = append(probs, roster.Problem{Column: h.Column(f), Value: value, Reason: err.Error()})
	}
	if p, bad := h.Overflow(rec); bad {
		probs = append(probs, p)
	}
	// cell returns f's cell, or "" after recording it as a problem when it
	// holds a spreadsheet error value, which no check below would name.
	cell := func(f roster.Field) string {
		s := rec.Get(h, f)
		if roster.IsSpreadsheetError(s) {
			add(f, s, ErrSpreadsheetValue)
			return ""
		}
		return s
	}
	if s := cell(roster.FieldUserID); s != "" {
		if err := CheckUserID(s); err != nil {
			add(roster.FieldUserID, s, err)
		} else {
			id.UserID = s
		}
	}
	if s := cell(roster.FieldEmail); s != "" {
		if e, err := roster.NormalizeEmail(s); err != nil {
			add(roster.FieldEmail, s, err)
		} else {
			id.Email = e
		}
	}
	if s := cell(roster.FieldPhone); s != "" {
		if p, err := ParsePhone(s, region); err != nil {
			add(roster.FieldPhone, s, err)
		} else {
			id.Phone = p
		}
	}
	if id.Empty() && len(probs) == 0 {
		probs = append(probs, roster.Problem{Column: "user_id, email, phone",
			Reason: "the row has no user_id, email or phone to find the user by"})
	}
	return id, probs
}

// maxUserIDLen is generous: Exotel's ids are 32 hex digits.
const maxUserIDLen = 64

// CheckUserID accepts what can be an Exotel user id: letters, digits, '-',
// '_' and '.', nothing that would change the request path.
func CheckUserID(s string) error {
	if len(s) > maxUserIDLen {
		return errors.New("too long to be a user id")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return errors.New("not a user id: use the id exoroster export writes (letters and digits)")
		}
	}
	if s == "." || s == ".." {
		return errors.New("not a user id")
	}
	return nil
}

// ParsePhone reads a phone cell: a number (to E.164, in region when it has
// no country code) or a SIP URI as written.
func ParsePhone(raw, region string) (string, error) {
	if roster.IsSIPURI(raw) {
		s := strings.TrimSpace(raw)
		if err := roster.CheckSIP(s); err != nil {
			return "", err
		}
		// A comma would split the bulk GET's comma list.
		if strings.ContainsRune(s, ',') {
			return "", errors.New("not a valid SIP address: commas are not allowed")
		}
		return s, nil
	}
	return roster.NormalizePhone(raw, region)
}
