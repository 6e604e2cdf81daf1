package exoteltest_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
)

func bearer(token string) reqOpt {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// wdo sends a raw request to s.WebRTCUsersURL()+rel (or to an absolute
// path when rel starts with "//"), with the default Bearer token.
func wdo(t *testing.T, s *exoteltest.Server, method, rel, body string, opts ...reqOpt) raw {
	t.Helper()
	return send(t, s, s.WebRTCUsersURL(), bearer("test-webrtc-token"), method, rel, body, opts...)
}

// wantWebRTCFailure checks a {success:false, message} answer.
func wantWebRTCFailure(t *testing.T, r raw, status int, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	m := r.obj(t)
	if m["success"] != false || m["message"] != msg || len(m) != 2 {
		t.Errorf("body %s, want success false and message %q", r.body, msg)
	}
}

// keys lists an object's keys in the order they were sent.
func keys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", raw)
	}
	var out []string
	for dec.More() {
		k, _ := dec.Token()
		out = append(out, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func data(t *testing.T, r raw) json.RawMessage {
	t.Helper()
	var env struct {
		Success bool            `json:"success"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(r.body, &env); err != nil || !env.Success {
		t.Fatalf("not a success envelope: %s", r.body)
	}
	return env.Data
}

const agent = `{"user_id":"agent_001","name":"John Agent","phone":"+919876543210","sip_enabled":true}`

func TestWebRTCCreateAnswersAsDocumented(t *testing.T) {
	c := newClock(t0())
	s := start(t, exoteltest.Options{Now: c.Now, WebRTC: exoteltest.WebRTCOptions{AppID: "app_abc123"}})
	r := wdo(t, s, "POST", "", agent)
	if r.status != http.StatusCreated || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	d := data(t, r)
	if got := strings.Join(keys(t, d), ","); got != "user_id,name,phone,sip_enabled,sip_credentials,status,created_at" {
		t.Errorf("keys %s", got)
	}
	want := `{"user_id":"agent_001","name":"John Agent","phone":"+919876543210","sip_enabled":true,` +
		`"sip_credentials":{"username":"agent_001@app_abc123.exotel.com","domain":"sip.exotel.com"},` +
		`"status":"active","created_at":"2021-07-21T16:13:38.000Z"}`
	if string(d) != want {
		t.Errorf("data %s\nwant %s", d, want)
	}
	u, ok := s.WebRTCUser("agent_001")
	if !ok || u.Name != "John Agent" || !u.SIPEnabled || !u.PhoneDevice || u.SIPDevice || !u.CreatedAt.Equal(t0()) {
		t.Errorf("stored %+v", u)
	}

	// sip_enabled defaults to true; without SIP there are no credentials;
	// a phone may be left out or null.
	r = wdo(t, s, "POST", "", `{"user_id":"b","name":"B"}`)
	if d := string(data(t, r)); !strings.Contains(d, `"phone":null,"sip_enabled":true,"sip_credentials":{`) {
		t.Errorf("defaults: %s", d)
	}
	r = wdo(t, s, "POST", "", `{"user_id":"c","name":"C","phone":null,"sip_enabled":false}`)
	if d := string(data(t, r)); !strings.Contains(d, `"sip_enabled":false,"sip_credentials":null`) {
		t.Errorf("no sip: %s", d)
	}
	if got := s.WebRTCCreates(); got["agent_001"] != 1 || got["b"] != 1 || got["c"] != 1 || len(got) != 3 {
		t.Errorf("creates %v", got)
	}

	s2 := start(t, exoteltest.Options{WebRTC: exoteltest.WebRTCOptions{CreateStatus: 200}})
	if r := wdo(t, s2, "POST", "", agent); r.status != 200 {
		t.Errorf("CreateStatus 200: got %d", r.status)
	}
}

func TestWebRTCCreateRefusesBadInput(t *testing.T) {
	s := start(t, exoteltest.Options{})
	s.SeedWebRTC(exoteltest.WebRTCUser{UserID: "agent_001", Name: "John Agent", SIPEnabled: true})
	for _, tc := range []struct {
		name, body, msg string
	}{
		{name: "not json", body: `user_id=a`, msg: "Invalid request body"},
		{name: "an array", body: `[` + agent + `]`, msg: "Invalid request body"},
		{name: "no user_id", body: `{"name":"A"}`, msg: "user_id is required"},
		{name: "blank user_id", body: `{"user_id":"  ","name":"A"}`, msg: "user_id is required"},
		{name: "numeric user_id", body: `{"user_id":7,"name":"A"}`, msg: "user_id is required"},
		{name: "no name", body: `{"user_id":"a"}`, msg: "name is required"},
		{name: "bad phone", body: `{"user_id":"a","name":"A","phone":"98765 43210"}`, msg: "Invalid phone number"},
		{name: "numeric phone", body: `{"user_id":"a","name":"A","phone":919876543210}`, msg: "Invalid phone number"},
		{name: "string sip_enabled", body: `{"user_id":"a","name":"A","sip_enabled":"yes"}`, msg: "sip_enabled must be a boolean"},
		{name: "duplicate", body: `{"user_id":"agent_001","name":"Someone Else"}`,
			msg: "User with user_id 'agent_001' already exists"},
		{name: "duplicate after trimming", body: `{"user_id":" agent_001 ","name":"X"}`,
			msg: "User with user_id 'agent_001' already exists"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantWebRTCFailure(t, wdo(t, s, "POST", "", tc.body), 400, tc.msg)
		})
	}
	if n := len(s.WebRTCUsers()); n != 1 || len(s.WebRTCCreates()) != 0 {
		t.Errorf("%d users, creates %v after refused creates", n, s.WebRTCCreates())
	}
}

func TestWebRTCAuth(t *testing.T) {
	s := start(t, exoteltest.Options{WebRTC: exoteltest.WebRTCOptions{Token: "tok", CustomerID: "cust", AppID: "app"}})
	for _, tc := range []struct {
		name string
		rel  string
		opts []reqOpt
		msg  string
	}{
		{name: "no token", opts: []reqOpt{noAuth}, msg: "Invalid or expired token"},
		{name: "wrong token", opts: []reqOpt{bearer("nope")}, msg: "Invalid or expired token"},
		{name: "basic auth", opts: []reqOpt{auth("test-key", "tok")}, msg: "Invalid or expired token"},
		{name: "another app", rel: "//v2/integrations/cust/apps/other/users", opts: []reqOpt{bearer("tok")},
			msg: "Token is not valid for this application"},
		{name: "another customer", rel: "//v2/integrations/x/apps/app/users", opts: []reqOpt{bearer("tok")},
			msg: "Token is not valid for this application"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantWebRTCFailure(t, wdo(t, s, "POST", tc.rel, agent, tc.opts...), 401, tc.msg)
		})
	}
	if len(s.WebRTCUsers()) != 0 {
		t.Error("an unauthorized create took effect")
	}
	if r := wdo(t, s, "POST", "", agent, bearer("tok")); r.status != 201 {
		t.Errorf("right token: %d %s", r.status, r.body)
	}
	// The CCM API keeps its own credentials.
	if r := do(t, s, "GET", "", "", bearer("tok")); r.status != 401 {
		t.Errorf("CCM with a Bearer token: %d", r.status)
	}
}

func TestWebRTCGetAndDelete(t *testing.T) {
	s := start(t, exoteltest.Options{})
	created := t0()
	s.SeedWebRTC(exoteltest.WebRTCUser{UserID: "a/b", Name: "Slash User", Phone: "+919800000001", SIPEnabled: true,
		PhoneDevice: true, CreatedAt: created, UpdatedAt: created.Add(time.Hour)})

	r := wdo(t, s, "GET", "/a%2Fb", "")
	d := data(t, r)
	if got := strings.Join(keys(t, d), ","); got != "user_id,name,phone,sip_enabled,sip_credentials,status,device_status,created_at,updated_at" {
		t.Errorf("keys %s", got)
	}
	if !strings.Contains(string(d), `"device_status":{"phone":true,"sip":false},"created_at":"2021-07-21T16:13:38.000Z","updated_at":"2021-07-21T17:13:38.000Z"`) {
		t.Errorf("data %s", d)
	}
	wantWebRTCFailure(t, wdo(t, s, "GET", "/nobody", ""), 404, "User not found")
	wantWebRTCFailure(t, wdo(t, s, "GET", "/a", ""), 404, "User not found")

	r = wdo(t, s, "DELETE", "/a%2Fb", "")
	if r.status != 200 || string(r.body) != `{"success":true,"message":"User deleted successfully"}`+"\n" {
		t.Errorf("delete: %d %s", r.status, r.body)
	}
	wantWebRTCFailure(t, wdo(t, s, "DELETE", "/a%2Fb", ""), 404, "User not found")
	if del := s.WebRTCDeleted(); len(del) != 1 || del[0].UserID != "a/b" || len(s.WebRTCUsers()) != 0 {
		t.Errorf("deleted %+v, left %+v", del, s.WebRTCUsers())
	}
	// A deleted user_id is free again.
	if r := wdo(t, s, "POST", "", `{"user_id":"a/b","name":"Again"}`); r.status != 201 {
		t.Errorf("re-create: %d %s", r.status, r.body)
	}

	r = wdo(t, s, "PUT", "/a%2Fb", `{"name":"X"}`)
	wantWebRTCFailure(t, r, 405, "Method not allowed")
	if r.header.Get("Allow") != "GET, DELETE" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	wantWebRTCFailure(t, wdo(t, s, "GET", "/a/b/c", ""), 404, "Not found")
}

func TestWebRTCList(t *testing.T) {
	s := start(t, exoteltest.Options{WebRTC: exoteltest.WebRTCOptions{MaxPageSize: 25}})
	s.SeedWebRTC(exoteltest.SampleWebRTCUsers(45, 1, t0())...)
	type page struct {
		Users  []json.RawMessage `json:"users"`
		Total  int               `json:"total"`
		Limit  int               `json:"limit"`
		Offset int               `json:"offset"`
	}
	list := func(query string) page {
		t.Helper()
		r := wdo(t, s, "GET", query, "")
		var p page
		if err := json.Unmarshal(data(t, r), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var seen []string
	for _, off := range []int{0, 20, 40} {
		p := list("?limit=20&offset=" + itoa(off))
		if p.Total != 45 || p.Limit != 20 || p.Offset != off || len(p.Users) != min(20, 45-off) {
			t.Errorf("offset %d: total %d limit %d offset %d, %d users", off, p.Total, p.Limit, p.Offset, len(p.Users))
		}
		for _, u := range p.Users {
			if got := strings.Join(keys(t, u), ","); got != "user_id,name,phone,sip_enabled,status,device_status" {
				t.Fatalf("list keys %s", got)
			}
			var v struct {
				UserID string `json:"user_id"`
			}
			_ = json.Unmarshal(u, &v)
			seen = append(seen, v.UserID)
		}
	}
	if len(seen) != 45 || seen[0] != "agent_001" || seen[44] != "agent_045" || len(slices.Compact(slices.Clone(seen))) != 45 {
		t.Errorf("paged through %v", seen)
	}
	if p := list(""); p.Limit != 20 || p.Offset != 0 || len(p.Users) != 20 {
		t.Errorf("default page: limit %d offset %d, %d users", p.Limit, p.Offset, len(p.Users))
	}
	if p := list("?limit=25&offset=100"); len(p.Users) != 0 || p.Users == nil || p.Total != 45 {
		t.Errorf("past the end: %+v", p)
	}
	for _, tc := range []struct{ query, msg string }{
		{"?limit=26", "limit must not exceed 25"},
		{"?limit=50", "limit must not exceed 25"},
		{"?limit=0", "limit must be a positive integer"},
		{"?limit=x", "limit must be a positive integer"},
		{"?offset=-1", "offset must be a non-negative integer"},
	} {
		wantWebRTCFailure(t, wdo(t, s, "GET", tc.query, ""), 400, tc.msg)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestWebRTCSharesFaults(t *testing.T) {
	s := start(t, exoteltest.Options{ServerErrorRate: 1, FaultMethods: []string{"GET"}})
	wantWebRTCFailure(t, wdo(t, s, "GET", "", ""), 500, "Internal Server Error")
	if e := lastRequest(t, s); e.Fault != "server_error" || e.Status != 500 || e.Path != s.WebRTCUsersPath() {
		t.Errorf("log %+v", e)
	}

	s.SetFaults(exoteltest.Faults{DropAfterRate: 1, FaultMethods: []string{"POST"}})
	// Faults come after auth: a refused request is answered.
	wantWebRTCFailure(t, wdo(t, s, "POST", "", agent, noAuth), 401, "Invalid or expired token")
	if len(s.WebRTCCreates()) != 0 {
		t.Error("an unauthorized create took effect")
	}
	req, _ := http.NewRequest("POST", s.WebRTCUsersURL(), strings.NewReader(agent))
	req.Header.Set("Authorization", "Bearer test-webrtc-token")
	if _, err := s.Client().Do(req); err == nil {
		t.Fatal("a dropped answer arrived")
	}
	if s.WebRTCCreates()["agent_001"] != 1 {
		t.Error("a create dropped after it took effect did not take effect")
	}
	if e := lastRequest(t, s); e.Dropped != "after" || e.Decided != 201 {
		t.Errorf("log %+v", e)
	}

	s.SetFaults(exoteltest.Faults{DropBeforeRate: 1})
	req, _ = http.NewRequest("DELETE", s.WebRTCUsersURL()+"/agent_001", nil)
	req.Header.Set("Authorization", "Bearer test-webrtc-token")
	if _, err := s.Client().Do(req); err == nil {
		t.Fatal("a dropped answer arrived")
	}
	if _, ok := s.WebRTCUser("agent_001"); !ok {
		t.Error("a delete dropped before it took effect took effect")
	}
}

func TestWebRTCThrottles(t *testing.T) {
	for _, tc := range []struct {
		name string
		body exoteltest.ThrottleBody
		want string
	}{
		{name: "rest exception", body: exoteltest.ThrottleRestException, want: `{"RestException":{"Status":429,`},
		{name: "envelope", body: exoteltest.ThrottleEnvelope, want: `{"success":false,"message":"Too many requests"}`},
		{name: "html", body: exoteltest.ThrottleHTML, want: `<html>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClock(t0())
			s := start(t, exoteltest.Options{Now: c.Now,
				Limit: exoteltest.Limit{Rate: 1, Window: time.Minute, RetryAfter: true, Headers: true, Body: tc.body}})
			if r := wdo(t, s, "GET", "", ""); r.status != 200 || r.header.Get("X-RateLimit-Remaining") != "0" {
				t.Fatalf("first: %d %v", r.status, r.header)
			}
			// The limit is the fake's one limit: a CCM call spends it too.
			r := do(t, s, "GET", "", "")
			if r.status != 429 {
				t.Fatalf("CCM after WebRTC: %d", r.status)
			}
			r = wdo(t, s, "POST", "", agent)
			if r.status != 429 || r.header.Get("Retry-After") != "60" || !strings.HasPrefix(string(r.body), tc.want) {
				t.Errorf("429: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.body)
			}
			if s.Throttled() != 2 || len(s.WebRTCUsers()) != 0 {
				t.Errorf("throttled %d, users %d", s.Throttled(), len(s.WebRTCUsers()))
			}
			c.Advance(time.Minute)
			if r := wdo(t, s, "POST", "", agent); r.status != 201 {
				t.Errorf("after the window: %d", r.status)
			}
		})
	}
}

func TestWebRTCErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape exoteltest.WebRTCErrorBody
		ct    string
		body  string
	}{
		{name: "text", shape: exoteltest.WebRTCErrorText, ct: "text/plain; charset=utf-8",
			body: "User with user_id 'agent_001' already exists\n"},
		{name: "bare", shape: exoteltest.WebRTCErrorBare, ct: "application/json", body: `{"success":false}` + "\n"},
		{name: "empty", shape: exoteltest.WebRTCErrorEmpty, ct: "", body: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, exoteltest.Options{WebRTC: exoteltest.WebRTCOptions{ErrorBody: tc.shape}})
			wdo(t, s, "POST", "", agent)
			r := wdo(t, s, "POST", "", agent)
			if r.status != 400 || r.header.Get("Content-Type") != tc.ct || string(r.body) != tc.body {
				t.Errorf("got %d %q %q", r.status, r.header.Get("Content-Type"), r.body)
			}
		})
	}
}

func TestSeedWebRTC(t *testing.T) {
	s := start(t, exoteltest.Options{Now: newClock(t0()).Now})
	got := s.SeedWebRTC(exoteltest.WebRTCUser{UserID: "a", Name: "A"})
	if got[0].Status != "active" || !got[0].CreatedAt.Equal(t0()) || !got[0].UpdatedAt.Equal(t0()) {
		t.Errorf("defaults: %+v", got[0])
	}
	for _, bad := range [][]exoteltest.WebRTCUser{
		{{UserID: "a", Name: "Again"}},
		{{UserID: "b", Name: "B"}, {UserID: "b", Name: "B"}},
		{{Name: "No id"}},
		{{UserID: "c"}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SeedWebRTC(%+v) did not panic", bad)
				}
			}()
			s.SeedWebRTC(bad...)
		}()
	}
	if n := len(s.WebRTCUsers()); n != 1 {
		t.Errorf("a refused seed left %d users", n)
	}
	if len(s.Requests()) != 0 || len(s.WebRTCCreates()) != 0 {
		t.Error("seeding sent requests or counted creates")
	}
}

func TestSampleWebRTCUsers(t *testing.T) {
	a := exoteltest.SampleWebRTCUsers(120, 7, t0())
	b := exoteltest.SampleWebRTCUsers(120, 7, t0())
	if !slices.Equal(a, b) {
		t.Error("same seed, different users")
	}
	ids, phones := map[string]bool{}, map[string]bool{}
	var noPhone, noSIP, inactive int
	for _, u := range a {
		if ids[u.UserID] || u.Name == "" || u.CreatedAt.After(t0()) || u.UpdatedAt.After(t0()) || u.UpdatedAt.Before(u.CreatedAt) {
			t.Errorf("bad sample %+v", u)
		}
		ids[u.UserID] = true
		switch {
		case u.Phone == "":
			noPhone++
		case phones[u.Phone] || !strings.HasPrefix(u.Phone, "+9198"):
			t.Errorf("phone %q", u.Phone)
		}
		phones[u.Phone] = true
		if !u.SIPEnabled {
			noSIP++
			if u.SIPDevice {
				t.Errorf("a SIP device online without SIP: %+v", u)
			}
		}
		if u.Status == "inactive" {
			inactive++
		}
	}
	if noPhone == 0 || noSIP == 0 || inactive == 0 || noPhone > 30 || noSIP > 50 {
		t.Errorf("mix: %d without phone, %d without SIP, %d inactive", noPhone, noSIP, inactive)
	}
	s := start(t, exoteltest.Options{})
	s.SeedWebRTC(a...) // the samples are valid seeds
}
