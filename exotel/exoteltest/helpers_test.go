package exoteltest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
)

// t0 is the documents' sample creation time, 2021-07-21T21:43:38+05:30.
func t0() time.Time { return time.Date(2021, 7, 21, 16, 13, 38, 0, time.UTC) }

// clock is a fake clock tests step by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func start(t *testing.T, opts exoteltest.Options) *exoteltest.Server {
	t.Helper()
	s := exoteltest.NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, s *exoteltest.Server, timeout time.Duration) *exotel.Client {
	t.Helper()
	c, err := exotel.New(exotel.Options{
		BaseURL: s.URL(),
		Credentials: exotel.Credentials{APIKey: "test-key", APIToken: exotel.NewSecret("test-token"),
			AccountSID: "test-sid"},
		HTTPClient: &http.Client{Timeout: timeout, Transport: s.Client().Transport},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// raw is an answer read off the wire.
type raw struct {
	status int
	header http.Header
	body   []byte
}

// obj decodes the body into generic JSON, failing the test if it is not.
func (r raw) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

type reqOpt func(*http.Request)

func auth(key, token string) reqOpt {
	return func(r *http.Request) { r.SetBasicAuth(key, token) }
}

func noAuth(r *http.Request) { r.Header.Del("Authorization") }

// do sends a raw request to s.UsersURL()+rel (or to an absolute path when
// rel starts with "//"), with the default credentials.
func do(t *testing.T, s *exoteltest.Server, method, rel, body string, opts ...reqOpt) raw {
	t.Helper()
	return send(t, s, s.UsersURL(), auth("test-key", "test-token"), method, rel, body, opts...)
}

// send sends a raw request to base+rel (or to an absolute path when rel
// starts with "//"), authorized by authorize and then changed by opts.
func send(t *testing.T, s *exoteltest.Server, base string, authorize reqOpt, method, rel, body string, opts ...reqOpt) raw {
	t.Helper()
	url := base + rel
	if p, ok := strings.CutPrefix(rel, "//"); ok {
		url = s.URL() + "/" + p
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	authorize(req)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, o := range opts {
		o(req)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rel, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return raw{status: resp.StatusCode, header: resp.Header, body: b}
}

// wantFailure checks a CCM failure envelope. code is an int or a string.
func wantFailure(t *testing.T, r raw, method string, status int, code any, msg string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	m := r.obj(t)
	if m["method"] != method || m["http_code"] != float64(status) {
		t.Errorf("method/http_code = %v/%v, want %s/%d", m["method"], m["http_code"], method, status)
	}
	checkRequestID(t, m["request_id"])
	resp, _ := m["response"].(map[string]any)
	if resp == nil {
		t.Fatalf("response is not an object: %s", r.body)
	}
	if resp["code"] != float64(status) || resp["status"] != "failure" {
		t.Errorf("response code/status = %v/%v", resp["code"], resp["status"])
	}
	if d, ok := resp["data"]; !ok || d != nil {
		t.Errorf("data = %v (present %v), want null", d, ok)
	}
	ed, _ := resp["error_data"].(map[string]any)
	if ed == nil {
		t.Fatalf("error_data missing: %s", r.body)
	}
	want := code
	if n, ok := code.(int); ok {
		want = float64(n)
	}
	if ed["code"] != want {
		t.Errorf("error_data.code = %#v, want %#v", ed["code"], want)
	}
	if ed["message"] != msg {
		t.Errorf("error_data.message = %q, want %q", ed["message"], msg)
	}
	if ed["description"] == nil {
		t.Errorf("error_data.description missing")
	}
}

func checkRequestID(t *testing.T, v any) {
	t.Helper()
	s, _ := v.(string)
	if !isHex32(s) {
		t.Errorf("request_id %q is not 32 lowercase hex", s)
	}
}

func isHex32(s string) bool {
	if len(s) != 32 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// apiErr asserts err is an *exotel.APIError and returns it.
func apiErr(t *testing.T, err error) *exotel.APIError {
	t.Helper()
	var ae *exotel.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *exotel.APIError", err, err)
	}
	return ae
}

// waitFor polls cond until it holds or two seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// Only a guard against hanging: a busy machine may take a while.
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ptr[T any](v T) *T { return &v }
