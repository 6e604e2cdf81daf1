package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAutoStartsAtTheDocumentedLimit(t *testing.T) {
	l := mustNew(t, Config{Rate: Auto})
	s := l.Stats()
	if s.Limit != Documented || s.Source != SourceDocumented || math.Abs(s.Rate-Documented*(1-headroom)) > 1e-9 {
		t.Errorf("stats = %+v, want the documented 50/min", s)
	}
	// Answers without X-RateLimit headers change nothing.
	replyN(l, 10, ok200)
	if s := l.Stats(); s.Limit != Documented || s.Source != SourceDocumented {
		t.Errorf("after answers without headers: %+v, want the documented limit still", s)
	}
}

// quota is an answer's X-RateLimit headers: limit, remaining, and a reset
// at "in" after a test's base time (epoch seconds with milliseconds).
type quota struct {
	limit, remaining int
	in               time.Duration
}

// withQuota is an answer stating q, its reset counted from base: one base
// for all of a test's answers keeps the gaps between their resets exact,
// however slowly the machine runs the test.
func withQuota(base time.Time, q quota) *http.Response {
	reset := base.Add(q.in)
	h := []string{"X-RateLimit-Remaining", strconv.Itoa(q.remaining),
		"X-RateLimit-Reset", strconv.FormatFloat(float64(reset.UnixNano())/1e9, 'f', 3, 64)}
	if q.limit > 0 {
		h = append(h, "X-RateLimit-Limit", strconv.Itoa(q.limit))
	}
	return answer(http.StatusOK, h...)
}

// Under Auto the limiter learns the window's length from successive
// X-RateLimit-Reset values (a later reset with the allowance back is the
// next window) and its allowance from X-RateLimit-Limit, and paces at
// their ratio, higher or lower than the documented 50/min. An explicit rate
// only reports it.
func TestLearnsTheStatedLimitFromHeaders(t *testing.T) {
	tests := []struct {
		name       string
		rate       float64
		answers    []quota
		wantStated float64 // requests/second
		wantLimit  float64
		wantSource Source
	}{
		{"20 per 2 s window: 600/min", Auto,
			[]quota{{20, 15, 1200 * time.Millisecond}, {20, 14, 1200 * time.Millisecond}, {20, 19, 3200 * time.Millisecond}},
			10, 10, SourceHeaders},
		{"an enterprise 600 per minute", Auto,
			[]quota{{600, 500, 30 * time.Second}, {600, 599, 90 * time.Second}},
			10, 10, SourceHeaders},
		{"lower than documented: 10 per minute", Auto,
			[]quota{{10, 5, 30 * time.Second}, {10, 9, 90 * time.Second}},
			10.0 / 60, 10.0 / 60, SourceHeaders},
		{"windows with no request in them: the shortest gap is the window", Auto,
			[]quota{{20, 5, time.Second}, {20, 19, 5 * time.Second}, {20, 19, 7 * time.Second}},
			10, 10, SourceHeaders},
		{"one request a window, as at the documented pace", Auto,
			[]quota{{20, 19, time.Second}, {20, 19, 3 * time.Second}},
			10, 10, SourceHeaders},
		{"reset rounding wobble within one window is not a new window", Auto,
			[]quota{{20, 15, 1200 * time.Millisecond}, {20, 16, 1400 * time.Millisecond}, {20, 19, 3200 * time.Millisecond}},
			10, 10, SourceHeaders},
		{"a reset that moves on without the allowance coming back (a bucket's next token)", Auto,
			[]quota{{1, 0, time.Second}, {1, 0, 2 * time.Second}, {1, 0, 3 * time.Second}},
			0, Documented, SourceDocumented},
		{"no X-RateLimit-Limit: nothing stated", Auto,
			[]quota{{0, 15, time.Second}, {0, 19, 3 * time.Second}},
			0, Documented, SourceDocumented},
		{"an explicit rate is kept, the stated one only reported", 100,
			[]quota{{20, 15, 1200 * time.Millisecond}, {20, 19, 3200 * time.Millisecond}},
			10, 100, SourceConfigured},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := mustNew(t, Config{Rate: tc.rate})
			base := time.Now()
			for _, q := range tc.answers {
				reply(l, withQuota(base, q))
			}
			s := l.Stats()
			if math.Abs(s.Stated-tc.wantStated) > 0.02*tc.wantStated || math.Abs(s.Limit-tc.wantLimit) > 0.02*tc.wantLimit ||
				s.Source != tc.wantSource {
				t.Errorf("stated %v, limit %v from %q; want stated %v, limit %v from %q",
					s.Stated, s.Limit, s.Source, tc.wantStated, tc.wantLimit, tc.wantSource)
			}
			if want := s.Limit * (1 - headroom); math.Abs(s.Rate-want) > 1e-9 {
				t.Errorf("pace %v, want %v: just under the limit", s.Rate, want)
			}
		})
	}
}

// Before the window's length is known, the pace spreads what is left of
// the window over the time left of it (the budget keeps it from
// overspending), and the window's end sends a single probe.
func TestAutoProvisionalPaceSpreadsTheRemainingAllowance(t *testing.T) {
	l := mustNew(t, Config{Rate: Auto})
	before := time.Now()
	reset := before.Add(10 * time.Second)
	reply(l, withQuota(before, quota{20, 19, reset.Sub(before)}))
	after := time.Now()
	// The answer came between before and after, so the time left of the
	// window was between reset-after and reset-before.
	lo, hi := 19/reset.Sub(before).Seconds(), 19/reset.Sub(after).Seconds()
	s := l.Stats()
	if s.Source != SourceHeaders || s.Stated != 0 || s.Limit < lo*0.999 || s.Limit > hi*1.001 {
		t.Errorf("stats = %+v, want the 19 requests left spread over the time left of the window (%.3f to %.3f/s), from the headers", s, lo, hi)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.learning() {
		t.Error("not learning: the window's end would not send a probe")
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		s    Stats
		want string
	}{
		{Stats{Limit: 10, Rate: 10 * (1 - headroom), Source: SourceHeaders}, "600/min, from the server's X-RateLimit headers"},
		{Stats{Limit: Documented, Rate: Documented * (1 - headroom), Source: SourceDocumented}, "50/min, from Exotel's documented limit"},
		{Stats{Limit: 1.0 / 120, Rate: 1.0 / 120 * (1 - headroom), Source: SourceHeaders}, "0.5/min, from the server's X-RateLimit headers"},
		{Stats{Limit: 80, Rate: 19, Source: SourceConfigured}, "4800/min, from the configured rate; paced at 1140/min after the server's 429s"},
	}
	for _, tc := range tests {
		if got := tc.s.Describe(); got != tc.want {
			t.Errorf("Describe() = %q, want %q", got, tc.want)
		}
	}
}

// A run that ends inside the first window it saw headers for has no
// per-minute limit to report: the provisional pace (what was left of the
// window over the time left of it) is not one, and must not read as one.
func TestDescribeBeforeTheWindowIsLearned(t *testing.T) {
	tests := []struct {
		name        string
		answers     []quota
		provisional bool
	}{
		{"one window, 6 ms before its reset", []quota{{20, 13, 6 * time.Millisecond}}, true},
		{"one window, a second before its reset", []quota{{20, 19, time.Second}, {20, 18, time.Second}}, true},
		{"two windows: learned", []quota{{20, 15, 1200 * time.Millisecond}, {20, 19, 3200 * time.Millisecond}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := mustNew(t, Config{Rate: Auto})
			base := time.Now() // one base: a slow machine cannot skew the window
			for _, q := range tc.answers {
				reply(l, withQuota(base, q))
			}
			s := l.Stats()
			if s.Provisional != tc.provisional {
				t.Fatalf("Provisional = %v, want %v (%+v)", s.Provisional, tc.provisional, s)
			}
			d := s.Describe()
			if tc.provisional && (strings.Contains(d, "/min") || !strings.Contains(d, "first window")) {
				t.Errorf("Describe() = %q, want no per-minute figure, and why", d)
			}
			if !tc.provisional && d != "600/min, from the server's X-RateLimit headers" {
				t.Errorf("Describe() = %q", d)
			}
		})
	}
}
