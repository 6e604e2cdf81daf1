package webrtc

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/ratelimit"
)

// tokenForms are the ways the token could show up in text: as it is, and
// as its Authorization header would carry it.
func tokenForms() []string {
	return []string{testToken, "Bearer " + testToken, base64.StdEncoding.EncodeToString([]byte(testToken)),
		fmt.Sprintf("%x", testToken)}
}

func leaks(s string) string {
	for _, f := range tokenForms() {
		if strings.Contains(s, f) {
			return f
		}
	}
	return ""
}

// However a client, its options or its target are printed, the token
// does not show: it sits in an exotel.Secret, and the sender's
// Authorize closure prints as an address.
func TestClientPrintsNoToken(t *testing.T) {
	opts := Options{BaseURL: "https://127.0.0.1:1", Credentials: testCreds(), HTTPClient: &http.Client{}}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	values := []struct {
		name string
		v    any
	}{
		{"*Client", c},
		{"Options", opts},
		{"*Target", NewTarget(c, nil, TargetConfig{})},
	}
	for _, val := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			t.Run(val.name+" "+verb, func(t *testing.T) {
				if f := leaks(fmt.Sprintf(verb, val.v)); f != "" {
					t.Errorf("Sprintf(%q) shows %q", verb, f)
				}
			})
		}
		t.Run(val.name+" slog", func(t *testing.T) {
			var b syncBuffer
			slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "v", val.v)
			slog.New(slog.NewTextHandler(&b, nil)).Info("x", "v", val.v)
			if f := leaks(b.String()); f != "" {
				t.Errorf("log shows %q:\n%s", f, b.String())
			}
		})
	}
}

// A run's log at debug level, through an answer, a refusal of the token,
// an outage retried aloud and the answer after it, and every error on the
// way, never shows the token.
func TestLogsAndErrorsKeepTheTokenOut(t *testing.T) {
	var down atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodDelete {
			reply(401, `{"success":false,"message":"Invalid or expired token"}`)(w, r)
			return
		}
		reply(200, `{"success":true,"data":{"user_id":"a"}}`)(w, r)
	}))
	t.Cleanup(srv.Close)
	inner := exotel.NewHTTPClient(1, 5*time.Second)
	hc := &http.Client{Timeout: inner.Timeout, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if down.Load() {
			return nil, fmt.Errorf("connection reset by peer")
		}
		return inner.Transport.RoundTrip(r)
	})}
	c, logs := clientAt(t, srv.URL, hc, nil)
	ctx := context.Background()
	var errs []error
	if _, err := c.GetUser(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	err := c.DeleteUser(ctx, "a")
	if exotel.KindOf(err) != exotel.KindAuth {
		t.Fatalf("401: %v", err)
	}
	errs = append(errs, err, ExplainAuth(err))

	down.Store(true)
	lim, err := ratelimit.New(ratelimit.Config{Rate: 1000, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	tries := 0
	_, err = lim.Retry(ctx, 4, c.Retrying(4), func() error {
		if tries++; tries == 3 {
			down.Store(false)
		}
		_, err := c.GetUser(ctx, "a")
		errs = append(errs, err)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{`msg="no answer from the API; retrying after a backoff"`, `attempt="2 of 4"`,
		`msg="the API answers again"`, `msg="request failed"`, "status=401"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	for _, e := range errs {
		if e == nil {
			continue
		}
		if f := leaks(e.Error()); f != "" {
			t.Errorf("error shows %q: %v", f, e)
		}
	}
	if f := leaks(out); f != "" {
		t.Errorf("log shows %q:\n%s", f, out)
	}
}
