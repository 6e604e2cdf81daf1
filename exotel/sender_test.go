package exotel

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func bearer(token Secret) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token.Reveal()) }
}

func TestNewSenderChecksOptions(t *testing.T) {
	auth := bearer(NewSecret(testToken))
	tests := []struct {
		name string
		opts SenderOptions
		want string
	}{
		{"no http client", SenderOptions{URL: "https://h/x", Authorize: auth}, "HTTP client"},
		{"no credentials", SenderOptions{URL: "https://h/x", HTTPClient: &http.Client{}}, "credentials"},
		{"no host", SenderOptions{URL: "/users", HTTPClient: &http.Client{}, Authorize: auth}, "not a resource URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewSender(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewSender: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// Send hands back every answer as it came, whatever its status or body:
// what an answer means is its client's to say.
func TestSendReturnsAnswersUnjudged(t *testing.T) {
	var seen http.Header
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("X-Seen-Path", r.URL.RequestURI())
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "<html>not JSON</html>")
	}))
	t.Cleanup(srv.Close)
	var logs syncBuffer
	s, err := NewSender(SenderOptions{URL: srv.URL + "/v2/things", HTTPClient: srv.Client(), UserAgent: "ua/1",
		Authorize: bearer(NewSecret(testToken)), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	resp, raw, err := s.Send(context.Background(), http.MethodPost, "/a", "x=1", map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTeapot || string(raw) != "<html>not JSON</html>" || resp.Header.Get("X-Seen-Path") != "/v2/things/a?x=1" {
		t.Errorf("answer %d %q %v", resp.StatusCode, raw, resp.Header)
	}
	if seen.Get("Authorization") != "Bearer "+testToken || seen.Get("User-Agent") != "ua/1" ||
		seen.Get("Content-Type") != "application/json" || gotBody != `{"k":"v"}` {
		t.Errorf("request headers %v, body %q", seen, gotBody)
	}
	if !s.Answered() {
		t.Error("Answered false after an answer")
	}
	if strings.Contains(logs.String(), testToken) || !strings.Contains(logs.String(), "status=418") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// A sender holds the token only inside its Authorize closure, which prints
// as an address.
func TestSenderPrintsNoToken(t *testing.T) {
	s, err := NewSender(SenderOptions{URL: "https://ccm-api.exotel.com/v2/x", HTTPClient: &http.Client{Timeout: time.Second},
		Authorize: bearer(NewSecret(testToken))})
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		for _, v := range []any{s, *s} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, testToken) || strings.Contains(out, fmt.Sprintf("%x", testToken)) {
				t.Errorf("Sprintf(%q, %T) shows the token", verb, v)
			}
		}
	}
}
