package exoteltest

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/exoroster/exoroster/exotel"
)

// firstDeviceID is where device ids start, near the document's sample (425215).
const firstDeviceID = 425215

// istZone is the offset the documents' dates carry (+05:30).
func istZone() *time.Location { return time.FixedZone("IST", 5*3600+30*60) }

type user struct {
	id            string
	firstName     string
	lastName      string
	email         string
	emailVerified bool
	role          string
	devices       []*device
	created       time.Time
	updated       time.Time
	lastLogin     time.Time
	activeCall    string
	raw           map[string]json.RawMessage // SeedUser.Raw
}

type device struct {
	id         int64
	name       string
	contactURI string
	typ        string
	available  *bool
	verified   bool
	status     string
}

// fieldSet is what a GET asked for with fields=.
type fieldSet struct{ devices, activeCall, lastLogin bool }

func (f *Fake) formatTime(t time.Time) string { return t.In(f.ist).Format(time.RFC3339) }

func (f *Fake) wireDevice(d *device) wireDevice {
	w := wireDevice{ID: d.id, Name: d.name, ContactURI: d.contactURI, Type: d.typ, Verified: d.verified}
	if d.available != nil {
		v := *d.available
		w.Available = &v
	}
	if d.status != "" {
		s := d.status
		w.Status = &s
	}
	return w
}

// wireUser is the data block of u, as a wireUser or, for a user seeded
// with Raw values, a map with them applied.
func (f *Fake) wireUser(u *user, fs fieldSet) any {
	w := wireUser{
		DateCreated:   f.formatTime(u.created),
		DateUpdated:   f.formatTime(u.updated),
		EmailVerified: u.emailVerified,
		FirstName:     u.firstName,
		ID:            u.id,
		LastName:      u.lastName,
		Role:          u.role,
	}
	if u.email != "" {
		e := u.email
		w.Email = &e
	}
	if fs.devices {
		ds := make([]wireDevice, len(u.devices))
		for i, d := range u.devices {
			ds[i] = f.wireDevice(d)
		}
		w.Devices = &ds
	}
	if fs.activeCall {
		w.ActiveCall = rawStringOrNull(u.activeCall)
	}
	if fs.lastLogin {
		w.LastLogin = json.RawMessage("null")
		if !u.lastLogin.IsZero() {
			w.LastLogin = rawStringOrNull(f.formatTime(u.lastLogin))
		}
	}
	return withRaw(w, u.raw)
}

func rawStringOrNull(s string) json.RawMessage {
	if s == "" {
		return json.RawMessage("null")
	}
	b, _ := json.Marshal(s)
	return b
}

// public converts to the client's type, with every block filled in.
func (f *Fake) public(u *user) exotel.User {
	out := exotel.User{
		ID:            u.id,
		FirstName:     u.firstName,
		LastName:      u.lastName,
		Email:         u.email,
		EmailVerified: u.emailVerified,
		Role:          u.role,
		DateCreated:   f.formatTime(u.created),
		DateUpdated:   f.formatTime(u.updated),
		ActiveCall:    u.activeCall,
	}
	if !u.lastLogin.IsZero() {
		out.LastLogin = f.formatTime(u.lastLogin)
	}
	for _, d := range u.devices {
		out.Devices = append(out.Devices, publicDevice(d))
	}
	return out
}

func publicDevice(d *device) exotel.Device {
	pd := exotel.Device{ID: d.id, Name: d.name, ContactURI: d.contactURI, Type: d.typ,
		Verified: d.verified, Status: d.status}
	if d.available != nil {
		v := *d.available
		pd.Available = &v
	}
	return pd
}

// The lookups below run with f.mu held.

func (f *Fake) userByID(id string) *user {
	for _, u := range f.users {
		if u.id == id {
			return u
		}
	}
	return nil
}

// emailTaken reports whether a current user has the email or a deleted one
// ever had it.
func (f *Fake) emailTaken(email string) bool {
	key := strings.ToLower(email)
	if f.tombstones[key] {
		return true
	}
	for _, u := range f.users {
		if strings.ToLower(u.email) == key {
			return true
		}
	}
	return false
}

// deviceWith returns the current device with this contact URI, if any.
func (f *Fake) deviceWith(uri string) *device {
	for _, u := range f.users {
		for _, d := range u.devices {
			if d.contactURI == uri {
				return d
			}
		}
	}
	return nil
}

func (f *Fake) newDevice(first, name, uri, typ string) *device {
	if name == "" {
		name = first + "'s device"
	}
	d := &device{id: f.nextDevice, name: name, contactURI: uri, typ: typ}
	f.nextDevice++
	return d
}

// sipURI makes the contact URI of an auto-created soft-phone, after the
// document's "sip:arjuns2d853099".
func sipURI(first string, n int64) string {
	var b strings.Builder
	for _, r := range strings.ToLower(first) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	return fmt.Sprintf("sip:%s%d", b.String(), n)
}

// seed adds users with f.mu held. It panics on data the real API could
// never hold (a duplicate id, email or contact URI), before changing
// anything: a test set up wrongly should fail where it was set up.
func (f *Fake) seed(now time.Time, in []SeedUser) []exotel.User {
	ids, emails, uris := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range in {
		if s.ID != "" {
			if ids[s.ID] || f.userByID(s.ID) != nil {
				panic(fmt.Sprintf("exoteltest: Seed: user id %q already exists", s.ID))
			}
			ids[s.ID] = true
		}
		if e := strings.ToLower(strings.TrimSpace(s.Email)); e != "" {
			if emails[e] || f.emailTaken(e) {
				panic(fmt.Sprintf("exoteltest: Seed: email %q is already taken", s.Email))
			}
			emails[e] = true
		}
		for _, sd := range seedDevices(s) {
			if sd.ContactURI == "" {
				panic("exoteltest: Seed: a device needs a contact URI")
			}
			if uris[sd.ContactURI] || f.deviceWith(sd.ContactURI) != nil {
				panic(fmt.Sprintf("exoteltest: Seed: device %q already exists", sd.ContactURI))
			}
			uris[sd.ContactURI] = true
		}
	}

	out := make([]exotel.User, 0, len(in))
	for _, s := range in {
		u := &user{id: s.ID, firstName: s.FirstName, lastName: s.LastName, email: strings.TrimSpace(s.Email),
			emailVerified: s.EmailVerified, role: s.Role, created: s.DateCreated,
			lastLogin: s.LastLogin, activeCall: s.ActiveCall, raw: maps.Clone(s.Raw)}
		if u.id == "" {
			u.id = f.newHex()
		}
		if u.role == "" {
			u.role = exotel.RoleUser
		}
		if u.created.IsZero() {
			u.created = now
		}
		u.updated = u.created
		for _, sd := range seedDevices(s) {
			typ := sd.Type
			if typ == "" {
				typ = "tel"
				if strings.HasPrefix(sd.ContactURI, "sip:") {
					typ = "sip"
				}
			}
			d := f.newDevice(s.FirstName, sd.Name, sd.ContactURI, typ)
			d.verified, d.status = sd.Verified, sd.Status
			if sd.Verified && sd.Available != nil {
				v := *sd.Available
				d.available = &v
			}
			u.devices = append(u.devices, d)
		}
		f.users = append(f.users, u)
		out = append(out, f.public(u))
	}
	return out
}

// seedDevices is a SeedUser's devices, Phone first.
func seedDevices(s SeedUser) []SeedDevice {
	if s.Phone == "" {
		return s.Devices
	}
	return append([]SeedDevice{{ContactURI: s.Phone}}, s.Devices...)
}
