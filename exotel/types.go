// Package exotel is a typed client for Exotel's CCM Users API v2
// (../shared/api/ccm-users-api.txt): create, get, list, update and delete
// users, and update a user's device.
//
// Every answer is an envelope {request_id, method, http_code, response}; the
// client unwraps it and turns any non-success answer into an *APIError whose
// Kind callers branch on with errors.As.
package exotel

import (
	"bytes"
	"encoding/json"
	"strings"
)

// Roles the API accepts. The guides call the lowest role "agent"; the API
// calls it "user".
const (
	RoleAdmin      = "admin"
	RoleSupervisor = "supervisor"
	RoleUser       = "user"
)

// MaxPageSize is the bulk GET's documented maximum limit; larger values draw
// 400 1007.
const MaxPageSize = 50

// Device is one entry of a user's devices array.
type Device struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	ContactURI string `json:"contact_uri"`
	Type       string `json:"type"` // "tel" or "sip"
	Available  *bool  `json:"available"`
	Verified   bool   `json:"verified"`
	Status     string `json:"status,omitempty"` // "busy", "free" or empty when unknown
	// Odd holds, by JSON key, the values whose shape was not the
	// documented one, as they came (see User.Odd).
	Odd map[string]json.RawMessage `json:"-"`
}

// User is the data block of a user record. Devices, LastLogin and ActiveCall
// are only present when the request asked for them with fields=.
type User struct {
	ID            string   `json:"id"`
	FirstName     string   `json:"first_name"`
	LastName      string   `json:"last_name"`
	Email         string   `json:"email,omitempty"`
	EmailVerified bool     `json:"email_verified"`
	Role          string   `json:"role"`
	Devices       []Device `json:"devices,omitempty"`
	DateCreated   string   `json:"date_created,omitempty"`
	DateUpdated   string   `json:"date_updated,omitempty"`
	LastLogin     string   `json:"last_login,omitempty"`
	ActiveCall    string   `json:"active_call,omitempty"`
	// Odd holds, by JSON key, the values whose shape was not the
	// documented one (an active_call object, a last_login number), as
	// they came; the typed field holds the value's JSON text instead.
	// Nil for a well-formed record. See UnmarshalJSON.
	Odd map[string]json.RawMessage `json:"-"`
}

// HasContact reports whether one of the user's devices has the given
// contact URI (an E.164 number or a SIP URI).
func (u *User) HasContact(uri string) bool {
	for _, d := range u.Devices {
		if d.ContactURI == uri {
			return true
		}
	}
	return false
}

// PrimaryDevice returns the user's first device, or nil.
func (u *User) PrimaryDevice() *Device {
	if len(u.Devices) == 0 {
		return nil
	}
	return &u.Devices[0]
}

// CreateUserRequest is the body of POST /users. Empty optional fields are
// left out of the JSON.
type CreateUserRequest struct {
	FirstName        string `json:"first_name"`
	LastName         string `json:"last_name"`
	Email            string `json:"email,omitempty"`
	DeviceContactURI string `json:"device_contact_uri,omitempty"`
	Role             string `json:"role,omitempty"`
	DeviceName       string `json:"device_name,omitempty"`
}

// UpdateUserRequest is the body of PUT /users/<id>. Nil fields are not sent.
// Email may only be set while the user has none (400 1002 otherwise).
type UpdateUserRequest struct {
	FirstName *string `json:"first_name,omitempty"`
	LastName  *string `json:"last_name,omitempty"`
	Email     *string `json:"email,omitempty"`
}

// UpdateDeviceRequest is the body of PUT /users/<id>/devices/<device_id>.
// A new contact_uri must be verified again by its owner.
type UpdateDeviceRequest struct {
	Available  *bool   `json:"available,omitempty"`
	ContactURI *string `json:"contact_uri,omitempty"`
}

// ListOptions selects a page of the bulk GET.
type ListOptions struct {
	Offset int
	Limit  int      // 1..MaxPageSize; 0 means the API default (20)
	Fields []string // e.g. "devices", "active_call", "last_login"
	// Filters: comma lists on the wire. Emails match case-insensitively on
	// Exotel's side; numbers must be E.164.
	Emails      []string
	ContactURIs []string
}

// Page is one answer of the bulk GET.
type Page struct {
	Total  int
	Count  int
	Offset int
	Limit  int
	Users  []User // nil once past the last page
	// Errors holds the per-record failures the array may carry
	// (elements whose status is not success); rare, but they must not
	// be silently dropped.
	Errors []*APIError
}

// Envelope is the outer shape of every CCM answer. Response is kept raw
// because it is an object for single calls, an array for the bulk GET, and
// null past the last page.
type Envelope struct {
	RequestID string          `json:"request_id"`
	Method    string          `json:"method"`
	HTTPCode  int             `json:"http_code"`
	Metadata  *Metadata       `json:"metadata,omitempty"`
	Response  json.RawMessage `json:"response"`
}

// Metadata accompanies the bulk GET.
type Metadata struct {
	Total  int `json:"total"`
	Count  int `json:"count"`
	Offset int `json:"offset"`
	Limit  int `json:"limit"`
}

// Record is one response object: {code, error_data, status, data}.
type Record struct {
	Code      int             `json:"code"`
	ErrorData *ErrorData      `json:"error_data"`
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
}

// ErrorData describes a failure. Code is documented as a number but some
// answers use "NA"; FlexCode accepts both.
type ErrorData struct {
	Code        FlexCode `json:"code"`
	Description string   `json:"description"`
	Message     string   `json:"message"`
}

// FlexCode is an error code sent either as a JSON number or a string.
type FlexCode string

// UnmarshalJSON accepts 1022, "1022", "NA" and null.
func (c *FlexCode) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*c = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = FlexCode(strings.TrimSpace(s))
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*c = FlexCode(n.String())
	return nil
}

// MarshalJSON writes numeric codes as numbers, as the documents show them.
func (c FlexCode) MarshalJSON() ([]byte, error) {
	s := string(c)
	if s == "" {
		return []byte("null"), nil
	}
	if _, err := json.Number(s).Int64(); err == nil {
		return []byte(s), nil
	}
	return json.Marshal(s)
}

// Documented error codes (error_data.code).
const (
	CodeInvalidInput       = "1001" // first_name mandatory, email format
	CodeEmailNotUpdatable  = "1002"
	CodeUnauthorized       = "1003" // KYC, trial account, unverified device
	CodeMalformedRequest   = "1007"
	CodeAuthFailed         = "1010"
	CodeDeviceNotFound     = "1018"
	CodeDeviceExists       = "1021"
	CodeEmailExists        = "1022"
	CodeInvalidRole        = "1023"
	CodeInvalidContactURI  = "1401"
	CodeContactURIRequired = "1402"
	CodeInternal           = "1004"
)
