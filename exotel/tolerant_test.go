package exotel

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestUserDecodesOddFieldsTolerantly(t *testing.T) {
	tests := []struct {
		name string
		data string
		want User
	}{
		{
			name: "active_call object",
			data: `{"id":"u1","first_name":"A","last_name":"B","role":"user","active_call":{"sid":"ca1","since":3}}`,
			want: User{ID: "u1", FirstName: "A", LastName: "B", Role: "user", ActiveCall: `{"sid":"ca1","since":3}`,
				Odd: map[string]json.RawMessage{"active_call": json.RawMessage(`{"sid":"ca1","since":3}`)}},
		},
		{
			name: "an odd value is kept on one line",
			data: "{\"id\":\"u1\",\"role\":\"user\",\"active_call\":{\n  \"sid\": \"ca1\"\n}}",
			want: User{ID: "u1", Role: "user", ActiveCall: `{"sid":"ca1"}`,
				Odd: map[string]json.RawMessage{"active_call": json.RawMessage(`{"sid":"ca1"}`)}},
		},
		{
			name: "last_login number",
			data: `{"id":"u1","role":"user","last_login":1690000000}`,
			want: User{ID: "u1", Role: "user", LastLogin: "1690000000",
				Odd: map[string]json.RawMessage{"last_login": json.RawMessage(`1690000000`)}},
		},
		{
			name: "email_verified as a string",
			data: `{"id":"u1","role":"user","email_verified":"true"}`,
			want: User{ID: "u1", Role: "user", EmailVerified: true,
				Odd: map[string]json.RawMessage{"email_verified": json.RawMessage(`"true"`)}},
		},
		{
			name: "email_verified null",
			data: `{"id":"u1","role":"user","email_verified":null}`,
			want: User{ID: "u1", Role: "user", Odd: map[string]json.RawMessage{"email_verified": json.RawMessage(`null`)}},
		},
		{
			name: "first_name number",
			data: `{"id":"u1","role":"user","first_name":42}`,
			want: User{ID: "u1", Role: "user", FirstName: "42", Odd: map[string]json.RawMessage{"first_name": json.RawMessage(`42`)}},
		},
		{
			name: "documented nulls are not odd",
			data: `{"id":"u1","role":"user","email_verified":false,"active_call":null,"last_login":null,"email":null,
				"devices":[{"id":1,"name":"d","contact_uri":"+919800000001","type":"tel","available":null,"verified":false,"status":null}]}`,
			want: User{ID: "u1", Role: "user", Devices: []Device{{ID: 1, Name: "d", ContactURI: "+919800000001", Type: "tel"}}},
		},
		{
			name: "odd device fields",
			data: `{"id":"u1","role":"user","devices":[{"id":"77","contact_uri":"+919800000001","available":"yes","verified":1,"status":{"s":1}}]}`,
			want: User{ID: "u1", Role: "user", Devices: []Device{{ID: 77, ContactURI: "+919800000001", Status: `{"s":1}`,
				Odd: map[string]json.RawMessage{"id": json.RawMessage(`"77"`), "available": json.RawMessage(`"yes"`),
					"verified": json.RawMessage(`1`), "status": json.RawMessage(`{"s":1}`)}}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var u User
			if err := json.Unmarshal([]byte(tc.data), &u); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(u, tc.want) {
				t.Errorf("user = %+v\nwant   %+v", u, tc.want)
			}
		})
	}
}

func TestUserRefusesOddFieldsAnActionNeeds(t *testing.T) {
	tests := []struct{ name, data, msg string }{
		{"id number", `{"id":12,"role":"user"}`, "id is a number, not a string"},
		{"role object", `{"id":"u1","role":{"name":"admin"}}`, "role is an object"},
		{"email array", `{"id":"u1","role":"user","email":["a@x.com"]}`, "email is an array"},
		{"devices object", `{"id":"u1","role":"user","devices":{"id":1}}`, "devices is an object, not an array"},
		{"contact_uri number", `{"id":"u1","role":"user","devices":[{"id":1,"contact_uri":919800000001}]}`, "devices[0]: contact_uri is a number"},
		{"device a string", `{"id":"u1","role":"user","devices":["+919800000001"]}`, "a device is a string"},
		{"not an object", `"u1"`, "cannot unmarshal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var u User
			err := json.Unmarshal([]byte(tc.data), &u)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("err = %v, want one saying %q", err, tc.msg)
			}
		})
	}
}

// One odd record costs nothing: the page keeps every user, and the oddity
// is logged once per field however often it recurs.
func TestListUsersKeepsOddRecordsAndNotesThemOnce(t *testing.T) {
	body := `{"request_id":"r","http_code":200,"metadata":{"total":4,"count":4,"offset":0,"limit":50},"response":[` +
		`{"code":200,"status":"success","data":{"id":"a","first_name":"A","last_name":"A","role":"user","active_call":{"sid":"x"}}},` +
		`{"code":200,"status":"success","data":{"id":"b","first_name":"B","last_name":"B","role":"user","active_call":{"sid":"y"}}},` +
		`{"code":200,"status":"success","data":{"id":"c","first_name":"C","last_name":"C","role":7}},` +
		`{"code":200,"status":"success","data":{"id":"d","first_name":"D","last_name":"D","role":"user","last_login":17}}]}`
	var logs bytes.Buffer
	c, _ := newTestClient(t, jsonAnswer(http.StatusOK, body), func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	for range 2 {
		page, err := c.ListUsers(context.Background(), ListOptions{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, u := range page.Users {
			ids = append(ids, u.ID)
		}
		if !reflect.DeepEqual(ids, []string{"a", "b", "d"}) || len(page.Errors) != 1 {
			t.Fatalf("users %v, errors %v; want a, b, d and one error for c", ids, page.Errors)
		}
		if msg := page.Errors[0].Message; !strings.Contains(msg, "role is a number") {
			t.Errorf("error = %q", msg)
		}
		if page.Users[0].ActiveCall == "" {
			t.Error("an odd active_call reads as unset")
		}
	}
	out := logs.String()
	if n := strings.Count(out, "field=active_call"); n != 1 {
		t.Errorf("active_call noted %d times, want once:\n%s", n, out)
	}
	if n := strings.Count(out, "field=last_login"); n != 1 {
		t.Errorf("last_login noted %d times, want once:\n%s", n, out)
	}
}

func TestOddFields(t *testing.T) {
	u := User{Odd: map[string]json.RawMessage{"last_login": nil, "active_call": nil},
		Devices: []Device{{Odd: map[string]json.RawMessage{"available": nil}}, {Odd: map[string]json.RawMessage{"available": nil, "id": nil}}}}
	want := []string{"active_call", "devices.available", "devices.id", "last_login"}
	if got := u.OddFields(); !reflect.DeepEqual(got, want) {
		t.Errorf("OddFields = %q, want %q", got, want)
	}
	if got := (&User{Devices: []Device{{}}}).OddFields(); got != nil {
		t.Errorf("OddFields of a plain user = %q", got)
	}
}

// FuzzUserUnmarshal: any data block either fails as a whole or gives a
// user whose odd values are each valid JSON.
func FuzzUserUnmarshal(f *testing.F) {
	for _, s := range []string{userJSON, `{"id":"u","active_call":{"a":1},"last_login":3,"devices":[{"id":"7","contact_uri":"x","available":"yes"}]}`,
		`{"devices":null}`, `{"email_verified":null}`, `null`, `[]`, `{"id":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var u User
		if json.Unmarshal([]byte(data), &u) != nil {
			return
		}
		for k, v := range u.Odd {
			if !json.Valid(v) {
				t.Errorf("odd %s = %q is not JSON", k, v)
			}
		}
		for _, d := range u.Devices {
			for k, v := range d.Odd {
				if !json.Valid(v) {
					t.Errorf("odd device %s = %q is not JSON", k, v)
				}
			}
		}
		_ = u.OddFields()
	})
}
