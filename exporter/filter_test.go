package exporter_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
)

func TestExportByEmail(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	users := e.srv.Seed(exoteltest.SampleUsers(130, 5, time.Now())...)
	// 60 addresses (one in upper case, one twice, one unknown): two
	// batches, 50 and 10.
	var raw []string
	var want []string
	for i := 0; i < 120; i += 2 {
		raw = append(raw, users[i].Email)
		want = append(want, users[i].ID)
	}
	raw[1] = strings.ToUpper(raw[1])
	raw = append(raw, users[0].Email, "nobody@example.com")
	emails, err := exporter.CleanEmails(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(emails) != 61 {
		t.Fatalf("CleanEmails kept %d addresses, want 61", len(emails))
	}
	sum, sink := run(t, e.client, e.limiter, exporter.Config{Emails: emails, Workers: 4})
	got := sink.ids()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("exported %d users, want %d", len(got), len(want))
	}
	gets := checkListRequests(t, e.srv)
	if len(gets) != 2 {
		t.Fatalf("%d GETs, want 2 batches", len(gets))
	}
	// Each address escaped on its own (@ as %40), joined by literal commas.
	wantStart := "email=" + strings.ReplaceAll(users[0].Email, "@", "%40") + "," + strings.ReplaceAll(strings.ToUpper(users[2].Email), "@", "%40") + ","
	// The batches go out concurrently, so either may be logged first.
	if !strings.HasPrefix(gets[0].RawQuery, "fields=devices,active_call,last_login&"+wantStart) &&
		!strings.HasPrefix(gets[1].RawQuery, "fields=devices,active_call,last_login&"+wantStart) {
		t.Errorf("queries %q, want one to start with %q", []string{gets[0].RawQuery, gets[1].RawQuery}, wantStart)
	}
	for _, g := range gets {
		if n := len(g.Query["email"]) + strings.Count(g.Query.Get("email"), ","); n > 50 {
			t.Errorf("a batch of %d addresses", n)
		}
	}
	if sum.Seen != 60 || sum.APITotal != 60 || !sum.SeenMatchesTotal || sum.Requests != 2 {
		t.Errorf("summary: seen %d of %d in %d requests", sum.Seen, sum.APITotal, sum.Requests)
	}
}

func TestExportByPhone(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	users := e.srv.Seed(exoteltest.SampleUsers(20, 6, time.Now())...)
	// SampleUsers numbers are +9198<8 digits>, counting from 10000000.
	phones, err := exporter.CleanPhones([]string{"098100 00001", "+91 98100-00002", "919810000003", "(0)9810000003", "sip:nobody1"}, "IN")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"+919810000001", "+919810000002", "+919810000003", "sip:nobody1"}; !slices.Equal(phones, want) {
		t.Fatalf("CleanPhones = %q, want %q", phones, want)
	}
	// users[1] is matched by an email as well: written once.
	sum, sink := run(t, e.client, e.limiter, exporter.Config{Phones: phones, Emails: []string{users[1].Email}})
	got := sink.ids()
	slices.Sort(got)
	want := []string{users[1].ID, users[2].ID, users[3].ID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("exported %v, want %v", got, want)
	}
	gets := checkListRequests(t, e.srv)
	// + is sent as %2B, each number escaped on its own, commas literal.
	const wantPhones = "devices.contact_uri=%2B919810000001,%2B919810000002,%2B919810000003,sip%3Anobody1&"
	if len(gets) != 2 || !slices.ContainsFunc(gets, func(r exoteltest.Request) bool { return strings.Contains(r.RawQuery, wantPhones) }) {
		t.Errorf("queries: %q", []string{gets[0].RawQuery, gets[len(gets)-1].RawQuery})
	}
	if sum.MatchedTwice != 1 || !sum.SeenMatchesTotal {
		t.Errorf("matched twice %d, seen %d of %d", sum.MatchedTwice, sum.Seen, sum.APITotal)
	}
}

func TestCleanFiltersRefuseBadValues(t *testing.T) {
	if _, err := exporter.CleanEmails([]string{"ok@example.com", "not-an-email"}); err == nil || !strings.Contains(err.Error(), `"not-an-email"`) {
		t.Errorf("CleanEmails: %v", err)
	}
	if _, err := exporter.CleanPhones([]string{"12"}, "IN"); err == nil || !strings.Contains(err.Error(), `"12"`) {
		t.Errorf("CleanPhones: %v", err)
	}
	roles, err := exporter.CleanRoles([]string{"Agent", "user", "ADMIN", ""})
	if err != nil || !slices.Equal(roles, []string{"user", "admin"}) {
		t.Errorf("CleanRoles = %q, %v", roles, err)
	}
	if _, err := exporter.CleanRoles([]string{"owner"}); err == nil {
		t.Error("CleanRoles accepted owner")
	}
}

func TestReadEmails(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
		err      string
	}{
		{name: "list", in: "\ufeff# leavers\nA@x.com\n\n  b@x.com \na@X.com\n", want: []string{"A@x.com", "b@x.com"}},
		{name: "csv_alias_header", in: "Name,E-mail Address,Phone\nAsha Rao,asha@x.com,+919812345678\nNo Mail,,\nRavi,ravi@x.com,\n",
			want: []string{"asha@x.com", "ravi@x.com"}},
		{name: "csv_single_column", in: "email\nc@x.com\n", want: []string{"c@x.com"}},
		{name: "export_report", in: strings.Join(exporter.Columns(), ",") + "\nid1,A,B,d@x.com,true,user,,,,,,,,,,,,\n", want: []string{"d@x.com"}},
		{name: "bad_line", in: "a@x.com\nbroken@\n", err: `line 2: email "broken@"`},
		{name: "bad_csv_cell", in: "name,email\nA,a@x.com\nB,b at x\n", err: `line 3: email "b at x"`},
		{name: "no_email_column", in: "name,phone\nA,+919812345678\n", err: "no email column"},
		{name: "empty", in: "", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := exporter.ReadEmails(strings.NewReader(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("ReadEmails = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
