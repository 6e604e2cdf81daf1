package exporter_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/ratelimit"
)

// fixedNow is the clock of tests that count inactivity.
func fixedNow() time.Time { return time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC) }

// env is one test's fake account, client and limiter.
type env struct {
	srv     *exoteltest.Server
	client  *exotel.Client
	limiter *ratelimit.Limiter
}

func newEnv(tb testing.TB, opts exoteltest.Options) *env {
	tb.Helper()
	srv := exoteltest.NewServer(opts)
	tb.Cleanup(srv.Close)
	e := &env{srv: srv, limiter: newLimiter(tb, 2000)}
	e.client = newClient(tb, srv, e.limiter)
	return e
}

// newLimiter is a fast limiter whose backoffs are short, so faults cost
// milliseconds.
func newLimiter(tb testing.TB, perSecond float64) *ratelimit.Limiter {
	tb.Helper()
	l, err := ratelimit.New(ratelimit.Config{Rate: perSecond, Burst: 8, BaseBackoff: 5 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

func newClient(tb testing.TB, srv *exoteltest.Server, pacer exotel.Pacer) *exotel.Client {
	tb.Helper()
	c, err := srv.NewClient("test-token", pacer)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// memSink keeps the records an export writes.
type memSink struct{ recs []exporter.Record }

func (m *memSink) Write(r exporter.Record) error {
	m.recs = append(m.recs, r)
	return nil
}

func (m *memSink) ids() []string {
	out := make([]string, len(m.recs))
	for i, r := range m.recs {
		out[i] = r.UserID
	}
	return out
}

// run exports with api and returns what was written.
func run(tb testing.TB, api exporter.API, pacer exporter.Pacer, cfg exporter.Config) (*exporter.Summary, *memSink) {
	tb.Helper()
	sink := &memSink{}
	sum, err := exporter.New(api, pacer, cfg).Run(newSwitch(tb, nil), sink)
	if err != nil {
		tb.Fatal(err)
	}
	return sum, sink
}

func userIDs(users []exotel.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

// checkListRequests fails the test if a bulk GET asked for more than 50
// users or for no limit at all, and returns the GETs.
func checkListRequests(tb testing.TB, srv *exoteltest.Server) []exoteltest.Request {
	tb.Helper()
	var gets []exoteltest.Request
	for _, r := range srv.Requests() {
		if r.Method != "GET" || r.Path != srv.UsersPath() {
			continue
		}
		gets = append(gets, r)
		limit, err := strconv.Atoi(r.Query.Get("limit"))
		if err != nil || limit < 1 || limit > exotel.MaxPageSize {
			tb.Errorf("request %q: limit must be 1..50", r.RawQuery)
		}
		if r.Query.Get("fields") != "devices,active_call,last_login" {
			tb.Errorf("request %q: fields = %q", r.RawQuery, r.Query.Get("fields"))
		}
	}
	return gets
}

// countingAPI measures how many ListUsers calls run at once.
type countingAPI struct {
	api      exporter.API
	mu       sync.Mutex
	inFlight int
	most     int
}

func (c *countingAPI) ListUsers(ctx context.Context, o exotel.ListOptions) (*exotel.Page, error) {
	c.mu.Lock()
	c.inFlight++
	c.most = max(c.most, c.inFlight)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	return c.api.ListUsers(ctx, o)
}

// stubAPI is an account in memory whose pages a test can change between
// calls, for what the fake cannot do (insert a user at the front, answer
// with a smaller page than asked, mark records as failed).
type stubAPI struct {
	mu       sync.Mutex
	users    []exotel.User
	maxLimit int                          // the server's own page cap; 0: 50
	quietCap bool                         // metadata.limit echoes the request, not maxLimit
	before   func(s *stubAPI, offset int) // called under mu before a page is cut
	failAt   map[string]bool              // user ids answered as failed records
	calls    []exotel.ListOptions
}

func stubUsers(n int) []exotel.User {
	us := make([]exotel.User, n)
	for i := range us {
		us[i] = exotel.User{ID: fmt.Sprintf("u%04d", i), FirstName: "First", LastName: fmt.Sprint("Last", i), Role: "user"}
	}
	return us
}

func (s *stubAPI) ListUsers(_ context.Context, o exotel.ListOptions) (*exotel.Page, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, o)
	if s.before != nil {
		s.before(s, o.Offset)
	}
	limit := o.Limit
	if s.maxLimit > 0 && limit > s.maxLimit {
		limit = s.maxLimit
	}
	p := &exotel.Page{Total: len(s.users), Offset: o.Offset, Limit: limit}
	if s.quietCap {
		p.Limit = o.Limit
	}
	if s.quietCap {
		p.Limit = o.Limit
	}
	for i := o.Offset; i < len(s.users) && i < o.Offset+limit; i++ {
		u := s.users[i]
		if s.failAt[u.ID] {
			p.Errors = append(p.Errors, &exotel.APIError{Kind: exotel.KindServer, HTTPStatus: 500, Message: "record failed"})
			continue
		}
		p.Users = append(p.Users, u)
	}
	p.Count = len(p.Users) + len(p.Errors)
	return p, nil
}

// newSwitch returns a run's stop switch, flipped when interrupt closes.
// Export needs no onStop: every request it makes ends with the switch's
// context.
func newSwitch(tb testing.TB, interrupt <-chan struct{}) *halt.Switch {
	sw := halt.New(context.Background(), interrupt, nil)
	tb.Cleanup(sw.Close)
	return sw
}
