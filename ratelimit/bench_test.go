package ratelimit

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// The limiter's own cost per request (a Wait and its done), with the
// bucket never the bottleneck: what pacing adds to every call.
func BenchmarkWaitDone(b *testing.B) {
	withHeaders := answer(http.StatusOK, "X-RateLimit-Limit", "1000000000", "X-RateLimit-Remaining", "999999999",
		"X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10))
	for _, bc := range []struct {
		name string
		resp *http.Response
	}{
		{"no_headers", answer(http.StatusOK)},
		{"x_ratelimit_headers", withHeaders},
	} {
		b.Run(bc.name, func(b *testing.B) {
			l := mustNew(b, Config{Rate: 1e9, Burst: 1 << 30})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				done, err := l.Wait(ctx)
				if err != nil {
					b.Fatal(err)
				}
				done(bc.resp)
			}
		})
	}
}

// Eight workers at once, as a run has them.
func BenchmarkWaitDoneParallel(b *testing.B) {
	l := mustNew(b, Config{Rate: 1e9, Burst: 1 << 30})
	resp := answer(http.StatusOK)
	b.ReportAllocs()
	b.SetParallelism(4) // 8 goroutines on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			done, err := l.Wait(ctx)
			if err != nil {
				b.Error(err)
				return
			}
			done(resp)
		}
	})
}
