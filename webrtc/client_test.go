package webrtc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/ratelimit"
)

// testToken is long and distinctive so that a leak is easy to spot.
const testToken = "wrtc-Qm4Zp9Lx2Vb7Ks1"

func testCreds() Credentials {
	return Credentials{Token: exotel.NewSecret(testToken), CustomerID: "cust 1", AppID: "app_abc123"}
}

// wireSeen is what a recording handler saw of one request.
type wireSeen struct {
	Method, EscapedPath, RawQuery, Body string
	Header                              http.Header
}

type recorder struct {
	mu    sync.Mutex
	reqs  []wireSeen
	reply http.HandlerFunc
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, wireSeen{Method: r.Method, EscapedPath: r.URL.EscapedPath(),
		RawQuery: r.URL.RawQuery, Body: string(body), Header: r.Header.Clone()})
	rec.mu.Unlock()
	rec.reply(w, r)
}

func (rec *recorder) all() []wireSeen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]wireSeen(nil), rec.reqs...)
}

func reply(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// newTestClient serves h on loopback and returns a client pointed at it,
// logging at debug level into the returned buffer.
func newTestClient(t *testing.T, h http.Handler) (*Client, *syncBuffer) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	hc := srv.Client()
	hc.Timeout = 5 * time.Second
	return clientAt(t, srv.URL, hc, nil)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRequestsOnTheWire(t *testing.T) {
	on := false
	user := `{"success":true,"data":{"user_id":"a/b","name":"Asha Rao"}}`
	for _, tc := range []struct {
		name     string
		call     func(c *Client) error
		method   string
		path     string // after /v2/integrations/cust%201/apps/app_abc123/users
		query    string
		body     string // "" when none is sent
		response string
	}{
		{name: "create", method: "POST", path: "", response: user,
			call: func(c *Client) error {
				_, err := c.CreateUser(context.Background(), CreateUserRequest{UserID: "a/b", Name: "Asha Rao",
					Phone: "+919876543210", SIPEnabled: &on})
				return err
			},
			body: `{"user_id":"a/b","name":"Asha Rao","phone":"+919876543210","sip_enabled":false}`},
		{name: "create leaves defaults to the API", method: "POST", path: "", response: user,
			call: func(c *Client) error {
				_, err := c.CreateUser(context.Background(), CreateUserRequest{UserID: "a/b", Name: "Asha Rao"})
				return err
			},
			body: `{"user_id":"a/b","name":"Asha Rao"}`},
		{name: "get escapes the id", method: "GET", path: "/a%2Fb", response: user,
			call: func(c *Client) error { _, err := c.GetUser(context.Background(), "a/b"); return err }},
		{name: "delete", method: "DELETE", path: "/agent_001",
			response: `{"success":true,"message":"User deleted successfully"}`,
			call:     func(c *Client) error { return c.DeleteUser(context.Background(), "agent_001") }},
		{name: "list", method: "GET", path: "", query: "limit=50&offset=100",
			response: `{"success":true,"data":{"users":[],"total":0}}`,
			call:     func(c *Client) error { _, err := c.ListUsers(context.Background(), 50, 100); return err }},
		{name: "list with the API's default size", method: "GET", path: "", query: "offset=0",
			response: `{"success":true,"data":{"users":[],"total":0}}`,
			call:     func(c *Client) error { _, err := c.ListUsers(context.Background(), 0, 0); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{reply: reply(200, tc.response)}
			c, logs := newTestClient(t, rec)
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			reqs := rec.all()
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			r := reqs[0]
			wantPath := "/v2/integrations/cust%201/apps/app_abc123/users" + tc.path
			if r.Method != tc.method || r.EscapedPath != wantPath || r.RawQuery != tc.query {
				t.Errorf("sent %s %s?%s, want %s %s?%s", r.Method, r.EscapedPath, r.RawQuery, tc.method, wantPath, tc.query)
			}
			if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
				t.Errorf("Authorization = %q", got)
			}
			if tc.body != "" {
				if r.Header.Get("Content-Type") != "application/json" || r.Body != tc.body {
					t.Errorf("body %q (%s), want %q", r.Body, r.Header.Get("Content-Type"), tc.body)
				}
			} else if r.Body != "" {
				t.Errorf("unexpected body %q", r.Body)
			}
			if strings.Contains(logs.String(), testToken) {
				t.Errorf("the token is in the log:\n%s", logs)
			}
		})
	}
}

func TestCreateAnswers(t *testing.T) {
	tru := true
	req := CreateUserRequest{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210", SIPEnabled: &tru}
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   User
	}{
		{name: "201 with data", status: 201,
			body: `{"success":true,"data":{"user_id":"agent_001","name":"John Agent","sip_enabled":true,
				"sip_credentials":{"username":"agent_001@app_abc123.exotel.com","domain":"sip.exotel.com"},"status":"active"}}`,
			want: User{UserID: "agent_001", Name: "John Agent", SIPEnabled: &tru, Status: "active",
				SIPCredentials: &SIPCredentials{Username: "agent_001@app_abc123.exotel.com", Domain: "sip.exotel.com"}}},
		{name: "200 with data", status: 200, body: `{"success":true,"data":{"user_id":"agent_001"}}`,
			want: User{UserID: "agent_001"}},
		{name: "201 without data gives what was sent", status: 201, body: `{"success":true,"message":"User created"}`,
			want: User{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210", SIPEnabled: &tru}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestClient(t, reply(tc.status, tc.body))
			u, err := c.CreateUser(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if !sameUser(*u, tc.want) {
				t.Errorf("got  %s\nwant %s", dump(*u), dump(tc.want))
			}
		})
	}
}

func TestGetWithoutDataIsAServerError(t *testing.T) {
	c, _ := newTestClient(t, reply(200, `{"success":true}`))
	_, err := c.GetUser(context.Background(), "a")
	if exotel.KindOf(err) != exotel.KindServer {
		t.Fatalf("err = %v, want KindServer", err)
	}
}

func TestTransportErrorKeepsTheTokenOut(t *testing.T) {
	hijack := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	c, logs := newTestClient(t, hijack)
	_, err := c.CreateUser(context.Background(), CreateUserRequest{UserID: "a", Name: "A B"})
	var te *exotel.TransportError
	if !errors.As(err, &te) || !te.Sent || !exotel.IsAmbiguous(err) {
		t.Fatalf("err = %#v, want a sent *exotel.TransportError", err)
	}
	if exotel.RetryVerdict(err) != ratelimit.Backoff {
		t.Error("a lost answer is final; want it retried with backoff for safe requests")
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v", c), logs.String(), ExplainAuth(err).Error()} {
		if strings.Contains(s, testToken) {
			t.Errorf("token leaked: %s", s)
		}
	}
}

func TestNewChecksOptions(t *testing.T) {
	hc := &http.Client{}
	for _, tc := range []struct {
		name string
		opts Options
		want string
	}{
		{name: "no http client", opts: Options{Credentials: testCreds()}, want: "HTTP client"},
		{name: "no token", opts: Options{HTTPClient: hc, Credentials: Credentials{CustomerID: "c", AppID: "a"}},
			want: "EXOTEL_WEBRTC_TOKEN is not set"},
		{name: "no customer", opts: Options{HTTPClient: hc, Credentials: Credentials{Token: exotel.NewSecret("t"), AppID: "a"}},
			want: "EXOTEL_CUSTOMER_ID (or --customer-id) is not set"},
		{name: "no app", opts: Options{HTTPClient: hc, Credentials: Credentials{Token: exotel.NewSecret("t"), CustomerID: "c"}},
			want: "EXOTEL_APP_ID (or --app-id) is not set"},
		{name: "plain http elsewhere", opts: Options{HTTPClient: hc, Credentials: testCreds(), BaseURL: "http://example.com"},
			want: "loopback"},
		{name: "path in base", opts: Options{HTTPClient: hc, Credentials: testCreds(), BaseURL: "https://example.com/v2"},
			want: "scheme and host only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error containing %q", err, tc.want)
			}
		})
	}
	c, err := New(Options{HTTPClient: hc, Credentials: testCreds()})
	if err != nil || !strings.HasPrefix(c.usersURL, DefaultBaseURL+"/v2/integrations/") {
		t.Errorf("default base: %v %v", c, err)
	}
	c, err = New(Options{HTTPClient: hc, Credentials: testCreds(), BaseURL: "http://127.0.0.1:8089/"})
	if err != nil || c.usersURL != "http://127.0.0.1:8089/v2/integrations/cust%201/apps/app_abc123/users" {
		t.Errorf("loopback base: %v %v", c, err)
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := map[string]string{EnvToken: " tok \n", EnvCustomerID: " c1", EnvAppID: "a1 "}
	c := CredentialsFromEnv(func(k string) string { return env[k] })
	if c.Token.Reveal() != "tok" || c.CustomerID != "c1" || c.AppID != "a1" || CheckCredentials(c) != nil {
		t.Errorf("got %+v", c)
	}
	if s := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(s, "tok") && !strings.Contains(s, "REDACTED") {
		t.Errorf("credentials print the token: %s", s)
	}
}

// pacer counts Wait and done calls, as ratelimit.Limiter would see them.
type pacer struct {
	mu           sync.Mutex
	waits, dones int
	nilResponses int
	statusesSeen []int
	refuse       error
}

func (p *pacer) Wait(context.Context) (func(*http.Response), error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.refuse != nil {
		return nil, p.refuse
	}
	p.waits++
	return func(r *http.Response) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.dones++
		if r == nil {
			p.nilResponses++
		} else {
			p.statusesSeen = append(p.statusesSeen, r.StatusCode)
		}
	}, nil
}

func TestEveryRequestGoesThroughThePacer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(429)
			return
		}
		reply(200, `{"success":true,"data":{"user_id":"a","users":[]}}`)(w, r)
	}))
	defer srv.Close()
	p := &pacer{}
	c, err := New(Options{BaseURL: srv.URL, Credentials: testCreds(), HTTPClient: srv.Client(), Pacer: p})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, _ = c.GetUser(ctx, "a")
	_, _ = c.ListUsers(ctx, 50, 0)
	err = c.DeleteUser(ctx, "a")
	if ae := exotel.AsAPIError(err); ae == nil || ae.Kind != exotel.KindThrottled || ae.RetryAfter != 2*time.Second {
		t.Errorf("429: %v", err)
	}
	if p.waits != 3 || p.dones != 3 || fmt.Sprint(p.statusesSeen) != "[200 200 429]" {
		t.Errorf("pacer saw %d waits, %d dones, statuses %v", p.waits, p.dones, p.statusesSeen)
	}
	p.refuse = errors.New("run stopped")
	if err := c.DeleteUser(ctx, "a"); err == nil || err.Error() != "run stopped" {
		t.Errorf("a refused Wait: %v", err)
	}
}

func TestListPageFallsBackOnce(t *testing.T) {
	rec := &recorder{reply: func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("limit") == "50" {
			reply(400, `{"success":false,"message":"limit must not exceed 25"}`)(w, r)
			return
		}
		reply(200, `{"success":true,"data":{"users":[{"user_id":"a"}],"total":1}}`)(w, r)
	}}
	c, logs := newTestClient(t, rec)
	ctx := context.Background()
	if c.PageSize() != PreferredPageSize {
		t.Fatalf("PageSize = %d", c.PageSize())
	}
	for range 3 {
		p, err := c.ListPage(ctx, 0)
		if err != nil || len(p.Users) != 1 || p.Asked != FallbackPageSize {
			t.Fatalf("ListPage = %+v, %v", p, err)
		}
	}
	var limits []string
	for _, r := range rec.all() {
		limits = append(limits, r.RawQuery)
	}
	if got := strings.Join(limits, " "); got != "limit=50&offset=0 limit=20&offset=0 limit=20&offset=0 limit=20&offset=0" {
		t.Errorf("queries: %s", got)
	}
	if c.PageSize() != FallbackPageSize || strings.Count(logs.String(), "smaller pages") != 1 {
		t.Errorf("PageSize %d; log:\n%s", c.PageSize(), logs)
	}
}

func TestListPageKeepsOtherErrors(t *testing.T) {
	for _, status := range []int{401, 404, 500} {
		rec := &recorder{reply: reply(status, `{"success":false}`)}
		c, _ := newTestClient(t, rec)
		if _, err := c.ListPage(context.Background(), 0); err == nil || len(rec.all()) != 1 {
			t.Errorf("HTTP %d: err %v after %d requests, want the error after 1", status, err, len(rec.all()))
		}
		if c.PageSize() != PreferredPageSize {
			t.Errorf("HTTP %d changed the page size", status)
		}
	}
	// A 400 at the small size is just an error.
	rec := &recorder{reply: reply(400, `{}`)}
	c, _ := newTestClient(t, rec)
	if _, err := c.ListPage(context.Background(), 0); exotel.KindOf(err) != exotel.KindInvalid || len(rec.all()) != 2 {
		t.Errorf("err %v after %d requests", err, len(rec.all()))
	}
}

func TestErrorsComeAsTheSharedKinds(t *testing.T) {
	c, _ := newTestClient(t, reply(400, `{"success":false,"message":"User agent_001 already exists"}`))
	_, err := c.CreateUser(context.Background(), CreateUserRequest{UserID: "agent_001", Name: "J"})
	if exotel.KindOf(err) != exotel.KindConflict || exotel.RetryVerdict(err) != ratelimit.Stop {
		t.Errorf("duplicate: %v (kind %v)", err, exotel.KindOf(err))
	}
	if ae := exotel.AsAPIError(err); ae == nil || ae.Error() != "HTTP 400: User agent_001 already exists" {
		t.Errorf("text: %v", err)
	}
	c, _ = newTestClient(t, reply(401, `{"success":false,"message":"Invalid or expired token"}`))
	err = c.DeleteUser(context.Background(), "x")
	if exotel.KindOf(err) != exotel.KindAuth {
		t.Errorf("401: %v", err)
	}
	if got := ExplainAuth(err).Error(); !strings.Contains(got, "EXOTEL_WEBRTC_TOKEN") || !strings.Contains(got, "expired") {
		t.Errorf("ExplainAuth: %s", got)
	}
}
