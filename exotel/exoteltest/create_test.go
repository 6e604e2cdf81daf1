package exoteltest_test

import (
	"context"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
)

func TestCreateUserWireShape(t *testing.T) {
	clk := newClock(t0())
	s := start(t, exoteltest.Options{Now: clk.Now})
	r := do(t, s, "POST", "", `{"first_name":"Jxxxx","last_name":"Ayyyy","email":"abc@xyz.com","device_contact_uri":"+919876574572"}`)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	// Byte for byte the document's sample, ids aside.
	ids := regexp.MustCompile(`"(request_id|id)":"([^"]*)"`).FindAllStringSubmatch(string(r.body), -1)
	if len(ids) != 2 || !isHex32(ids[0][2]) || !isHex32(ids[1][2]) {
		t.Fatalf("ids %q", ids)
	}
	want := `{"request_id":"` + ids[0][2] + `","method":"POST","http_code":200,"response":{"code":200,"error_data":null,"status":"success","data":{` +
		`"date_created":"2021-07-21T21:43:38+05:30","date_updated":"2021-07-21T21:43:38+05:30",` +
		`"devices":[{"id":425215,"name":"Jxxxx's device","contact_uri":"+919876574572","type":"tel","available":null,"verified":false,"status":null}],` +
		`"email":"abc@xyz.com","email_verified":false,"first_name":"Jxxxx","id":"` + ids[1][2] + `","last_name":"Ayyyy","role":"user"}}}` + "\n"
	if string(r.body) != want {
		t.Errorf("body\n got %s\nwant %s", r.body, want)
	}

	users := s.Users()
	if len(users) != 1 || users[0].ID != ids[1][2] || users[0].Devices[0].ID != 425215 {
		t.Errorf("Users() = %+v", users)
	}
}

func TestCreateUserThroughClient(t *testing.T) {
	s := start(t, exoteltest.Options{})
	c := newClient(t, s, 5*time.Second)
	ctx := context.Background()
	u, err := c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "Asha", LastName: "Rao",
		Email: "asha@example.com", DeviceContactURI: "+919800000001", Role: "admin", DeviceName: "Desk"})
	if err != nil {
		t.Fatal(err)
	}
	if !isHex32(u.ID) || u.Role != "admin" || u.Email != "asha@example.com" || u.EmailVerified {
		t.Errorf("user %+v", u)
	}
	d := u.PrimaryDevice()
	if d == nil || d.Name != "Desk" || d.ContactURI != "+919800000001" || d.Type != "tel" || d.Available != nil || d.Verified {
		t.Errorf("device %+v", d)
	}
	// Second device gets the next id; a user without a number gets none.
	u2, err := c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "Bala", LastName: "K", DeviceContactURI: "+919800000002"})
	if err != nil {
		t.Fatal(err)
	}
	if u2.Devices[0].ID != d.ID+1 || u2.Devices[0].Name != "Bala's device" || u2.Email != "" || u2.Role != "user" {
		t.Errorf("second user %+v", u2)
	}
	u3, err := c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "Chitra", LastName: "M"})
	if err != nil {
		t.Fatal(err)
	}
	if len(u3.Devices) != 0 {
		t.Errorf("no number given, devices %+v", u3.Devices)
	}
}

func TestCreateUserErrors(t *testing.T) {
	s := start(t, exoteltest.Options{})
	s.Seed(exoteltest.SeedUser{FirstName: "Old", LastName: "Timer", Email: "Taken@Example.com", Phone: "+919800000001"})
	const (
		badBody = "Invalid request body, failed parsing"
		email   = "Email format not valid"
		phone   = "Enter Valid Phone Number"
	)
	valid := func(mod string) string {
		return `{"first_name":"Asha","last_name":"Rao"` + mod + `}`
	}
	cases := []struct {
		name, body string
		status     int
		code       int
		msg        string
	}{
		{"unparsable", `{"first_name":`, 400, 1007, badBody},
		{"empty body", ``, 400, 1007, badBody},
		{"array", `[{"first_name":"A","last_name":"B"}]`, 400, 1007, badBody},
		{"wrong type", `{"first_name":5,"last_name":"B"}`, 400, 1007, badBody},
		{"trailing garbage", valid("") + ` x`, 400, 1007, badBody},
		{"first_name missing", `{"last_name":"Rao"}`, 400, 1001, "first_name is mandatory"},
		{"first_name blank", `{"first_name":"  ","last_name":"Rao"}`, 400, 1001, "first_name is mandatory"},
		{"first_name null", `{"first_name":null,"last_name":"Rao"}`, 400, 1001, "first_name is mandatory"},
		{"last_name missing", `{"first_name":"Asha"}`, 400, 1001, "last_name is mandatory"},
		{"last_name blank", `{"first_name":"Asha","last_name":""}`, 400, 1001, "last_name is mandatory"},
		{"email without @", valid(`,"email":"asha.example.com"`), 400, 1001, email},
		{"email without domain dot", valid(`,"email":"asha@example"`), 400, 1001, email},
		{"email with space", valid(`,"email":"asha rao@example.com"`), 400, 1001, email},
		{"email without local part", valid(`,"email":"@example.com"`), 400, 1001, email},
		{"email with empty label", valid(`,"email":"asha@example..com"`), 400, 1001, email},
		{"email with two @", valid(`,"email":"a@b@example.com"`), 400, 1001, email},
		{"phone without +", valid(`,"device_contact_uri":"919876543210"`), 400, 1401, phone},
		{"phone starting 0", valid(`,"device_contact_uri":"+0919876543"`), 400, 1401, phone},
		{"phone 7 digits", valid(`,"device_contact_uri":"+1234567"`), 400, 1401, phone},
		{"phone 16 digits", valid(`,"device_contact_uri":"+1234567890123456"`), 400, 1401, phone},
		{"phone with spaces", valid(`,"device_contact_uri":"+91 98765 43210"`), 400, 1401, phone},
		{"phone with dashes", valid(`,"device_contact_uri":"+91-9876543210"`), 400, 1401, phone},
		{"phone is sip", valid(`,"device_contact_uri":"sip:asha123"`), 400, 1401, phone},
		{"unknown role", valid(`,"role":"owner"`), 400, 1023, "Enter valid role for user"},
		{"role in capitals", valid(`,"role":"Admin"`), 400, 1023, "Enter valid role for user"},
		{"email taken, other case", valid(`,"email":"taken@EXAMPLE.com"`), 409, 1022,
			"Email already exists for another account; Resource conflict"},
		{"phone taken", valid(`,"device_contact_uri":"+919800000001"`), 409, 1021, "Device already exists; Resource conflict"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantFailure(t, do(t, s, "POST", "", tc.body), "POST", tc.status, tc.code, tc.msg)
		})
	}
	if n := len(s.Users()); n != 1 {
		t.Errorf("%d users after refused creates, want the seeded 1", n)
	}
	if len(s.CreatesByEmail()) != 0 || len(s.CreatesByPhone()) != 0 || s.Creates() != 0 {
		t.Errorf("refused creates were counted: %v %v", s.CreatesByEmail(), s.CreatesByPhone())
	}
}

func TestCreateUserAcceptsEdges(t *testing.T) {
	s := start(t, exoteltest.Options{})
	for _, body := range []string{
		`{"first_name":"A","last_name":"B","device_contact_uri":"+12345678"}`,
		`{"first_name":"C","last_name":"D","device_contact_uri":"+123456789012345"}`,
		`{"first_name":"E","last_name":"F","email":"e.f+sales@sub.example.co.in","role":"supervisor"}`,
		`{"first_name":"G","last_name":"H","email":null,"device_contact_uri":null,"unknown":true}`,
		`{"first_name":"I","last_name":"J","email":""}`,
	} {
		if r := do(t, s, "POST", "", body); r.status != 200 {
			t.Errorf("%s: %d %s", body, r.status, r.body)
		}
	}
}

func TestRequireDevice(t *testing.T) {
	s := start(t, exoteltest.Options{RequireDevice: true})
	wantFailure(t, do(t, s, "POST", "", `{"first_name":"A","last_name":"B"}`), "POST", 400, 1402, "DeviceContactUri is mandatory")
}

func TestVOIPCreatesSipDevice(t *testing.T) {
	s := start(t, exoteltest.Options{VOIP: true})
	c := newClient(t, s, 5*time.Second)
	u, err := c.CreateUser(context.Background(), exotel.CreateUserRequest{FirstName: "Arjun S.", LastName: "K"})
	if err != nil {
		t.Fatal(err)
	}
	d := u.PrimaryDevice()
	if len(u.Devices) != 1 || d.Type != "sip" || d.ContactURI != "sip:arjuns425215" || d.Name != "Arjun S.'s device" {
		t.Errorf("devices %+v", u.Devices)
	}
	u, err = c.CreateUser(context.Background(), exotel.CreateUserRequest{FirstName: "Bala", LastName: "K", DeviceContactURI: "+919800000002"})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Devices) != 1 || u.Devices[0].Type != "tel" {
		t.Errorf("with a number, devices %+v", u.Devices)
	}
}

func TestEmailIsTombstonedAfterDelete(t *testing.T) {
	s := start(t, exoteltest.Options{})
	c := newClient(t, s, 5*time.Second)
	ctx := context.Background()
	u, err := c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "Asha", LastName: "Rao",
		Email: "asha@example.com", DeviceContactURI: "+919800000001"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "Asha", LastName: "Rao", Email: "ASHA@example.com"})
	if ae := apiErr(t, err); ae.HTTPStatus != 409 || ae.Code != "1022" || ae.Kind != exotel.KindConflict {
		t.Errorf("re-create with a deleted email: %+v", ae)
	}
	// The dashboard guide's way out: plus-addressing. The number is free again.
	if _, err := c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "Asha", LastName: "Rao",
		Email: "asha+1@example.com", DeviceContactURI: "+919800000001"}); err != nil {
		t.Fatal(err)
	}
	if got := s.CreatesByPhone()["+919800000001"]; got != 2 {
		t.Errorf("CreatesByPhone = %d, want 2 (one person created twice)", got)
	}
	if got := s.CreatesByEmail(); got["asha@example.com"] != 1 || got["asha+1@example.com"] != 1 || len(got) != 2 {
		t.Errorf("CreatesByEmail = %v", got)
	}
	if del := s.Deleted(); len(del) != 1 || del[0].ID != u.ID || del[0].Email != "asha@example.com" || len(del[0].Devices) != 1 {
		t.Errorf("Deleted() = %+v", del)
	}

	// A tombstone also blocks setting the email on a user that has none, and
	// seeding it.
	noMail, err := c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "No", LastName: "Mail"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UpdateUser(ctx, noMail.ID, exotel.UpdateUserRequest{Email: ptr("Asha@Example.com")})
	if ae := apiErr(t, err); ae.HTTPStatus != 409 || ae.Code != "1022" {
		t.Errorf("PUT email of a deleted user: %+v", ae)
	}
	s.Tombstone("gone@example.com")
	_, err = c.CreateUser(ctx, exotel.CreateUserRequest{FirstName: "G", LastName: "One", Email: "gone@example.com"})
	if ae := apiErr(t, err); ae.Code != "1022" {
		t.Errorf("create with a Tombstone()d email: %+v", ae)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(r.(string), "already taken") {
				t.Errorf("seeding a deleted email: recover() = %v", r)
			}
		}()
		s.Seed(exoteltest.SeedUser{FirstName: "A", LastName: "R", Email: "asha@EXAMPLE.com"})
	}()
}

func TestAllowDuplicatesLetsTheSamePersonInTwice(t *testing.T) {
	srv := start(t, exoteltest.Options{AllowDuplicates: true})
	c := newClient(t, srv, 5*time.Second)
	req := exotel.CreateUserRequest{FirstName: "Twice", LastName: "Made", Email: "twice@example.com", DeviceContactURI: "+919876543210"}
	for range 2 {
		if _, err := c.CreateUser(context.Background(), req); err != nil {
			t.Fatalf("create: %v", err)
		}
	}
	if got := srv.CreatesByEmail()["twice@example.com"]; got != 2 {
		t.Errorf("CreatesByEmail = %d, want 2", got)
	}
}

func TestSampleUsersSeedCleanly(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	a, b := exoteltest.SampleUsers(120, 1, now), exoteltest.SampleUsers(120, 1, now)
	if !reflect.DeepEqual(a, b) {
		t.Error("SampleUsers is not deterministic")
	}
	srv := start(t, exoteltest.Options{})
	users := srv.Seed(a...) // panics on a duplicate email or number
	admins := 0
	for _, u := range users {
		if u.Role == "admin" {
			admins++
		}
	}
	if admins != 3 || len(users) != 120 {
		t.Errorf("%d users with %d admins, want 120 with 3", len(users), admins)
	}
}
