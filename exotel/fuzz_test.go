package exotel

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
)

// roundTripFunc answers in process, so the fuzzer can go through the whole
// client without a socket per input.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// FuzzDecodeAnswer feeds arbitrary statuses, headers and bodies through
// decodeAnswer and through the client's single-record and bulk paths: no
// panic, and always an envelope or an *APIError, never both or neither.
func FuzzDecodeAnswer(f *testing.F) {
	seeds := []struct {
		status    int
		ctype, ra string
		body      string
	}{
		{200, "application/json", "", successEnvelope("POST", userJSON)},
		{200, "application/json", "", bulkTwo},
		{200, "application/json", "", `{"request_id":"r","metadata":{"total":1},"response":null}`},
		{200, "application/json", "", `{"response":[{"code":500,"error_data":{"code":"NA"},"status":"failure"}]}`},
		{200, "application/json", "", `{"response":{"code":409,"error_data":{"code":1022,"message":"x"}}}`},
		{200, "text/plain", "", "OK"},
		{200, "", "", ""},
		{200, "application/json", "", `null`},
		{200, "application/json", "", `[]`},
		{200, "application/json", "", `{"response":[null,1,"x",{"data":[]}]}`},
		{400, "application/json", "", errorEnvelope(400, `1001`, "first_name is mandatory")},
		{409, "application/json", "", errorEnvelope(409, `{"a":1}`, "x")},
		{429, "application/json", "30", `{"RestException":{"Status":429,"Message":"Rate limit exceeded.","Code":"RATE_LIMIT_EXCEEDED"}}`},
		{429, "text/html", "Wed, 21 Oct 2015 07:28:00 GMT", "<html>slow down</html>"},
		{429, "", "-1", ""},
		{502, "text/html; charset=utf-8", "", "<html><body>Bad Gateway</body></html>"},
		{500, "", "", ""},
		{301, "", "", ""},
		{520, "application/json", "", `{}`},
		{0, "", "", "\x00\xff"},
	}
	for _, s := range seeds {
		f.Add(s.status, s.ctype, s.ra, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, ctype, retryAfter string, body []byte) {
		if status < 200 || status > 599 { // net/http handles 1xx itself
			status = 200 + (status%400+400)%400
		}
		mkResp := func() *http.Response {
			h := http.Header{}
			h.Set("Content-Type", ctype)
			h.Set("Retry-After", retryAfter)
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(bytes.NewReader(body))}
		}

		env, gotStatus, err := decodeAnswer(mkResp(), body)
		if gotStatus != status {
			t.Errorf("status = %d, want %d", gotStatus, status)
		}
		if (env == nil) == (err == nil) {
			t.Fatalf("decodeAnswer gave envelope %v and error %v; want exactly one", env, err)
		}
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is %T, want *APIError", err, err)
			}
			if ae.Kind == KindUnknown || ae.HTTPStatus != status {
				t.Errorf("APIError %+v: want a kind and the status", ae)
			}
			if status == http.StatusTooManyRequests && ae.Kind != KindThrottled {
				t.Errorf("429 gave kind %v", ae.Kind)
			}
			if ae.RetryAfter < 0 {
				t.Errorf("RetryAfter = %v", ae.RetryAfter)
			}
		} else if status < 200 || status > 299 {
			t.Errorf("status %d gave an envelope", status)
		}

		// The same answer through the client.
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp := mkResp()
			resp.Request = r
			return resp, nil
		}), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		c, cerr := New(Options{BaseURL: "http://127.0.0.1:1", Credentials: testCreds(), HTTPClient: hc})
		if cerr != nil {
			t.Fatal(cerr)
		}
		ctx := context.Background()
		if _, err := c.GetUser(ctx, "u1"); err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("GetUser error %v is %T, want *APIError", err, err)
			}
		}
		page, err := c.ListUsers(ctx, ListOptions{})
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("ListUsers error %v is %T, want *APIError", err, err)
			}
			return
		}
		for _, e := range page.Errors {
			if e == nil || e.Kind == KindUnknown {
				t.Errorf("page error %+v", e)
			}
		}
	})
}
