package exotel

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/ratelimit"
)

// A failed filtered GET is logged at debug level without the filter's
// emails and numbers, which the *url.Error's text would repeat, and without
// the credentials.
func TestDebugLogOfAFailedRequestHidesFilterValues(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tests := []struct {
		name   string
		client func(t *testing.T) *Client
	}{
		{"refused connection", func(t *testing.T) *Client {
			return clientForClosedPort(t, func(o *Options) { o.Logger = log })
		}},
		{"connection closed after the request", func(t *testing.T) *Client {
			c, _ := newTestClient(t, hijackAfterRead(t), func(o *Options) { o.Logger = log })
			return c
		}},
	}
	emails := []string{"asha.rao+sales@corp.example.com", "ravi@corp.example.com"}
	phones := []string{"+919876543210"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			_, err := tc.client(t).ListUsers(context.Background(), ListOptions{Limit: 50, Emails: emails, ContactURIs: phones})
			if KindOf(err) != KindTransport {
				t.Fatalf("err = %v, want a transport error", err)
			}
			out := logs.String()
			if !strings.Contains(out, "request failed") {
				t.Fatalf("nothing logged: %q", out)
			}
			for _, secret := range append(append([]string{testToken, testKey}, emails...), phones...) {
				for _, form := range []string{secret, url.QueryEscape(secret)} {
					if strings.Contains(out, form) || strings.Contains(err.Error(), form) {
						t.Errorf("%q leaked:\nlog: %s\nerr: %v", form, out, err)
					}
				}
			}
		})
	}
}

func TestMayHaveApplied(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"5xx", &APIError{Kind: KindServer, HTTPStatus: 502}, true},
		{"a success without an id", &APIError{Kind: KindServer, HTTPStatus: 200}, true},
		{"no answer after sending", &TransportError{Sent: true, Err: errors.New("EOF")}, true},
		{"no answer, never sent", &TransportError{Sent: false, Err: errors.New("refused")}, false},
		{"429", &APIError{Kind: KindThrottled, HTTPStatus: 429}, false},
		{"400", &APIError{Kind: KindInvalid, HTTPStatus: 400}, false},
		{"404", &APIError{Kind: KindNotFound, HTTPStatus: 404}, false},
		{"refused by the limiter", ratelimit.NotSent(context.Canceled), false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := MayHaveApplied(tc.err); got != tc.want {
				t.Errorf("MayHaveApplied(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestStoppedBeforeDone(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		stopping bool
		want     bool
	}{
		{"refused by the stopped limiter", ratelimit.NotSent(context.Canceled), false, true},
		{"a 5xx, run going on", &APIError{Kind: KindServer, HTTPStatus: 502}, false, false},
		{"a 5xx, run stopping", &APIError{Kind: KindServer, HTTPStatus: 502}, true, true},
		{"a 429, run stopping", &APIError{Kind: KindThrottled, HTTPStatus: 429}, true, true},
		{"no answer, run stopping", &TransportError{Sent: true, Err: errors.New("EOF")}, true, true},
		{"a 400, run stopping: final", &APIError{Kind: KindInvalid, HTTPStatus: 400}, true, false},
		{"a 401, run stopping: final", &APIError{Kind: KindAuth, HTTPStatus: 401}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := StoppedBeforeDone(tc.err, tc.stopping); got != tc.want {
				t.Errorf("StoppedBeforeDone(%v, %v) = %v, want %v", tc.err, tc.stopping, got, tc.want)
			}
		})
	}
}

// refusingPacer is a pacer that lets nothing out.
type refusingPacer struct{ err error }

func (p refusingPacer) Wait(context.Context) (func(*http.Response), error) { return nil, p.err }

// The client marks a call its pacer refused, so a retry loop does not count
// it: it never left the machine.
func TestPacerRefusalIsNotSent(t *testing.T) {
	for _, cause := range []error{context.Canceled, errors.New("run stopped: no new requests")} {
		c, srv := newTestClient(t, http.NotFoundHandler(), func(o *Options) { o.Pacer = refusingPacer{cause} })
		err := c.DeleteUser(context.Background(), "u1")
		if !ratelimit.WasNotSent(err) || !errors.Is(err, cause) || MayHaveApplied(err) {
			t.Errorf("refused by the pacer (%v): err = %v", cause, err)
		}
		srv.Close()
	}
}
