package exoteltest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
)

func TestRequestLog(t *testing.T) {
	clk := newClock(t0())
	s := start(t, exoteltest.Options{Now: clk.Now, Limit: exoteltest.Limit{Rate: 3, Burst: 3}})
	c := newClient(t, s, 5*time.Second)
	ctx := context.Background()
	if _, err := c.CreateUser(ctx, asha()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	r := do(t, s, "GET", "?email=asha%40example.com,b%40x.com&devices.contact_uri=%2B919800000001&limit=5", "")
	do(t, s, "DELETE", "/nope", "", auth("test-key", "bad"))
	do(t, s, "GET", "", "")

	log := s.Requests()
	if len(log) != 4 {
		t.Fatalf("%d entries", len(log))
	}
	post, get, bad, throttled := log[0], log[1], log[2], log[3]
	var sent exotel.CreateUserRequest
	if err := json.Unmarshal(post.Body, &sent); err != nil || sent != asha() {
		t.Errorf("logged body %s (%v)", post.Body, err)
	}
	if post.Method != "POST" || post.Path != "/v2/accounts/test-sid/users" || post.Status != 200 || post.Decided != 200 ||
		post.Code != "" || !post.Time.Equal(t0()) || post.Throttled || post.Dropped != "" || post.Fault != "" {
		t.Errorf("POST entry %+v", post)
	}
	var env struct {
		RequestID string `json:"request_id"`
	}
	_ = json.Unmarshal(r.body, &env)
	if get.RequestID != env.RequestID || get.Status != 200 || !get.Time.Equal(t0().Add(time.Second)) ||
		get.RawQuery != "email=asha%40example.com,b%40x.com&devices.contact_uri=%2B919800000001&limit=5" ||
		get.Query.Get("email") != "asha@example.com,b@x.com" || get.Query.Get("devices.contact_uri") != "+919800000001" || len(get.Body) != 0 {
		t.Errorf("GET entry %+v", get)
	}
	if bad.Status != 401 || bad.Code != "1010" || bad.Method != "DELETE" || bad.Path != "/v2/accounts/test-sid/users/nope" {
		t.Errorf("401 entry %+v", bad)
	}
	if !throttled.Throttled || throttled.Status != 429 {
		t.Errorf("429 entry %+v", throttled)
	}
	if s.CountRequests("GET") != 2 || s.CountRequests("post") != 1 || s.CountRequests("") != 4 || s.Throttled() != 1 || s.Creates() != 1 {
		t.Errorf("counts GET=%d POST=%d all=%d throttled=%d creates=%d", s.CountRequests("GET"),
			s.CountRequests("POST"), s.CountRequests(""), s.Throttled(), s.Creates())
	}
	// Requests returns copies.
	log[0].Body[0] = 'X'
	log[1].Query.Set("email", "changed")
	if again := s.Requests(); again[0].Body[0] != '{' || again[1].Query.Get("email") != "asha@example.com,b@x.com" {
		t.Error("Requests() shares memory with the log")
	}
}

func TestOnRequestHookChangesStateMidExport(t *testing.T) {
	s := start(t, exoteltest.Options{})
	seedN(s, 60)
	var gets atomic.Int32
	s.SetOnRequest(func(r *http.Request) {
		if r.Method == "GET" && gets.Add(1) == 2 {
			// Someone adds a user on the dashboard between two pages.
			s.Seed(exoteltest.SeedUser{FirstName: "Late", LastName: "Comer", Email: "late@example.com"})
		}
	})
	c := newClient(t, s, 5*time.Second)
	ctx := context.Background()
	p1, err := c.ListUsers(ctx, exotel.ListOptions{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := c.ListUsers(ctx, exotel.ListOptions{Offset: 50, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	if p1.Total != 60 || p2.Total != 61 || len(p2.Users) != 11 || p2.Users[10].Email != "late@example.com" {
		t.Errorf("totals %d/%d, second page %d users", p1.Total, p2.Total, len(p2.Users))
	}

	// A hook may read the body; the fake still sees it whole.
	var seen string
	s.SetOnRequest(func(r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = string(b)
	})
	if _, err := c.CreateUser(ctx, asha()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(seen, `"first_name":"Asha"`) {
		t.Errorf("hook saw %q", seen)
	}
	s.SetOnRequest(nil)
}

func TestOnRequestOption(t *testing.T) {
	var calls atomic.Int32
	s := start(t, exoteltest.Options{OnRequest: func(*http.Request) { calls.Add(1) }})
	do(t, s, "GET", "", "")
	do(t, s, "GET", "//elsewhere", "")
	if calls.Load() != 2 {
		t.Errorf("hook called %d times, want every request", calls.Load())
	}
}

func TestSeededIDsAreDeterministic(t *testing.T) {
	ids := func(seed int64) []string {
		s := start(t, exoteltest.Options{Seed: seed})
		c := newClient(t, s, 5*time.Second)
		var out []string
		for i := range 3 {
			u, err := c.CreateUser(context.Background(), exotel.CreateUserRequest{FirstName: "U", LastName: fmt.Sprint(i)})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, u.ID)
		}
		for _, e := range s.Requests() {
			out = append(out, e.RequestID)
		}
		return out
	}
	a, b, c := ids(42), ids(42), ids(43)
	if strings.Join(a, ",") != strings.Join(b, ",") {
		t.Errorf("same seed, different ids:\n%v\n%v", a, b)
	}
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Error("different seeds, same ids")
	}
	seen := map[string]bool{}
	for _, id := range a {
		if !isHex32(id) || seen[id] {
			t.Errorf("id %q is not a fresh 32-hex id", id)
		}
		seen[id] = true
	}
}

func TestConcurrentCreatesNeverDuplicate(t *testing.T) {
	s := start(t, exoteltest.Options{Seed: 1, LatencyJitter: 5 * time.Millisecond})
	c := newClient(t, s, 5*time.Second)
	var wg sync.WaitGroup
	var created, conflicts atomic.Int32
	for i := range 60 {
		wg.Go(func() {
			p := i % 10 // every person is sent 6 times, concurrently
			_, err := c.CreateUser(context.Background(), exotel.CreateUserRequest{FirstName: "P", LastName: fmt.Sprint(p),
				Email: fmt.Sprintf("p%d@example.com", p), DeviceContactURI: fmt.Sprintf("+9198000000%02d", p)})
			switch exotel.KindOf(err) {
			case exotel.KindUnknown:
				created.Add(1)
			case exotel.KindConflict:
				conflicts.Add(1)
			default:
				t.Errorf("unexpected %v", err)
			}
		})
	}
	// Readers race the writers; -race checks the locking.
	for range 4 {
		wg.Go(func() {
			for range 20 {
				_ = s.Users()
				_ = s.Requests()
				_ = s.CreatesByEmail()
				_ = s.Throttled()
			}
		})
	}
	wg.Wait()
	if created.Load() != 10 || conflicts.Load() != 50 {
		t.Errorf("%d created, %d conflicts; want 10 and 50", created.Load(), conflicts.Load())
	}
	for k, n := range s.CreatesByEmail() {
		if n != 1 {
			t.Errorf("%s created %d times", k, n)
		}
	}
	for k, n := range s.CreatesByPhone() {
		if n != 1 {
			t.Errorf("%s created %d times", k, n)
		}
	}
	if len(s.Users()) != 10 {
		t.Errorf("%d users", len(s.Users()))
	}
}

func TestSeed(t *testing.T) {
	clk := newClock(t0())
	s := start(t, exoteltest.Options{Now: clk.Now})
	created := time.Date(2013, 10, 5, 5, 36, 56, 0, time.UTC)
	us := s.Seed(
		exoteltest.SeedUser{FirstName: "Ixxxx", LastName: "S", Email: "abc@xyz.com", Role: "admin", DateCreated: created,
			Phone: "+919800000001", Devices: []exoteltest.SeedDevice{
				{ContactURI: "sip:ixxxx1"},
				{ContactURI: "+919800000002", Available: ptr(true)}, // unverified: availability stays null
			}},
		exoteltest.SeedUser{ID: "4d549a1ba55b4fab864c984963a3af91", FirstName: "S", LastName: "G"},
	)
	u := us[0]
	if !isHex32(u.ID) || u.DateCreated != "2013-10-05T11:06:56+05:30" || u.DateUpdated != u.DateCreated || u.Role != "admin" {
		t.Errorf("seeded %+v", u)
	}
	if len(u.Devices) != 3 || u.Devices[0].ContactURI != "+919800000001" || u.Devices[0].Type != "tel" ||
		u.Devices[1].Type != "sip" || u.Devices[2].Available != nil || u.Devices[2].ID != u.Devices[0].ID+2 {
		t.Errorf("devices %+v", u.Devices)
	}
	if us[1].ID != "4d549a1ba55b4fab864c984963a3af91" || us[1].Role != "user" || us[1].DateCreated != "2021-07-21T21:43:38+05:30" {
		t.Errorf("second %+v", us[1])
	}
	if s.CountRequests("") != 0 || s.Creates() != 0 {
		t.Error("seeding was logged as requests")
	}
	for name, su := range map[string]exoteltest.SeedUser{
		"duplicate email": {FirstName: "X", LastName: "Y", Email: "ABC@xyz.com"},
		"duplicate phone": {FirstName: "X", LastName: "Y", Phone: "+919800000002"},
		"duplicate sip":   {FirstName: "X", LastName: "Y", Devices: []exoteltest.SeedDevice{{ContactURI: "sip:ixxxx1"}}},
		"duplicate id":    {ID: "4d549a1ba55b4fab864c984963a3af91", FirstName: "X", LastName: "Y"},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			s.Seed(su)
		})
	}
	if len(s.Users()) != 2 {
		t.Errorf("%d users after refused seeds", len(s.Users()))
	}
}

func TestSeedIsAllOrNothing(t *testing.T) {
	s := start(t, exoteltest.Options{})
	func() {
		defer func() { _ = recover() }()
		s.Seed(
			exoteltest.SeedUser{FirstName: "A", LastName: "B", Email: "a@example.com"},
			exoteltest.SeedUser{FirstName: "C", LastName: "D", Email: "A@example.com"},
		)
	}()
	if n := len(s.Users()); n != 0 {
		t.Errorf("a refused Seed added %d users", n)
	}
	// The lock was released: the fake still works.
	s.Seed(exoteltest.SeedUser{FirstName: "A", LastName: "B", Email: "a@example.com", Phone: "+919800000001"})
	if u := s.Users(); len(u) != 1 || u[0].Devices[0].ID != 425215 {
		t.Errorf("users %+v", u)
	}
}

func TestUnstartedServer(t *testing.T) {
	s := exoteltest.NewUnstartedServer(exoteltest.Options{})
	t.Cleanup(s.Close)
	s.Seed(exoteltest.SeedUser{FirstName: "A", LastName: "B"})
	s.Start()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q is not loopback", s.URL())
	}
	p, err := newClient(t, s, 5*time.Second).ListUsers(context.Background(), exotel.ListOptions{})
	if err != nil || p.Total != 1 {
		t.Errorf("list: %+v %v", p, err)
	}
}
