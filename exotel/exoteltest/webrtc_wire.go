package exoteltest

import (
	"bytes"
	"encoding/json"
	"time"
)

// The WebRTC API's wire shapes, as the document shows them.

// webrtcMessage is {success, message}: a delete's answer and an error's.
type webrtcMessage struct {
	Success bool   `json:"success"`
	Message string `json:"message"`
}

type webrtcEnvelope struct {
	Success bool `json:"success"`
	Data    any  `json:"data"`
}

func webrtcData(status int, data any) answer {
	return jsonAnswer(status, webrtcEnvelope{Success: true, Data: data})
}

type webrtcWireList struct {
	Users  []webrtcWireUser `json:"users"`
	Total  int              `json:"total"`
	Limit  int              `json:"limit"`
	Offset int              `json:"offset"`
}

type webrtcCredentials struct {
	Username string `json:"username"`
	Domain   string `json:"domain"`
}

type webrtcDeviceStatus struct {
	Phone bool `json:"phone"`
	SIP   bool `json:"sip"`
}

// webrtcWireUser keeps the document's key order. The optional blocks are raw
// so that "not part of this answer" is absent while "none" is null.
type webrtcWireUser struct {
	UserID         string              `json:"user_id"`
	Name           string              `json:"name"`
	Phone          *string             `json:"phone"`
	SIPEnabled     bool                `json:"sip_enabled"`
	SIPCredentials json.RawMessage     `json:"sip_credentials,omitempty"`
	Status         string              `json:"status"`
	DeviceStatus   *webrtcDeviceStatus `json:"device_status,omitempty"`
	CreatedAt      string              `json:"created_at,omitempty"`
	UpdatedAt      string              `json:"updated_at,omitempty"`
}

// webrtcView is which answer a user is shown in; each shows the blocks the
// document's sample of it shows.
type webrtcView int

const (
	webrtcCreated webrtcView = iota // sip_credentials, created_at
	webrtcListed                    // device_status
	webrtcDetails                   // everything
)

// webrtcTime is the document's date format, 2024-06-15T10:30:00.000Z.
func webrtcTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (f *Fake) webrtcWire(u *WebRTCUser, view webrtcView) webrtcWireUser {
	w := webrtcWireUser{UserID: u.UserID, Name: u.Name, SIPEnabled: u.SIPEnabled, Status: u.Status}
	if u.Phone != "" {
		p := u.Phone
		w.Phone = &p
	}
	if view != webrtcListed {
		w.SIPCredentials = json.RawMessage("null")
		if u.SIPEnabled {
			w.SIPCredentials = marshal(webrtcCredentials{
				Username: u.UserID + "@" + f.wr.cfg.AppID + ".exotel.com", Domain: "sip.exotel.com"})
		}
		w.CreatedAt = webrtcTime(u.CreatedAt)
	}
	if view != webrtcCreated {
		w.DeviceStatus = &webrtcDeviceStatus{Phone: u.PhoneDevice, SIP: u.SIPDevice}
	}
	if view == webrtcDetails {
		w.UpdatedAt = webrtcTime(u.UpdatedAt)
	}
	return w
}

// rawJSON is one value of a request body, checked for its type by hand: the
// fake refuses what the real API would, rather than what Go would.
type rawJSON json.RawMessage

// UnmarshalJSON keeps the value as it is, as json.RawMessage does.
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

func (r rawJSON) null() bool {
	t := bytes.TrimSpace(r)
	return len(t) == 0 || bytes.Equal(t, []byte("null"))
}

func (r rawJSON) str() (string, bool) {
	var s string
	return s, !r.null() && json.Unmarshal(r, &s) == nil
}

func (r rawJSON) boolean() (bool, bool) {
	var b bool
	return b, !r.null() && json.Unmarshal(r, &b) == nil
}
