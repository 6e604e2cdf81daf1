package exotel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/exoroster/exoroster/ratelimit"
)

// The real limiter is a Pacer.
var _ Pacer = (*ratelimit.Limiter)(nil)

func TestRequestsAsSent(t *testing.T) {
	ctx := context.Background()
	const users = "/v2/accounts/test-sid/users"
	tests := []struct {
		name      string
		sid       string // default testSID
		call      func(*Client) error
		method    string
		uri       string // RequestURI: raw path and query
		body      string // exact JSON, "" for none
		userAgent string // default "exoroster"
		reply     string // data of the answer; default a user
		replyBody string // whole answer, overrides reply
	}{
		{
			name: "create with every field",
			call: func(c *Client) error {
				_, err := c.CreateUser(ctx, CreateUserRequest{FirstName: "Asha", LastName: "Rao", Email: "asha+1@example.com",
					DeviceContactURI: "+919800000001", Role: RoleSupervisor, DeviceName: "Desk"})
				return err
			},
			method: "POST", uri: users,
			body: `{"first_name":"Asha","last_name":"Rao","email":"asha+1@example.com","device_contact_uri":"+919800000001","role":"supervisor","device_name":"Desk"}`,
		},
		{
			name: "create leaves empty optional fields out",
			call: func(c *Client) error {
				_, err := c.CreateUser(ctx, CreateUserRequest{FirstName: "Asha", LastName: "Rao"})
				return err
			},
			method: "POST", uri: users, body: `{"first_name":"Asha","last_name":"Rao"}`,
		},
		{
			name:   "get escapes the id",
			call:   func(c *Client) error { _, err := c.GetUser(ctx, "a/b c?d"); return err },
			method: "GET", uri: users + "/a%2Fb%20c%3Fd",
		},
		{
			name:   "get with fields",
			call:   func(c *Client) error { _, err := c.GetUser(ctx, "u1", "devices"); return err },
			method: "GET", uri: users + "/u1?fields=devices",
		},
		{
			name: "update sends only set fields",
			call: func(c *Client) error {
				_, err := c.UpdateUser(ctx, "u1", UpdateUserRequest{LastName: ptr("Iyer")})
				return err
			},
			method: "PUT", uri: users + "/u1", body: `{"last_name":"Iyer"}`,
		},
		{
			name:   "update with nothing set sends an empty object",
			call:   func(c *Client) error { _, err := c.UpdateUser(ctx, "u1", UpdateUserRequest{}); return err },
			method: "PUT", uri: users + "/u1", body: `{}`,
		},
		{
			name: "update device sends available false",
			call: func(c *Client) error {
				_, err := c.UpdateDevice(ctx, "u 1", 42, UpdateDeviceRequest{Available: ptr(false)})
				return err
			},
			method: "PUT", uri: users + "/u%201/devices/42", body: `{"available":false}`,
			reply: `{"id":42,"contact_uri":"+919800000001","type":"tel","available":false,"verified":true}`,
		},
		{
			name: "update device contact uri only",
			call: func(c *Client) error {
				_, err := c.UpdateDevice(ctx, "u1", 7, UpdateDeviceRequest{ContactURI: ptr("+919800000002")})
				return err
			},
			method: "PUT", uri: users + "/u1/devices/7", body: `{"contact_uri":"+919800000002"}`,
			reply: `{"id":7,"contact_uri":"+919800000002","type":"tel","available":null,"verified":false}`,
		},
		{
			name:   "delete",
			call:   func(c *Client) error { return c.DeleteUser(ctx, "u1") },
			method: "DELETE", uri: users + "/u1", reply: "null",
		},
		{
			name:   "list",
			call:   func(c *Client) error { _, err := c.ListUsers(ctx, ListOptions{Limit: 50}); return err },
			method: "GET", uri: users + "?offset=0&limit=50", replyBody: `{"request_id":"r","http_code":200,"response":null}`,
		},
		{
			name:   "account sid is path-escaped",
			sid:    "AC 1/x",
			call:   func(c *Client) error { return c.DeleteUser(ctx, "u1") },
			method: "DELETE", uri: "/v2/accounts/AC%201%2Fx/users/u1", reply: "null",
		},
		{
			name:      "custom user agent",
			call:      func(c *Client) error { _, err := c.GetUser(ctx, "u1"); return err },
			userAgent: "exoroster/1.2.3 (test)",
			method:    "GET", uri: users + "/u1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reply := tc.reply
			if reply == "" {
				reply = userJSON
			}
			body := successEnvelope(tc.method, reply)
			if tc.replyBody != "" {
				body = tc.replyBody
			}
			rec := &recorder{reply: jsonAnswer(http.StatusOK, body)}
			c, _ := newTestClient(t, rec, func(o *Options) {
				if tc.sid != "" {
					o.Credentials.AccountSID = tc.sid
				}
				o.UserAgent = tc.userAgent
			})
			if err := tc.call(c); err != nil {
				t.Fatalf("call: %v", err)
			}
			reqs := rec.all()
			if len(reqs) != 1 {
				t.Fatalf("server saw %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			if r.Method != tc.method || r.RequestURI != tc.uri {
				t.Errorf("request = %s %s, want %s %s", r.Method, r.RequestURI, tc.method, tc.uri)
			}
			if r.Body != tc.body {
				t.Errorf("body = %s, want %s", r.Body, tc.body)
			}
			if !r.BasicOK || r.User != testKey || r.Token != testToken {
				t.Errorf("basic auth = %q/%q (ok %v), want %q/%q", r.User, r.Token, r.BasicOK, testKey, testToken)
			}
			wantCT := ""
			if tc.body != "" {
				wantCT = "application/json"
			}
			if ct := r.Header.Get("Content-Type"); ct != wantCT {
				t.Errorf("Content-Type = %q, want %q", ct, wantCT)
			}
			wantUA := tc.userAgent
			if wantUA == "" {
				wantUA = "exoroster"
			}
			if ua := r.Header.Get("User-Agent"); ua != wantUA {
				t.Errorf("User-Agent = %q, want %q", ua, wantUA)
			}
			if a := r.Header.Get("Accept"); a != "application/json" {
				t.Errorf("Accept = %q, want application/json", a)
			}
		})
	}
}

func TestGetUserFieldsList(t *testing.T) {
	rec := &recorder{reply: jsonAnswer(http.StatusOK, successEnvelope("GET", userJSON))}
	c, _ := newTestClient(t, rec)
	if _, err := c.GetUser(context.Background(), "u1", "devices", "last_login"); err != nil {
		t.Fatal(err)
	}
	// Literal commas on the wire, as the document writes fields= for the
	// bulk GET.
	if raw := rec.all()[0].RawQuery; raw != "fields=devices,last_login" {
		t.Errorf("query %q, want fields=devices,last_login", raw)
	}
}

// A 200 without the new user's id is not a success: the caller cannot record
// who was created and must look the row up.
func TestCreateUserWithoutID(t *testing.T) {
	for name, data := range map[string]string{"null data": "null", "empty object": "{}"} {
		t.Run(name, func(t *testing.T) {
			c, _ := newTestClient(t, jsonAnswer(http.StatusOK, successEnvelope("POST", data)))
			_, err := c.CreateUser(context.Background(), CreateUserRequest{FirstName: "A", LastName: "B"})
			if KindOf(err) != KindServer {
				t.Errorf("err = %v, want a server-kind error", err)
			}
		})
	}
}

func TestListQuery(t *testing.T) {
	tests := []struct {
		name string
		opts ListOptions
		want string
	}{
		{name: "zero value", opts: ListOptions{}, want: "offset=0"},
		{name: "offset and limit", opts: ListOptions{Offset: 100, Limit: 50}, want: "offset=100&limit=50"},
		{name: "negative limit is left out", opts: ListOptions{Offset: 3, Limit: -1}, want: "offset=3"},
		{name: "fields with literal commas", opts: ListOptions{Fields: []string{"devices", "active_call", "last_login"}},
			want: "fields=devices,active_call,last_login&offset=0"},
		{name: "emails escaped one by one", opts: ListOptions{Emails: []string{"a+b@x.com", "c@y.in"}},
			want: "email=a%2Bb%40x.com,c%40y.in&offset=0"},
		{name: "a comma inside a value is escaped", opts: ListOptions{Emails: []string{"odd,one@x.com"}},
			want: "email=odd%2Cone%40x.com&offset=0"},
		{name: "contact uris", opts: ListOptions{ContactURIs: []string{"+919800000001", "+919800000002"}},
			want: "devices.contact_uri=%2B919800000001,%2B919800000002&offset=0"},
		{name: "sip uri", opts: ListOptions{ContactURIs: []string{"sip:1-999-123-4567@voip.exotel.com"}},
			want: "devices.contact_uri=sip%3A1-999-123-4567%40voip.exotel.com&offset=0"},
		{name: "everything, in order", opts: ListOptions{Offset: 50, Limit: 50, Fields: []string{"devices"},
			Emails: []string{"a@x.com"}, ContactURIs: []string{"+911"}},
			want: "fields=devices&email=a%40x.com&devices.contact_uri=%2B911&offset=50&limit=50"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := listQuery(tc.opts); got != tc.want {
				t.Errorf("listQuery = %q, want %q", got, tc.want)
			}
			// And on the wire, unchanged.
			rec := &recorder{reply: jsonAnswer(http.StatusOK, `{"request_id":"r","http_code":200,"response":null}`)}
			c, _ := newTestClient(t, rec)
			if _, err := c.ListUsers(context.Background(), tc.opts); err != nil {
				t.Fatal(err)
			}
			if got := rec.all()[0].RawQuery; got != tc.want {
				t.Errorf("query on the wire = %q, want %q", got, tc.want)
			}
			// A standard parser reads the lists back.
			q, _ := url.ParseQuery(tc.want)
			if len(tc.opts.Emails) > 0 && q.Get("email") != strings.Join(tc.opts.Emails, ",") {
				t.Errorf("email decodes to %q", q.Get("email"))
			}
			if len(tc.opts.ContactURIs) > 0 && q.Get("devices.contact_uri") != strings.Join(tc.opts.ContactURIs, ",") {
				t.Errorf("devices.contact_uri decodes to %q", q.Get("devices.contact_uri"))
			}
		})
	}
}

func TestListUsersLimitAboveMaximum(t *testing.T) {
	rec := &recorder{reply: jsonAnswer(http.StatusOK, `{"response":null}`)}
	p := &fakePacer{}
	c, _ := newTestClient(t, rec, func(o *Options) { o.Pacer = p })
	for _, limit := range []int{MaxPageSize + 1, 1000} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			page, err := c.ListUsers(context.Background(), ListOptions{Limit: limit})
			if err == nil || page != nil {
				t.Fatalf("ListUsers(limit %d) = %v, %v; want an error", limit, page, err)
			}
			if !strings.Contains(err.Error(), "50") {
				t.Errorf("error %q does not name the maximum", err)
			}
		})
	}
	if n := len(rec.all()); n != 0 {
		t.Errorf("server saw %d requests, want 0", n)
	}
	if p.waits() != 0 {
		t.Errorf("pacer waited %d times, want 0", p.waits())
	}
}

// fakePacer records the order of Wait, the request and done.
type fakePacer struct {
	mu     sync.Mutex
	events []string
	err    error // returned by Wait when set
}

func (p *fakePacer) log(e string) {
	p.mu.Lock()
	p.events = append(p.events, e)
	p.mu.Unlock()
}

func (p *fakePacer) Wait(ctx context.Context) (func(*http.Response), error) {
	p.log("wait")
	if p.err != nil {
		return nil, p.err
	}
	return func(resp *http.Response) {
		if resp == nil {
			p.log("done nil")
			return
		}
		p.log(fmt.Sprintf("done %d retry-after=%q", resp.StatusCode, resp.Header.Get("Retry-After")))
	}, nil
}

func (p *fakePacer) all() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.events...)
}

func (p *fakePacer) waits() int {
	n := 0
	for _, e := range p.all() {
		if e == "wait" {
			n++
		}
	}
	return n
}

func TestPacer(t *testing.T) {
	tests := []struct {
		name    string
		handler func(p *fakePacer) http.HandlerFunc
		refused bool // point the client at a closed port
		want    []string
	}{
		{
			name: "success",
			handler: func(p *fakePacer) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					p.log("request")
					jsonAnswer(200, successEnvelope("GET", userJSON))(w, r)
				}
			},
			want: []string{"wait", "request", `done 200 retry-after=""`},
		},
		{
			name: "429 reaches done with its headers",
			handler: func(p *fakePacer) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					p.log("request")
					answer(429, "", "Retry-After", "30")(w, r)
				}
			},
			want: []string{"wait", "request", `done 429 retry-after="30"`},
		},
		{
			name: "500",
			handler: func(p *fakePacer) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					p.log("request")
					answer(500, "")(w, r)
				}
			},
			want: []string{"wait", "request", `done 500 retry-after=""`},
		},
		{
			name:    "transport failure gives done nil",
			refused: true,
			want:    []string{"wait", "done nil"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := &fakePacer{}
			var c *Client
			if tc.refused {
				c = clientForClosedPort(t, func(o *Options) { o.Pacer = p })
			} else {
				c, _ = newTestClient(t, tc.handler(p), func(o *Options) { o.Pacer = p })
			}
			_, _ = c.GetUser(context.Background(), "u1")
			if got := p.all(); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("events = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPacerError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		err  error
	}{
		{name: "context error", err: ctx.Err()},
		{name: "wrapped deadline", err: fmt.Errorf("pacer: %w", context.DeadlineExceeded)},
		{name: "limiter stopped", err: errors.New("run stopped: no new requests")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{reply: jsonAnswer(http.StatusOK, successEnvelope("POST", userJSON))}
			p := &fakePacer{err: tc.err}
			c, _ := newTestClient(t, rec, func(o *Options) { o.Pacer = p })
			calls := map[string]func() error{
				"create": func() error {
					_, err := c.CreateUser(ctx, CreateUserRequest{FirstName: "A", LastName: "B"})
					return err
				},
				"list":   func() error { _, err := c.ListUsers(ctx, ListOptions{}); return err },
				"delete": func() error { return c.DeleteUser(ctx, "u1") },
			}
			for name, call := range calls {
				// The pacer's error is kept, marked as never sent.
				if err := call(); !errors.Is(err, tc.err) || !ratelimit.WasNotSent(err) {
					t.Errorf("%s: err = %v (%T), want the pacer's error, marked not sent", name, err, err)
				}
			}
			if n := len(rec.all()); n != 0 {
				t.Errorf("server saw %d requests, want 0", n)
			}
		})
	}
}

// clientForClosedPort returns a client whose base URL is a loopback port
// that was listening a moment ago and is now closed.
func clientForClosedPort(t *testing.T, mod ...func(*Options)) *Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	opts := Options{BaseURL: "http://" + addr, Credentials: testCreds(),
		HTTPClient: &http.Client{Transport: &http.Transport{}}}
	for _, m := range mod {
		m(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
