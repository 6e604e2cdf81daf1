package webrtc

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
)

func TestDecodeAnswer(t *testing.T) {
	html := "<html><body><h1>502 Bad Gateway</h1></body></html>"
	for _, tc := range []struct {
		name    string
		status  int
		header  []string // name, value pairs
		body    string
		kind    exotel.Kind // KindUnknown: success
		message string
		retry   time.Duration
	}{
		{name: "created", status: 201, body: `{"success":true,"data":{"user_id":"a"}}`},
		{name: "ok", status: 200, body: `{"success":true,"data":{"user_id":"a"}}`},
		{name: "no success key", status: 200, body: `{"data":{"user_id":"a"}}`},
		{name: "empty 200", status: 200, body: ""},
		{name: "no content", status: 204, body: ""},
		{name: "200 not json", status: 200, body: "OK", kind: exotel.KindServer,
			message: "unreadable answer: OK (body is not JSON)"},
		{name: "200 json array", status: 200, body: `[1,2]`, kind: exotel.KindServer,
			message: "unreadable answer: OK (body is not JSON)"},
		{name: "200 success false duplicate", status: 200,
			body: `{"success":false,"message":"User already exists"}`, kind: exotel.KindConflict, message: "User already exists"},
		{name: "200 success false", status: 200, body: `{"success":"false"}`, kind: exotel.KindServer,
			message: "the answer says success: false"},
		{name: "400 duplicate", status: 400,
			body: `{"success":false,"message":"User with user_id 'agent_001' already exists"}`,
			kind: exotel.KindConflict, message: "User with user_id 'agent_001' already exists"},
		{name: "400 duplicate word", status: 400, body: `{"success":false,"message":"Duplicate user_id"}`,
			kind: exotel.KindConflict, message: "Duplicate user_id"},
		{name: "400 bad input", status: 400, body: `{"success":false,"message":"name is required"}`,
			kind: exotel.KindInvalid, message: "name is required"},
		{name: "400 plain text duplicate", status: 400, header: []string{"Content-Type", "text/plain"},
			body: "user_id exists\n", kind: exotel.KindConflict, message: "user_id exists"},
		{name: "400 error key", status: 400, body: `{"error":"user_id already taken"}`,
			kind: exotel.KindConflict, message: "user_id already taken"},
		{name: "400 other shape", status: 400, body: `{"errors":[{"field":"limit"}]}`,
			kind: exotel.KindInvalid, message: "Bad Request"},
		{name: "400 html", status: 400, header: []string{"Content-Type", "text/html; charset=utf-8"},
			body: html, kind: exotel.KindInvalid, message: "Bad Request (text/html body)"},
		{name: "400 empty", status: 400, kind: exotel.KindInvalid, message: "Bad Request (empty body)"},
		{name: "401", status: 401, body: `{"success":false,"message":"Invalid or expired token"}`,
			kind: exotel.KindAuth, message: "Invalid or expired token"},
		{name: "403", status: 403, body: `nope`, kind: exotel.KindAuth, message: "nope"},
		{name: "404", status: 404, body: `{"success":false,"message":"User not found"}`,
			kind: exotel.KindNotFound, message: "User not found"},
		{name: "409", status: 409, body: ``, kind: exotel.KindConflict, message: "Conflict (empty body)"},
		{name: "418", status: 418, body: `{}`, kind: exotel.KindInvalid, message: "I'm a teapot"},
		{name: "429 rest exception", status: 429, header: []string{"Retry-After", "30"},
			body: `{"RestException":{"Status":429,"Message":"Rate limit exceeded. Try again in 30 seconds.","Code":"RATE_LIMIT_EXCEEDED"}}`,
			kind: exotel.KindThrottled, message: "too many requests", retry: 30 * time.Second},
		{name: "429 envelope with a date", status: 429, header: []string{"Retry-After", "Fri, 31 Dec 1999 23:59:59 GMT"},
			body: `{"success":false,"message":"Slow down"}`, kind: exotel.KindThrottled, message: "too many requests"},
		{name: "429 html", status: 429, header: []string{"Content-Type", "text/html"}, body: html,
			kind: exotel.KindThrottled, message: "too many requests"},
		{name: "500 json", status: 500, body: `{"success":false,"message":"Internal Server Error"}`,
			kind: exotel.KindServer, message: "Internal Server Error"},
		{name: "500 duplicate words stay server", status: 500, body: `{"success":false,"message":"already exists"}`,
			kind: exotel.KindServer, message: "already exists"},
		{name: "502 html", status: 502, header: []string{"Content-Type", "text/html"}, body: html,
			kind: exotel.KindServer, message: "Bad Gateway (text/html body)"},
		{name: "599", status: 599, body: ``, kind: exotel.KindServer, message: "HTTP 599 (empty body)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tc.header); i += 2 {
				h.Set(tc.header[i], tc.header[i+1])
			}
			got, err := decodeAnswer(tc.status, h, []byte(tc.body))
			if tc.kind == exotel.KindUnknown {
				if err != nil || got == nil || got.status != tc.status {
					t.Fatalf("decodeAnswer = %+v, %v; want success", got, err)
				}
				return
			}
			var ae *exotel.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *exotel.APIError", err, err)
			}
			if ae.Kind != tc.kind || ae.HTTPStatus != tc.status || ae.Message != tc.message || ae.RetryAfter != tc.retry {
				t.Errorf("got kind %v status %d message %q retry %v; want %v %d %q %v",
					ae.Kind, ae.HTTPStatus, ae.Message, ae.RetryAfter, tc.kind, tc.status, tc.message, tc.retry)
			}
		})
	}
}

func TestUserDecodesTolerantly(t *testing.T) {
	tru, fals := true, false
	for _, tc := range []struct {
		name string
		json string
		want User
	}{
		{name: "document's get", json: `{"user_id":"agent_001","name":"John Agent","phone":"+919876543210",
			"sip_enabled":true,"sip_credentials":{"username":"agent_001@app_abc123.exotel.com","domain":"sip.exotel.com"},
			"status":"active","device_status":{"phone":true,"sip":false},
			"created_at":"2024-06-15T10:30:00.000Z","updated_at":"2024-06-15T10:30:00.000Z"}`,
			want: User{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210", SIPEnabled: &tru,
				SIPCredentials: &SIPCredentials{Username: "agent_001@app_abc123.exotel.com", Domain: "sip.exotel.com"},
				Status:         "active", DeviceStatus: &DeviceStatus{Phone: &tru, SIP: &fals},
				CreatedAt: "2024-06-15T10:30:00.000Z", UpdatedAt: "2024-06-15T10:30:00.000Z"}},
		{name: "nulls", json: `{"user_id":"a","name":null,"phone":null,"sip_enabled":null,"sip_credentials":null,"device_status":null}`,
			want: User{UserID: "a"}},
		{name: "odd types", json: `{"user_id":42,"name":["x"],"phone":919876543210,"sip_enabled":"TRUE",
			"status":{"v":1},"device_status":{"phone":1,"sip":"no"},"created_at":false}`,
			want: User{UserID: "42", Phone: "919876543210", SIPEnabled: &tru,
				DeviceStatus: &DeviceStatus{Phone: &tru}, CreatedAt: "false"}},
		{name: "unknown fields", json: `{"user_id":"a","extra":{"deep":[1,2]},"sip_enabled":0}`,
			want: User{UserID: "a", SIPEnabled: &fals}},
		{name: "block of the wrong type", json: `{"user_id":"a","device_status":"online"}`,
			want: User{UserID: "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var u User
			if err := json.Unmarshal([]byte(tc.json), &u); err != nil {
				// A block of the wrong type fails the typed struct; the
				// user must still decode.
				t.Fatalf("Unmarshal: %v", err)
			}
			if !sameUser(u, tc.want) {
				t.Errorf("got  %s\nwant %s", dump(u), dump(tc.want))
			}
		})
	}
	var u User
	if err := json.Unmarshal([]byte(`"agent"`), &u); err == nil {
		t.Error("a string decoded as a user")
	}
}

func TestDecodePage(t *testing.T) {
	for _, tc := range []struct {
		name       string
		data       string
		users      int
		count      int
		unreadable int
		total      int
		hasTotal   bool
		limit      int
		offset     int
		fails      bool
	}{
		{name: "document's", data: `{"users":[{"user_id":"a"},{"user_id":"b"}],"total":2,"limit":50,"offset":0}`,
			users: 2, count: 2, total: 2, hasTotal: true, limit: 50, offset: 0},
		{name: "no echo", data: `{"users":[{"user_id":"a"}]}`, users: 1, count: 1, limit: 50, offset: 100},
		{name: "string numbers", data: `{"users":[],"total":"7","limit":"20","offset":"100"}`,
			total: 7, hasTotal: true, limit: 20, offset: 100},
		{name: "null users", data: `{"users":null,"total":0}`, hasTotal: true},
		{name: "unreadable entries", data: `{"users":[{"user_id":"a"},"b",null,7],"total":9}`,
			users: 1, count: 4, unreadable: 3, total: 9, hasTotal: true, limit: 50, offset: 100},
		{name: "negative total", data: `{"users":[],"total":-1}`, limit: 50, offset: 100},
		{name: "users not an array", data: `{"users":{"a":1}}`, fails: true},
		{name: "data not an object", data: `[1]`, fails: true},
		{name: "no data", data: ``, fails: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decodePage(json.RawMessage(tc.data), 50, 100)
			if tc.fails {
				if err == nil {
					t.Fatalf("decodePage = %+v, want an error", p)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Users) != tc.users || p.Count != tc.count || p.Unreadable != tc.unreadable ||
				p.Total != tc.total || p.HasTotal != tc.hasTotal || p.Asked != 50 {
				t.Errorf("page %+v", p)
			}
			if tc.limit != 0 && (p.Limit != tc.limit || p.Offset != tc.offset) {
				t.Errorf("limit %d offset %d, want %d %d", p.Limit, p.Offset, tc.limit, tc.offset)
			}
		})
	}
}

func sameUser(a, b User) bool { return dump(a) == dump(b) }

func dump(u User) string {
	b, _ := json.Marshal(struct {
		U  User
		SE *bool
		SC *SIPCredentials
		DS *DeviceStatus
	}{u, u.SIPEnabled, u.SIPCredentials, u.DeviceStatus})
	return string(b)
}
