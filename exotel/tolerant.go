package exotel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
)

// A user record is read tolerantly: one odd value must not cost the record,
// let alone the page it came in. Only the fields an action depends on (the
// user's id, role and email, and each device's contact_uri) must have their
// documented shape; any other field whose value has another shape (an
// active_call object instead of a CallSid string, a last_login number) is
// kept as it came in Odd, and its typed field holds the value's JSON text
// (so a set active_call still reads as set) or, for a boolean, a best guess.

// UnmarshalJSON reads a user record's data block. A JSON null leaves u as
// it is.
func (u *User) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	if fast, ok := decodeDocumented(b); ok {
		*u = fast
		return nil
	}
	var w struct {
		ID            json.RawMessage `json:"id"`
		FirstName     json.RawMessage `json:"first_name"`
		LastName      json.RawMessage `json:"last_name"`
		Email         json.RawMessage `json:"email"`
		EmailVerified json.RawMessage `json:"email_verified"`
		Role          json.RawMessage `json:"role"`
		Devices       json.RawMessage `json:"devices"`
		DateCreated   json.RawMessage `json:"date_created"`
		DateUpdated   json.RawMessage `json:"date_updated"`
		LastLogin     json.RawMessage `json:"last_login"`
		ActiveCall    json.RawMessage `json:"active_call"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	var out User
	var err error
	if out.ID, err = strictString("id", w.ID); err != nil {
		return err
	}
	if out.Role, err = strictString("role", w.Role); err != nil {
		return err
	}
	if out.Email, err = strictString("email", w.Email); err != nil {
		return err
	}
	odd := oddities{}
	out.FirstName = odd.str("first_name", w.FirstName)
	out.LastName = odd.str("last_name", w.LastName)
	out.EmailVerified = odd.boolean("email_verified", w.EmailVerified)
	out.DateCreated = odd.str("date_created", w.DateCreated)
	out.DateUpdated = odd.str("date_updated", w.DateUpdated)
	out.LastLogin = odd.str("last_login", w.LastLogin)
	out.ActiveCall = odd.str("active_call", w.ActiveCall)
	if !isNull(w.Devices) {
		var raws []json.RawMessage
		if err := json.Unmarshal(w.Devices, &raws); err != nil {
			return fmt.Errorf("devices is %s, not an array", shape(w.Devices))
		}
		out.Devices = make([]Device, len(raws))
		for i, raw := range raws {
			if err := json.Unmarshal(raw, &out.Devices[i]); err != nil {
				return fmt.Errorf("devices[%d]: %w", i, err)
			}
		}
	}
	if len(odd) > 0 {
		out.Odd = odd
	}
	*u = out
	return nil
}

// UnmarshalJSON reads one entry of a user's devices array. A JSON null
// leaves d as it is.
func (d *Device) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return nil
	}
	var w struct {
		ID         json.RawMessage `json:"id"`
		Name       json.RawMessage `json:"name"`
		ContactURI json.RawMessage `json:"contact_uri"`
		Type       json.RawMessage `json:"type"`
		Available  json.RawMessage `json:"available"`
		Verified   json.RawMessage `json:"verified"`
		Status     json.RawMessage `json:"status"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("a device is %s, not an object", shape(b))
	}
	var out Device
	var err error
	if out.ContactURI, err = strictString("contact_uri", w.ContactURI); err != nil {
		return err
	}
	odd := oddities{}
	out.ID = odd.integer("id", w.ID)
	out.Name = odd.str("name", w.Name)
	out.Type = odd.str("type", w.Type)
	out.Available = odd.nullableBool("available", w.Available)
	out.Verified = odd.boolean("verified", w.Verified)
	out.Status = odd.str("status", w.Status)
	if len(odd) > 0 {
		out.Odd = odd
	}
	*d = out
	return nil
}

// documentedUser is a data block of the documented shape, read in one
// pass. Booleans and device ids are pointers so that a null (or a missing
// value) sends the record down the tolerant path, which notes it.
type documentedUser struct {
	ID            string             `json:"id"`
	FirstName     string             `json:"first_name"`
	LastName      string             `json:"last_name"`
	Email         string             `json:"email"`
	EmailVerified *bool              `json:"email_verified"`
	Role          string             `json:"role"`
	Devices       []documentedDevice `json:"devices"`
	DateCreated   string             `json:"date_created"`
	DateUpdated   string             `json:"date_updated"`
	LastLogin     string             `json:"last_login"`
	ActiveCall    string             `json:"active_call"`
}

type documentedDevice struct {
	ID         *int64 `json:"id"`
	Name       string `json:"name"`
	ContactURI string `json:"contact_uri"`
	Type       string `json:"type"`
	Available  *bool  `json:"available"`
	Verified   *bool  `json:"verified"`
	Status     string `json:"status"`
}

// decodeDocumented reads a record that has the documented shape, the
// common case, at the cost of one plain decode; ok is false for anything
// else, which UnmarshalJSON then reads field by field.
func decodeDocumented(b []byte) (User, bool) {
	var w documentedUser
	if json.Unmarshal(b, &w) != nil || w.EmailVerified == nil {
		return User{}, false
	}
	u := User{ID: w.ID, FirstName: w.FirstName, LastName: w.LastName, Email: w.Email,
		EmailVerified: *w.EmailVerified, Role: w.Role, DateCreated: w.DateCreated,
		DateUpdated: w.DateUpdated, LastLogin: w.LastLogin, ActiveCall: w.ActiveCall}
	if w.Devices != nil {
		u.Devices = make([]Device, len(w.Devices))
		for i, d := range w.Devices {
			if d.ID == nil || d.Verified == nil {
				return User{}, false
			}
			u.Devices[i] = Device{ID: *d.ID, Name: d.Name, ContactURI: d.ContactURI, Type: d.Type,
				Available: d.Available, Verified: *d.Verified, Status: d.Status}
		}
	}
	return u, true
}

// OddFields names the fields of u, its devices' included (as
// "devices.available"), whose values had an unexpected shape, sorted and
// each once.
func (u *User) OddFields() []string {
	if u.Odd == nil && !slices.ContainsFunc(u.Devices, func(d Device) bool { return d.Odd != nil }) {
		return nil
	}
	names := map[string]bool{}
	for k := range u.Odd {
		names[k] = true
	}
	for _, d := range u.Devices {
		for k := range d.Odd {
			names["devices."+k] = true
		}
	}
	return slices.Sorted(maps.Keys(names))
}

// oddities collects the raw values of fields with an unexpected shape, by
// JSON key.
type oddities map[string]json.RawMessage

// note keeps raw, compacted so that it fits on one line of a report.
func (o oddities) note(key string, raw json.RawMessage) {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		o[key] = bytes.Clone(raw)
		return
	}
	o[key] = buf.Bytes()
}

// str reads a string; null or absent is "". Any other value is odd and
// becomes its JSON text.
func (o oddities) str(key string, raw json.RawMessage) string {
	if isNull(raw) {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	o.note(key, raw)
	return compactText(raw)
}

// boolean reads a documented true/false. Anything else is odd: "true" and
// "false" as strings are read as meant, the rest (null included) as false.
func (o oddities) boolean(key string, raw json.RawMessage) bool {
	if raw == nil {
		return false // not sent: nothing to note
	}
	var v bool
	if !isNull(raw) && json.Unmarshal(raw, &v) == nil {
		return v
	}
	o.note(key, raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		v, _ = strconv.ParseBool(s)
	}
	return v
}

// nullableBool reads true, false or null (unknown).
func (o oddities) nullableBool(key string, raw json.RawMessage) *bool {
	if isNull(raw) {
		return nil
	}
	var v bool
	if json.Unmarshal(raw, &v) == nil {
		return &v
	}
	o.note(key, raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if v, err := strconv.ParseBool(s); err == nil {
			return &v
		}
	}
	return nil
}

// integer reads a whole number; a string of digits is odd but read, and
// anything else (null included) is odd and 0.
func (o oddities) integer(key string, raw json.RawMessage) int64 {
	if raw == nil {
		return 0
	}
	var n int64
	if !isNull(raw) && json.Unmarshal(raw, &n) == nil {
		return n
	}
	o.note(key, raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		n, _ = strconv.ParseInt(s, 10, 64)
	}
	return n
}

// strictString reads a field an action depends on: a string, null or
// absent. Any other shape fails the record.
func strictString(key string, raw json.RawMessage) (string, error) {
	if isNull(raw) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("%s is %s, not a string", key, shape(raw))
	}
	return s, nil
}

func isNull(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || bytes.Equal(raw, []byte("null"))
}

// compactText is raw JSON on one line, for a typed field that must hold
// something.
func compactText(raw json.RawMessage) string {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(bytes.TrimSpace(raw))
	}
	return buf.String()
}

// shape names a JSON value's type for a message.
func shape(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "empty"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}
