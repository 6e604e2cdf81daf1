package exporter_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
)

// auditUsers are six people whose every count is known by hand, at fixedNow.
func auditUsers() []exoteltest.SeedUser {
	now := fixedNow()
	day := 24 * time.Hour
	on := true
	return []exoteltest.SeedUser{
		{ID: "u1", FirstName: "Asha", LastName: "Admin", Email: "asha@x.com", EmailVerified: true, Role: "admin",
			Devices: []exoteltest.SeedDevice{{ContactURI: "+919800000001", Verified: true, Available: &on}}, LastLogin: now.Add(-day)},
		{ID: "u2", FirstName: "Bala", LastName: "Admin", Email: "bala@x.com", Role: "admin",
			Devices: []exoteltest.SeedDevice{{ContactURI: "+919800000002"}}},
		{ID: "u3", FirstName: "Chitra", LastName: "Super", Role: "supervisor", // no email; 90 days to the second
			Devices:   []exoteltest.SeedDevice{{ContactURI: "+919800000003"}, {ContactURI: "+919800000033", Verified: true}},
			LastLogin: now.Add(-90 * day)},
		{ID: "u4", FirstName: "Dev", LastName: "Agent", Email: "dev@x.com", EmailVerified: true, Role: "user",
			LastLogin: now.Add(-89 * day)}, // no device
		{ID: "u5", FirstName: "Esha", LastName: "Agent", Email: "esha@x.com", Role: "user",
			Devices:   []exoteltest.SeedDevice{{ContactURI: "+919800000005"}, {ContactURI: "sip:esha5"}},
			LastLogin: now.Add(-200 * day)},
		{ID: "u6", FirstName: "Farah", LastName: "Agent", Email: "farah@x.com", EmailVerified: true, Role: "user",
			Devices: []exoteltest.SeedDevice{{ContactURI: "+919800000006", Verified: true}}},
	}
}

func TestSummaryCounts(t *testing.T) {
	all := exporter.Audit{Users: 6, ByRole: map[string]int{"admin": 2, "supervisor": 1, "user": 3}, Admins: 2,
		NeverLoggedIn: 2, InactiveOrNeverLoggedIn: 4, LoggedInButInactive: 2,
		UnverifiedDevices: 4, UsersWithUnverifiedDevice: 3, UnverifiedEmails: 2, NoEmail: 1, NoDevice: 1}
	tests := []struct {
		name    string
		cfg     exporter.Config
		written []string
		report  exporter.Audit
	}{
		{name: "all", written: []string{"u1", "u2", "u3", "u4", "u5", "u6"}, report: all},
		{name: "admins", cfg: exporter.Config{Roles: []string{"admin"}}, written: []string{"u1", "u2"},
			report: exporter.Audit{Users: 2, ByRole: map[string]int{"admin": 2, "supervisor": 0, "user": 0}, Admins: 2,
				NeverLoggedIn: 1, InactiveOrNeverLoggedIn: 1, UnverifiedDevices: 1, UsersWithUnverifiedDevice: 1, UnverifiedEmails: 1}},
		{name: "inactive_90", cfg: exporter.Config{InactiveDays: 90}, written: []string{"u2", "u3", "u5", "u6"},
			report: exporter.Audit{Users: 4, ByRole: map[string]int{"admin": 1, "supervisor": 1, "user": 2}, Admins: 1,
				NeverLoggedIn: 2, InactiveOrNeverLoggedIn: 4, LoggedInButInactive: 2,
				UnverifiedDevices: 4, UsersWithUnverifiedDevice: 3, UnverifiedEmails: 2, NoEmail: 1}},
		{name: "agents_inactive_200", cfg: exporter.Config{Roles: []string{"user"}, InactiveDays: 200}, written: []string{"u5", "u6"},
			report: exporter.Audit{Users: 2, ByRole: map[string]int{"admin": 0, "supervisor": 0, "user": 2},
				NeverLoggedIn: 1, InactiveOrNeverLoggedIn: 2, LoggedInButInactive: 1, UnverifiedDevices: 2, UsersWithUnverifiedDevice: 1, UnverifiedEmails: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, exoteltest.Options{})
			e.srv.Seed(auditUsers()...)
			tc.cfg.Now = fixedNow
			sum, sink := run(t, e.client, e.limiter, tc.cfg)
			if got := sink.ids(); !slices.Equal(got, tc.written) {
				t.Errorf("written %v, want %v", got, tc.written)
			}
			checkAudit(t, "report", sum.Report, tc.report)
			if tc.cfg.InactiveDays == 0 || tc.cfg.InactiveDays == 90 {
				checkAudit(t, "fetched", sum.Fetched, all)
			}
			if want := max(tc.cfg.InactiveDays, 0); want > 0 && sum.InactiveDays != want {
				t.Errorf("summary threshold %d, want the filter's %d", sum.InactiveDays, want)
			}
		})
	}
}

func checkAudit(t *testing.T, name string, got, want exporter.Audit) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if !bytes.Equal(g, w) {
		t.Errorf("%s audit\n got %s\nwant %s", name, g, w)
	}
}

// TestSummaryMatchesSeededAccount counts a sample account independently of
// the exporter, from the data it was seeded with.
func TestSummaryMatchesSeededAccount(t *testing.T) {
	now := fixedNow()
	seeds := exoteltest.SampleUsers(237, 9, now)
	var want exporter.Audit
	want.ByRole = map[string]int{"admin": 0, "supervisor": 0, "user": 0}
	for _, s := range seeds {
		want.Users++
		want.ByRole[s.Role]++
		if s.Role == "admin" {
			want.Admins++
		}
		inactive := !s.LastLogin.IsZero() && now.Sub(s.LastLogin) >= 90*24*time.Hour
		if s.LastLogin.IsZero() {
			want.NeverLoggedIn++
		}
		if s.LastLogin.IsZero() || inactive {
			want.InactiveOrNeverLoggedIn++
		}
		if inactive {
			want.LoggedInButInactive++
		}
		if s.Email != "" && !s.EmailVerified {
			want.UnverifiedEmails++
		}
		bad := 0
		for _, d := range s.Devices {
			if !d.Verified {
				bad++
			}
		}
		want.UnverifiedDevices += bad
		if bad > 0 {
			want.UsersWithUnverifiedDevice++
		}
	}
	if want.Admins == 0 || want.NeverLoggedIn == 0 || want.LoggedInButInactive == 0 || want.UnverifiedDevices == 0 {
		t.Fatalf("the sample lacks a case: %+v", want)
	}

	e := newEnv(t, exoteltest.Options{})
	e.srv.Seed(seeds...)
	sum, _ := run(t, e.client, e.limiter, exporter.Config{Now: fixedNow, Workers: 4})
	checkAudit(t, "report", sum.Report, want)
	checkAudit(t, "fetched", sum.Fetched, want)
}

func TestSummaryJSONAndText(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.srv.Seed(auditUsers()...)
	sum, _ := run(t, e.client, e.limiter, exporter.Config{Now: fixedNow, Roles: []string{"admin"}})

	var buf bytes.Buffer
	if err := sum.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"generated_at", "inactive_days", "api_total", "api_total_at_end", "seen", "seen_matches_total",
		"duplicates_dropped", "record_errors", "requests", "report", "fetched", "filters"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("summary JSON has no %q", k)
		}
	}
	fetched := doc["fetched"].(map[string]any)
	if got := fetched["admins"]; got != 2.0 {
		t.Errorf("fetched.admins = %v", got)
	}
	// "inactive" is the set --inactive-days selects, under the plain name.
	if fetched["inactive"] != 4.0 || fetched["inactive"] != fetched["inactive_or_never_logged_in"] {
		t.Errorf("fetched.inactive = %v, inactive_or_never_logged_in = %v, want both 4",
			fetched["inactive"], fetched["inactive_or_never_logged_in"])
	}
	if got := doc["generated_at"]; got != "2026-01-15T12:00:00Z" {
		t.Errorf("generated_at = %v", got)
	}

	buf.Reset()
	if err := sum.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, line := range []string{"report   fetched", "users                                        2         6",
		"  admin                                      2         2", "inactive 90+ days or never logged in         1         4"} {
		if !strings.Contains(text, line) {
			t.Errorf("text summary lacks %q:\n%s", line, text)
		}
	}
}

func TestAdminNote(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.srv.Seed(auditUsers()[:2]...) // two admins, no one else
	sum, _ := run(t, e.client, e.limiter, exporter.Config{Now: fixedNow})
	if notes := strings.Join(sum.Notes(), "|"); !strings.Contains(notes, "2 admins for 2 users") {
		t.Errorf("notes = %q", notes)
	}
}
