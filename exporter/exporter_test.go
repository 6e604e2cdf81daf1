package exporter_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
)

func TestExportSizes(t *testing.T) {
	const latency = 40 * time.Millisecond
	for _, n := range []int{0, 1, 49, 50, 51, 100, 237} {
		t.Run(fmt.Sprintf("%d_users", n), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, exoteltest.Options{Seed: int64(n), Latency: latency})
			e.srv.Seed(exoteltest.SampleUsers(n, 1, time.Now())...)
			api := &countingAPI{api: e.client}
			sum, sink := run(t, api, e.limiter, exporter.Config{Workers: 4})

			if got, want := sink.ids(), userIDs(e.srv.Users()); !slices.Equal(got, want) {
				t.Fatalf("exported %d users, want the account's %d in order\n got %v\nwant %v", len(got), len(want), got, want)
			}
			// One page per 50 users, and one for an empty account: the
			// total says where the end is, so no empty page confirms it.
			wantGets := max(1, (n+49)/50)
			gets := checkListRequests(t, e.srv)
			if len(gets) != wantGets || sum.Requests != wantGets {
				t.Errorf("%d GETs (summary says %d), want %d", len(gets), sum.Requests, wantGets)
			}
			if sum.Seen != n || sum.APITotal != n || !sum.SeenMatchesTotal || sum.DuplicatesDropped != 0 || len(sum.Notes()) != 0 {
				t.Errorf("summary: seen %d, total %d, matches %v, dups %d, notes %q", sum.Seen, sum.APITotal,
					sum.SeenMatchesTotal, sum.DuplicatesDropped, sum.Notes())
			}
			if api.most > 4 {
				t.Errorf("%d requests at once with 4 workers", api.most)
			}
			if n == 237 {
				// Counted at the client, not timed at the server: on a
				// loaded machine arrival times say little, while two
				// calls in flight at once prove the concurrency.
				if api.most < 2 {
					t.Errorf("at most %d request at once: pages after the first were not fetched concurrently", api.most)
				}
			}
		})
	}
}

func TestExportThrottledAndFaulty(t *testing.T) {
	tests := []struct {
		name  string
		opts  exoteltest.Options
		check func(t *testing.T, srv *exoteltest.Server)
	}{
		{
			name: "429s",
			// 10 a second, no burst, no Retry-After, while the client
			// is told 2000 a second with 8 workers: the four pages after
			// the first leave together and the fake can refill only one
			// token per 100 ms, so even a loaded machine draws 429s.
			opts: exoteltest.Options{Limit: exoteltest.Limit{Rate: 10, Window: time.Second, Burst: 1}},
			check: func(t *testing.T, srv *exoteltest.Server) {
				if srv.Throttled() == 0 {
					t.Error("no request was throttled; the test proves nothing")
				}
			},
		},
		{
			name: "5xx_html_and_drops",
			opts: exoteltest.Options{ServerErrorRate: 0.3, HTMLErrors: true, DropBeforeRate: 0.1, DropAfterRate: 0.1},
			check: func(t *testing.T, srv *exoteltest.Server) {
				faults := map[string]int{}
				for _, r := range srv.Requests() {
					faults[r.Fault]++
				}
				if faults["server_error"]+faults["html_error"] == 0 || faults["drop_before"]+faults["drop_after"] == 0 {
					t.Errorf("faults drawn: %v; the test proves nothing", faults)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.Seed = 7
			e := newEnv(t, tc.opts)
			e.srv.Seed(exoteltest.SampleUsers(237, 2, time.Now())...)
			sum, sink := run(t, e.client, e.limiter, exporter.Config{Workers: 8, MaxAttempts: 30})
			if got, want := sink.ids(), userIDs(e.srv.Users()); !slices.Equal(got, want) {
				t.Fatalf("exported %d users, want all %d in order", len(got), len(want))
			}
			// net/http itself may resend a GET whose reused connection
			// was dropped, so the fake can see more than we sent.
			if gets := checkListRequests(t, e.srv); !sum.SeenMatchesTotal || sum.Requests < 6 || sum.Requests > len(gets) {
				t.Errorf("summary: seen %d of %d, %d requests; the fake saw %d", sum.Seen, sum.APITotal, sum.Requests, len(gets))
			}
			tc.check(t, e.srv)
		})
	}
}

// onceAt runs fn the first time a bulk GET asks for offset.
func onceAt(offset string, fn func()) func(*http.Request) {
	var once sync.Once
	return func(r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Query().Get("offset") == offset {
			once.Do(fn)
		}
	}
}

func TestExportUserCreatedMidExport(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.srv.Seed(exoteltest.SampleUsers(150, 3, time.Now())...)
	// Created while the page at offset 100 is asked for: it lands at 150,
	// one past the total the first page gave, so the last planned page
	// comes back full and one more page must be fetched.
	var created []exotel.User
	e.srv.SetOnRequest(onceAt("100", func() {
		created = e.srv.Seed(exoteltest.SeedUser{FirstName: "Late", LastName: "Joiner", Email: "late@example.com", Phone: "+919999900001"})
	}))
	sum, sink := run(t, e.client, e.limiter, exporter.Config{Workers: 4})

	if got, want := sink.ids(), userIDs(e.srv.Users()); !slices.Equal(got, want) {
		t.Fatalf("exported %v\nwant %v", got, want)
	}
	if n := strings.Count(strings.Join(sink.ids(), ","), created[0].ID); n != 1 {
		t.Errorf("the user created mid-export appears %d times", n)
	}
	if sum.Seen != 151 || sum.APITotal != 150 || sum.APITotalAtEnd != 151 || sum.SeenMatchesTotal {
		t.Errorf("summary: seen %d, total %d then %d, matches %v", sum.Seen, sum.APITotal, sum.APITotalAtEnd, sum.SeenMatchesTotal)
	}
	if notes := sum.Notes(); len(notes) != 1 || !strings.Contains(notes[0], "151 users were seen but the API reported 150 at the start and 151 at the end") {
		t.Errorf("notes = %q", notes)
	}
	gets := checkListRequests(t, e.srv)
	if last := gets[len(gets)-1].Query.Get("offset"); len(gets) != 4 || last != "150" {
		t.Errorf("%d GETs, last at offset %s; want 4, ending with the page of one at 150", len(gets), last)
	}
}

func TestExportUserDeletedMidExport(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	seeded := e.srv.Seed(exoteltest.SampleUsers(120, 4, time.Now())...)
	// Deleting the first user once page 0 is read moves everyone up one
	// place: the user who was at offset 50 is now on page 0, already read.
	e.srv.SetOnRequest(onceAt("50", func() {
		req, _ := http.NewRequest(http.MethodDelete, e.srv.UsersURL()+"/"+seeded[0].ID, nil)
		req.SetBasicAuth("test-key", "test-token")
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		resp.Body.Close()
	}))
	// One worker, so that page 100 is surely asked for after the delete.
	sum, sink := run(t, e.client, e.limiter, exporter.Config{Workers: 1})

	if sum.Seen != 119 || len(sink.recs) != 119 || sum.APITotal != 120 || sum.APITotalAtEnd != 119 || sum.SeenMatchesTotal {
		t.Errorf("summary: seen %d (written %d), total %d then %d, matches %v", sum.Seen, len(sink.recs), sum.APITotal,
			sum.APITotalAtEnd, sum.SeenMatchesTotal)
	}
	notes := sum.Notes()
	if len(notes) != 1 || !strings.Contains(notes[0], "119 users were seen but the API reported 120") ||
		!strings.Contains(notes[0], "export again") {
		t.Errorf("notes = %q", notes)
	}
	checkListRequests(t, e.srv)
}

func TestExportDropsDuplicates(t *testing.T) {
	// A user created at the front of the account between page 0 and page
	// 50 pushes user 49 onto page 50 as well.
	stub := &stubAPI{users: stubUsers(120)}
	stub.before = func(s *stubAPI, offset int) {
		if offset == 50 && s.users[0].ID != "new" {
			s.users = append([]exotel.User{{ID: "new", FirstName: "New", Role: "user"}}, s.users...)
		}
	}
	sum, sink := run(t, stub, newLimiter(t, 5000), exporter.Config{Workers: 1})
	want := userIDs(stubUsers(120))
	if got := sink.ids(); !slices.Equal(got, want) {
		t.Fatalf("exported %v\nwant %v", got, want)
	}
	if sum.DuplicatesDropped != 1 || sum.Seen != 120 {
		t.Errorf("summary: %d duplicates dropped, %d seen", sum.DuplicatesDropped, sum.Seen)
	}
}

func TestExportFollowsServerPageSize(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		t.Run(fmt.Sprint("cap_unannounced=", quiet), func(t *testing.T) {
			stub := &stubAPI{users: stubUsers(95), maxLimit: 20, quietCap: quiet}
			sum, sink := run(t, stub, newLimiter(t, 5000), exporter.Config{Workers: 3})
			if got, want := sink.ids(), userIDs(stub.users); !slices.Equal(got, want) {
				t.Fatalf("exported %d users, want %d in order", len(got), len(want))
			}
			var offsets []int
			for i, c := range stub.calls {
				offsets = append(offsets, c.Offset)
				if (i == 0 && c.Limit != 50) || (i > 0 && c.Limit != 20) {
					t.Errorf("call %d asked for limit %d", i, c.Limit)
				}
			}
			slices.Sort(offsets)
			if want := []int{0, 20, 40, 60, 80}; !slices.Equal(offsets, want) {
				t.Errorf("offsets %v, want %v", offsets, want)
			}
			if !sum.SeenMatchesTotal {
				t.Errorf("seen %d of %d", sum.Seen, sum.APITotal)
			}
		})
	}
}

func TestExportRecordErrorsAreCounted(t *testing.T) {
	stub := &stubAPI{users: stubUsers(60), failAt: map[string]bool{"u0003": true, "u0055": true}}
	sum, sink := run(t, stub, newLimiter(t, 5000), exporter.Config{})
	if len(sink.recs) != 58 || sum.RecordErrors != 2 {
		t.Errorf("%d written, %d record errors; want 58 and 2", len(sink.recs), sum.RecordErrors)
	}
	if notes := strings.Join(sum.Notes(), "|"); !strings.Contains(notes, "2 user records were marked as failed") {
		t.Errorf("notes = %q", notes)
	}
}

func TestExportAuthFailure(t *testing.T) {
	e := newEnv(t, exoteltest.Options{APIToken: "other-token"})
	e.srv.Seed(exoteltest.SampleUsers(10, 1, time.Now())...)
	sink := &memSink{}
	_, err := exporter.New(e.client, e.limiter, exporter.Config{}).Run(newSwitch(t, nil), sink)
	if err == nil || !strings.Contains(err.Error(), "refused the credentials") || strings.Contains(err.Error(), "test-token") {
		t.Errorf("err = %v", err)
	}
	if n := len(e.srv.Requests()); n != 1 {
		t.Errorf("%d requests after a 401, want 1", n)
	}
}

func TestExportPageKeepsFailing(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.srv.Seed(exoteltest.SampleUsers(120, 1, time.Now())...)
	e.srv.SetOnRequest(onceAt("50", func() { e.srv.SetFaults(exoteltest.Faults{ServerErrorRate: 1}) }))
	sink := &memSink{}
	_, err := exporter.New(e.client, e.limiter, exporter.Config{MaxAttempts: 3}).Run(newSwitch(t, nil), sink)
	if err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Errorf("err = %v", err)
	}
}

func TestExportInterrupt(t *testing.T) {
	e := newEnv(t, exoteltest.Options{Latency: 5 * time.Millisecond})
	e.srv.Seed(exoteltest.SampleUsers(500, 1, time.Now())...)
	interrupt := make(chan struct{})
	e.srv.SetOnRequest(onceAt("100", func() { close(interrupt) }))
	sink := &memSink{}
	sum, err := exporter.New(e.client, e.limiter, exporter.Config{Workers: 2}).Run(newSwitch(t, interrupt), sink)
	if err != nil || !sum.Interrupted {
		t.Fatalf("err %v, interrupted %v", err, sum.Interrupted)
	}
	// Workers 2: at most the page after 100 and the next one were asked
	// for when the interrupt came.
	if n := len(e.srv.Requests()); n > 5 {
		t.Errorf("%d requests after an interrupt at the third page", n)
	}
}

// failingSink refuses every write, after running before.
type failingSink struct{ before func() }

var errDiskFull = errors.New("no space left on device")

func (s *failingSink) Write(exporter.Record) error {
	s.before()
	return errDiskFull
}

// A real failure is reported as one even when the run was being stopped
// at the same moment: only what the stop caused reads as an interruption.
func TestExportFailureDuringAStopIsNotDropped(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.srv.Seed(exoteltest.SampleUsers(120, 1, time.Now())...)
	interrupt := make(chan struct{})
	sw := newSwitch(t, interrupt)
	var once sync.Once
	sink := &failingSink{before: func() {
		once.Do(func() { close(interrupt) })
		<-sw.Done()
	}}
	sum, err := exporter.New(e.client, e.limiter, exporter.Config{Workers: 2}).Run(sw, sink)
	if !errors.Is(err, errDiskFull) || sum.Interrupted {
		t.Errorf("err %v, interrupted %v; want the write error, not an interruption", err, sum.Interrupted)
	}
}
