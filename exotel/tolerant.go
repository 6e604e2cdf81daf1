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
	out.FirstName = odd.str("first_name", w.FirstName, false)
	out.LastName = odd.str("last_name", w.LastName, false)
	out.EmailVerified = odd.boolean("email_verified", w.EmailVerified)
	out.DateCreated = odd.str("date_created", w.DateCreated, false)
	out.DateUpdated = odd.str("date_updated", w.DateUpdated, false)
	out.LastLogin = odd.str("last_login", w.LastLogin, true)
	out.ActiveCall = odd.str("active_call", w.ActiveCall, true)
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
	out.Name = odd.str("name", w.Name, false)
	out.Type = odd.str("type", w.Type, false)
	out.Available = odd.nullableBool("available", w.Available)
	out.Verified = odd.boolean("verified", w.Verified)
	out.Status = odd.str("status", w.Status, true)
	if len(odd) > 0 {
		out.Odd = odd
	}
	*d = out
	return nil
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

func (o oddities) note(key string, raw json.RawMessage) { o[key] = bytes.Clone(raw) }

// str reads a string, absent or (when nullable, as the documents allow for
// last_login, active_call and a device's status) null. Any other value is
// odd and becomes its JSON text; an unexpected null becomes "".
func (o oddities) str(key string, raw json.RawMessage, nullable bool) string {
	if raw == nil {
		return ""
	}
	if isNull(raw) {
		if !nullable {
			o.note(key, raw)
		}
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
