package exporter

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// MarshalJSON writes the record as one JSON object with Columns' keys, in
// order, each value of the type the API gave it: booleans, numbers and
// null stay what they were (email_verified true, device_id 100003,
// active_call null), and a value of an unexpected shape (an active_call
// object) is written exactly as it came. Only extra_devices, which the API
// does not have, is a string of ours. A Record not made by NewRecord has
// only strings to write.
func (r Record) MarshalJSON() ([]byte, error) {
	vals := r.Strings()
	buf := make([]byte, 0, 512)
	buf = append(buf, '{')
	for i, col := range Columns() {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '"')
		buf = append(buf, col...)
		buf = append(buf, '"', ':')
		var ok bool
		if buf, ok = r.appendAPIValue(buf, col); !ok {
			buf = appendJSONString(buf, vals[i])
		}
	}
	return append(buf, '}'), nil
}

// appendAPIValue appends the JSON value of column col as the API gave it,
// when the record was made from a user: its odd value if it had one, else
// its typed value, null where the API gave null or nothing. ok is false
// for a column whose value is the record's string.
func (r Record) appendAPIValue(buf []byte, col string) (_ []byte, ok bool) {
	u := r.user
	if u == nil {
		return buf, false
	}
	if key, isDevice := deviceKey(col); isDevice {
		if len(u.Devices) == 0 {
			return append(buf, "null"...), true
		}
		d := &u.Devices[0]
		if raw, odd := d.Odd[key]; odd {
			return append(buf, raw...), true
		}
		switch col {
		case "device_id":
			return strconv.AppendInt(buf, d.ID, 10), true
		case "device_verified":
			return strconv.AppendBool(buf, d.Verified), true
		case "device_available":
			if d.Available == nil {
				return append(buf, "null"...), true
			}
			return strconv.AppendBool(buf, *d.Available), true
		case "device_status":
			return appendStringOrNull(buf, d.Status), true
		}
		return buf, false
	}
	key := col
	if col == "user_id" {
		key = "id"
	}
	if raw, odd := u.Odd[key]; odd {
		return append(buf, raw...), true
	}
	switch col {
	case "email_verified":
		return strconv.AppendBool(buf, u.EmailVerified), true
	case "email":
		return appendStringOrNull(buf, u.Email), true
	case "last_login":
		return appendStringOrNull(buf, u.LastLogin), true
	case "active_call":
		return appendStringOrNull(buf, u.ActiveCall), true
	case "date_created":
		return appendStringOrNull(buf, u.DateCreated), true
	case "date_updated":
		return appendStringOrNull(buf, u.DateUpdated), true
	}
	return buf, false
}

// deviceKey is the key in the first device's object that column col comes
// from.
func deviceKey(col string) (string, bool) {
	switch col {
	case "device_contact_uri":
		return "contact_uri", true
	case "device_name":
		return "name", true
	case "device_id":
		return "id", true
	case "device_type":
		return "type", true
	case "device_verified":
		return "verified", true
	case "device_available":
		return "available", true
	case "device_status":
		return "status", true
	}
	return "", false
}

// UnmarshalJSON reads a report line back: every value as the text the CSV
// report would hold (true, 100003, "" for null, an object's JSON text).
func (r *Record) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	vals := make([]string, len(Columns()))
	for i, col := range Columns() {
		raw, ok := m[col]
		if !ok || string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			vals[i] = s
			continue
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return err
		}
		vals[i] = buf.String()
	}
	*r = recordFromStrings(vals)
	return nil
}

// appendStringOrNull appends s as a JSON string, or null for "": the
// documents give these values as a string or null.
func appendStringOrNull(buf []byte, s string) []byte {
	if s == "" {
		return append(buf, "null"...)
	}
	return appendJSONString(buf, s)
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it but without HTML escaping: an email is not HTML, so < > &
// stay readable.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			case '\b':
				buf = append(buf, '\\', 'b')
			case '\f':
				buf = append(buf, '\\', 'f')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 end lines in JavaScript.
		if r == '\u2028' || r == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
