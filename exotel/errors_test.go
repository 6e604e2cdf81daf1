package exotel

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/exoroster/exoroster/ratelimit"
)

func TestKindOfAndRetryVerdict(t *testing.T) {
	api := func(k Kind) error { return &APIError{Kind: k, HTTPStatus: 400} }
	sent := &TransportError{Method: "POST", Sent: true, Err: io.EOF}
	unsent := &TransportError{Method: "GET", Sent: false, Err: errors.New("connection refused")}
	tests := []struct {
		name      string
		err       error
		kind      Kind
		verdict   ratelimit.Verdict
		ambiguous bool
	}{
		{"nil", nil, KindUnknown, ratelimit.Stop, false},
		{"plain error", errors.New("boom"), KindUnknown, ratelimit.Stop, false},
		{"invalid", api(KindInvalid), KindInvalid, ratelimit.Stop, false},
		{"auth", api(KindAuth), KindAuth, ratelimit.Stop, false},
		{"not found", api(KindNotFound), KindNotFound, ratelimit.Stop, false},
		{"conflict", api(KindConflict), KindConflict, ratelimit.Stop, false},
		{"throttled", api(KindThrottled), KindThrottled, ratelimit.Again, false},
		{"server", api(KindServer), KindServer, ratelimit.Backoff, false},
		{"unknown APIError", api(KindUnknown), KindUnknown, ratelimit.Stop, false},
		{"transport sent", sent, KindTransport, ratelimit.Backoff, true},
		{"transport not sent", unsent, KindTransport, ratelimit.Backoff, false},
		{"misconfiguration", fmt.Errorf("page: %w", &TransportError{Method: "GET", Err: errors.New("connection refused"),
			Misconfiguration: &Misconfiguration{Cause: "x refused the connection", Fix: "check it"}}), KindTransport, ratelimit.Stop, false},
		{"wrapped throttled", fmt.Errorf("row 3: %w", api(KindThrottled)), KindThrottled, ratelimit.Again, false},
		{"twice wrapped server", fmt.Errorf("a: %w", fmt.Errorf("b: %w", api(KindServer))), KindServer, ratelimit.Backoff, false},
		{"wrapped conflict", fmt.Errorf("create: %w", api(KindConflict)), KindConflict, ratelimit.Stop, false},
		{"wrapped transport sent", fmt.Errorf("create: %w", sent), KindTransport, ratelimit.Backoff, true},
		{"joined", errors.Join(errors.New("x"), api(KindAuth)), KindAuth, ratelimit.Stop, false},
		{"formatted without %w", fmt.Errorf("row 3: %v", api(KindThrottled)), KindUnknown, ratelimit.Stop, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := KindOf(tc.err); got != tc.kind {
				t.Errorf("KindOf = %v, want %v", got, tc.kind)
			}
			if got := RetryVerdict(tc.err); got != tc.verdict {
				t.Errorf("RetryVerdict = %v, want %v", got, tc.verdict)
			}
			if got := IsAmbiguous(tc.err); got != tc.ambiguous {
				t.Errorf("IsAmbiguous = %v, want %v", got, tc.ambiguous)
			}
		})
	}
}

func TestKindForStatus(t *testing.T) {
	tests := []struct {
		status int
		want   Kind
	}{
		{200, KindUnknown}, {302, KindUnknown}, {400, KindInvalid}, {401, KindAuth}, {403, KindAuth},
		{404, KindNotFound}, {405, KindInvalid}, {409, KindConflict}, {422, KindInvalid},
		{429, KindThrottled}, {500, KindServer}, {502, KindServer}, {504, KindServer},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			if got := kindForStatus(tc.status); got != tc.want {
				t.Errorf("kindForStatus(%d) = %v, want %v", tc.status, got, tc.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	want := map[Kind]string{
		KindUnknown: "unknown", KindInvalid: "invalid", KindAuth: "auth", KindNotFound: "not_found",
		KindConflict: "conflict", KindThrottled: "throttled", KindServer: "server", KindTransport: "transport",
		Kind(99): "unknown",
	}
	for k, s := range want {
		t.Run(s, func(t *testing.T) {
			if k.String() != s {
				t.Errorf("Kind(%d).String() = %q, want %q", int(k), k.String(), s)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"api with code", &APIError{HTTPStatus: 409, Code: "1022", Message: "Email already exists"}, "HTTP 409, code 1022: Email already exists"},
		{"api without code", &APIError{HTTPStatus: 502, Message: "Bad Gateway (text/html body)"}, "HTTP 502: Bad Gateway (text/html body)"},
		{"api without message", &APIError{HTTPStatus: 500}, "HTTP 500: no message"},
		{"transport sent", &TransportError{Method: "POST", Path: "/users", Sent: true, Err: io.EOF},
			"POST /users: no answer (after the request was sent): EOF"},
		{"transport not sent", &TransportError{Method: "DELETE", Path: "/u1", Err: errors.New("connection refused")},
			"DELETE /u1: no answer (before the request was sent): connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
	if te := (&TransportError{Err: io.EOF}); !errors.Is(te, io.EOF) {
		t.Error("TransportError does not unwrap to its cause")
	}
}
