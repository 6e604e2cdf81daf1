package webrtc

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/ratelimit"
)

// The client against the fake API, with its faults.

func startFake(t *testing.T, opts exoteltest.Options) *exoteltest.Server {
	t.Helper()
	s := exoteltest.NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// fastLimiter paces like production, only fast.
func fastLimiter(t *testing.T) *ratelimit.Limiter {
	t.Helper()
	l, err := ratelimit.New(ratelimit.Config{Rate: 1000, BaseBackoff: 2 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// fakeClient points a client at s with the fake's default credentials (or
// token when given), through lim when not nil.
func fakeClient(t *testing.T, s *exoteltest.Server, lim *ratelimit.Limiter, token string) (*Client, *syncBuffer) {
	t.Helper()
	if token == "" {
		token = "test-webrtc-token"
	}
	logs := &syncBuffer{}
	opts := Options{BaseURL: s.URL(),
		Credentials: Credentials{Token: exotel.NewSecret(token), CustomerID: "test-customer", AppID: "test-app"},
		HTTPClient:  &http.Client{Timeout: 5 * time.Second, Transport: s.Client().Transport},
		Logger:      slog.New(slog.NewTextHandler(logs, nil))}
	if lim != nil {
		opts.Pacer = lim
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

func john() CreateUserRequest {
	return CreateUserRequest{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210"}
}

func TestFakeRoundTrip(t *testing.T) {
	s := startFake(t, exoteltest.Options{})
	c, _ := fakeClient(t, s, nil, "")
	ctx := context.Background()

	u, err := c.CreateUser(ctx, john())
	if err != nil {
		t.Fatal(err)
	}
	if u.UserID != "agent_001" || u.SIPEnabled == nil || !*u.SIPEnabled || u.SIPCredentials == nil ||
		u.SIPCredentials.Username != "agent_001@test-app.exotel.com" || u.CreatedAt == "" || u.Status != "active" {
		t.Errorf("created %s", dump(*u))
	}
	g, err := c.GetUser(ctx, "agent_001")
	if err != nil || g.Phone != "+919876543210" || g.DeviceStatus == nil || g.UpdatedAt == "" {
		t.Fatalf("get %v %v", g, err)
	}
	p, err := c.ListUsers(ctx, 50, 0)
	if err != nil || len(p.Users) != 1 || p.Total != 1 || !p.HasTotal || p.Limit != 50 {
		t.Fatalf("list %+v %v", p, err)
	}
	if err := c.DeleteUser(ctx, "agent_001"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, "agent_001"); exotel.KindOf(err) != exotel.KindNotFound {
		t.Errorf("second delete: %v", err)
	}
	if _, err := c.GetUser(ctx, "agent_001"); exotel.KindOf(err) != exotel.KindNotFound {
		t.Errorf("get after delete: %v", err)
	}
	off := false
	req := john()
	req.SIPEnabled = &off
	if u, err := c.CreateUser(ctx, req); err != nil || *u.SIPEnabled || u.SIPCredentials != nil {
		t.Errorf("create without SIP: %v %v", u, err)
	}
}

func TestFakeDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name  string
		shape exoteltest.WebRTCErrorBody
		kind  exotel.Kind
	}{
		{name: "message", shape: exoteltest.WebRTCErrorJSON, kind: exotel.KindConflict},
		{name: "plain text", shape: exoteltest.WebRTCErrorText, kind: exotel.KindConflict},
		{name: "no message", shape: exoteltest.WebRTCErrorBare, kind: exotel.KindInvalid},
		{name: "no body", shape: exoteltest.WebRTCErrorEmpty, kind: exotel.KindInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startFake(t, exoteltest.Options{WebRTC: exoteltest.WebRTCOptions{ErrorBody: tc.shape}})
			s.SeedWebRTC(exoteltest.WebRTCUser{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210", SIPEnabled: true})
			c, _ := fakeClient(t, s, nil, "")
			_, err := c.CreateUser(context.Background(), john())
			if got := exotel.KindOf(err); got != tc.kind {
				t.Fatalf("kind %v (%v), want %v", got, err, tc.kind)
			}
			// Either way the caller settles it by the user_id.
			u, err := c.GetUser(context.Background(), "agent_001")
			if err != nil || len(Differences(Person{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210"}, *u)) != 0 {
				t.Errorf("settle: %v %v", u, err)
			}
			if len(s.WebRTCCreates()) != 0 {
				t.Error("a duplicate was created")
			}
		})
	}
}

func TestFakeRefusedToken(t *testing.T) {
	s := startFake(t, exoteltest.Options{})
	c, _ := fakeClient(t, s, nil, "wrong-token")
	ctx := context.Background()
	_, err1 := c.CreateUser(ctx, john())
	_, err2 := c.ListPage(ctx, 0)
	err3 := c.DeleteUser(ctx, "agent_001")
	for i, err := range []error{err1, err2, err3} {
		if exotel.KindOf(err) != exotel.KindAuth || exotel.RetryVerdict(err) != ratelimit.Stop {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if c.PageSize() != PreferredPageSize || s.CountRequests("") != 3 {
		t.Errorf("a 401 on a list changed the page size or was repeated (%d requests)", s.CountRequests(""))
	}
}

func TestFakeServerErrors(t *testing.T) {
	s := startFake(t, exoteltest.Options{ServerErrorRate: 1, HTMLErrors: true, Seed: 3})
	c, _ := fakeClient(t, s, nil, "")
	for range 6 {
		_, err := c.GetUser(context.Background(), "agent_001")
		if exotel.KindOf(err) != exotel.KindServer || exotel.RetryVerdict(err) != ratelimit.Backoff {
			t.Fatalf("5xx: %v", err)
		}
	}
	// Retried through the shared limiter, a flaky server is paged through
	// whole: every user once.
	s = startFake(t, exoteltest.Options{ServerErrorRate: 0.4, Seed: 5})
	s.SeedWebRTC(exoteltest.SampleWebRTCUsers(130, 1, time.Now())...)
	lim := fastLimiter(t)
	c, _ = fakeClient(t, s, lim, "")
	got := walkAll(t, c, lim)
	if len(got) != 130 {
		t.Errorf("walked %d users, want 130", len(got))
	}
	if s.CountRequests("GET") <= 3 {
		t.Errorf("%d GETs: the faults did not fire", s.CountRequests("GET"))
	}
}

// walkAll walks the list with every page retried as the exporter retries
// pages, and returns the user ids in order, failing on a duplicate.
func walkAll(t *testing.T, c *Client, lim *ratelimit.Limiter) []string {
	t.Helper()
	fetch := func(ctx context.Context, offset int) (*Page, error) {
		var p *Page
		_, err := lim.Retry(ctx, 20, exotel.RetryVerdict, func() error {
			var err error
			p, err = c.ListPage(ctx, offset)
			return err
		})
		return p, err
	}
	var ids []string
	seen := map[string]bool{}
	err := Walk(context.Background(), fetch, func(p *Page) error {
		for _, u := range p.Users {
			if seen[u.UserID] {
				t.Errorf("user %s twice", u.UserID)
			}
			seen[u.UserID] = true
			ids = append(ids, u.UserID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Walk: %v", err)
	}
	return ids
}

func TestFakeLostAnswers(t *testing.T) {
	s := startFake(t, exoteltest.Options{DropAfterRate: 1, FaultMethods: []string{"POST", "DELETE"}})
	c, _ := fakeClient(t, s, nil, "")
	ctx := context.Background()
	_, err := c.CreateUser(ctx, john())
	if !exotel.IsAmbiguous(err) {
		t.Fatalf("lost create: %v", err)
	}
	// The create took effect; GET by user_id settles it before any retry.
	u, err := c.GetUser(ctx, "agent_001")
	if err != nil || len(Differences(Person{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210"}, *u)) != 0 {
		t.Fatalf("settle: %v %v", u, err)
	}
	// A blind retry would have been refused as a duplicate, not doubled.
	s.SetFaults(exoteltest.Faults{})
	if _, err := c.CreateUser(ctx, john()); exotel.KindOf(err) != exotel.KindConflict {
		t.Errorf("retry: %v", err)
	}
	if n := s.WebRTCCreates()["agent_001"]; n != 1 {
		t.Errorf("created %d times", n)
	}

	s.SetFaults(exoteltest.Faults{DropAfterRate: 1})
	if err := c.DeleteUser(ctx, "agent_001"); !exotel.IsAmbiguous(err) {
		t.Fatalf("lost delete: %v", err)
	}
	s.SetFaults(exoteltest.Faults{})
	if err := c.DeleteUser(ctx, "agent_001"); exotel.KindOf(err) != exotel.KindNotFound {
		t.Errorf("repeated delete: %v, want not found (already gone)", err)
	}
}

func TestFakePageSizeFallback(t *testing.T) {
	s := startFake(t, exoteltest.Options{WebRTC: exoteltest.WebRTCOptions{MaxPageSize: 25}})
	s.SeedWebRTC(exoteltest.SampleWebRTCUsers(61, 2, time.Now())...)
	lim := fastLimiter(t)
	c, logs := fakeClient(t, s, lim, "")
	got := walkAll(t, c, lim)
	if len(got) != 61 || got[0] != "agent_001" || got[60] != "agent_061" {
		t.Errorf("walked %d users: %v", len(got), got)
	}
	var queries []string
	for _, r := range s.Requests() {
		queries = append(queries, r.RawQuery+" "+http.StatusText(r.Status))
	}
	want := "limit=50&offset=0 Bad Request|limit=20&offset=0 OK|limit=20&offset=20 OK|limit=20&offset=40 OK|limit=20&offset=60 OK"
	if strings.Join(queries, "|") != want {
		t.Errorf("requests:\n%s\nwant\n%s", strings.Join(queries, "|"), want)
	}
	// A second walk starts at the remembered size and says nothing more.
	if got := walkAll(t, c, lim); len(got) != 61 {
		t.Errorf("second walk: %d users", len(got))
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 || !strings.Contains(logs.String(), "refused=50 page_size=20") {
		t.Errorf("log:\n%s", logs)
	}
	if s.CountRequests("GET") != 9 {
		t.Errorf("%d GETs, want 9", s.CountRequests("GET"))
	}
}

func TestFakeThrottlesThroughTheSharedLimiter(t *testing.T) {
	s := startFake(t, exoteltest.Options{Limit: exoteltest.Limit{Rate: 100, Window: time.Second, Body: exoteltest.ThrottleEnvelope}})
	s.SeedWebRTC(exoteltest.SampleWebRTCUsers(5, 3, time.Now())...)
	lim := fastLimiter(t)
	c, _ := fakeClient(t, s, lim, "")
	ctx := context.Background()
	for i := range 30 {
		id := []string{"agent_001", "agent_002", "agent_003", "agent_004", "agent_005"}[i%5]
		_, err := lim.Retry(ctx, 50, exotel.RetryVerdict, func() error {
			_, err := c.GetUser(ctx, id)
			return err
		})
		if err != nil {
			t.Fatalf("GET %s: %v", id, err)
		}
	}
	// Every 429 the fake sent reached the limiter, which paced the rest.
	if got, want := lim.Stats().Throttled, s.Throttled(); got != want {
		t.Errorf("limiter saw %d throttles, the fake sent %d", got, want)
	}
	if lim.Stats().Requests != s.CountRequests("") {
		t.Errorf("limiter saw %d requests, the fake %d", lim.Stats().Requests, s.CountRequests(""))
	}
}

func TestFakeStoppedLimiterSendsNothing(t *testing.T) {
	s := startFake(t, exoteltest.Options{})
	lim := fastLimiter(t)
	c, _ := fakeClient(t, s, lim, "")
	lim.Stop()
	_, err := c.CreateUser(context.Background(), john())
	if !ratelimit.ErrStopped(err) || s.CountRequests("") != 0 {
		t.Errorf("err %v, %d requests", err, s.CountRequests(""))
	}
	var te *exotel.TransportError
	if errors.As(err, &te) {
		t.Error("a refused start is not a lost answer")
	}
}
