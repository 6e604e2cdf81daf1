package importer_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// scenario is a server's rate limit and how fast the tool is told to go.
type scenario struct {
	name   string
	limit  exoteltest.Limit
	told   float64 // --rate as a multiple of the server's limit
	faults exoteltest.Options
}

// limitScenarios are the rate-limit conditions the import must handle,
// at a server limit of perSecond requests a second.
func limitScenarios(perSecond float64) []scenario {
	bucket := exoteltest.Limit{Rate: perSecond, Window: time.Second, Burst: 1}
	window := exoteltest.Limit{Rate: perSecond, Window: time.Second, Mode: exoteltest.FixedWindow}
	withRetryAfter := bucket
	withRetryAfter.RetryAfter = true
	html := bucket
	html.Body = exoteltest.ThrottleHTML
	headers := window
	headers.Headers, headers.RetryAfter, headers.Body = true, true, exoteltest.ThrottleRestException
	// A window-based server that says nothing: no headers, no Retry-After,
	// HTML 429s; 3-second windows hold 60 requests, about Exotel's 50 a
	// minute.
	silentWindow := exoteltest.Limit{Rate: 3 * perSecond, Window: 3 * time.Second, Mode: exoteltest.FixedWindow,
		Body: exoteltest.ThrottleHTML}
	return []scenario{
		{name: "own_limit", limit: withRetryAfter, told: 1},
		{name: "4x_html_no_retry_after", limit: html, told: 4},
		{name: "4x_fixed_window_headers", limit: headers, told: 4},
		{name: "4x_fixed_window_html_no_headers", limit: silentWindow, told: 4},
		{name: "faults_15pct_5xx_8pct_drops", limit: withRetryAfter, told: 1,
			faults: exoteltest.Options{ServerErrorRate: 0.15, DropBeforeRate: 0.04, DropAfterRate: 0.04,
				FaultMethods: []string{"POST"}, AllowDuplicates: true}},
	}
}

type scenarioResult struct {
	elapsed   time.Duration
	requests  int
	throttled int
	created   int
	dupes     int
}

// runScenario imports rows people against a fake with sc's limit and 20ms
// (±10ms) latency.
func runScenario(tb testing.TB, sc scenario, perSecond float64, rows int) scenarioResult {
	return runScenarioLog(tb, sc, perSecond, rows, nil)
}

func runScenarioLog(tb testing.TB, sc scenario, perSecond float64, rows int, log *slog.Logger) scenarioResult {
	tb.Helper()
	opts := sc.faults
	opts.Seed = 11
	opts.Limit = sc.limit
	opts.Latency, opts.LatencyJitter = 20*time.Millisecond, 10*time.Millisecond
	srv := exoteltest.NewServer(opts)
	defer srv.Close()
	limiter, err := ratelimit.New(ratelimit.Config{Rate: perSecond * sc.told, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	client, err := srv.NewClient("", limiter)
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	path := filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(path, []byte(people(rows)), 0o644); err != nil {
		tb.Fatal(err)
	}
	plan, err := importer.Prepare(input(path), roster.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	out, err := results.Create(filepath.Join(dir, "results.csv"), plan.Layout())
	if err != nil {
		tb.Fatal(err)
	}
	defer out.Close()
	start := time.Now()
	sum, err := importer.New(client, limiter, importer.Config{Workers: 8, MaxAttempts: 12}).
		Run(context.Background(), halt.New(context.Background(), nil, limiter.Stop), plan, out, nil)
	if err != nil {
		tb.Fatal(err)
	}
	res := scenarioResult{elapsed: time.Since(start), requests: len(srv.Requests()), throttled: srv.Throttled(),
		created: sum.Counts[results.Created]}
	for _, n := range srv.CreatesByEmail() {
		if n > 1 {
			res.dupes += n - 1
		}
	}
	return res
}

// BenchmarkImportRateLimits runs a 200-row import against a server limited
// to 20 requests/s in each scenario and reports the run's time as a multiple
// of the ideal (rows ÷ server limit) and the share of requests drawing 429.
// Run it with -benchtime=1x: each iteration is a whole import.
func BenchmarkImportRateLimits(b *testing.B) {
	const perSecond, rows = 20.0, 200
	ideal := time.Duration(rows / perSecond * float64(time.Second))
	for _, sc := range limitScenarios(perSecond) {
		b.Run(sc.name, func(b *testing.B) {
			var last scenarioResult
			for range b.N {
				last = runScenario(b, sc, perSecond, rows)
				if last.created != rows || last.dupes != 0 {
					b.Fatalf("created %d of %d, %d duplicates", last.created, rows, last.dupes)
				}
			}
			b.ReportMetric(last.elapsed.Seconds()/ideal.Seconds(), "x_ideal")
			b.ReportMetric(100*float64(last.throttled)/float64(last.requests), "pct_429")
			b.ReportMetric(float64(last.requests), "requests")
		})
	}
}

// BenchmarkImportDryRun is an import's offline work on a 20,000-row roster:
// Prepare's pass (header, row count, fingerprint) and the run's (read,
// validate, write a line per row), sending nothing. Each row is validated
// once, in the run.
func BenchmarkImportDryRun(b *testing.B) {
	const rows = 20000
	dir := b.TempDir()
	path := filepath.Join(dir, "roster.csv")
	if err := os.WriteFile(path, []byte(people(rows)), 0o644); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		plan, err := importer.Prepare(input(path), roster.Options{})
		if err != nil {
			b.Fatal(err)
		}
		out, err := results.Create(filepath.Join(dir, "results"+strconv.Itoa(i)+".csv"), plan.Layout())
		if err != nil {
			b.Fatal(err)
		}
		sum, err := importer.New(nil, nil, importer.Config{DryRun: true}).
			Run(context.Background(), halt.New(context.Background(), nil, nil), plan, out, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
		if sum.Counts[results.WouldCreate] != rows {
			b.Fatalf("counts %v", sum.Counts)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
}
