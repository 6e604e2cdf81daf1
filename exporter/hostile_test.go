package exporter_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
)

// A server must not be trusted blindly: one that repeats a page or answers
// empty ends the export in a few requests, and the summary says the report
// is incomplete.
func TestExportAgainstAServerThatLies(t *testing.T) {
	tests := []struct {
		name        string
		users       int
		fault       exoteltest.ListFault
		after       string // offset at which the fault starts; "" from the first request
		workers     int
		maxRequests int
		seen        int
		missing     int
		repeated    int
	}{
		// With 4 workers, the first page, then at most the 4 in flight
		// and one queued when the repeat is seen.
		{name: "same page forever", users: 300, fault: exoteltest.ListFault{RepeatFirstPage: true},
			workers: 4, maxRequests: 1 + 4 + 1, seen: 50, missing: 250, repeated: 1},
		{name: "same page forever, total in the millions", users: 120, fault: exoteltest.ListFault{RepeatFirstPage: true, Total: 9_000_000},
			workers: 4, maxRequests: 1 + 4 + 1, seen: 50, missing: 9_000_000 - 50, repeated: 1},
		{name: "empty page with a large total", users: 0, fault: exoteltest.ListFault{Empty: true, Total: 100_000},
			workers: 4, maxRequests: 1, seen: 0, missing: 100_000},
		// One worker, so that the page at 150 is asked for after the fault
		// (and, already queued when the empty page is taken, the one at 200).
		{name: "empty from the third page", users: 300, fault: exoteltest.ListFault{Empty: true}, after: "100",
			workers: 1, maxRequests: 4, seen: 100, missing: 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, exoteltest.Options{})
			e.srv.Seed(exoteltest.SampleUsers(tc.users, 1, time.Now())...)
			if tc.after == "" {
				e.srv.SetListFault(tc.fault)
			} else {
				e.srv.SetOnRequest(onceAt(tc.after, func() { e.srv.SetListFault(tc.fault) }))
			}
			sum, sink := run(t, e.client, e.limiter, exporter.Config{Workers: tc.workers})
			gets := checkListRequests(t, e.srv)
			if len(gets) > tc.maxRequests {
				t.Errorf("%d requests, want at most %d", len(gets), tc.maxRequests)
			}
			if sum.Seen != tc.seen || len(sink.recs) != tc.seen || sum.Missing != tc.missing || sum.RepeatedPages != tc.repeated {
				t.Errorf("seen %d (written %d), missing %d, repeated pages %d; want %d, %d, %d", sum.Seen, len(sink.recs),
					sum.Missing, sum.RepeatedPages, tc.seen, tc.missing, tc.repeated)
			}
			if !sum.Incomplete() {
				t.Errorf("Incomplete() = false with %d of %d missing", sum.Missing, sum.APITotal)
			}
			if notes := strings.Join(sum.Notes(), "|"); !strings.Contains(notes, "the report is incomplete") {
				t.Errorf("notes = %q", notes)
			}
		})
	}
}

// Exactly 5,000 users take 100 list calls: the total says where the end
// is, so no empty page is fetched to confirm it.
func TestExportStopsAtTheTotal(t *testing.T) {
	stub := &stubAPI{users: stubUsers(5000)}
	sum, sink := run(t, stub, newLimiter(t, 100000), exporter.Config{Workers: 4})
	if len(stub.calls) != 100 || sum.Requests != 100 {
		t.Errorf("%d list calls (summary %d), want 100", len(stub.calls), sum.Requests)
	}
	if len(sink.recs) != 5000 || sum.Incomplete() || sum.Missing != 0 {
		t.Errorf("%d written, missing %d", len(sink.recs), sum.Missing)
	}
}

// One odd record never fails its page: the user is exported, the summary
// names the oddity, and nothing is "missing".
func TestExportKeepsOddRecords(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	users := exoteltest.SampleUsers(60, 2, time.Now())
	users[7].Raw = map[string]json.RawMessage{"active_call": json.RawMessage(`{"sid":"ca1"}`)}
	users[55].Raw = map[string]json.RawMessage{"active_call": json.RawMessage(`{"sid":"ca2"}`), "last_login": json.RawMessage(`1700000000`)}
	e.srv.Seed(users...)
	sum, sink := run(t, e.client, e.limiter, exporter.Config{})
	if got, want := sink.ids(), userIDs(e.srv.Users()); !slices.Equal(got, want) {
		t.Fatalf("exported %d users, want all %d", len(got), len(want))
	}
	if sum.RecordErrors != 0 || !sum.SeenMatchesTotal || sum.OddRecords != 2 ||
		!slices.Equal(sum.OddFields, []string{"active_call", "last_login"}) {
		t.Errorf("summary: record errors %d, matches %v, odd %d %v", sum.RecordErrors, sum.SeenMatchesTotal, sum.OddRecords, sum.OddFields)
	}
	notes := strings.Join(sum.Notes(), "|")
	if !strings.Contains(notes, "2 user records had values of an unexpected shape (active_call, last_login)") ||
		strings.Contains(notes, "changed") {
		t.Errorf("notes = %q", notes)
	}
	if sink.recs[7].ActiveCall != `{"sid":"ca1"}` {
		t.Errorf("active_call = %q", sink.recs[7].ActiveCall)
	}
}
