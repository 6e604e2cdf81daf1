// Package exporter writes reports of an Exotel account's users: a CSV that
// import can read back, or JSON Lines, and an audit summary.
package exporter

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/results"
)

// Record is one user as a report line. The csv tags are the report's
// columns; first_name, last_name, email, role, device_contact_uri and
// device_name are the headers import reads, so a report re-imports as is.
type Record struct {
	UserID           string `csv:"user_id" json:"user_id"`
	FirstName        string `csv:"first_name" json:"first_name"`
	LastName         string `csv:"last_name" json:"last_name"`
	Email            string `csv:"email" json:"email"`
	EmailVerified    string `csv:"email_verified" json:"email_verified"`
	Role             string `csv:"role" json:"role"`
	DeviceContactURI string `csv:"device_contact_uri" json:"device_contact_uri"`
	DeviceName       string `csv:"device_name" json:"device_name"`
	DeviceID         string `csv:"device_id" json:"device_id"`
	DeviceType       string `csv:"device_type" json:"device_type"`
	DeviceVerified   string `csv:"device_verified" json:"device_verified"`
	DeviceAvailable  string `csv:"device_available" json:"device_available"`
	DeviceStatus     string `csv:"device_status" json:"device_status"`
	ExtraDevices     string `csv:"extra_devices" json:"extra_devices"`
	LastLogin        string `csv:"last_login" json:"last_login"`
	ActiveCall       string `csv:"active_call" json:"active_call"`
	DateCreated      string `csv:"date_created" json:"date_created"`
	DateUpdated      string `csv:"date_updated" json:"date_updated"`

	// user is what NewRecord described, for MarshalJSON to write values
	// with the types the API gave them.
	user *exotel.User
}

// User is the user NewRecord described, or nil for a record read back
// from a report: for a caller that lists the account through the exporter
// and needs the records themselves (sync's plan).
func (r Record) User() *exotel.User { return r.user }

// Columns returns the report's header, in order.
func Columns() []string {
	return []string{"user_id", "first_name", "last_name", "email", "email_verified", "role",
		"device_contact_uri", "device_name", "device_id", "device_type", "device_verified",
		"device_available", "device_status", "extra_devices", "last_login", "active_call",
		"date_created", "date_updated"}
}

// NewRecord describes u. The first device fills the device columns; the
// others are listed in extra_devices as contact_uri;contact_uri. Values are
// as the API gave them: call Cells for spreadsheet-safe CSV cells.
func NewRecord(u exotel.User) Record {
	r := Record{
		UserID:        u.ID,
		FirstName:     u.FirstName,
		LastName:      u.LastName,
		Email:         u.Email,
		EmailVerified: strconv.FormatBool(u.EmailVerified),
		Role:          u.Role,
		LastLogin:     u.LastLogin,
		ActiveCall:    u.ActiveCall,
		DateCreated:   u.DateCreated,
		DateUpdated:   u.DateUpdated,
		user:          &u,
	}
	if d := u.PrimaryDevice(); d != nil {
		r.DeviceContactURI = d.ContactURI
		r.DeviceName = d.Name
		r.DeviceID = strconv.FormatInt(d.ID, 10)
		r.DeviceType = d.Type
		r.DeviceVerified = strconv.FormatBool(d.Verified)
		if d.Available != nil {
			r.DeviceAvailable = strconv.FormatBool(*d.Available)
		}
		r.DeviceStatus = d.Status
		oddText(d.Odd, "id", &r.DeviceID)
		oddText(d.Odd, "verified", &r.DeviceVerified)
		oddText(d.Odd, "available", &r.DeviceAvailable)
	}
	oddText(u.Odd, "email_verified", &r.EmailVerified)
	if len(u.Devices) > 1 {
		extra := make([]string, 0, len(u.Devices)-1)
		for _, d := range u.Devices[1:] {
			extra = append(extra, d.ContactURI)
		}
		r.ExtraDevices = strings.Join(extra, ";")
	}
	return r
}

// oddText sets *cell to the text of odd[key], when the API gave that value
// an unexpected shape: what it said, not the client's best guess at it
// (email_verified "yes", not false). A JSON string gives its contents.
func oddText(odd map[string]json.RawMessage, key string, cell *string) {
	raw, ok := odd[key]
	if !ok {
		return
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		*cell = s
		return
	}
	if string(bytes.TrimSpace(raw)) == "null" {
		*cell = ""
		return
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		*cell = string(raw)
		return
	}
	*cell = buf.String()
}

// Cells returns the record's CSV cells in Columns order, each made safe to
// open in a spreadsheet (see Neutralize). device_contact_uri keeps an E.164
// number exactly as it is, so the report re-imports.
func (r Record) Cells() []string {
	cells := r.Strings()
	const contactColumn = 6
	for i, c := range cells {
		cells[i] = results.SafeCell(c, i == contactColumn)
	}
	return cells
}

// Strings returns the record's values in Columns order, as they are.
func (r Record) Strings() []string {
	return []string{r.UserID, r.FirstName, r.LastName, r.Email, r.EmailVerified, r.Role,
		r.DeviceContactURI, r.DeviceName, r.DeviceID, r.DeviceType, r.DeviceVerified,
		r.DeviceAvailable, r.DeviceStatus, r.ExtraDevices, r.LastLogin, r.ActiveCall,
		r.DateCreated, r.DateUpdated}
}

// recordFromStrings is the Record of values in Columns order.
func recordFromStrings(v []string) Record {
	return Record{UserID: v[0], FirstName: v[1], LastName: v[2], Email: v[3], EmailVerified: v[4], Role: v[5],
		DeviceContactURI: v[6], DeviceName: v[7], DeviceID: v[8], DeviceType: v[9], DeviceVerified: v[10],
		DeviceAvailable: v[11], DeviceStatus: v[12], ExtraDevices: v[13], LastLogin: v[14], ActiveCall: v[15],
		DateCreated: v[16], DateUpdated: v[17]}
}

// Neutralize defuses a cell that a spreadsheet would run as a formula: one
// that starts with =, +, -, @, a tab or a carriage return gets a leading
// single quote, which spreadsheets show as text and import strips again.
// Results files use the same rule (results.Neutralize).
func Neutralize(cell string) string { return results.Neutralize(cell) }
