package ratelimit

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxServerWait caps any wait a server asks for, so a garbled header cannot
// park a run for hours. Exotel's windows are a minute long.
const maxServerWait = 5 * time.Minute

// ParseRetryAfter reads a Retry-After value: delay-seconds (fractions
// tolerated) or an HTTP date. ok is false when the header is absent or
// unreadable.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || secs != secs { // negative or NaN
			return 0, false
		}
		return clampWait(time.Duration(secs * float64(time.Second))), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return clampWait(t.Sub(now)), true
	}
	return 0, false
}

// Quota is what X-RateLimit-* headers said about the current window.
type Quota struct {
	Limit     int
	Remaining int
	Reset     time.Time // when the window starts afresh
}

// ParseQuota reads X-RateLimit-Remaining and X-RateLimit-Reset (and Limit,
// when present). Reset is documented as epoch seconds; small values are taken
// as seconds from now, which other APIs use.
func ParseQuota(h http.Header, now time.Time) (q Quota, ok bool) {
	rem, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining")))
	if err != nil {
		return Quota{}, false
	}
	q.Remaining = rem
	q.Limit, _ = strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit")))
	reset, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 64)
	if err != nil || reset < 0 {
		return Quota{}, false
	}
	const epochThreshold = 1e9 // 2001-09-09; anything smaller is a delay
	if reset >= epochThreshold {
		q.Reset = time.Unix(0, int64(reset*float64(time.Second)))
	} else {
		q.Reset = now.Add(time.Duration(reset * float64(time.Second)))
	}
	if q.Reset.Sub(now) > maxServerWait {
		q.Reset = now.Add(maxServerWait)
	}
	return q, true
}

func clampWait(d time.Duration) time.Duration {
	switch {
	case d < 0:
		return 0
	case d > maxServerWait:
		return maxServerWait
	}
	return d
}
