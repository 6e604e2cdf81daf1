package exoteltest_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
)

func seedN(s *exoteltest.Server, n int) []string {
	in := make([]exoteltest.SeedUser, n)
	for i := range in {
		in[i] = exoteltest.SeedUser{FirstName: fmt.Sprintf("U%03d", i), LastName: "L",
			Email: fmt.Sprintf("u%03d@example.com", i), Phone: fmt.Sprintf("+9197%08d", i)}
	}
	ids := make([]string, n)
	for i, u := range s.Seed(in...) {
		ids[i] = u.ID
	}
	return ids
}

func TestPagingUntilNull(t *testing.T) {
	for _, n := range []int{0, 1, 49, 50, 51, 237} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			s := start(t, exoteltest.Options{})
			want := seedN(s, n)
			c := newClient(t, s, 5*time.Second)
			var got []string
			calls := 0
			for offset := 0; ; offset += 50 {
				calls++
				p, err := c.ListUsers(context.Background(), exotel.ListOptions{Offset: offset, Limit: 50})
				if err != nil {
					t.Fatal(err)
				}
				wantCount := max(0, min(50, n-offset))
				if p.Total != n || p.Count != wantCount || p.Offset != offset || p.Limit != 50 {
					t.Fatalf("offset %d: metadata total=%d count=%d offset=%d limit=%d, want %d %d %d 50",
						offset, p.Total, p.Count, p.Offset, p.Limit, n, wantCount, offset)
				}
				if p.Users == nil {
					break
				}
				for _, u := range p.Users {
					got = append(got, u.ID)
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("paged ids differ from creation order (%d vs %d)", len(got), len(want))
			}
			pages := (n + 49) / 50
			if wantCalls := pages + 1; calls != wantCalls || s.CountRequests("GET") != wantCalls {
				t.Errorf("%d calls (%d logged), want %d", calls, s.CountRequests("GET"), wantCalls)
			}
			// On the wire, past the end is a literal null with metadata beside it.
			r := do(t, s, "GET", fmt.Sprintf("?offset=%d&limit=50", pages*50), "")
			wantTail := fmt.Sprintf(`"metadata":{"total":%d,"count":0,"offset":%d,"limit":50},"response":null}`, n, pages*50)
			if r.status != 200 || !strings.HasSuffix(strings.TrimSpace(string(r.body)), wantTail) {
				t.Errorf("past the end: %d %.300s", r.status, r.body)
			}
		})
	}
}

func TestListRecordShape(t *testing.T) {
	s := start(t, exoteltest.Options{})
	seedN(s, 2)
	m := do(t, s, "GET", "?limit=1&offset=1", "").obj(t)
	checkRequestID(t, m["request_id"])
	if m["method"] != "GET" || m["http_code"] != 200.0 {
		t.Errorf("envelope %v", m)
	}
	recs, _ := m["response"].([]any)
	if len(recs) != 1 {
		t.Fatalf("response %v", m["response"])
	}
	rec := recs[0].(map[string]any)
	if rec["code"] != 200.0 || rec["status"] != "success" || rec["error_data"] != nil {
		t.Errorf("record %v", rec)
	}
	if _, ok := rec["error_data"]; !ok {
		t.Error("error_data key missing; the document shows null")
	}
	if data := rec["data"].(map[string]any); data["email"] != "u001@example.com" {
		t.Errorf("data %v", data)
	}
}

func TestListParameters(t *testing.T) {
	s := start(t, exoteltest.Options{})
	seedN(s, 25)
	md := func(r raw) map[string]any {
		t.Helper()
		m := r.obj(t)
		mdv, _ := m["metadata"].(map[string]any)
		return mdv
	}
	if got := md(do(t, s, "GET", "", "")); got["limit"] != 20.0 || got["count"] != 20.0 || got["offset"] != 0.0 || got["total"] != 25.0 {
		t.Errorf("defaults: %v", got)
	}
	if got := md(do(t, s, "GET", "?offset=20", "")); got["count"] != 5.0 {
		t.Errorf("offset 20: %v", got)
	}
	if got := md(do(t, s, "GET", "?offset=24&limit=1", "")); got["count"] != 1.0 {
		t.Errorf("offset 24 limit 1: %v", got)
	}
	for _, q := range []string{"?limit=51", "?limit=0", "?limit=-1", "?limit=abc", "?limit=", "?offset=-1", "?offset=x", "?offset=1.5"} {
		t.Run(q, func(t *testing.T) {
			wantFailure(t, do(t, s, "GET", q, ""), "GET", 400, 1007, "Request format is invalid")
		})
	}
}

func TestListFilters(t *testing.T) {
	s := start(t, exoteltest.Options{})
	seeded := s.Seed(
		exoteltest.SeedUser{FirstName: "Asha", LastName: "R", Email: "Asha@Example.com", Phone: "+919800000001"},
		exoteltest.SeedUser{FirstName: "Bala", LastName: "K", Email: "bala@example.com", Phone: "+919800000002",
			Devices: []exoteltest.SeedDevice{{ContactURI: "+919800000003"}}},
		exoteltest.SeedUser{FirstName: "Chitra", LastName: "M", Phone: "+919800000004"},
		exoteltest.SeedUser{FirstName: "Dev", LastName: "P", Email: "dev@example.com",
			Devices: []exoteltest.SeedDevice{{ContactURI: "sip:dev123"}}},
	)
	name := map[string]string{}
	for _, u := range seeded {
		name[u.ID] = u.FirstName
	}
	cases := []struct{ query, want string }{
		{"email=asha%40example.com", "Asha"},
		{"email=ASHA@EXAMPLE.COM,bala%40example.com", "Asha,Bala"},
		{"email=bala%40example.com,asha%40example.com", "Asha,Bala"}, // creation order, not filter order
		{"email=asha%40example.com%2Cdev%40example.com", "Asha,Dev"}, // list escaped whole
		{"email=asha%40example.com&email=dev%40example.com", "Asha,Dev"},
		{"email=%20bala%40example.com%20,", "Bala"},
		{"email=nobody%40example.com", ""},
		{"email=", "Asha,Bala,Chitra,Dev"},
		{"devices.contact_uri=%2B919800000003", "Bala"},
		{"devices.contact_uri=%2B919800000001,%2B919800000004", "Asha,Chitra"},
		{"devices.contact_uri=+919800000001,+919800000004", "Asha,Chitra"}, // literal +, leniently
		{"devices.contact_uri=919800000001", ""},
		{"devices.contact_uri=sip:dev123", "Dev"},
		{"email=asha%40example.com&devices.contact_uri=%2B919800000001", "Asha"},
		{"email=asha%40example.com&devices.contact_uri=%2B919800000002", ""},
		{"email=asha%40example.com,bala%40example.com&devices.contact_uri=%2B919800000003,%2B919800000004", "Bala"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			r := do(t, s, "GET", "?"+tc.query, "")
			if r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			m := r.obj(t)
			var got []string
			if m["response"] != nil {
				for _, rec := range m["response"].([]any) {
					got = append(got, name[rec.(map[string]any)["data"].(map[string]any)["id"].(string)])
				}
			}
			if strings.Join(got, ",") != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			md := m["metadata"].(map[string]any)
			if want := float64(len(got)); md["total"] != want || md["count"] != want {
				t.Errorf("metadata %v", md)
			}
		})
	}

	// The real client's encoding (each value escaped, + as %2B) works too.
	c := newClient(t, s, 5*time.Second)
	p, err := c.ListUsers(context.Background(), exotel.ListOptions{Limit: 50,
		Emails: []string{"ASHA@example.com", "bala@EXAMPLE.com"}, ContactURIs: []string{"+919800000003"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Users) != 1 || p.Users[0].FirstName != "Bala" {
		t.Errorf("client filter: %+v", p.Users)
	}
}

func dataKeys(t *testing.T, r raw) [][]string {
	t.Helper()
	m := r.obj(t)
	var datas []any
	switch resp := m["response"].(type) {
	case []any:
		for _, rec := range resp {
			datas = append(datas, rec.(map[string]any)["data"])
		}
	case map[string]any:
		datas = append(datas, resp["data"])
	}
	var out [][]string
	for _, d := range datas {
		var keys []string
		for k := range d.(map[string]any) {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out = append(out, keys)
	}
	return out
}

func TestFieldsSelection(t *testing.T) {
	s := start(t, exoteltest.Options{})
	login := time.Date(2021, 7, 1, 3, 41, 20, 0, time.UTC)
	us := s.Seed(
		exoteltest.SeedUser{FirstName: "Ixxxx", LastName: "S", Email: "abc@xyz.com", Role: "admin", EmailVerified: true,
			LastLogin: login, ActiveCall: "72827ead13a355d334338f53af71157s",
			Devices: []exoteltest.SeedDevice{{Name: "My number", ContactURI: "+919800047047", Verified: true,
				Available: ptr(true), Status: "busy"}}},
		exoteltest.SeedUser{FirstName: "Sxxxx", LastName: "G", Email: "jkl@mno.com"},
	)
	base := "date_created,date_updated,email,email_verified,first_name,id,last_name,role"
	cases := []struct{ query, want string }{
		{"", base},
		{"?fields=devices", base + ",devices"},
		{"?fields=last_login", base + ",last_login"},
		{"?fields=bogus,active_call", "active_call," + base},
		{"?fields=devices,active_call,last_login", "active_call," + base + ",devices,last_login"},
		{"?fields=devices&fields=last_login", base + ",devices,last_login"},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			wantKeys := strings.Split(tc.want, ",")
			sort.Strings(wantKeys)
			for i, keys := range dataKeys(t, do(t, s, "GET", tc.query, "")) {
				if !slices.Equal(keys, wantKeys) {
					t.Errorf("user %d keys %v, want %v", i, keys, wantKeys)
				}
			}
			// The single GET honours fields too.
			q := tc.query
			for _, keys := range dataKeys(t, do(t, s, "GET", "/"+us[1].ID+q, "")) {
				if !slices.Equal(keys, wantKeys) {
					t.Errorf("single GET keys %v, want %v", keys, wantKeys)
				}
			}
		})
	}
	r := do(t, s, "GET", "?fields=devices,active_call,last_login", "")
	body := string(r.body)
	for _, want := range []string{
		`"active_call":"72827ead13a355d334338f53af71157s"`, `"last_login":"2021-07-01T09:11:20+05:30"`,
		`"devices":[{"id":425215,"name":"My number","contact_uri":"+919800047047","type":"tel","available":true,"verified":true,"status":"busy"}]`,
		`"active_call":null`, `"last_login":null`, `"devices":[]`, `"role":"admin"`, `"email_verified":true`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("answer lacks %s:\n%s", want, body)
		}
	}
}
