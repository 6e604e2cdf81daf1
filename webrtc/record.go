package webrtc

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/exoroster/exoroster/results"
)

// Record is one user as an export line. user_id, name, phone and
// sip_enabled are the columns a roster of this target is read by, so an
// export re-imports as is; the others describe the user.
type Record struct {
	UserID      string
	Name        string
	Phone       string
	SIPEnabled  *bool // nil: the API did not say
	Status      string
	PhoneDevice *bool // device_status.phone
	SIPDevice   *bool // device_status.sip
	CreatedAt   string
	UpdatedAt   string
}

// Columns returns the export's header, in order.
func Columns() []string {
	return []string{"user_id", "name", "phone", "sip_enabled", "status", "phone_device", "sip_device",
		"created_at", "updated_at"}
}

// NewRecord describes u, with its values as the API gave them.
func NewRecord(u User) Record {
	r := Record{UserID: u.UserID, Name: u.Name, Phone: u.Phone, SIPEnabled: u.SIPEnabled,
		Status: u.Status, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
	if d := u.DeviceStatus; d != nil {
		r.PhoneDevice, r.SIPDevice = d.Phone, d.SIP
	}
	return r
}

// Cells returns the record's CSV cells in Columns order, each made safe to
// open in a spreadsheet by results.SafeCell: an E.164 phone stays as it
// is, so the export re-imports. An unknown boolean is an empty
// cell, which a re-import reads as sip_enabled's default (true).
func (r Record) Cells() []string {
	cells := []string{r.UserID, r.Name, r.Phone, boolCell(r.SIPEnabled), r.Status,
		boolCell(r.PhoneDevice), boolCell(r.SIPDevice), r.CreatedAt, r.UpdatedAt}
	const phoneColumn = 2
	for i, c := range cells {
		cells[i] = results.SafeCell(c, i == phoneColumn)
	}
	return cells
}

func boolCell(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// jsonRecord keeps the API's types: booleans as booleans, and null for what
// the API left out or sent as null. Keys are in Columns order.
type jsonRecord struct {
	UserID      string  `json:"user_id"`
	Name        string  `json:"name"`
	Phone       *string `json:"phone"`
	SIPEnabled  *bool   `json:"sip_enabled"`
	Status      *string `json:"status"`
	PhoneDevice *bool   `json:"phone_device"`
	SIPDevice   *bool   `json:"sip_device"`
	CreatedAt   *string `json:"created_at"`
	UpdatedAt   *string `json:"updated_at"`
}

// MarshalJSON writes the record's JSON form, one object with the Columns as
// keys. Values are not neutralised: JSON is not opened by spreadsheets.
// HTML characters are left for the caller's encoder to escape or not.
func (r Record) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(jsonRecord{UserID: r.UserID, Name: r.Name, Phone: orNull(r.Phone),
		SIPEnabled: r.SIPEnabled, Status: orNull(r.Status), PhoneDevice: r.PhoneDevice,
		SIPDevice: r.SIPDevice, CreatedAt: orNull(r.CreatedAt), UpdatedAt: orNull(r.UpdatedAt)})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
