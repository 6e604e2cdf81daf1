package exoteltest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

type routeKind int

const (
	routeOther      routeKind = iota // under the resource, but nothing there
	routeCollection                  // /users
	routeUser                        // /users/<id>
	routeDevice                      // /users/<id>/devices/<device_id>
)

type route struct {
	kind             routeKind
	sid              string
	userID, deviceID string
}

// parseRoute reports whether path is under /v2/accounts/<sid>/users (any
// sid: all count against the one limit) and which endpoint it names.
func parseRoute(path string) (route, bool) {
	rest, ok := strings.CutPrefix(path, "/v2/accounts/")
	if !ok {
		return route{}, false
	}
	sid, rest, ok := strings.Cut(rest, "/")
	if !ok || sid == "" {
		return route{}, false
	}
	rt := route{sid: sid}
	if rest == "users" {
		rt.kind = routeCollection
		return rt, true
	}
	sub, ok := strings.CutPrefix(rest, "users/")
	if !ok {
		return route{}, false
	}
	parts := strings.Split(sub, "/")
	switch {
	case len(parts) == 1 && parts[0] != "":
		rt.kind, rt.userID = routeUser, parts[0]
	case len(parts) == 3 && parts[0] != "" && parts[1] == "devices" && parts[2] != "":
		rt.kind, rt.userID, rt.deviceID = routeDevice, parts[0], parts[2]
	}
	return rt, true
}

// handle carries out an authorized request, with f.mu held.
func (f *Fake) handle(c call) answer {
	if c.wr != nil {
		return f.webrtcHandle(c)
	}
	switch c.rt.kind {
	case routeCollection:
		switch c.method {
		case http.MethodGet:
			return f.listUsers(c)
		case http.MethodPost:
			return f.createUser(c)
		}
		return f.notAllowed(c.method, "GET, POST")
	case routeUser:
		switch c.method {
		case http.MethodGet:
			return f.getUser(c)
		case http.MethodPut:
			return f.updateUser(c)
		case http.MethodDelete:
			return f.deleteUser(c)
		}
		return f.notAllowed(c.method, "GET, PUT, DELETE")
	case routeDevice:
		if c.method == http.MethodPut {
			return f.updateDevice(c)
		}
		return f.notAllowed(c.method, "PUT")
	}
	return f.fail(c.method, http.StatusNotFound, http.StatusNotFound, "Resource not found")
}

func (f *Fake) notAllowed(method, allow string) answer {
	a := f.fail(method, http.StatusMethodNotAllowed, http.StatusMethodNotAllowed, "Method not allowed")
	a.header.Set("Allow", allow)
	return a
}

// Messages the error tables give.
const (
	msgBadBody       = "Invalid request body, failed parsing"
	msgBadFormat     = "Request format is invalid"
	msgFirstName     = "first_name is mandatory"
	msgLastName      = "last_name is mandatory"
	msgEmailFormat   = "Email format not valid"
	msgPhone         = "Enter Valid Phone Number"
	msgPhoneRequired = "DeviceContactUri is mandatory"
	msgRole          = "Enter valid role for user"
	msgEmailExists   = "Email already exists for another account; Resource conflict"
	msgDeviceExists  = "Device already exists; Resource conflict"
	msgEmailUpdate   = "Cannot update email"
	msgUserNotFound  = "User not found"
	msgDeviceMissing = "Device not found"
)

// validPhone accepts E.164: "+", then 8 to 15 digits, the first not 0.
func validPhone(s string) bool {
	digits, ok := strings.CutPrefix(s, "+")
	if !ok || len(digits) < 8 || len(digits) > 15 || digits[0] == '0' {
		return false
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// validEmail is deliberately plain: one @, a local part without spaces, a
// dotted domain of letters, digits and hyphens.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(local, " \t\r\n\"(),:;<>@[\\]") {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

func validRole(r string) bool {
	return r == "admin" || r == "supervisor" || r == "user"
}

// decodeBody parses a JSON object body; false means 400 1007.
func decodeBody(c call, v any) bool {
	if !c.bodyOK || !bytes.HasPrefix(bytes.TrimSpace(c.body), []byte("{")) {
		return false
	}
	return json.Unmarshal(c.body, v) == nil
}

type createBody struct {
	FirstName        *string `json:"first_name"`
	LastName         *string `json:"last_name"`
	Email            *string `json:"email"`
	DeviceContactURI *string `json:"device_contact_uri"`
	Role             *string `json:"role"`
	DeviceName       *string `json:"device_name"`
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (f *Fake) createUser(c call) answer {
	m := c.method
	var b createBody
	if !decodeBody(c, &b) {
		return f.fail(m, 400, 1007, msgBadBody)
	}
	first := strings.TrimSpace(deref(b.FirstName))
	last := strings.TrimSpace(deref(b.LastName))
	email := strings.TrimSpace(deref(b.Email))
	phone := strings.TrimSpace(deref(b.DeviceContactURI))
	role := strings.TrimSpace(deref(b.Role))
	switch {
	case first == "":
		return f.fail(m, 400, 1001, msgFirstName)
	case last == "":
		return f.fail(m, 400, 1001, msgLastName)
	case email != "" && !validEmail(email):
		return f.fail(m, 400, 1001, msgEmailFormat)
	case phone != "" && !validPhone(phone):
		return f.fail(m, 400, 1401, msgPhone)
	case phone == "" && !f.voip && f.requireDevice:
		return f.fail(m, 400, 1402, msgPhoneRequired)
	case role != "" && !validRole(role):
		return f.fail(m, 400, 1023, msgRole)
	case email != "" && !f.allowDups && f.emailTaken(email):
		return f.fail(m, 409, 1022, msgEmailExists)
	case phone != "" && !f.allowDups && f.deviceWith(phone) != nil:
		return f.fail(m, 409, 1021, msgDeviceExists)
	}
	if role == "" {
		role = "user"
	}
	u := &user{id: f.newHex(), firstName: first, lastName: last, email: email, role: role,
		created: c.now, updated: c.now}
	switch {
	case phone != "":
		u.devices = append(u.devices, f.newDevice(first, strings.TrimSpace(deref(b.DeviceName)), phone, "tel"))
	case f.voip:
		d := f.newDevice(first, strings.TrimSpace(deref(b.DeviceName)), "", "sip")
		d.contactURI = sipURI(first, d.id)
		u.devices = append(u.devices, d)
	}
	f.users = append(f.users, u)
	if email != "" {
		f.createsByEmail[strings.ToLower(email)]++
	}
	if phone != "" {
		f.createsByPhone[phone]++
	}
	return f.success(m, f.wireUser(u, fieldSet{devices: true}))
}

// parseFields reads fields=a,b; unknown names are ignored.
func parseFields(q url.Values) fieldSet {
	var fs fieldSet
	for _, v := range q["fields"] {
		for _, name := range strings.Split(v, ",") {
			switch strings.TrimSpace(name) {
			case "devices":
				fs.devices = true
			case "active_call":
				fs.activeCall = true
			case "last_login":
				fs.lastLogin = true
			}
		}
	}
	return fs
}

// filterValues collects a comma-list filter. The value is URL-decoded first
// and split after, as servers commonly do, so a client that escapes the
// whole list (commas as %2C, as url.Values.Encode does) is understood too.
func filterValues(q url.Values, key string) []string {
	var vals []string
	for _, v := range q[key] {
		for _, item := range strings.Split(v, ",") {
			if key == "devices.contact_uri" && strings.HasPrefix(item, " ") {
				// A literal + decodes to a space; the real server reads it as +.
				item = "+" + strings.TrimLeft(item, " ")
			}
			if item = strings.TrimSpace(item); item != "" {
				vals = append(vals, item)
			}
		}
	}
	return vals
}

// intParam reads a non-negative integer query parameter.
func intParam(q url.Values, key string, def int) (int, bool) {
	v, present := q[key]
	if !present {
		return def, true
	}
	n, err := strconv.Atoi(strings.TrimSpace(v[0]))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

func (f *Fake) listUsers(c call) answer {
	m := c.method
	q, err := url.ParseQuery(c.rawQuery)
	if err != nil {
		return f.fail(m, 400, 1007, msgBadFormat)
	}
	offset, okOff := intParam(q, "offset", 0)
	limit, okLim := intParam(q, "limit", 20)
	if !okOff || !okLim || limit < 1 || limit > 50 {
		return f.fail(m, 400, 1007, msgBadFormat)
	}
	emails := filterValues(q, "email")
	uris := filterValues(q, "devices.contact_uri")
	for i := range emails {
		emails[i] = strings.ToLower(emails[i])
	}
	var match []*user
	for _, u := range f.users {
		if len(emails) > 0 && (u.email == "" || !slices.Contains(emails, strings.ToLower(u.email))) {
			continue
		}
		if len(uris) > 0 && !slices.ContainsFunc(u.devices, func(d *device) bool {
			return slices.Contains(uris, d.contactURI)
		}) {
			continue
		}
		match = append(match, u)
	}
	fs := parseFields(q)
	var recs []record
	page, total := f.listFault.page(match, offset, limit)
	if page != nil {
		recs = make([]record, len(page))
		for i, u := range page {
			recs[i] = record{Code: http.StatusOK, Status: "success", Data: f.wireUser(u, fs)}
		}
	}
	md := wireMetadata{Total: total, Count: len(recs), Offset: offset, Limit: limit}
	return f.list(m, md, recs)
}

func (f *Fake) getUser(c call) answer {
	u := f.userByID(c.rt.userID)
	if u == nil {
		return f.fail(c.method, 404, 404, msgUserNotFound)
	}
	q, _ := url.ParseQuery(c.rawQuery)
	return f.success(c.method, f.wireUser(u, parseFields(q)))
}

type updateUserBody struct {
	FirstName *string `json:"first_name"`
	LastName  *string `json:"last_name"`
	Email     *string `json:"email"`
}

func (f *Fake) updateUser(c call) answer {
	m := c.method
	u := f.userByID(c.rt.userID)
	if u == nil {
		return f.fail(m, 404, 404, msgUserNotFound)
	}
	var b updateUserBody
	if !decodeBody(c, &b) {
		return f.fail(m, 400, 1007, msgBadBody)
	}
	first, last := u.firstName, u.lastName
	if b.FirstName != nil {
		if first = strings.TrimSpace(*b.FirstName); first == "" {
			return f.fail(m, 400, 1001, msgFirstName)
		}
	}
	if b.LastName != nil {
		if last = strings.TrimSpace(*b.LastName); last == "" {
			return f.fail(m, 400, 1001, msgLastName)
		}
	}
	email := u.email
	if b.Email != nil {
		e := strings.TrimSpace(*b.Email)
		switch {
		case u.email != "":
			return f.fail(m, 400, 1002, msgEmailUpdate)
		case e == "":
		case !validEmail(e):
			return f.fail(m, 400, 1001, msgEmailFormat)
		case f.emailTaken(e):
			return f.fail(m, 409, 1022, msgEmailExists)
		default:
			email = e
		}
	}
	u.firstName, u.lastName, u.email, u.updated = first, last, email, c.now
	return f.success(m, f.wireUser(u, fieldSet{devices: true}))
}

// updateDeviceBody keeps available raw: JSON null means "not given".
type updateDeviceBody struct {
	Available  *bool   `json:"available"`
	ContactURI *string `json:"contact_uri"`
}

func (f *Fake) updateDevice(c call) answer {
	m := c.method
	u := f.userByID(c.rt.userID)
	if u == nil {
		return f.fail(m, 404, 404, msgUserNotFound)
	}
	var d *device
	if id, err := strconv.ParseInt(c.rt.deviceID, 10, 64); err == nil {
		i := slices.IndexFunc(u.devices, func(d *device) bool { return d.id == id })
		if i >= 0 {
			d = u.devices[i]
		}
	}
	if d == nil {
		return f.fail(m, 404, 1018, msgDeviceMissing)
	}
	var b updateDeviceBody
	if !decodeBody(c, &b) {
		return f.fail(m, 400, 1007, msgBadBody)
	}
	if b.Available != nil && b.ContactURI != nil {
		return f.fail(m, 400, 1007, "device_contact_uri cannot be updated in the same request")
	}
	if b.ContactURI != nil {
		uri := strings.TrimSpace(*b.ContactURI)
		switch {
		case uri == d.contactURI:
		case d.typ != "tel":
			return f.fail(m, 403, 1003, "This device is not PSTN. Operation not permitted")
		case !validPhone(uri):
			return f.fail(m, 400, 1401, msgPhone)
		case f.deviceWith(uri) != nil:
			return f.fail(m, 409, 1021, "Device already exists")
		default:
			// A new number must be verified again by its owner.
			d.contactURI, d.verified, d.available, d.status = uri, false, nil, ""
			u.updated = c.now
		}
	}
	if b.Available != nil {
		on := *b.Available
		if !d.verified {
			return f.fail(m, 403, 1003, "Device is unverified")
		}
		if on && slices.ContainsFunc(u.devices, func(o *device) bool {
			return o != d && o.available != nil && *o.available
		}) {
			return f.fail(m, 403, 1003, "Another device is ON. Only one device can be ON at a time")
		}
		d.available = &on
		u.updated = c.now
	}
	return f.success(m, f.wireDevice(d))
}

func (f *Fake) deleteUser(c call) answer {
	i := slices.IndexFunc(f.users, func(u *user) bool { return u.id == c.rt.userID })
	if i < 0 {
		return f.fail(c.method, 404, 404, msgUserNotFound)
	}
	u := f.users[i]
	f.users = slices.Delete(f.users, i, i+1)
	f.deleted = append(f.deleted, f.public(u))
	if u.email != "" {
		f.tombstones[strings.ToLower(u.email)] = true
	}
	return f.success(c.method, nil)
}
