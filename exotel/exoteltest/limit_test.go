package exoteltest_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
)

// quota is the rate-limit part of an answer.
type quota struct {
	status                    int
	limit, remaining, reset   string
	retryAfter                string
	hasLimitHeaders, hasRetry bool
}

func quotaOf(r raw) quota {
	_, hasL := r.header["X-Ratelimit-Limit"]
	_, hasR := r.header["Retry-After"]
	return quota{status: r.status, limit: r.header.Get("X-RateLimit-Limit"),
		remaining: r.header.Get("X-RateLimit-Remaining"), reset: r.header.Get("X-RateLimit-Reset"),
		retryAfter: r.header.Get("Retry-After"), hasLimitHeaders: hasL, hasRetry: hasR}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestTokenBucket(t *testing.T) {
	clk := newClock(t0())
	s := start(t, exoteltest.Options{Now: clk.Now, Limit: exoteltest.Limit{
		Rate: 60, Window: time.Minute, Burst: 5, Headers: true, RetryAfter: true}})
	now := t0()
	for i := range 8 {
		q := quotaOf(do(t, s, "POST", "", fmt.Sprintf(`{"first_name":"U%d","last_name":"L"}`, i)))
		want := quota{status: 200, limit: "5", remaining: strconv.Itoa(4 - i), reset: unix(now), hasLimitHeaders: true}
		switch {
		case i == 4:
			want.reset = unix(now.Add(time.Second)) // the next token
		case i > 4:
			want = quota{status: 429, limit: "5", remaining: "0", reset: unix(now.Add(time.Second)),
				retryAfter: "1", hasLimitHeaders: true, hasRetry: true}
		}
		if q != want {
			t.Errorf("request %d: %+v, want %+v", i, q, want)
		}
	}
	if s.Throttled() != 3 || len(s.Users()) != 5 {
		t.Errorf("Throttled() = %d, users %d; throttled POSTs must have no effect", s.Throttled(), len(s.Users()))
	}

	// One token per second comes back.
	clk.Advance(time.Second)
	if q := quotaOf(do(t, s, "GET", "", "")); q.status != 200 || q.remaining != "0" {
		t.Errorf("after 1s: %+v", q)
	}
	if q := quotaOf(do(t, s, "GET", "", "")); q.status != 429 {
		t.Errorf("second after 1s: %+v", q)
	}
	// Half a token is not enough; Retry-After rounds up.
	clk.Advance(500 * time.Millisecond)
	if q := quotaOf(do(t, s, "GET", "", "")); q.status != 429 || q.retryAfter != "1" || q.reset != unix(t0().Add(2*time.Second)) {
		t.Errorf("after 1.5s: %+v", q)
	}
	// A long pause refills to Burst and no further.
	clk.Advance(time.Hour)
	ok := 0
	for range 7 {
		if do(t, s, "GET", "", "").status == 200 {
			ok++
		}
	}
	if ok != 5 {
		t.Errorf("%d passed after a long pause, want the burst of 5", ok)
	}
}

func TestTokenBucketDefaults(t *testing.T) {
	// Exotel's documented 50/minute with the default burst of 1: one call
	// every 1.2 s.
	clk := newClock(t0())
	s := start(t, exoteltest.Options{Now: clk.Now, Limit: exoteltest.Limit{Rate: 50, Headers: true, RetryAfter: true}})
	if q := quotaOf(do(t, s, "GET", "", "")); q.status != 200 || q.limit != "1" || q.remaining != "0" || q.reset != unix(t0().Add(2*time.Second)) {
		t.Errorf("first: %+v", q)
	}
	if q := quotaOf(do(t, s, "GET", "", "")); q.status != 429 || q.retryAfter != "2" {
		t.Errorf("second: %+v", q)
	}
	clk.Advance(1200 * time.Millisecond)
	if q := quotaOf(do(t, s, "GET", "", "")); q.status != 200 {
		t.Errorf("after 1.2s: %+v", q)
	}
}

func TestTokenBucketConcurrentBurst(t *testing.T) {
	clk := newClock(t0()) // frozen: nothing refills
	s := start(t, exoteltest.Options{Now: clk.Now, Limit: exoteltest.Limit{Rate: 50, Burst: 10}})
	c := newClient(t, s, 5*time.Second)
	var wg sync.WaitGroup
	var mu sync.Mutex
	kinds := map[exotel.Kind]int{}
	for i := range 40 {
		wg.Go(func() {
			_, err := c.CreateUser(context.Background(), exotel.CreateUserRequest{
				FirstName: "U", LastName: strconv.Itoa(i), Email: fmt.Sprintf("u%d@example.com", i)})
			mu.Lock()
			kinds[exotel.KindOf(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if kinds[exotel.KindUnknown] != 10 || kinds[exotel.KindThrottled] != 30 {
		t.Errorf("outcomes %v, want 10 created and 30 throttled", kinds)
	}
	if s.Throttled() != 30 || len(s.Users()) != 10 || len(s.CreatesByEmail()) != 10 {
		t.Errorf("Throttled %d, users %d", s.Throttled(), len(s.Users()))
	}
}

func TestFixedWindow(t *testing.T) {
	minute := time.Date(2021, 7, 21, 16, 13, 0, 0, time.UTC)
	clk := newClock(minute.Add(10 * time.Second))
	s := start(t, exoteltest.Options{Now: clk.Now, Limit: exoteltest.Limit{
		Rate: 3, Window: time.Minute, Mode: exoteltest.FixedWindow, Headers: true, RetryAfter: true}})
	reset := unix(minute.Add(time.Minute))
	for i := range 5 {
		q := quotaOf(do(t, s, "GET", "", ""))
		want := quota{status: 200, limit: "3", remaining: strconv.Itoa(2 - i), reset: reset, hasLimitHeaders: true}
		if i >= 3 {
			want = quota{status: 429, limit: "3", remaining: "0", reset: reset, retryAfter: "50", hasLimitHeaders: true, hasRetry: true}
		}
		if q != want {
			t.Errorf("request %d: %+v, want %+v", i, q, want)
		}
	}
	clk.Advance(49*time.Second + 500*time.Millisecond) // 16:13:59.5
	if q := quotaOf(do(t, s, "GET", "", "")); q.status != 429 || q.retryAfter != "1" {
		t.Errorf("half a second before the window: %+v", q)
	}
	clk.Advance(500 * time.Millisecond) // 16:14:00, a new window
	if q := quotaOf(do(t, s, "GET", "", "")); q.status != 200 || q.remaining != "2" || q.reset != unix(minute.Add(2*time.Minute)) {
		t.Errorf("new window: %+v", q)
	}
	if s.Throttled() != 3 {
		t.Errorf("Throttled() = %d", s.Throttled())
	}
}

func TestLimitHeadersAndRetryAfterAreOptional(t *testing.T) {
	clk := newClock(t0())
	s := start(t, exoteltest.Options{Now: clk.Now, Limit: exoteltest.Limit{Rate: 1}})
	do(t, s, "GET", "", "")
	q := quotaOf(do(t, s, "GET", "", ""))
	if q.status != 429 || q.hasLimitHeaders || q.hasRetry {
		t.Errorf("without Headers/RetryAfter: %+v", q)
	}
	// An unlimited fake sends no rate-limit headers even when asked.
	s2 := start(t, exoteltest.Options{Limit: exoteltest.Limit{Headers: true}})
	if q := quotaOf(do(t, s2, "GET", "", "")); q.hasLimitHeaders {
		t.Errorf("unlimited: %+v", q)
	}
}

func TestThrottleBodies(t *testing.T) {
	cases := []struct {
		name  string
		body  exoteltest.ThrottleBody
		ctype string
		check func(t *testing.T, r raw)
	}{
		{"RestException", exoteltest.ThrottleRestException, "application/json", func(t *testing.T, r raw) {
			want := `{"RestException":{"Status":429,"Message":"Rate limit exceeded. Try again in 30 seconds.","Code":"RATE_LIMIT_EXCEEDED"}}`
			if strings.TrimSpace(string(r.body)) != want {
				t.Errorf("body %s", r.body)
			}
		}},
		{"Envelope", exoteltest.ThrottleEnvelope, "application/json", func(t *testing.T, r raw) {
			wantFailure(t, r, "GET", 429, "NA", "Too many requests")
		}},
		{"HTML", exoteltest.ThrottleHTML, "text/html", func(t *testing.T, r raw) {
			b := string(r.body)
			if !strings.HasPrefix(b, "<html>") || !strings.Contains(b, "429 Too Many Requests") {
				t.Errorf("body %s", b)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(t0())
			// 2 a minute, as the README's example: Retry-After: 30.
			s := start(t, exoteltest.Options{Now: clk.Now, Limit: exoteltest.Limit{
				Rate: 2, RetryAfter: true, Headers: true, Body: tc.body}})
			do(t, s, "GET", "", "")
			r := do(t, s, "GET", "", "")
			if r.status != 429 || r.header.Get("Content-Type") != tc.ctype || r.header.Get("Retry-After") != "30" ||
				r.header.Get("X-RateLimit-Remaining") != "0" {
				t.Errorf("429: %d %v", r.status, r.header)
			}
			tc.check(t, r)

			// The real client reads every shape as a throttle with its wait.
			_, err := newClient(t, s, 5*time.Second).ListUsers(context.Background(), exotel.ListOptions{})
			if ae := apiErr(t, err); ae.Kind != exotel.KindThrottled || ae.RetryAfter != 30*time.Second {
				t.Errorf("client: %+v", ae)
			}
		})
	}
}

func TestLimitCountsRefusedLoginsButNotOtherPaths(t *testing.T) {
	clk := newClock(t0())
	s := start(t, exoteltest.Options{Now: clk.Now, Limit: exoteltest.Limit{Rate: 2, Burst: 2}})
	// Paths outside the resource are neither limited nor counted.
	for range 3 {
		if r := do(t, s, "GET", "//v2/other", ""); r.status != 404 {
			t.Fatalf("outside path: %d", r.status)
		}
	}
	// Limit first, then auth: refused logins spend the quota.
	for range 2 {
		if r := do(t, s, "GET", "", "", auth("test-key", "wrong")); r.status != 401 {
			t.Fatalf("bad login: %d", r.status)
		}
	}
	if r := do(t, s, "GET", "", ""); r.status != 429 {
		t.Errorf("after two refused logins: %d, want 429", r.status)
	}
	if r := do(t, s, "GET", "", "", auth("test-key", "wrong")); r.status != 429 {
		t.Errorf("over the limit, a bad login is throttled before auth: %d", r.status)
	}
	// SetLimit takes effect at once, with a fresh bucket.
	s.SetLimit(exoteltest.Limit{Rate: 1})
	if r := do(t, s, "GET", "", ""); r.status != 200 {
		t.Errorf("after SetLimit: %d", r.status)
	}
	s.SetLimit(exoteltest.Limit{})
	for range 5 {
		if r := do(t, s, "GET", "", ""); r.status != 200 {
			t.Fatalf("unlimited: %d", r.status)
		}
	}
}

func TestInvalidOptionsPanic(t *testing.T) {
	for name, opts := range map[string]exoteltest.Options{
		"rate above 1":     {ServerErrorRate: 1.5},
		"negative rate":    {DropAfterRate: -0.1},
		"negative latency": {Latency: -time.Second},
		"negative limit":   {Limit: exoteltest.Limit{Rate: -1}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			exoteltest.NewHandler(opts)
		})
	}
}
