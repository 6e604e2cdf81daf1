package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/ratelimit"
)

type sandboxFlags struct {
	addr         string
	limit        string
	limitMode    string
	burst        int
	headers      bool
	retryAfter   bool
	throttleBody string
	latency      time.Duration
	jitter       time.Duration
	errorRate    float64
	dropBefore   float64
	dropAfter    float64
	voip         bool
	requirePhone bool
	seedUsers    int
	seed         int64
	urlFile      string
	key, token   string
	sid          string
	target       string
	webrtc       exoteltest.WebRTCOptions
}

func (a *app) sandboxCommand() *cobra.Command {
	f := &sandboxFlags{}
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve a fake Exotel Users API on loopback, to try exoroster without an account",
		Long: `Serves an in-process fake of Exotel's CCM Users API on a loopback port: the
same envelope, error codes, paging (limit at most 50), filters, and a rate
limit with 429s. It prints the environment to point exoroster at it and runs
until Ctrl-C. Faults (5xx, dropped connections, latency) can be switched on to
see retries at work. The WebRTC integrations app users API is served too, under
the same limit and faults; --target webrtc prints its environment and seeds
its users.`,
		Example: `  exoroster sandbox --limit 120/min
  exoroster sandbox --seed-users 237 --limit 600/min
  exoroster sandbox --error-rate 0.1 --drop-after 0.05 --throttle-body html --retry-after=false
  exoroster sandbox --target webrtc --seed-users 60 --max-page-size 25`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runSandbox(cmd.Context(), f) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", "127.0.0.1:0", "loopback address to listen on (port 0 picks a free one)")
	fs.StringVar(&f.limit, "limit", "50/min", "the fake account's rate limit (none for unlimited)")
	fs.StringVar(&f.limitMode, "limit-mode", "bucket", "bucket (token bucket) or window (fixed window)")
	fs.IntVar(&f.burst, "burst", 1, "token-bucket capacity")
	fs.BoolVar(&f.headers, "headers", false, "send X-RateLimit-Limit/-Remaining/-Reset")
	fs.BoolVar(&f.retryAfter, "retry-after", true, "send Retry-After on 429s")
	fs.StringVar(&f.throttleBody, "throttle-body", "restexception", "429 body: restexception, envelope or html")
	fs.DurationVar(&f.latency, "latency", 20*time.Millisecond, "added to every answer")
	fs.DurationVar(&f.jitter, "jitter", 10*time.Millisecond, "random extra latency, up to this")
	fs.Float64Var(&f.errorRate, "error-rate", 0, "share of requests answered 500")
	fs.Float64Var(&f.dropBefore, "drop-before", 0, "share of connections dropped before the request takes effect")
	fs.Float64Var(&f.dropAfter, "drop-after", 0, "share of connections dropped after the request took effect")
	fs.BoolVar(&f.voip, "voip", false, "a user created without a phone gets a SIP device")
	fs.BoolVar(&f.requirePhone, "require-phone", false, "without --voip, a user created without a phone is refused (400 1402), as on some accounts")
	fs.IntVar(&f.seedUsers, "seed-users", 0, "start with this many sample users (some admins, mixed verification and last logins)")
	fs.Int64Var(&f.seed, "seed", 1, "seed for ids, faults and sample users")
	fs.StringVar(&f.urlFile, "url-file", "", "also write the base URL to this file (for scripts)")
	fs.StringVar(&f.key, "api-key", "sandbox", "API key the fake accepts")
	fs.StringVar(&f.token, "api-token", "sandbox", "API token the fake accepts")
	fs.StringVar(&f.sid, "account-sid", "sandbox", "account SID the fake serves")
	fs.StringVar(&f.target, "target", "ccm", "API whose environment is printed and whose users are seeded: ccm or webrtc (both are served)")
	fs.StringVar(&f.webrtc.Token, "webrtc-token", "sandbox", "WebRTC app token the fake accepts")
	fs.StringVar(&f.webrtc.CustomerID, "customer-id", "sandbox", "WebRTC customer id the fake serves")
	fs.StringVar(&f.webrtc.AppID, "app-id", "sandbox", "WebRTC app id the fake serves")
	fs.IntVar(&f.webrtc.MaxPageSize, "max-page-size", 0, "WebRTC lists asking for more users than this are answered 400 (0: no maximum)")
	return cmd
}

func (f *sandboxFlags) options() (exoteltest.Options, error) {
	opts := exoteltest.Options{
		APIKey: f.key, APIToken: f.token, AccountSID: f.sid, Seed: f.seed,
		Latency: f.latency, LatencyJitter: f.jitter,
		ServerErrorRate: f.errorRate, DropBeforeRate: f.dropBefore, DropAfterRate: f.dropAfter,
		VOIP: f.voip, RequireDevice: f.requirePhone, WebRTC: f.webrtc,
	}
	if f.target != "ccm" && f.target != "webrtc" {
		return opts, usageErr("--target %q: use ccm or webrtc", f.target)
	}
	if f.seedUsers < 0 {
		return opts, usageErr("--seed-users %d: use 0 or more", f.seedUsers)
	}
	if f.webrtc.MaxPageSize < 0 {
		return opts, usageErr("--max-page-size cannot be negative")
	}
	if f.webrtc.Token == "" || f.webrtc.CustomerID == "" || f.webrtc.AppID == "" {
		return opts, usageErr("--webrtc-token, --customer-id and --app-id cannot be empty")
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"--error-rate", f.errorRate}, {"--drop-before", f.dropBefore}, {"--drop-after", f.dropAfter}} {
		if !(p.v >= 0 && p.v <= 1) {
			return opts, usageErr("%s %v: use a share between 0 and 1", p.name, p.v)
		}
	}
	if f.latency < 0 || f.jitter < 0 {
		return opts, usageErr("--latency and --jitter cannot be negative")
	}
	if !strings.EqualFold(f.limit, "none") {
		perSecond, err := ratelimit.ParseRate(f.limit)
		if err != nil {
			return opts, usageErr("--limit: %v", err)
		}
		if perSecond == ratelimit.Auto {
			// The fake enforces a limit; it has none to learn.
			return opts, usageErr("--limit auto: the sandbox needs a limit to enforce: use none or a rate like 50/min")
		}
		// Per minute, so whole numbers like 50/min stay exact.
		opts.Limit = exoteltest.Limit{Rate: perSecond * 60, Window: time.Minute, Burst: max(f.burst, 1),
			Headers: f.headers, RetryAfter: f.retryAfter}
		switch f.limitMode {
		case "bucket":
			opts.Limit.Mode = exoteltest.TokenBucket
		case "window":
			opts.Limit.Mode = exoteltest.FixedWindow
		default:
			return opts, usageErr("--limit-mode %q: use bucket or window", f.limitMode)
		}
		switch f.throttleBody {
		case "restexception":
			opts.Limit.Body = exoteltest.ThrottleRestException
		case "envelope":
			opts.Limit.Body = exoteltest.ThrottleEnvelope
		case "html":
			opts.Limit.Body = exoteltest.ThrottleHTML
		default:
			return opts, usageErr("--throttle-body %q: use restexception, envelope or html", f.throttleBody)
		}
	}
	return opts, nil
}

func (a *app) runSandbox(ctx context.Context, f *sandboxFlags) error {
	opts, err := f.options()
	if err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(f.addr)
	if err != nil || !exotel.IsLoopback(host) {
		return usageErr("--addr %q: the sandbox listens on loopback only, e.g. 127.0.0.1:8089", f.addr)
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return abortErr(fmt.Errorf("cannot listen on %s: %w", f.addr, err))
	}
	fake := exoteltest.NewHandler(opts)
	switch {
	case f.seedUsers > 0 && f.target == "webrtc":
		fake.SeedWebRTC(exoteltest.SampleWebRTCUsers(f.seedUsers, f.seed, time.Now())...)
	case f.seedUsers > 0:
		fake.Seed(exoteltest.SampleUsers(f.seedUsers, f.seed, time.Now())...)
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	url := "http://" + ln.Addr().String()
	if f.urlFile != "" {
		if err := os.WriteFile(f.urlFile, []byte(url+"\n"), 0o644); err != nil {
			ln.Close()
			return abortErr(fmt.Errorf("cannot write --url-file: %w", err))
		}
	}
	out := a.env.Stdout
	limit := "no rate limit"
	if opts.Limit.Rate > 0 {
		limit = fmt.Sprintf("rate limit %s/min, %s", trimFloat(opts.Limit.Rate), f.limitMode)
	}
	if f.target == "webrtc" {
		fmt.Fprintf(out, "exoroster sandbox: fake Exotel WebRTC app users API on %s (%s, %d users)\n", url, limit, f.seedUsers)
		fmt.Fprintf(out, "Point exoroster at it with:\n  export EXOTEL_TARGET=webrtc EXOTEL_BASE_URL=%s EXOTEL_WEBRTC_TOKEN=%s EXOTEL_CUSTOMER_ID=%s EXOTEL_APP_ID=%s\n",
			url, f.webrtc.Token, f.webrtc.CustomerID, f.webrtc.AppID)
	} else {
		fmt.Fprintf(out, "exoroster sandbox: fake Exotel API on %s (%s, %d users)\n", url, limit, f.seedUsers)
		fmt.Fprintf(out, "Point exoroster at it with:\n  export EXOTEL_BASE_URL=%s EXOTEL_API_KEY=%s EXOTEL_API_TOKEN=%s EXOTEL_ACCOUNT_SID=%s\n",
			url, f.key, f.token, f.sid)
	}
	fmt.Fprintln(out, "Ctrl-C stops it.")

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return abortErr(err)
	case <-ctx.Done():
	case <-a.env.Interrupt:
	}
	fake.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return abortErr(err)
	}
	fmt.Fprintf(out, "sandbox stopped after %d requests (%d throttled)\n", fake.CountRequests(""), fake.Throttled())
	return nil
}

func trimFloat(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.2f", v)
}
