//go:build pacebench

// The end-to-end pace harness: the real Limiter and exotel.Client against
// the fake API (exotel/exoteltest) on loopback, N workers creating users,
// several runs per scenario. It measures wall-clock time, so it is not part
// of `make test`; `make bench` runs it:
//
//	go test -C ratelimit -tags pacebench -run '^TestPaceTable$' -count 1 -timeout 60m .
//
// PACE_RUNS (default 7) sets the runs per scenario, PACE_ROWS (default 300)
// the rows per run, PACE_ONLY a substring of the scenario names to run.
package ratelimit_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/resolve"
)

const paceWorkers = 8

// paceScenario is a server's limit and the rate the tool is given.
type paceScenario struct {
	name   string
	limit  exoteltest.Limit
	rate   string  // as --rate takes it
	limitS float64 // the server's real limit, requests/second: the ideal is rows ÷ limitS
	target string
	// rows and runs, when set, replace PACE_ROWS and PACE_RUNS for a
	// scenario too slow for them.
	rows, runs int
}

func paceScenarios() []paceScenario {
	bucket20 := exoteltest.Limit{Rate: 20, Window: time.Second, Burst: 1}
	ownLimit := bucket20
	ownLimit.RetryAfter = true
	html := bucket20
	html.Body = exoteltest.ThrottleHTML
	return []paceScenario{
		{
			name: "default (auto), window server stating 600/min (20 per 2 s) in X-RateLimit headers, Retry-After, RestException 429s",
			limit: exoteltest.Limit{Rate: 20, Window: 2 * time.Second, Mode: exoteltest.FixedWindow,
				Headers: true, RetryAfter: true, Body: exoteltest.ThrottleRestException},
			rate: "auto", limitS: 10, target: "≤ 1.15×, < 1% 429",
		},
		{
			name:  "default (auto), token bucket 20/s burst 1 with no headers: stays at the documented 50/min (ideal here: rows ÷ 50/min)",
			limit: ownLimit, rate: "auto", limitS: 50.0 / 60, target: "unchanged: 50/min, no 429",
			rows: 15, runs: 1,
		},
		{
			name: "default (auto), window server stating 40/min (2 per 3 s), below the documented 50/min",
			limit: exoteltest.Limit{Rate: 2, Window: 3 * time.Second, Mode: exoteltest.FixedWindow,
				Headers: true, RetryAfter: true, Body: exoteltest.ThrottleRestException},
			rate: "auto", limitS: 2.0 / 3, target: "follows the lower limit, no 429",
			rows: 20, runs: 3,
		},
		{
			name:  "--rate 20/s, token bucket 20/s burst 1, Retry-After, no headers",
			limit: ownLimit, rate: "20/s", limitS: 20, target: "median ≤ 1.05×, max ≤ 1.10×, ≤ 1% 429",
		},
		{
			name:  "--rate 80/s (4× the limit), token bucket 20/s burst 1, HTML 429s, no Retry-After, no headers",
			limit: html, rate: "80/s", limitS: 20, target: "median ≤ 1.15×, settles ≥ 90% of the limit",
		},
	}
}

// paceRun is one run's outcome.
type paceRun struct {
	ratio     float64 // elapsed ÷ ideal
	requests  int     // as the server saw them
	throttled int
	settled   float64 // the limiter's pace over the second half, ÷ the server's limit
	source    string
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// TestPaceTable prints one Markdown table: min / median / max of each
// scenario's time over the ideal, its 429s, and the pace it settled at.
func TestPaceTable(t *testing.T) {
	runs, rows := envInt(t, "PACE_RUNS", 7), envInt(t, "PACE_ROWS", 300)
	only := os.Getenv("PACE_ONLY")
	var lines []string
	for _, sc := range paceScenarios() {
		if only != "" && !strings.Contains(sc.name, only) {
			continue
		}
		var got []paceRun
		scRuns, scRows := runs, rows
		if sc.runs > 0 {
			scRuns, scRows = min(sc.runs, runs), sc.rows
		}
		for i := range scRuns {
			r := runPace(t, sc, scRows, int64(i+1))
			t.Logf("%s run %d: %.3f× ideal, %d/%d 429, settled %.0f%% (%s)", sc.name, i+1, r.ratio,
				r.throttled, r.requests, 100*r.settled, r.source)
			got = append(got, r)
		}
		lines = append(lines, paceLine(sc, scRows, got))
	}
	if only == "" || strings.Contains("lookup", only) {
		lines = append(lines, lookupLine(t, 300))
	}
	fmt.Printf("\n| end to end (%d workers, 20 ms ±10 ms latency) | runs × rows | × ideal min / median / max | 429s (worst run) | settled pace (median of the second half), %% of limit, min–max | target |\n", paceWorkers)
	fmt.Println("|---|---|---|---|---|---|")
	for _, l := range lines {
		fmt.Println(l)
	}
	fmt.Println()
}

func paceLine(sc paceScenario, rows int, runs []paceRun) string {
	ratios := make([]float64, len(runs))
	settled := make([]float64, len(runs))
	var throttled, worst int
	var worstPct float64
	sources := map[string]bool{}
	for i, r := range runs {
		ratios[i], settled[i] = r.ratio, r.settled
		throttled += r.throttled
		if p := float64(r.throttled) / float64(r.requests); p >= worstPct {
			worstPct, worst = p, r.throttled
		}
		sources[r.source] = true
	}
	slices.Sort(ratios)
	slices.Sort(settled)
	var from []string
	for s := range sources {
		if s != "" {
			from = append(from, s)
		}
	}
	slices.Sort(from)
	src := ""
	if len(from) > 0 {
		src = ", from " + strings.Join(from, " / ")
	}
	return fmt.Sprintf("| %s | %d × %d | %.3f / %.3f / %.3f | %d in all (%d, %.1f%%) | %.0f–%.0f%%%s | %s |",
		sc.name, len(runs), rows, ratios[0], median(ratios), ratios[len(ratios)-1],
		throttled, worst, 100*worstPct, 100*settled[0], 100*settled[len(settled)-1], src, sc.target)
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// runPace creates rows users with paceWorkers workers; a 429 is sent again
// as soon as the limiter lets it, as the importer does.
func runPace(t *testing.T, sc paceScenario, rows int, seed int64) paceRun {
	r, _ := runPaceServer(t, sc, rows, seed)
	return r
}

func runPaceSrv(t *testing.T, sc paceScenario, rows int, seed int64) *exoteltest.Server {
	_, srv := runPaceServer(t, sc, rows, seed)
	return srv
}

func runPaceServer(t *testing.T, sc paceScenario, rows int, seed int64) (paceRun, *exoteltest.Server) {
	t.Helper()
	srv := exoteltest.NewServer(exoteltest.Options{Seed: seed, Limit: sc.limit,
		Latency: 20 * time.Millisecond, LatencyJitter: 10 * time.Millisecond})
	defer srv.Close()
	perSecond, err := ratelimit.ParseRate(sc.rate)
	if err != nil {
		t.Fatal(err)
	}
	cfg := ratelimit.Config{Rate: perSecond}
	if os.Getenv("PACE_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	lim, err := ratelimit.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(t, srv, lim)
	jobs := make(chan int)
	var wg sync.WaitGroup
	ctx := context.Background()
	start := time.Now()
	for range paceWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				req := exotel.CreateUserRequest{FirstName: "Pace", LastName: strconv.Itoa(i),
					Email: fmt.Sprintf("pace.user%d@example.com", i), DeviceContactURI: fmt.Sprintf("+9198%08d", i)}
				for attempt := 1; ; attempt++ {
					_, err := client.CreateUser(ctx, req)
					if err == nil {
						break
					}
					if exotel.KindOf(err) != exotel.KindThrottled || attempt == 100 {
						t.Errorf("row %d: %v", i, err)
						break
					}
				}
			}
		}()
	}
	// The pace it settles at: the median of samples over the run's second
	// half, so a cut in its last second does not stand for the whole run.
	stopSampling := make(chan struct{})
	sampled := make(chan []float64)
	go func() {
		var paces []float64
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				paces = append(paces, lim.Stats().Rate)
			case <-stopSampling:
				sampled <- paces
				return
			}
		}
	}()
	for i := range rows {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	close(stopSampling)
	paces := <-sampled
	paces = paces[len(paces)/2:]
	slices.Sort(paces)
	settled := lim.Stats().Rate
	if len(paces) > 0 {
		settled = median(paces)
	}
	if n := srv.Creates(); n != rows {
		t.Fatalf("%s: created %d of %d", sc.name, n, rows)
	}
	ideal := float64(rows) / sc.limitS
	s := lim.Stats()
	return paceRun{ratio: elapsed.Seconds() / ideal, requests: len(srv.Requests()), throttled: srv.Throttled(),
		settled: settled / sc.limitS, source: string(s.Source)}, srv
}

func newClient(t *testing.T, srv *exoteltest.Server, lim *ratelimit.Limiter) *exotel.Client {
	t.Helper()
	client, err := exotel.New(exotel.Options{BaseURL: srv.URL(),
		Credentials: exotel.Credentials{APIKey: "test-key", APIToken: exotel.NewSecret("test-token"), AccountSID: "test-sid"},
		HTTPClient:  exotel.NewHTTPClient(paceWorkers, 10*time.Second), Pacer: lim})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// lookupLine counts the GETs that find n existing users by email, 50 rows
// at a time as import --check-existing asks.
func lookupLine(t *testing.T, n int) string {
	srv := exoteltest.NewServer(exoteltest.Options{Seed: 1})
	defer srv.Close()
	users := exoteltest.SampleUsers(n, 1, time.Now())
	for i := range users {
		// Ordinary work addresses, 30-40 characters.
		users[i].Email = fmt.Sprintf("%s.%s%d@acme-logistics.co.in", strings.ToLower(users[i].FirstName),
			strings.ToLower(users[i].LastName), i)
	}
	srv.Seed(users...)
	lim, err := ratelimit.New(ratelimit.Config{Rate: 1000})
	if err != nil {
		t.Fatal(err)
	}
	res := resolve.New(newClient(t, srv, lim), lim, resolve.Config{})
	found := 0
	for from := 0; from < n; from += 50 {
		var idents []resolve.Ident
		for _, u := range users[from:min(from+50, n)] {
			idents = append(idents, resolve.Ident{Email: u.Email})
		}
		ix, err := res.Lookup(context.Background(), idents)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range idents {
			if us, err := ix.Users(resolve.KeyEmail, id.Email); err == nil && len(us) == 1 {
				found++
			}
		}
	}
	if found != n {
		t.Errorf("lookup found %d of %d", found, n)
	}
	gets := srv.CountRequests("GET")
	return fmt.Sprintf("| lookup of %d existing users by email (30-40 character addresses), 50 rows per Lookup as import --check-existing | 1 × %d | %d GETs (%.1f per 50 rows) | – | – | 1 GET per 50 rows |",
		n, n, gets, float64(gets)/math.Ceil(float64(n)/50))
}
