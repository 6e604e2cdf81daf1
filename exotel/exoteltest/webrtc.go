package exoteltest

import (
	"crypto/subtle"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// WebRTCOptions configure the WebRTC integrations app users API
// (shared/api/webrtc-integrations-users-api.txt) that the fake serves beside
// the CCM one, under the same Limit and faults. The zero value serves app
// test-app of customer test-customer with token test-webrtc-token.
type WebRTCOptions struct {
	Token      string // Bearer token; default "test-webrtc-token"
	CustomerID string // default "test-customer"
	AppID      string // default "test-app"

	// MaxPageSize > 0 answers a list asking for a larger limit with 400
	// "limit must not exceed N". The document gives no maximum; 0 means
	// none.
	MaxPageSize int
	// CreateStatus is a successful create's status: 201 (the default) or
	// 200, both documented.
	CreateStatus int
	// ErrorBody is the shape of every error answer but a 429's.
	ErrorBody WebRTCErrorBody
}

// WebRTCErrorBody is the shape of an error answer. The document specifies
// none, so a client must cope with all of them.
type WebRTCErrorBody int

const (
	// WebRTCErrorJSON is {"success":false,"message":...}.
	WebRTCErrorJSON WebRTCErrorBody = iota
	// WebRTCErrorText is the message alone, as text/plain.
	WebRTCErrorText
	// WebRTCErrorBare is {"success":false}, without a message.
	WebRTCErrorBare
	// WebRTCErrorEmpty is no body at all.
	WebRTCErrorEmpty
)

// WebRTCUser is a user of the fake app, for seeding and inspection.
type WebRTCUser struct {
	UserID     string
	Name       string
	Phone      string // E.164 or ""
	SIPEnabled bool
	Status     string // default "active"
	// Device status: whether the phone and the SIP device are reachable.
	PhoneDevice, SIPDevice bool
	CreatedAt, UpdatedAt   time.Time // zero when seeding: now
}

func (o WebRTCOptions) normalized() WebRTCOptions {
	o.Token = orDefault(o.Token, "test-webrtc-token")
	o.CustomerID = orDefault(o.CustomerID, "test-customer")
	o.AppID = orDefault(o.AppID, "test-app")
	if o.CreateStatus == 0 {
		o.CreateStatus = http.StatusCreated
	}
	if o.CreateStatus != http.StatusOK && o.CreateStatus != http.StatusCreated {
		panic(fmt.Sprintf("exoteltest: WebRTC CreateStatus %d: use 200 or 201", o.CreateStatus))
	}
	if o.MaxPageSize < 0 || o.ErrorBody < WebRTCErrorJSON || o.ErrorBody > WebRTCErrorEmpty {
		panic(fmt.Sprintf("exoteltest: invalid WebRTC options %+v", o))
	}
	return o
}

// webrtcApp is the fake's WebRTC app: its settings and users. It is
// guarded by the Fake's mutex.
type webrtcApp struct {
	cfg     WebRTCOptions
	users   []*WebRTCUser // creation order
	deleted []WebRTCUser
	creates map[string]int // successful creates per user_id, over the fake's life
}

func newWebRTCApp(o WebRTCOptions) *webrtcApp {
	return &webrtcApp{cfg: o.normalized(), creates: map[string]int{}}
}

func (a *webrtcApp) user(id string) *WebRTCUser {
	for _, u := range a.users {
		if u.UserID == id {
			return u
		}
	}
	return nil
}

// WebRTCUsersPath is the app's users path,
// /v2/integrations/<customer_id>/apps/<app_id>/users.
func (f *Fake) WebRTCUsersPath() string {
	cfg := f.wr.cfg // set once at construction
	return "/v2/integrations/" + url.PathEscape(cfg.CustomerID) + "/apps/" + url.PathEscape(cfg.AppID) + "/users"
}

// WebRTCUsersURL is URL plus the WebRTC users path, for raw requests.
func (s *Server) WebRTCUsersURL() string { return s.URL() + s.WebRTCUsersPath() }

// SeedWebRTC adds app users as if they had existed before, without a
// request, and returns them as stored. It panics on a missing or duplicate
// user_id or a missing name.
func (f *Fake) SeedWebRTC(users ...WebRTCUser) []WebRTCUser {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	ids := map[string]bool{}
	for _, u := range users {
		switch {
		case u.UserID == "" || u.Name == "":
			panic(fmt.Sprintf("exoteltest: SeedWebRTC: %+v needs a user_id and a name", u))
		case ids[u.UserID] || f.wr.user(u.UserID) != nil:
			panic(fmt.Sprintf("exoteltest: SeedWebRTC: user_id %q already exists", u.UserID))
		}
		ids[u.UserID] = true
	}
	out := make([]WebRTCUser, 0, len(users))
	for _, u := range users {
		if u.Status == "" {
			u.Status = "active"
		}
		if u.CreatedAt.IsZero() {
			u.CreatedAt = now
		}
		if u.UpdatedAt.IsZero() {
			u.UpdatedAt = u.CreatedAt
		}
		f.wr.users = append(f.wr.users, &u)
		out = append(out, u)
	}
	return out
}

// WebRTCUsers returns the app's current users in creation order.
func (f *Fake) WebRTCUsers() []WebRTCUser {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]WebRTCUser, len(f.wr.users))
	for i, u := range f.wr.users {
		out[i] = *u
	}
	return out
}

// WebRTCUser returns the app's current user with this user_id.
func (f *Fake) WebRTCUser(id string) (WebRTCUser, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.wr.user(id); u != nil {
		return *u, true
	}
	return WebRTCUser{}, false
}

// WebRTCDeleted returns the app users deleted, as they were, in order.
func (f *Fake) WebRTCDeleted() []WebRTCUser {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.wr.deleted)
}

// WebRTCCreates counts the POSTs that created an app user, per user_id,
// over the fake's life: including creates whose answer was dropped, and
// users deleted since. Seeded users do not count. A count above 1 is a
// user created, deleted and created again.
func (f *Fake) WebRTCCreates() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.wr.creates)
}

// webrtcRoute is a path under /v2/integrations/.
type webrtcRoute struct {
	customerID, appID string
	userID            string
	kind              routeKind // routeCollection, routeUser or routeOther
}

// parseWebRTCRoute reads an escaped path; ok is false when it is not under
// /v2/integrations/. Segments are unescaped one by one, so a user_id with
// a %2F in it stays one segment.
func parseWebRTCRoute(escaped string) (webrtcRoute, bool) {
	rest, ok := strings.CutPrefix(escaped, "/v2/integrations/")
	if !ok {
		return webrtcRoute{}, false
	}
	parts := strings.Split(rest, "/")
	for i, p := range parts {
		s, err := url.PathUnescape(p)
		if err != nil {
			return webrtcRoute{kind: routeOther}, true
		}
		parts[i] = s
	}
	rt := webrtcRoute{kind: routeOther}
	if len(parts) >= 4 && parts[1] == "apps" && parts[3] == "users" {
		rt.customerID, rt.appID = parts[0], parts[2]
		switch {
		case len(parts) == 4:
			rt.kind = routeCollection
		case len(parts) == 5 && parts[4] != "":
			rt.kind, rt.userID = routeUser, parts[4]
		}
	}
	return rt, true
}

// webrtcAuthorized checks the Bearer token, and that the path names the
// app the token is for: a token is issued per app, so another app's path
// is refused like a wrong token (the run stops) rather than answered 404
// (which an offboard would take for users already gone).
func (f *Fake) webrtcAuthorized(r *http.Request, rt webrtcRoute) (answer, bool) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	ok := strings.EqualFold(scheme, "Bearer") &&
		subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(f.wr.cfg.Token)) == 1
	if !ok {
		return f.webrtcFail(http.StatusUnauthorized, "Invalid or expired token"), false
	}
	if rt.kind != routeOther && (rt.customerID != f.wr.cfg.CustomerID || rt.appID != f.wr.cfg.AppID) {
		return f.webrtcFail(http.StatusUnauthorized, "Token is not valid for this application"), false
	}
	return answer{}, true
}

// webrtcHandle carries out an authorized request, with f.mu held.
func (f *Fake) webrtcHandle(c call) answer {
	switch c.wr.kind {
	case routeCollection:
		switch c.method {
		case http.MethodGet:
			return f.webrtcList(c)
		case http.MethodPost:
			return f.webrtcCreate(c)
		}
		return f.webrtcNotAllowed("GET, POST")
	case routeUser:
		switch c.method {
		case http.MethodGet:
			return f.webrtcGet(c)
		case http.MethodDelete:
			return f.webrtcDelete(c)
		}
		return f.webrtcNotAllowed("GET, DELETE")
	}
	return f.webrtcFail(http.StatusNotFound, "Not found")
}

func (f *Fake) webrtcNotAllowed(allow string) answer {
	a := f.webrtcFail(http.StatusMethodNotAllowed, "Method not allowed")
	a.header.Set("Allow", allow)
	return a
}

const msgWebRTCNotFound = "User not found"

func (f *Fake) webrtcCreate(c call) answer {
	var b map[string]rawJSON
	if !decodeBody(c, &b) {
		return f.webrtcFail(400, "Invalid request body")
	}
	userID, ok := b["user_id"].str()
	if userID = strings.TrimSpace(userID); !ok || userID == "" {
		return f.webrtcFail(400, "user_id is required")
	}
	name, ok := b["name"].str()
	if name = strings.TrimSpace(name); !ok || name == "" {
		return f.webrtcFail(400, "name is required")
	}
	phone := ""
	if v := b["phone"]; !v.null() {
		s, ok := v.str()
		if phone = strings.TrimSpace(s); !ok || (phone != "" && !validPhone(phone)) {
			return f.webrtcFail(400, "Invalid phone number")
		}
	}
	sip := true
	if v := b["sip_enabled"]; !v.null() {
		var ok bool
		if sip, ok = v.boolean(); !ok {
			return f.webrtcFail(400, "sip_enabled must be a boolean")
		}
	}
	if f.wr.user(userID) != nil {
		return f.webrtcFail(400, "User with user_id '"+userID+"' already exists")
	}
	u := &WebRTCUser{UserID: userID, Name: name, Phone: phone, SIPEnabled: sip, Status: "active",
		PhoneDevice: phone != "", CreatedAt: c.now, UpdatedAt: c.now}
	f.wr.users = append(f.wr.users, u)
	f.wr.creates[userID]++
	return webrtcData(f.wr.cfg.CreateStatus, f.webrtcWire(u, webrtcCreated))
}

func (f *Fake) webrtcGet(c call) answer {
	u := f.wr.user(c.wr.userID)
	if u == nil {
		return f.webrtcFail(404, msgWebRTCNotFound)
	}
	return webrtcData(http.StatusOK, f.webrtcWire(u, webrtcDetails))
}

func (f *Fake) webrtcDelete(c call) answer {
	i := slices.IndexFunc(f.wr.users, func(u *WebRTCUser) bool { return u.UserID == c.wr.userID })
	if i < 0 {
		return f.webrtcFail(404, msgWebRTCNotFound)
	}
	f.wr.deleted = append(f.wr.deleted, *f.wr.users[i])
	f.wr.users = slices.Delete(f.wr.users, i, i+1)
	return jsonAnswer(http.StatusOK, webrtcMessage{Success: true, Message: "User deleted successfully"})
}

func (f *Fake) webrtcList(c call) answer {
	q, err := url.ParseQuery(c.rawQuery)
	if err != nil {
		return f.webrtcFail(400, "Invalid query")
	}
	offset, okOff := intParam(q, "offset", 0)
	limit, okLim := intParam(q, "limit", 20)
	switch most := f.wr.cfg.MaxPageSize; {
	case !okOff:
		return f.webrtcFail(400, "offset must be a non-negative integer")
	case !okLim || limit < 1:
		return f.webrtcFail(400, "limit must be a positive integer")
	case most > 0 && limit > most:
		return f.webrtcFail(400, fmt.Sprintf("limit must not exceed %d", most))
	}
	page := []webrtcWireUser{}
	if offset < len(f.wr.users) {
		for _, u := range f.wr.users[offset:min(len(f.wr.users), offset+limit)] {
			page = append(page, f.webrtcWire(u, webrtcListed))
		}
	}
	return webrtcData(http.StatusOK, webrtcWireList{Users: page, Total: len(f.wr.users), Limit: limit, Offset: offset})
}

// webrtcThrottled is a 429 in the configured shape; the "envelope" shape is
// this API's own.
func (f *Fake) webrtcThrottled(l Limit, wait time.Duration) answer {
	if l.Body != ThrottleEnvelope {
		return f.throttled("", l, wait)
	}
	a := jsonAnswer(http.StatusTooManyRequests, webrtcMessage{Message: "Too many requests"})
	if l.RetryAfter {
		a.header.Set("Retry-After", fmt.Sprint(ceilSeconds(wait)))
	}
	return a
}

// serverError is the 500 a fault sends, in the shape of the API asked.
func (f *Fake) serverError(c call) answer {
	if c.wr != nil {
		return f.webrtcFail(http.StatusInternalServerError, "Internal Server Error")
	}
	return f.fail(c.method, http.StatusInternalServerError, 1004, "Internal Server Error")
}

// webrtcFail is an error answer in the configured ErrorBody shape.
func (f *Fake) webrtcFail(status int, msg string) answer {
	switch f.wr.cfg.ErrorBody {
	case WebRTCErrorText:
		h := http.Header{}
		h.Set("Content-Type", "text/plain; charset=utf-8")
		return answer{status: status, header: h, body: []byte(msg + "\n")}
	case WebRTCErrorBare:
		return jsonAnswer(status, struct {
			Success bool `json:"success"`
		}{})
	case WebRTCErrorEmpty:
		return answer{status: status, header: http.Header{}}
	}
	return jsonAnswer(status, webrtcMessage{Message: msg})
}

// SampleWebRTCUsers makes n plausible app users for the sandbox and for
// tests, named and dated like SampleUsers: user ids agent_001 onwards, most
// with a phone and SIP enabled, a few inactive, mixed device status. The
// same n, seed and now give the same users.
func SampleWebRTCUsers(n int, seed int64, now time.Time) []WebRTCUser {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x77656272_7463)) // "webrtc"
	people := SampleUsers(n, seed, now)
	out := make([]WebRTCUser, n)
	for i, p := range people {
		u := WebRTCUser{
			UserID:     fmt.Sprintf("agent_%03d", i+1),
			Name:       p.FirstName + " " + p.LastName,
			SIPEnabled: rng.IntN(10) < 8,
			Status:     "active",
			CreatedAt:  p.DateCreated,
			UpdatedAt:  p.DateCreated.Add(time.Duration(rng.IntN(30*24)) * time.Hour),
		}
		if u.UpdatedAt.After(now) {
			u.UpdatedAt = now
		}
		if rng.IntN(10) < 9 { // one in ten has no fallback number
			u.Phone = p.Devices[0].ContactURI
			u.PhoneDevice = rng.IntN(4) > 0
		}
		u.SIPDevice = u.SIPEnabled && rng.IntN(2) == 0
		if rng.IntN(12) == 0 {
			u.Status = "inactive"
		}
		out[i] = u
	}
	return out
}
