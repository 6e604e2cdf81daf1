package resolve_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/resolve"
)

// workEmails seeds n users with ordinary 40-odd character work addresses,
// capitalised as HR spreadsheets do when upper is set, and returns the
// addresses as a list would give them.
func workEmails(e *env, n int, upper bool) []resolve.Ident {
	users := exoteltest.SampleUsers(n, 3, time.Now())
	idents := make([]resolve.Ident, n)
	for i := range users {
		users[i].Email = fmt.Sprintf("%s.%s%03d@acme-logistics.co.in",
			strings.ToLower(users[i].FirstName), strings.ToLower(users[i].LastName), i)
		idents[i].Email = users[i].Email
		if upper {
			idents[i].Email = users[i].FirstName + "." + users[i].LastName + fmt.Sprintf("%03d@Acme-Logistics.co.in", i)
		}
	}
	e.users = e.srv.Seed(users...)
	return idents
}

// emailFilters are the email= lists of the bulk GETs the fake saw.
func emailFilters(srv *exoteltest.Server) [][]string {
	var out [][]string
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet || r.Path != srv.UsersPath() {
			continue
		}
		if v := r.Query.Get("email"); v != "" {
			out = append(out, strings.Split(v, ","))
		}
	}
	return out
}

func TestLookupFiltersStayWithinBudget(t *testing.T) {
	tests := []struct {
		name     string
		upper    bool
		wantGETs int
	}{
		// Fifty ordinary emails fit one filter: one call per 50 rows.
		{"fifty lower-case work emails", false, 1},
		// With capitals each email goes with its lower-case form, and
		// both count: two filters of 25 emails, 50 values each.
		{"fifty capitalised work emails", true, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, 0, exoteltest.Options{})
			idents := workEmails(e, 50, tc.upper)
			ix, err := e.resolver().Lookup(context.Background(), idents)
			if err != nil {
				t.Fatal(err)
			}
			for i, id := range idents {
				if m := ix.Match(id); m.User == nil || m.User.ID != e.users[i].ID {
					t.Fatalf("row %d (%s): %+v", i, id.Email, m)
				}
			}
			filters := emailFilters(e.srv)
			if len(filters) != tc.wantGETs || ix.Requests != tc.wantGETs {
				t.Errorf("%d filtered GETs (index counted %d), want %d", len(filters), ix.Requests, tc.wantGETs)
			}
			for i, f := range filters {
				if n, size := len(f), exotel.FilterBytes(f); n > exotel.MaxPageSize || size > exotel.DefaultFilterBytes {
					t.Errorf("filter %d has %d values, %d bytes: over %d values or %d bytes",
						i, n, size, exotel.MaxPageSize, exotel.DefaultFilterBytes)
				}
			}
		})
	}
}

// A server (or a proxy before it) that refuses a long URL makes the lookup
// halve the batch, and every later batch of the run stays that small.
func TestLookupHalvesBatchesTheServerRefusesAsTooLong(t *testing.T) {
	const maxQuery = 1500 // this proxy's limit: about 30 of these emails
	tests := []struct {
		name   string
		refuse func(w http.ResponseWriter)
	}{
		{"414 from a proxy", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusRequestURITooLong)
			fmt.Fprint(w, "<html><body><h1>414 Request-URI Too Large</h1></body></html>")
		}},
		{"400 that says the request is too long", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"request_id": "r1", "http_code": 400,
				"response": map[string]any{"code": 400, "status": "failure",
					"error_data": map[string]any{"code": "1007", "message": "Request URI is too long"}}})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := exoteltest.NewHandler(exoteltest.Options{})
			var refused atomic.Int32
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if len(r.URL.RawQuery) > maxQuery {
					refused.Add(1)
					tc.refuse(w)
					return
				}
				fake.ServeHTTP(w, r)
			}))
			defer ts.Close()
			client, lim := clientAt(t, ts.URL)
			users := exoteltest.SampleUsers(100, 3, time.Now())
			for i := range users {
				users[i].Email = fmt.Sprintf("firstname.lastname%03d@acme-logistics.co.in", i)
			}
			seeded := fake.Seed(users...)
			res := resolve.New(client, lim, resolve.Config{})
			// Two lookups of 50, as import asks for each 50 rows.
			for from := 0; from < 100; from += 50 {
				var idents []resolve.Ident
				for _, u := range seeded[from : from+50] {
					idents = append(idents, resolve.Ident{Email: u.Email})
				}
				ix, err := res.Lookup(context.Background(), idents)
				if err != nil {
					t.Fatal(err)
				}
				for i, id := range idents {
					if m := ix.Match(id); m.User == nil || m.User.ID != seeded[from+i].ID {
						t.Fatalf("row %d: %+v", from+i, m)
					}
				}
			}
			// The first batch of 50 is refused once and sent as two of 25;
			// the second lookup starts at 25.
			if n := refused.Load(); n != 1 {
				t.Errorf("%d requests refused as too long, want 1: the halved budget is remembered", n)
			}
			var sizes []int
			for _, r := range fake.Requests() {
				if v := r.Query.Get("email"); v != "" {
					sizes = append(sizes, len(strings.Split(v, ",")))
				}
			}
			if fmt.Sprint(sizes) != "[25 25 25 25]" {
				t.Errorf("filter sizes %v, want [25 25 25 25]", sizes)
			}
		})
	}
}

// A single value the server refuses as too long fails its row; it cannot
// be split.
func TestLookupOfOneValueTooLongFailsItsRow(t *testing.T) {
	fake := exoteltest.NewHandler(exoteltest.Options{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, _ := url.ParseQuery(r.URL.RawQuery)
		if strings.Contains(q.Get("email"), "long") {
			w.WriteHeader(http.StatusRequestURITooLong)
			return
		}
		fake.ServeHTTP(w, r)
	}))
	defer ts.Close()
	client, lim := clientAt(t, ts.URL)
	ix, err := resolve.New(client, lim, resolve.Config{}).Lookup(context.Background(),
		[]resolve.Ident{{Email: "long@x.com"}, {Email: "short@x.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if m := ix.Match(resolve.Ident{Email: "long@x.com"}); m.Status != "failed" {
		t.Errorf("the value refused alone: %+v, want failed", m)
	}
	if m := ix.Match(resolve.Ident{Email: "short@x.com"}); m.Status != "not_found" {
		t.Errorf("the other value: %+v, want not_found", m)
	}
}

// clientAt is a client, and its fast limiter, of the fake's account served
// at base by a test's own wrapping server.
func clientAt(t *testing.T, base string) (*exotel.Client, *ratelimit.Limiter) {
	t.Helper()
	lim, err := ratelimit.New(ratelimit.Config{Rate: 2000, Burst: 8})
	if err != nil {
		t.Fatal(err)
	}
	client, err := exotel.New(exotel.Options{BaseURL: base,
		Credentials: exotel.Credentials{APIKey: "test-key", APIToken: exotel.NewSecret("test-token"), AccountSID: "test-sid"},
		HTTPClient:  exotel.NewHTTPClient(4, 10*time.Second), Pacer: lim})
	if err != nil {
		t.Fatal(err)
	}
	return client, lim
}
