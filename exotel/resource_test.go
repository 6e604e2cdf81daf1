package exotel

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A debug log names each request's resource ("/users" for the collection,
// "/users/ID" for one user), never the filters of its query, which hold
// emails and phone numbers.
func TestSenderLogNamesTheResource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name, path, query, want string
	}{
		{"the collection, filtered", "", "email=asha%40corp.example.com&devices.contact_uri=%2B919876500001", `path=/users `},
		{"one user", "/u1", "", `path=/users/u1 `},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			s, err := NewSender(SenderOptions{URL: srv.URL + "/v2/accounts/SID/users", HTTPClient: srv.Client(),
				Authorize: bearer(NewSecret(testToken)), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Send(context.Background(), http.MethodGet, tc.path, tc.query, nil); err != nil {
				t.Fatal(err)
			}
			got := logs.String()
			if !strings.Contains(got, tc.want) {
				t.Errorf("log lacks %q:\n%s", tc.want, got)
			}
			for _, secret := range []string{"asha", "9876500001", "SID"} {
				if strings.Contains(got, secret) {
					t.Errorf("log holds %q:\n%s", secret, got)
				}
			}
		})
	}
}

func TestResourceName(t *testing.T) {
	for _, tc := range []struct{ name, path, want string }{
		{"users", "/v2/accounts/SID/users", "/users"},
		{"trailing slash", "/v2/integrations/c/apps/a/users/", "/users"},
		{"root", "/", ""},
		{"none", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := resourceName(tc.path); got != tc.want {
				t.Errorf("resourceName(%q) = %q, want %q", tc.path, got, tc.want)
			}
		})
	}
}

// A lost answer names the resource the request went to: "POST /users",
// not "POST ".
func TestLostAnswerNamesTheResource(t *testing.T) {
	c, _ := newTestClient(t, hijackAfterRead(t))
	_, err := c.CreateUser(context.Background(), CreateUserRequest{FirstName: "A", LastName: "B", Email: "a@b.example.com"})
	if err == nil || !strings.HasPrefix(err.Error(), "POST /users: no answer (after the request was sent)") {
		t.Errorf("err = %v, want it to start with POST /users: no answer", err)
	}
	_, err = c.GetUser(context.Background(), "u1")
	if err == nil || !strings.HasPrefix(err.Error(), "GET /users/u1: no answer") {
		t.Errorf("err = %v, want it to start with GET /users/u1: no answer", err)
	}
}
