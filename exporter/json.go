package exporter

import (
	"bytes"
	"encoding/json"
	"strconv"
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
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, col := range Columns() {
		if i > 0 {
			buf.WriteByte(',')
		}
		key, _ := json.Marshal(col)
		buf.Write(key)
		buf.WriteByte(':')
		v, ok := r.apiValue(col)
		if !ok {
			v = jsonString(vals[i])
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// apiValue is the JSON value of column col as the API gave it, when the
// record was made from a user: its odd value if it had one, else its typed
// value, null where the API gave null or nothing.
func (r Record) apiValue(col string) (json.RawMessage, bool) {
	u := r.user
	if u == nil {
		return nil, false
	}
	if key, ok := deviceKey(col); ok {
		if len(u.Devices) == 0 {
			return jsonNull, true
		}
		d := &u.Devices[0]
		if raw, odd := d.Odd[key]; odd {
			return raw, true
		}
		switch col {
		case "device_id":
			return json.RawMessage(strconv.FormatInt(d.ID, 10)), true
		case "device_verified":
			return jsonBool(d.Verified), true
		case "device_available":
			if d.Available == nil {
				return jsonNull, true
			}
			return jsonBool(*d.Available), true
		case "device_status":
			return stringOrNull(d.Status), true
		}
		return nil, false
	}
	key := col
	if col == "user_id" {
		key = "id"
	}
	if raw, odd := u.Odd[key]; odd {
		return raw, true
	}
	switch col {
	case "email_verified":
		return jsonBool(u.EmailVerified), true
	case "email":
		return stringOrNull(u.Email), true
	case "last_login":
		return stringOrNull(u.LastLogin), true
	case "active_call":
		return stringOrNull(u.ActiveCall), true
	case "date_created":
		return stringOrNull(u.DateCreated), true
	case "date_updated":
		return stringOrNull(u.DateUpdated), true
	}
	return nil, false
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
		if !ok || bytes.Equal(bytes.TrimSpace(raw), jsonNull) {
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

var jsonNull = json.RawMessage("null")

func jsonBool(v bool) json.RawMessage { return json.RawMessage(strconv.FormatBool(v)) }

func stringOrNull(s string) json.RawMessage {
	if s == "" {
		return jsonNull
	}
	return jsonString(s)
}

// jsonString encodes s without HTML escaping: an email is not HTML.
func jsonString(s string) json.RawMessage {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
