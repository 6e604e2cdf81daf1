package ratelimit_test

import (
	"context"
	"fmt"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/ratelimit"
)

// Under Auto, against a window-based server that states its limit in
// X-RateLimit headers, the limiter learns the limit, paces at it, and
// draws no 429: with Exotel's Retry-After of 30 s, one would cost every
// worker half a minute.
func TestAutoFollowsAServerThatStatesItsLimit(t *testing.T) {
	srv := exoteltest.NewServer(exoteltest.Options{Limit: exoteltest.Limit{
		Rate: 40, Window: time.Second, Mode: exoteltest.FixedWindow,
		Headers: true, RetryAfter: true, Body: exoteltest.ThrottleRestException}})
	defer srv.Close()
	lim, err := ratelimit.New(ratelimit.Config{Rate: ratelimit.Auto})
	if err != nil {
		t.Fatal(err)
	}
	client, err := srv.NewClient("", lim)
	if err != nil {
		t.Fatal(err)
	}
	const rows = 100
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < rows; i += 4 {
				_, err := client.CreateUser(context.Background(), exotel.CreateUserRequest{
					FirstName: "Auto", LastName: fmt.Sprint(i), Email: fmt.Sprintf("auto%d@example.com", i)})
				if err != nil {
					t.Errorf("row %d: %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	s := lim.Stats()
	if srv.Throttled() != 0 || s.Throttled != 0 {
		t.Errorf("%d requests drew 429 (limiter saw %d), want none: the headers say when to stop", srv.Throttled(), s.Throttled)
	}
	if s.Source != ratelimit.SourceHeaders || math.Abs(s.Stated-40) > 0.5 || math.Abs(s.Limit-40) > 0.5 {
		t.Errorf("stats = %+v, want 40/s learned from the headers", s)
	}
	if got, want := s.Describe(), "2400/min, from the server's X-RateLimit headers"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
}

// The exotel client tells the limiter when each request was written, so
// that a request written late does not bring the next one closer to it
// than the pace.
func TestClientReportsEachDeparture(t *testing.T) {
	srv := exoteltest.NewServer(exoteltest.Options{})
	defer srv.Close()
	lim, err := ratelimit.New(ratelimit.Config{Rate: 50})
	if err != nil {
		t.Fatal(err)
	}
	client, err := srv.NewClient("", lim)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		before := time.Now()
		if _, err := client.CreateUser(context.Background(), exotel.CreateUserRequest{
			FirstName: "Dep", LastName: fmt.Sprint(i), Email: fmt.Sprintf("dep%d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
		after := time.Now()
		interval := time.Duration(float64(time.Second) / lim.Stats().Rate)
		if nb := lim.NotBefore(); nb.Before(before.Add(interval)) || nb.After(after.Add(interval)) {
			t.Errorf("request %d: the next may leave %v after this one began, want one interval (%v) after it was written, within the call's %v",
				i, nb.Sub(before), interval, after.Sub(before))
		}
	}
}
