package webrtc

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// SIPCredentials is what a SIP-enabled user registers with.
type SIPCredentials struct {
	Username string
	Domain   string
}

// DeviceStatus says which of a user's devices are reachable. A nil field is
// one the answer did not give.
type DeviceStatus struct {
	Phone *bool
	SIP   *bool
}

// User is one user of the app. Strings the answer left out or sent as null
// are empty; booleans it left out or sent as null are nil. Which blocks are
// present depends on the call: create gives sip_credentials and created_at,
// list gives device_status, get gives everything.
type User struct {
	UserID         string
	Name           string
	Phone          string
	SIPEnabled     *bool
	Status         string
	SIPCredentials *SIPCredentials
	DeviceStatus   *DeviceStatus
	CreatedAt      string
	UpdatedAt      string
}

// wireUser decodes a user tolerantly: every field accepts whatever JSON type
// it comes in, so one odd value costs that value, never the whole user.
type wireUser struct {
	UserID         flexString      `json:"user_id"`
	Name           flexString      `json:"name"`
	Phone          flexString      `json:"phone"`
	SIPEnabled     flexBool        `json:"sip_enabled"`
	Status         flexString      `json:"status"`
	SIPCredentials json.RawMessage `json:"sip_credentials"`
	DeviceStatus   json.RawMessage `json:"device_status"`
	CreatedAt      flexString      `json:"created_at"`
	UpdatedAt      flexString      `json:"updated_at"`
}

type wireSIPCredentials struct {
	Username flexString `json:"username"`
	Domain   flexString `json:"domain"`
}

type wireDeviceStatus struct {
	Phone flexBool `json:"phone"`
	SIP   flexBool `json:"sip"`
}

// object decodes raw into v when it is a JSON object, and reports whether
// it was.
func object(raw json.RawMessage, v any) bool {
	return bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) && json.Unmarshal(raw, v) == nil
}

// UnmarshalJSON accepts any JSON object; it fails only on something that is
// not an object.
func (u *User) UnmarshalJSON(b []byte) error {
	var w wireUser
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = User{
		UserID:     string(w.UserID),
		Name:       string(w.Name),
		Phone:      string(w.Phone),
		SIPEnabled: w.SIPEnabled.v,
		Status:     string(w.Status),
		CreatedAt:  string(w.CreatedAt),
		UpdatedAt:  string(w.UpdatedAt),
	}
	var c wireSIPCredentials
	if object(w.SIPCredentials, &c) {
		u.SIPCredentials = &SIPCredentials{Username: string(c.Username), Domain: string(c.Domain)}
	}
	var d wireDeviceStatus
	if object(w.DeviceStatus, &d) {
		u.DeviceStatus = &DeviceStatus{Phone: d.Phone.v, SIP: d.SIP.v}
	}
	return nil
}

// CreateUserRequest is the body of POST /users. A nil SIPEnabled is left
// out, so the API applies its default (true).
type CreateUserRequest struct {
	UserID     string `json:"user_id"`
	Name       string `json:"name"`
	Phone      string `json:"phone,omitempty"`
	SIPEnabled *bool  `json:"sip_enabled,omitempty"`
}

// Page is one answer of the list call.
type Page struct {
	Users []User
	// Count is how many entries the answer's users array held, readable or
	// not: the next page starts Count further on.
	Count int
	// Unreadable counts entries that were not JSON objects and were left
	// out of Users.
	Unreadable int
	// Total is the API's count of all users; HasTotal is false when the
	// answer did not give one.
	Total    int
	HasTotal bool
	// Limit and Offset are the answer's, or what was asked when it did
	// not echo them. Asked is the limit this client asked for (0: none).
	Limit, Offset int
	Asked         int
}

// envelope is every answer's outer shape: {success, data} or
// {success, message}. Data stays raw: an object for one user, an object
// holding an array for the list.
type envelope struct {
	Success flexBool        `json:"success"`
	Data    json.RawMessage `json:"data"`
	Message flexString      `json:"message"`
}

// failed reports whether the answer says it failed. An answer that does not
// say is taken at its HTTP status.
func (e *envelope) failed() bool { return e.Success.v != nil && !*e.Success.v }

type wireList struct {
	Users  json.RawMessage `json:"users"`
	Total  flexInt         `json:"total"`
	Limit  flexInt         `json:"limit"`
	Offset flexInt         `json:"offset"`
}

// flexString reads a string, a number or a boolean as its text; null, an
// object or an array as "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*s = ""
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		if len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
			// The common case, valid UTF-8 without escapes: the decoder
			// has already checked the string, so take it as it is.
			*s = flexString(strings.TrimSpace(string(b[1 : len(b)-1])))
			return nil
		}
		var v string
		if json.Unmarshal(b, &v) == nil {
			*s = flexString(strings.TrimSpace(v))
		}
	case 't', 'f':
		*s = flexString(b)
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		var n json.Number
		if json.Unmarshal(b, &n) == nil {
			*s = flexString(n.String())
		}
	}
	return nil
}

// flexBool reads true/false, "true"/"false" (any case), 1/0 and "1"/"0";
// anything else, null included, is unknown (nil).
type flexBool struct{ v *bool }

func (f *flexBool) UnmarshalJSON(b []byte) error {
	var s flexString
	_ = s.UnmarshalJSON(b)
	f.v = nil
	var v bool
	switch strings.ToLower(string(s)) {
	case "true", "1":
		v = true
	case "false", "0":
	default:
		return nil
	}
	f.v = &v
	return nil
}

// flexInt reads a non-negative integer sent as a number or a numeric
// string; ok is false for anything else.
type flexInt struct {
	n  int
	ok bool
}

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var s flexString
	_ = s.UnmarshalJSON(b)
	n, err := strconv.Atoi(string(s))
	if f.ok = err == nil && n >= 0; f.ok {
		f.n = n
	}
	return nil
}
