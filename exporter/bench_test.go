package exporter_test

import (
	"io"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/ratelimit"
)

// BenchmarkExport exports 990 users (20 pages, the last short, so no extra
// empty page) from a fake that answers after 20ms, and reports users/s
// against the ideal: pages × latency / workers, or pages / rate when the
// rate is the tighter bound. The first page is always alone (it tells the
// total), so with W workers the best possible is latency × (1 + ⌈19/W⌉),
// a little over the ideal. Run with -benchtime=1x or a few iterations.
func BenchmarkExport(b *testing.B) {
	const users, latency = 990, 20 * time.Millisecond
	pages := (users + 49) / 50
	cases := []struct {
		name    string
		workers int
		rate    float64 // requests/s the limiter is told
	}{
		{"w1_latency_bound", 1, 2000},
		{"w4_latency_bound", 4, 2000},
		{"w8_latency_bound", 8, 2000},
		{"w8_rate_bound_50ps", 8, 50},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			srv := exoteltest.NewServer(exoteltest.Options{Latency: latency})
			defer srv.Close()
			srv.Seed(exoteltest.SampleUsers(users, 1, time.Now())...)
			b.ReportAllocs()
			var elapsed time.Duration
			for range b.N {
				// Fresh each time, no tokens saved from the last run, and
				// no burst: the rate bound is the rate.
				limiter, err := ratelimit.New(ratelimit.Config{Rate: c.rate, Burst: 1})
				if err != nil {
					b.Fatal(err)
				}
				client := newClient(b, srv, limiter)
				w := exporter.NewWriter(io.Discard, exporter.FormatCSV)
				start := time.Now()
				sum, err := exporter.New(client, limiter, exporter.Config{Workers: c.workers}).Run(newSwitch(b, nil), w)
				if err != nil || w.Flush() != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				if sum.Seen != users {
					b.Fatalf("exported %d of %d", sum.Seen, users)
				}
			}
			ideal := max(time.Duration(pages)*latency/time.Duration(c.workers), time.Duration(float64(pages)/c.rate*float64(time.Second)))
			got := float64(users*b.N) / elapsed.Seconds()
			b.ReportMetric(got, "users/s")
			b.ReportMetric(users/ideal.Seconds(), "ideal_users/s")
			b.ReportMetric(elapsed.Seconds()/float64(b.N)/ideal.Seconds(), "x_ideal")
		})
	}
}
