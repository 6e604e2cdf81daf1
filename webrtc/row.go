package webrtc

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/exoroster/exoroster/roster"
)

// Person is a roster row of this target, ready for CreateUser.
type Person struct {
	UserID     string
	Name       string
	Phone      string // E.164, or "" when the row has none
	SIPEnabled bool
}

// Request is the create request for p. sip_enabled is always sent, so
// what the file said is what the app gets.
func (p Person) Request() CreateUserRequest {
	sip := p.SIPEnabled
	return CreateUserRequest{UserID: p.UserID, Name: p.Name, Phone: p.Phone, SIPEnabled: &sip}
}

// Differences names what differs between a row and the user the app holds
// under its user_id, for settling a duplicate or a lost create: nothing
// when the name and the phone match (the same person: exists), else one
// item per differing field (failed, naming them). sip_enabled is not
// compared: it does not say who the user is.
func Differences(p Person, u User) []string {
	var diffs []string
	if a, b := strings.Join(strings.Fields(p.Name), " "), strings.Join(strings.Fields(u.Name), " "); a != b {
		diffs = append(diffs, "name: app has "+quoteOrNone(b)+", file has "+quoteOrNone(a))
	}
	if appPhone := u.E164(); appPhone != p.Phone {
		diffs = append(diffs, "phone: app has "+quoteOrNone(appPhone)+", file has "+quoteOrNone(p.Phone))
	}
	return diffs
}

// E164 is the user's phone in E.164 form, read as roster reads a file's
// (numbers without a country code as Indian), so it compares with a
// Person's Phone; as sent when it does not read as a number; "" for none.
func (u User) E164() string {
	phone := strings.TrimSpace(u.Phone)
	if phone == "" {
		return ""
	}
	if e164, err := roster.NormalizePhone(phone, roster.DefaultRegion); err == nil {
		return e164
	}
	return phone
}

func quoteOrNone(s string) string {
	if s == "" {
		return "none"
	}
	return strconv.Quote(s)
}

// CheckHeader returns a run-level error when the file has no name column:
// this target needs name, or first_name and/or last_name. A missing
// user_id column is not run-level: each row is then invalid, saying so.
func CheckHeader(h *roster.Header) error {
	if h.Has(roster.FieldName) || h.Has(roster.FieldFirstName) || h.Has(roster.FieldLastName) {
		return nil
	}
	return errors.New("no name column: the webrtc target needs a name column (or first_name and last_name)")
}

// Validator checks the rows of this target's roster and remembers the
// user_ids and phones it has seen, to catch a person listed twice. It is
// not safe for concurrent use.
type Validator struct {
	h      *roster.Header
	region string
	// requirePhone makes a row without a phone invalid (validate
	// --require-phone): the API takes none, but an app may want a
	// fallback number for everyone.
	requirePhone bool
	ids          map[string]int // user_id → first row
	phones       map[string]int // E.164 → first row
}

// NewValidator returns a Validator for rows read with header h (from
// roster.NewReader). opts.DefaultRegion reads numbers without a country
// code, as for the CCM target; opts.RequirePhone makes a phone required on
// every row.
func NewValidator(h *roster.Header, opts roster.Options) *Validator {
	if h == nil {
		h = roster.ParseHeader(nil)
	}
	region := strings.ToUpper(opts.DefaultRegion)
	if region == "" {
		region = roster.DefaultRegion
	}
	return &Validator{h: h, region: region, requirePhone: opts.RequirePhone, ids: map[string]int{}, phones: map[string]int{}}
}

// Check validates one record and returns the Person to create, with every
// problem of the row (nil when it is fine).
func (v *Validator) Check(rec roster.Record) (Person, []roster.Problem) {
	h := v.h
	var p Person
	var probs []roster.Problem
	add := func(column, value, reason string) {
		probs = append(probs, roster.Problem{Column: column, Value: value, Reason: reason})
	}

	idCol := h.Column(roster.FieldUserID)
	switch id := rec.Get(h, roster.FieldUserID); {
	case id == "" && !h.Has(roster.FieldUserID):
		add(idCol, "", "is required for the webrtc target (the file has no user_id column)")
	case id == "":
		add(idCol, "", "is required for the webrtc target")
	default:
		if reason := checkUserID(id); reason != "" {
			add(idCol, id, reason)
		} else if row, dup := seen(v.ids, id, rec.Row); dup {
			add(idCol, id, "duplicate of row "+strconv.Itoa(row)+" (same user_id)")
		} else {
			p.UserID = id
		}
	}

	name, nameCol := v.name(rec)
	if err := roster.CheckName(name); err != nil {
		add(nameCol, name, err.Error())
	} else {
		p.Name = name
	}

	if s := rec.Get(h, roster.FieldPhone); s != "" {
		col := h.Column(roster.FieldPhone)
		if roster.IsSIPURI(s) {
			add(col, s, "is a SIP address: phone is the PSTN number calls fall back to (the app gives SIP credentials itself)")
		} else if phone, err := roster.NormalizePhone(s, v.region); err != nil {
			add(col, s, err.Error())
		} else if row, dup := seen(v.phones, phone, rec.Row); dup {
			add(col, s, "duplicate of row "+strconv.Itoa(row)+" (same phone)")
		} else {
			p.Phone = phone
		}
	} else if v.requirePhone {
		add(h.Column(roster.FieldPhone), "", "is required: --require-phone asks for a fallback phone number on every row")
	}

	sip := rec.Get(h, roster.FieldSIPEnabled)
	if on, ok := parseSIPEnabled(sip); ok {
		p.SIPEnabled = on
	} else {
		add(h.Column(roster.FieldSIPEnabled), sip, "must be true or false (yes/no, 1/0; blank means true)")
	}
	return p, probs
}

// name is the name cell, or first_name and last_name joined, with the
// column a problem is reported on.
func (v *Validator) name(rec roster.Record) (name, column string) {
	h := v.h
	if full := rec.Get(h, roster.FieldName); full != "" || !(h.Has(roster.FieldFirstName) || h.Has(roster.FieldLastName)) {
		return strings.Join(strings.Fields(full), " "), h.Column(roster.FieldName)
	}
	first, last := rec.Get(h, roster.FieldFirstName), rec.Get(h, roster.FieldLastName)
	column = h.Column(roster.FieldFirstName)
	if !h.Has(roster.FieldFirstName) {
		column = h.Column(roster.FieldLastName)
	}
	return strings.Join(strings.Fields(first+" "+last), " "), column
}

// checkUserID refuses what cannot travel as the path segment that GET and
// DELETE address the user by.
func checkUserID(id string) string {
	switch {
	case !utf8.ValidString(id):
		return "is not valid UTF-8 text: save the file as \"CSV UTF-8\""
	case strings.ContainsFunc(id, unicode.IsControl):
		return "contains a control character"
	case strings.Contains(id, "/"):
		return "cannot contain /: the API finds users by user_id in the URL path"
	}
	return ""
}

// parseSIPEnabled reads true/false, yes/no, 1/0 in any case; blank is the
// API's default, true.
func parseSIPEnabled(s string) (on, ok bool) {
	switch strings.ToLower(s) {
	case "", "true", "yes", "1":
		return true, true
	case "false", "no", "0":
		return false, true
	}
	return false, false
}

// seen registers key for row and reports the earlier row that had it. Keys
// are cloned so the map does not keep whole CSV records alive.
func seen(m map[string]int, key string, row int) (int, bool) {
	if first, ok := m[key]; ok {
		return first, true
	}
	m[strings.Clone(key)] = row
	return 0, false
}
