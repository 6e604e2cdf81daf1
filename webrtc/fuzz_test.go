package webrtc

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/exoroster/exoroster/exotel"
)

// FuzzDecodeAnswer: any status and body decode without panicking into a
// success (2xx only) or an *exotel.APIError whose Kind follows the status.
func FuzzDecodeAnswer(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
	}{
		{201, `{"success":true,"data":{"user_id":"agent_001","name":"John Agent","sip_enabled":true}}`},
		{200, `{"success":true,"data":{"users":[{"user_id":"a","device_status":{"phone":true}}],"total":1,"limit":50,"offset":0}}`},
		{200, `{"success":true,"message":"User deleted successfully"}`},
		{200, `{"success":false,"message":"already exists"}`},
		{400, `{"success":false,"message":"Duplicate user_id"}`},
		{400, `{"error":{"code":7}}`},
		{401, `{"success":false,"message":"Invalid or expired token"}`},
		{404, `User not found`},
		{429, `{"RestException":{"Status":429,"Message":"Rate limit exceeded"}}`},
		{500, `<html><body>oops</body></html>`},
		{200, `{"success":"1","data":null}`},
		{200, `null`},
		{200, `{"data":[1,2,3]}`},
	} {
		f.Add(s.status, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 100 || status > 599 {
			return
		}
		got, err := decodeAnswer(status, http.Header{}, body)
		if err == nil {
			if status < 200 || status > 299 || got == nil {
				t.Fatalf("HTTP %d decoded as a success", status)
			}
			// Whatever data came, reading it as a user or a page must not
			// panic.
			_, _ = decodeUser(got)
			_, _ = decodePage(got.Data, 50, 0)
			return
		}
		var ae *exotel.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("error %v (%T) is not an *exotel.APIError", err, err)
		}
		if ae.Message == "" {
			t.Fatalf("HTTP %d: an error without a message", status)
		}
		switch {
		case status == 429 && ae.Kind != exotel.KindThrottled,
			(status == 401 || status == 403) && ae.Kind != exotel.KindAuth,
			status == 404 && ae.Kind != exotel.KindNotFound,
			status >= 500 && ae.Kind != exotel.KindServer,
			status == 400 && ae.Kind != exotel.KindInvalid && ae.Kind != exotel.KindConflict:
			t.Fatalf("HTTP %d gave kind %v", status, ae.Kind)
		}
	})
}

// FuzzUser: any JSON object decodes as a user.
func FuzzUser(f *testing.F) {
	for _, s := range []string{
		`{"user_id":"agent_001","name":"John Agent","phone":"+919876543210","sip_enabled":true,"status":"active"}`,
		`{"user_id":1,"sip_enabled":"yes","device_status":[true],"sip_credentials":"x"}`,
		`{"device_status":{"phone":null,"sip":"0"}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var probe map[string]json.RawMessage
		if json.Unmarshal(b, &probe) != nil || probe == nil {
			return
		}
		var u User
		if err := json.Unmarshal(b, &u); err != nil {
			t.Fatalf("a JSON object did not decode as a user: %v", err)
		}
		NewRecord(u).Cells()
	})
}
