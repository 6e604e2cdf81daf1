package exoteltest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
)

func TestGetUser(t *testing.T) {
	s := start(t, exoteltest.Options{})
	us := s.Seed(exoteltest.SeedUser{FirstName: "Jxxxx", LastName: "Ayyyy", Email: "abc@xyz.com", Phone: "+919800000001"})
	c := newClient(t, s, 5*time.Second)
	u, err := c.GetUser(context.Background(), us[0].ID, "devices")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != us[0].ID || u.Email != "abc@xyz.com" || !u.HasContact("+919800000001") {
		t.Errorf("GetUser = %+v", u)
	}
	wantFailure(t, do(t, s, "GET", "/0123456789abcdef0123456789abcdef", ""), "GET", 404, 404, "User not found")
	_, err = c.GetUser(context.Background(), "nope")
	if ae := apiErr(t, err); ae.Kind != exotel.KindNotFound {
		t.Errorf("unknown id: %+v", ae)
	}
}

func TestUpdateUser(t *testing.T) {
	clk := newClock(t0())
	s := start(t, exoteltest.Options{Now: clk.Now})
	us := s.Seed(
		exoteltest.SeedUser{FirstName: "Has", LastName: "Mail", Email: "has@example.com", Phone: "+919800000001"},
		exoteltest.SeedUser{FirstName: "No", LastName: "Mail"},
		exoteltest.SeedUser{FirstName: "Other", LastName: "One", Email: "other@example.com"},
	)
	hasMail, noMail := us[0].ID, us[1].ID
	c := newClient(t, s, 5*time.Second)
	ctx := context.Background()

	clk.Advance(time.Hour)
	u, err := c.UpdateUser(ctx, hasMail, exotel.UpdateUserRequest{FirstName: ptr("Pxxxx")})
	if err != nil {
		t.Fatal(err)
	}
	if u.FirstName != "Pxxxx" || u.LastName != "Mail" || u.Email != "has@example.com" ||
		u.DateCreated != "2021-07-21T21:43:38+05:30" || u.DateUpdated != "2021-07-21T22:43:38+05:30" || len(u.Devices) != 1 {
		t.Errorf("after PUT first_name: %+v", u)
	}

	cases := []struct {
		name, id, body string
		status         int
		code           int
		msg            string
	}{
		{"email when one is set", hasMail, `{"email":"new@example.com"}`, 400, 1002, "Cannot update email"},
		{"same email again", hasMail, `{"email":"has@example.com"}`, 400, 1002, "Cannot update email"},
		{"email taken", noMail, `{"email":"OTHER@example.com"}`, 409, 1022, "Email already exists for another account; Resource conflict"},
		{"email malformed", noMail, `{"email":"not-an-email"}`, 400, 1001, "Email format not valid"},
		{"blank first name", noMail, `{"first_name":" "}`, 400, 1001, "first_name is mandatory"},
		{"blank last name", noMail, `{"last_name":""}`, 400, 1001, "last_name is mandatory"},
		{"unparsable", noMail, `{"first_name":`, 400, 1007, "Invalid request body, failed parsing"},
		{"unknown id", "ffffffffffffffffffffffffffffffff", `{"first_name":"X"}`, 404, 404, "User not found"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantFailure(t, do(t, s, "PUT", "/"+tc.id, tc.body), "PUT", tc.status, tc.code, tc.msg)
		})
	}
	if got, _ := s.User(noMail); got.Email != "" || got.FirstName != "No" {
		t.Errorf("refused PUTs changed the user: %+v", got)
	}

	// Setting an email is allowed once, while there is none.
	u, err = c.UpdateUser(ctx, noMail, exotel.UpdateUserRequest{Email: ptr("no@example.com"), LastName: ptr("Longer")})
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "no@example.com" || u.LastName != "Longer" {
		t.Errorf("after setting email: %+v", u)
	}
	_, err = c.UpdateUser(ctx, noMail, exotel.UpdateUserRequest{Email: ptr("again@example.com")})
	if ae := apiErr(t, err); ae.HTTPStatus != 400 || ae.Code != "1002" || ae.Kind != exotel.KindInvalid {
		t.Errorf("second email: %+v", ae)
	}
	if got, ok := s.UserByEmail("NO@example.com"); !ok || got.ID != noMail {
		t.Errorf("UserByEmail = %+v %v", got, ok)
	}
}

func TestUpdateDevice(t *testing.T) {
	s := start(t, exoteltest.Options{})
	us := s.Seed(
		exoteltest.SeedUser{FirstName: "Asha", LastName: "R", Devices: []exoteltest.SeedDevice{
			{ContactURI: "+919800000001"}, // unverified
			{ContactURI: "+919800000002", Verified: true, Available: ptr(false), Status: "free"},
			{ContactURI: "+919800000003", Verified: true, Available: ptr(false), Status: "free"},
			{ContactURI: "sip:asha1", Verified: true},
		}},
		exoteltest.SeedUser{FirstName: "Bala", LastName: "K", Phone: "+919800000009"},
	)
	asha, bala := us[0], us[1]
	d1, d2, d3, sip := asha.Devices[0].ID, asha.Devices[1].ID, asha.Devices[2].ID, asha.Devices[3].ID
	path := func(user string, dev any) string { return fmt.Sprintf("/%s/devices/%v", user, dev) }
	put := func(user string, dev any, body string) raw { return do(t, s, "PUT", path(user, dev), body) }

	wantFailure(t, put(asha.ID, d1, `{"available":true}`), "PUT", 403, 1003, "Device is unverified")
	wantFailure(t, put(asha.ID, d1, `{"available":false}`), "PUT", 403, 1003, "Device is unverified")
	wantFailure(t, put(asha.ID, d2, `{"available":true,"contact_uri":"+919800000077"}`), "PUT", 400, 1007,
		"device_contact_uri cannot be updated in the same request")
	wantFailure(t, put(asha.ID, 999, `{"available":true}`), "PUT", 404, 1018, "Device not found")
	wantFailure(t, put(asha.ID, "abc", `{"available":true}`), "PUT", 404, 1018, "Device not found")
	wantFailure(t, put(bala.ID, d2, `{"available":true}`), "PUT", 404, 1018, "Device not found")
	wantFailure(t, put("ffffffffffffffffffffffffffffffff", d2, `{"available":true}`), "PUT", 404, 404, "User not found")
	wantFailure(t, put(asha.ID, d2, `{"contact_uri":"98000"}`), "PUT", 400, 1401, "Enter Valid Phone Number")
	wantFailure(t, put(asha.ID, d2, `{"contact_uri":"+919800000009"}`), "PUT", 409, 1021, "Device already exists")
	wantFailure(t, put(asha.ID, d2, `{"contact_uri":"+919800000003"}`), "PUT", 409, 1021, "Device already exists")
	wantFailure(t, put(asha.ID, sip, `{"contact_uri":"+919800000055"}`), "PUT", 403, 1003, "This device is not PSTN. Operation not permitted")
	wantFailure(t, put(asha.ID, d2, `{"available":`), "PUT", 400, 1007, "Invalid request body, failed parsing")

	c := newClient(t, s, 5*time.Second)
	ctx := context.Background()
	d, err := c.UpdateDevice(ctx, asha.ID, d2, exotel.UpdateDeviceRequest{Available: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != d2 || d.Available == nil || !*d.Available || !d.Verified || d.Status != "free" {
		t.Errorf("after ON: %+v", d)
	}
	wantFailure(t, put(asha.ID, d3, `{"available":true}`), "PUT", 403, 1003,
		"Another device is ON. Only one device can be ON at a time")
	if _, err := c.UpdateDevice(ctx, asha.ID, d2, exotel.UpdateDeviceRequest{Available: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateDevice(ctx, asha.ID, d3, exotel.UpdateDeviceRequest{Available: ptr(true)}); err != nil {
		t.Fatalf("ON after the other went OFF: %v", err)
	}

	// Re-sending the current number changes nothing.
	r := put(asha.ID, d3, `{"contact_uri":"+919800000003"}`)
	if r.status != 200 || !strings.Contains(string(r.body), `"available":true,"verified":true,"status":"free"`) {
		t.Errorf("same number: %d %s", r.status, r.body)
	}
	// A new number must be verified again.
	r = put(asha.ID, d3, `{"contact_uri":"+919800000033"}`)
	want := fmt.Sprintf(`"data":{"id":%d,"name":"Asha's device","contact_uri":"+919800000033","type":"tel","available":null,"verified":false,"status":null}`, d3)
	if r.status != 200 || !strings.Contains(string(r.body), want) {
		t.Errorf("new number: %d %s\nwant %s", r.status, r.body, want)
	}
	got, _ := s.User(asha.ID)
	if dv := got.Devices[2]; dv.ContactURI != "+919800000033" || dv.Verified || dv.Available != nil {
		t.Errorf("state after new number: %+v", dv)
	}
	// The old number is free for others now.
	if r := do(t, s, "POST", "", `{"first_name":"C","last_name":"D","device_contact_uri":"+919800000003"}`); r.status != 200 {
		t.Errorf("old number not freed: %d %s", r.status, r.body)
	}
}

func TestDeleteUser(t *testing.T) {
	s := start(t, exoteltest.Options{})
	us := s.Seed(
		exoteltest.SeedUser{FirstName: "A", LastName: "B", Email: "a@example.com"},
		exoteltest.SeedUser{FirstName: "C", LastName: "D", Email: "c@example.com"},
	)
	r := do(t, s, "DELETE", "/"+us[0].ID, "")
	m := r.obj(t)
	resp, _ := m["response"].(map[string]any)
	if r.status != 200 || m["method"] != "DELETE" || resp["status"] != "success" || resp["error_data"] != nil {
		t.Errorf("DELETE: %d %s", r.status, r.body)
	}
	if d, ok := resp["data"]; !ok || d != nil {
		t.Errorf("data = %v, want null", d)
	}
	wantFailure(t, do(t, s, "DELETE", "/"+us[0].ID, ""), "DELETE", 404, 404, "User not found")
	wantFailure(t, do(t, s, "GET", "/"+us[0].ID, ""), "GET", 404, 404, "User not found")

	c := newClient(t, s, 5*time.Second)
	if err := c.DeleteUser(context.Background(), us[1].ID); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(context.Background(), us[1].ID); exotel.KindOf(err) != exotel.KindNotFound {
		t.Errorf("second delete: %v", err)
	}
	if n := len(s.Users()); n != 0 {
		t.Errorf("%d users left", n)
	}
	if del := s.Deleted(); len(del) != 2 || del[0].ID != us[0].ID || del[1].ID != us[1].ID {
		t.Errorf("Deleted() = %+v", del)
	}
}

func TestAuthAndRouting(t *testing.T) {
	s := start(t, exoteltest.Options{APIKey: "k", APIToken: "tok", AccountSID: "acct"})
	const body = `{"first_name":"A","last_name":"B","email":"a@example.com"}`
	wantFailure(t, do(t, s, "POST", "", body, noAuth), "POST", 401, 1010, "Authentication failed")
	wantFailure(t, do(t, s, "POST", "", body, auth("k", "wrong")), "POST", 401, 1010, "Authentication failed")
	wantFailure(t, do(t, s, "POST", "", body, auth("wrong", "tok")), "POST", 401, 1010, "Authentication failed")
	wantFailure(t, do(t, s, "GET", "//v2/accounts/other/users", "", auth("k", "tok")), "GET", 403, 1003,
		"API credentials used are unauthorized")
	wantFailure(t, do(t, s, "POST", "//v2/accounts/other/users", body, auth("k", "tok")), "POST", 403, 1003,
		"API credentials used are unauthorized")
	// Bad credentials are reported before the wrong account.
	wantFailure(t, do(t, s, "GET", "//v2/accounts/other/users", "", auth("k", "x")), "GET", 401, 1010, "Authentication failed")
	if n := len(s.Users()); n != 0 {
		t.Fatalf("refused requests created %d users", n)
	}
	if r := do(t, s, "POST", "", body, auth("k", "tok")); r.status != 200 {
		t.Fatalf("good credentials: %d %s", r.status, r.body)
	}

	ok := auth("k", "tok")
	wantFailure(t, do(t, s, "GET", "/abc/devices", "", ok), "GET", 404, 404, "Resource not found")
	wantFailure(t, do(t, s, "GET", "/", "", ok), "GET", 404, 404, "Resource not found")
	wantFailure(t, do(t, s, "GET", "//v2/accounts/acct/groups", "", ok), "GET", 404, 404, "Resource not found")
	wantFailure(t, do(t, s, "GET", "//", "", ok), "GET", 404, 404, "Resource not found")
	r := do(t, s, "PATCH", "", "{}", ok)
	wantFailure(t, r, "PATCH", 405, 405, "Method not allowed")
	if r.header.Get("Allow") != "GET, POST" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	wantFailure(t, do(t, s, "DELETE", "", "", ok), "DELETE", 405, 405, "Method not allowed")
	wantFailure(t, do(t, s, "POST", "/abc", "{}", ok), "POST", 405, 405, "Method not allowed")
	wantFailure(t, do(t, s, "GET", "/abc/devices/1", "", ok), "GET", 405, 405, "Method not allowed")

	// The real client maps them to kinds.
	c, err := exotel.New(exotel.Options{BaseURL: s.URL(), HTTPClient: s.Client(),
		Credentials: exotel.Credentials{APIKey: "k", APIToken: exotel.NewSecret("bad"), AccountSID: "acct"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListUsers(context.Background(), exotel.ListOptions{})
	if ae := apiErr(t, err); ae.Kind != exotel.KindAuth || ae.Code != "1010" {
		t.Errorf("client with a bad token: %+v", ae)
	}
}
