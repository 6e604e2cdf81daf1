package exoteltest

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/hex"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/exoroster/exoroster/exotel"
)

// maxBody bounds what the fake reads of a request; a user is a few hundred
// bytes.
const maxBody = 1 << 20

// Fake is the fake account: its state, knobs and request log, served as an
// http.Handler. All methods are safe for concurrent use.
type Fake struct {
	key, token, sid string
	ist             *time.Location
	now             func() time.Time

	closeOnce sync.Once
	closed    chan struct{}

	// mu guards everything below. It is never held while sleeping or
	// writing an answer.
	mu             sync.Mutex
	rng            *rand.Rand
	lim            *limiter
	faults         Faults
	voip           bool
	requireDevice  bool
	allowDups      bool
	hook           func(*http.Request)
	listFault      ListFault
	users          []*user // creation order
	deleted        []exotel.User
	tombstones     map[string]bool // lower-cased emails of deleted users
	nextDevice     int64
	log            []Request
	createsByEmail map[string]int
	createsByPhone map[string]int
	wr             *webrtcApp
}

// NewHandler returns a fake account ready to be served, e.g. by an
// http.Server of the sandbox's own. Call Close when shutting down so that
// answers sleeping on latency give up.
func NewHandler(opts Options) *Fake {
	f := &Fake{
		key:            orDefault(opts.APIKey, "test-key"),
		token:          orDefault(opts.APIToken, "test-token"),
		sid:            orDefault(opts.AccountSID, "test-sid"),
		ist:            istZone(),
		now:            opts.Now,
		closed:         make(chan struct{}),
		rng:            rand.New(rand.NewPCG(uint64(opts.Seed), 0x6578_6f74_656c)), // "exotel"
		lim:            newLimiter(opts.Limit),
		faults:         opts.faults().check(),
		voip:           opts.VOIP,
		requireDevice:  opts.RequireDevice,
		allowDups:      opts.AllowDuplicates,
		hook:           opts.OnRequest,
		listFault:      opts.ListFault,
		tombstones:     map[string]bool{},
		nextDevice:     firstDeviceID,
		createsByEmail: map[string]int{},
		createsByPhone: map[string]int{},
		wr:             newWebRTCApp(opts.WebRTC),
	}
	if f.now == nil {
		f.now = time.Now
	}
	return f
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// UsersPath is the resource's path, /v2/accounts/<sid>/users.
func (f *Fake) UsersPath() string { return "/v2/accounts/" + url.PathEscape(f.sid) + "/users" }

// Close makes answers that are sleeping on latency give up (their
// connections are closed) and every later request fail the same way. The
// state stays readable.
func (f *Fake) Close() { f.closeOnce.Do(func() { close(f.closed) }) }

func (f *Fake) isClosed() bool {
	select {
	case <-f.closed:
		return true
	default:
		return false
	}
}

// decision is the outcome of a request, settled under the lock.
type decision struct {
	ans   answer
	drop  bool // close the connection instead of answering
	delay time.Duration
	entry int // index in the log
}

// call is what an endpoint handler needs from a request.
type call struct {
	method   string
	rt       route
	wr       *webrtcRoute // set for the WebRTC API, whose route this is
	rawQuery string
	body     []byte
	bodyOK   bool
	now      time.Time
}

// ServeHTTP implements http.Handler.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.isClosed() {
		drop(w)
		return
	}
	// Read the whole body first, so that a dropped request was fully sent,
	// as it would have been to the real server.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	bodyOK := err == nil
	f.mu.Lock()
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		hook(r)
	}

	d := f.decide(r, body, bodyOK)
	if d.drop {
		drop(w)
		return
	}
	if !f.sleep(r.Context(), d.delay) {
		f.mu.Lock()
		f.log[d.entry].Status, f.log[d.entry].Dropped = 0, "aborted"
		f.mu.Unlock()
		drop(w)
		return
	}
	h := w.Header()
	maps.Copy(h, d.ans.header)
	w.WriteHeader(d.ans.status)
	_, _ = w.Write(d.ans.body) // the client may be gone; nothing to do about it
}

// decide settles a request: rate limit, auth, faults, effect; and logs it.
func (f *Fake) decide(r *http.Request, body []byte, bodyOK bool) decision {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	q, _ := url.ParseQuery(r.URL.RawQuery) // best effort, for the log only
	e := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Query: q,
		Body: bytes.Clone(body), Time: now}
	var d decision

	rt, ok := parseRoute(r.URL.Path)
	wr, isWebRTC := parseWebRTCRoute(r.URL.EscapedPath())
	switch {
	case isWebRTC:
		d = f.decideLimited(r, &e, call{method: r.Method, wr: &wr, rawQuery: r.URL.RawQuery,
			body: body, bodyOK: bodyOK, now: now})
	case !ok:
		d.ans = f.fail(r.Method, http.StatusNotFound, http.StatusNotFound, "Resource not found")
	default:
		d = f.decideLimited(r, &e, call{method: r.Method, rt: rt, rawQuery: r.URL.RawQuery,
			body: body, bodyOK: bodyOK, now: now})
	}
	if !d.drop {
		d.delay += f.faults.Latency
		if j := f.faults.LatencyJitter; j > 0 {
			d.delay += time.Duration(f.rng.Int64N(int64(j) + 1))
		}
	}

	e.Decided, e.Code, e.RequestID = d.ans.status, d.ans.code, d.ans.reqID
	if !d.drop {
		e.Status = d.ans.status
	}
	f.log = append(f.log, e)
	d.entry = len(f.log) - 1
	return d
}

// decideLimited handles a request under the users resource.
func (f *Fake) decideLimited(r *http.Request, e *Request, c call) decision {
	var d decision
	var limitHeader http.Header
	if !f.lim.unlimited() {
		allowed, q := f.lim.take(c.now)
		if f.lim.cfg.Headers {
			limitHeader = http.Header{}
			limitHeader.Set("X-RateLimit-Limit", strconv.Itoa(q.limit))
			limitHeader.Set("X-RateLimit-Remaining", strconv.Itoa(q.remaining))
			limitHeader.Set("X-RateLimit-Reset", strconv.FormatInt(ceilUnix(q.reset), 10))
		}
		if !allowed {
			e.Throttled = true
			if c.wr != nil {
				d.ans = f.webrtcThrottled(f.lim.cfg, q.wait)
			} else {
				d.ans = f.throttled(c.method, f.lim.cfg, q.wait)
			}
		}
	}
	if !e.Throttled {
		switch {
		case c.wr != nil:
			var ok bool
			if d.ans, ok = f.webrtcAuthorized(r, *c.wr); ok {
				f.withFaults(&d, e, c)
			}
		case !f.authOK(r):
			d.ans = f.fail(c.method, http.StatusUnauthorized, 1010, "Authentication failed")
		case c.rt.sid != f.sid:
			d.ans = f.fail(c.method, http.StatusForbidden, 1003, "API credentials used are unauthorized")
		default:
			f.withFaults(&d, e, c)
		}
	}
	if d.ans.header != nil {
		maps.Copy(d.ans.header, limitHeader)
	}
	return d
}

func (f *Fake) authOK(r *http.Request) bool {
	key, token, ok := r.BasicAuth()
	// Constant time out of habit: it costs nothing and a fake is copied.
	keyOK := subtle.ConstantTimeCompare([]byte(key), []byte(f.key)) == 1
	tokenOK := subtle.ConstantTimeCompare([]byte(token), []byte(f.token)) == 1
	return ok && keyOK && tokenOK
}

// withFaults draws the faults (in a fixed order, so a seed replays) and
// carries the request out unless a fault stops it.
func (f *Fake) withFaults(d *decision, e *Request, c call) {
	fl := f.faults
	if !fl.appliesTo(c.method) {
		d.ans = f.handle(c)
		return
	}
	if f.draw(fl.ServerErrorRate) {
		if fl.HTMLErrors && f.rng.IntN(2) == 0 {
			d.ans, e.Fault = htmlAnswer(http.StatusBadGateway, "502 Bad Gateway"), "html_error"
		} else {
			d.ans, e.Fault = f.serverError(c), "server_error"
		}
		return
	}
	if f.draw(fl.DropBeforeRate) {
		d.drop, e.Fault, e.Dropped = true, "drop_before", "before"
		return
	}
	dropAfter := f.draw(fl.DropAfterRate)
	slow := f.draw(fl.SlowRate)
	d.ans = f.handle(c)
	switch {
	case dropAfter:
		d.drop, e.Fault, e.Dropped = true, "drop_after", "after"
	case slow:
		d.delay, e.Fault = fl.SlowLatency, "slow"
	}
}

// draw is true with probability p. Certain outcomes draw nothing, so
// turning a knob fully on or off does not shift the other draws.
func (f *Fake) draw(p float64) bool {
	switch {
	case p <= 0:
		return false
	case p >= 1:
		return true
	}
	return f.rng.Float64() < p
}

// newHex is a 32-hex id (user ids, request ids), from the seeded RNG.
func (f *Fake) newHex() string {
	var b [16]byte
	for i := 0; i < len(b); i += 8 {
		v := f.rng.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:])
}

// sleep waits d; false when the client went away or the fake was closed.
func (f *Fake) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return !f.isClosed()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-f.closed:
		return false
	}
}

// drop closes the connection without an answer. Hijacking needs HTTP/1.x;
// elsewhere ErrAbortHandler makes the server abort the response instead.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// ---- knobs ----

// SetLimit replaces the rate limit; the new limit starts with a full bucket
// or an unused window.
func (f *Fake) SetLimit(l Limit) {
	lim := newLimiter(l)
	f.mu.Lock()
	f.lim = lim
	f.mu.Unlock()
}

// SetFaults replaces the fault knobs.
func (f *Fake) SetFaults(fl Faults) {
	fl = fl.check()
	f.mu.Lock()
	f.faults = fl
	f.mu.Unlock()
}

// SetOnRequest replaces the OnRequest hook (nil removes it).
func (f *Fake) SetOnRequest(hook func(*http.Request)) {
	f.mu.Lock()
	f.hook = hook
	f.mu.Unlock()
}

// ---- inspection ----

// Seed adds users as if they had existed before, without a request, and
// returns them with their ids. It panics on a duplicate id, email
// (including a deleted user's) or contact URI.
func (f *Fake) Seed(users ...SeedUser) []exotel.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seed(f.now(), users)
}

// Tombstone marks emails as used by users deleted before the test began.
func (f *Fake) Tombstone(emails ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range emails {
		f.tombstones[strings.ToLower(strings.TrimSpace(e))] = true
	}
}

// SetRole changes a user's role, as an admin would on the dashboard (the
// API cannot), so a test can change a user between a tool's lookup and
// its action. It reports whether the user exists.
func (f *Fake) SetRole(id, role string) bool {
	return f.change(id, true, func(u *user) { u.role = role })
}

// SetActiveCall puts a user on a call (callSid) or, with "", off it. A
// call is not an update of the user: date_updated stays, as in the
// document's example of a user on a call.
func (f *Fake) SetActiveCall(id, callSid string) bool {
	return f.change(id, false, func(u *user) { u.activeCall = callSid })
}

// change applies fn to user id; updated: fn is an update of the user,
// which moves its date_updated.
func (f *Fake) change(id string, updated bool, fn func(*user)) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.userByID(id)
	if u == nil {
		return false
	}
	fn(u)
	if updated {
		u.updated = f.now()
	}
	return true
}

// Users returns the current users in creation order, every block filled in.
func (f *Fake) Users() []exotel.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]exotel.User, len(f.users))
	for i, u := range f.users {
		out[i] = f.public(u)
	}
	return out
}

// User returns the current user with this id.
func (f *Fake) User(id string) (exotel.User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u := f.userByID(id); u != nil {
		return f.public(u), true
	}
	return exotel.User{}, false
}

// UserByEmail returns the current user with this email (case-insensitive).
func (f *Fake) UserByEmail(email string) (exotel.User, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, u := range f.users {
		if u.email != "" && strings.EqualFold(u.email, strings.TrimSpace(email)) {
			return f.public(u), true
		}
	}
	return exotel.User{}, false
}

// Deleted returns deleted users as they were when deleted, in order.
func (f *Fake) Deleted() []exotel.User {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.deleted)
}

// Requests returns a copy of the request log.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Request, len(f.log))
	for i, e := range f.log {
		e.Body = bytes.Clone(e.Body)
		e.Query = cloneValues(e.Query)
		out[i] = e
	}
	return out
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// CountRequests counts logged requests with this method ("" for all).
func (f *Fake) CountRequests(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.log {
		if method == "" || strings.EqualFold(e.Method, method) {
			n++
		}
	}
	return n
}

// Throttled counts requests answered 429.
func (f *Fake) Throttled() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.log {
		if e.Throttled {
			n++
		}
	}
	return n
}

// CreatesByEmail counts the POSTs that created a user, per lower-cased
// email, over the fake's whole life: including creates whose answer was
// dropped or never arrived, and users deleted since. Seeded users do not
// count.
func (f *Fake) CreatesByEmail() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.createsByEmail)
}

// CreatesByPhone is CreatesByEmail per device_contact_uri. Unlike an email,
// a deleted user's number may be created again, so a count above 1 here is
// how a test sees a person created twice.
func (f *Fake) CreatesByPhone() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.createsByPhone)
}

// Creates counts all successful CCM creates (see WebRTCCreates for the
// WebRTC app's).
func (f *Fake) Creates() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, e := range f.log {
		if e.Method == http.MethodPost && e.Decided == http.StatusOK && !strings.HasPrefix(e.Path, "/v2/integrations/") {
			n++
		}
	}
	return n
}
