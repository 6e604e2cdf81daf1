package exotel_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
)

// The client against the faithful fake: what the document says, end to end.

func newFake(t *testing.T, opts exoteltest.Options) (*exotel.Client, *exoteltest.Server) {
	t.Helper()
	srv := exoteltest.NewServer(opts)
	t.Cleanup(srv.Close)
	c, err := exotel.New(exotel.Options{
		BaseURL: srv.URL(),
		Credentials: exotel.Credentials{APIKey: "test-key", APIToken: exotel.NewSecret("test-token"),
			AccountSID: "test-sid"},
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestFakeFilters(t *testing.T) {
	c, srv := newFake(t, exoteltest.Options{Seed: 1})
	srv.Seed(
		exoteltest.SeedUser{FirstName: "Asha", LastName: "Rao", Email: "asha+ops@example.com", Phone: "+919800000001"},
		exoteltest.SeedUser{FirstName: "Ravi", LastName: "Iyer", Email: "ravi@example.com", Phone: "+919800000002"},
		exoteltest.SeedUser{FirstName: "Meera", LastName: "Das", Email: "meera@example.com",
			Devices: []exoteltest.SeedDevice{{ContactURI: "sip:meera1@voip.exotel.com"}}},
	)
	tests := []struct {
		name   string
		opts   exotel.ListOptions
		emails []string
	}{
		{name: "plus-addressed email", opts: exotel.ListOptions{Emails: []string{"asha+ops@example.com"}},
			emails: []string{"asha+ops@example.com"}},
		{name: "two emails", opts: exotel.ListOptions{Emails: []string{"ravi@example.com", "ASHA+OPS@example.com"}},
			emails: []string{"asha+ops@example.com", "ravi@example.com"}},
		{name: "numbers", opts: exotel.ListOptions{ContactURIs: []string{"+919800000002", "+919800000001"}, Fields: []string{"devices"}},
			emails: []string{"asha+ops@example.com", "ravi@example.com"}},
		{name: "sip uri", opts: exotel.ListOptions{ContactURIs: []string{"sip:meera1@voip.exotel.com"}},
			emails: []string{"meera@example.com"}},
		{name: "no match", opts: exotel.ListOptions{Emails: []string{"nobody@example.com"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page, err := c.ListUsers(context.Background(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, u := range page.Users {
				got[u.Email] = true
			}
			if len(got) != len(tc.emails) || len(page.Errors) != 0 {
				t.Errorf("found %v (errors %v), want %v", got, page.Errors, tc.emails)
			}
			for _, e := range tc.emails {
				if !got[e] {
					t.Errorf("%s not found; got %v", e, got)
				}
			}
		})
	}
}

func TestFakePaging(t *testing.T) {
	c, srv := newFake(t, exoteltest.Options{Seed: 2})
	for i := range 7 {
		srv.Seed(exoteltest.SeedUser{FirstName: "U", LastName: string(rune('a' + i))})
	}
	seen := 0
	for offset := 0; ; offset += 3 {
		page, err := c.ListUsers(context.Background(), exotel.ListOptions{Offset: offset, Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if page.Users == nil {
			if page.Total != 7 {
				t.Errorf("last page Total = %d, want 7", page.Total)
			}
			break
		}
		seen += len(page.Users)
		if offset > 30 {
			t.Fatal("paging never reached a null response")
		}
	}
	if seen != 7 {
		t.Errorf("paged through %d users, want 7", seen)
	}
}

func TestFakeErrors(t *testing.T) {
	ctx := context.Background()
	c, srv := newFake(t, exoteltest.Options{Seed: 3})
	srv.Seed(exoteltest.SeedUser{FirstName: "Asha", LastName: "Rao", Email: "asha@example.com", Phone: "+919800000001"})
	tests := []struct {
		name string
		call func() error
		kind exotel.Kind
		code string
	}{
		{name: "email exists", kind: exotel.KindConflict, code: exotel.CodeEmailExists, call: func() error {
			_, err := c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "A", LastName: "R", Email: "asha@example.com"})
			return err
		}},
		{name: "device exists", kind: exotel.KindConflict, code: exotel.CodeDeviceExists, call: func() error {
			_, err := c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "A", LastName: "R", DeviceContactURI: "+919800000001"})
			return err
		}},
		{name: "first name missing", kind: exotel.KindInvalid, code: exotel.CodeInvalidInput, call: func() error {
			_, err := c.CreateUser(ctx, exotel.CreateUserRequest{LastName: "R"})
			return err
		}},
		{name: "bad role", kind: exotel.KindInvalid, code: exotel.CodeInvalidRole, call: func() error {
			_, err := c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "A", LastName: "R", Role: "agent"})
			return err
		}},
		{name: "unknown user", kind: exotel.KindNotFound, call: func() error { return c.DeleteUser(ctx, "0000") }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var ae *exotel.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if ae.Kind != tc.kind || (tc.code != "" && ae.Code != tc.code) || ae.RequestID == "" || ae.Message == "" {
				t.Errorf("error = %+v, want kind %v code %q, a request id and a message", ae, tc.kind, tc.code)
			}
		})
	}
}

func TestFakeThrottle(t *testing.T) {
	for _, body := range []exoteltest.ThrottleBody{exoteltest.ThrottleRestException, exoteltest.ThrottleEnvelope, exoteltest.ThrottleHTML} {
		t.Run([]string{"RestException", "envelope", "HTML"}[body], func(t *testing.T) {
			c, _ := newFake(t, exoteltest.Options{Seed: 4, Limit: exoteltest.Limit{Rate: 1, Mode: exoteltest.FixedWindow,
				Window: time.Hour, RetryAfter: true, Body: body}})
			ctx := context.Background()
			if _, err := c.ListUsers(ctx, exotel.ListOptions{}); err != nil {
				t.Fatalf("first call: %v", err)
			}
			_, err := c.ListUsers(ctx, exotel.ListOptions{})
			var ae *exotel.APIError
			if !errors.As(err, &ae) || ae.Kind != exotel.KindThrottled || ae.RetryAfter <= 0 {
				t.Fatalf("second call: %v (%+v), want throttled with a Retry-After", err, ae)
			}
		})
	}
}

func TestFakeLifecycle(t *testing.T) {
	ctx := context.Background()
	c, srv := newFake(t, exoteltest.Options{Seed: 5})
	u, err := c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "Asha", LastName: "Rao",
		Email: "asha@example.com", DeviceContactURI: "+919800000001"})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == "" || u.PrimaryDevice() == nil || !u.HasContact("+919800000001") {
		t.Fatalf("created user = %+v", u)
	}
	newLast := "Iyer"
	if u2, err := c.UpdateUser(ctx, u.ID, exotel.UpdateUserRequest{LastName: &newLast}); err != nil || u2.LastName != "Iyer" {
		t.Fatalf("UpdateUser = %+v, %v", u2, err)
	}
	got, err := c.GetUser(ctx, u.ID, "devices")
	if err != nil || got.LastName != "Iyer" || got.FirstName != "Asha" || len(got.Devices) != 1 {
		t.Fatalf("GetUser = %+v, %v", got, err)
	}
	newNumber := "+919800000009"
	d, err := c.UpdateDevice(ctx, u.ID, got.Devices[0].ID, exotel.UpdateDeviceRequest{ContactURI: &newNumber})
	if err != nil || d.ContactURI != newNumber {
		t.Fatalf("UpdateDevice = %+v, %v", d, err)
	}
	if err := c.DeleteUser(ctx, u.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if _, err := c.GetUser(ctx, u.ID); exotel.KindOf(err) != exotel.KindNotFound {
		t.Errorf("GetUser after delete: %v, want not found", err)
	}
	if n := len(srv.Users()); n != 0 {
		t.Errorf("fake still holds %d users", n)
	}
}
