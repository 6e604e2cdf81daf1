package webrtc

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/results"
)

// closedPort is a loopback address that was listening a moment ago and is
// now closed: connections to it are refused.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// clientAt is a client of base with hc, logging at debug level into the
// returned buffer.
func clientAt(t *testing.T, base string, hc *http.Client, pacer exotel.Pacer) (*Client, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	c, err := New(Options{BaseURL: base, Credentials: testCreds(), HTTPClient: hc, Pacer: pacer,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

// A first request that fails in a way waiting cannot fix is final, with one
// sentence naming the cause and the fix, as the CCM client's is.
func TestFirstRequestMisconfiguration(t *testing.T) {
	plain := httptest.NewServer(reply(200, `{"success":true,"data":{"user_id":"a"}}`))
	t.Cleanup(plain.Close)
	plainHost := strings.TrimPrefix(plain.URL, "http://")
	untrusted := httptest.NewUnstartedServer(reply(200, `{"success":true,"data":{"user_id":"a"}}`))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake error it would print is the point
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)
	closed := closedPort(t)

	hc := func() *http.Client { return exotel.NewHTTPClient(1, 5*time.Second) }
	// Tests talk only to loopback: the unknown host is a dialer that
	// answers as a resolver would for a name that does not exist.
	noSuchHost := func() *http.Client {
		c := hc()
		c.Transport.(*http.Transport).DialContext = func(_ context.Context, _, addr string) (net.Conn, error) {
			host, _, _ := net.SplitHostPort(addr)
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
		}
		return c
	}
	calls := map[string]func(c *Client) error{
		"create": func(c *Client) error {
			_, err := c.CreateUser(context.Background(), CreateUserRequest{UserID: "a", Name: "A B"})
			return err
		},
		"get":    func(c *Client) error { _, err := c.GetUser(context.Background(), "a"); return err },
		"list":   func(c *Client) error { _, err := c.ListPage(context.Background(), 0); return err },
		"delete": func(c *Client) error { return c.DeleteUser(context.Background(), "a") },
	}
	tests := []struct {
		name   string
		base   string
		client func() *http.Client
		want   []string
	}{
		{"https to a plain http server", "https://" + plainHost, hc,
			[]string{"the server at " + plainHost + " speaks plain http, not https: use http://" + plainHost + " as --base-url or EXOTEL_BASE_URL"}},
		{"refused connection", "http://" + closed, hc,
			[]string{closed + " refused the connection: check --base-url or EXOTEL_BASE_URL and that the server is running"}},
		{"certificate not trusted", untrusted.URL, hc,
			[]string{"the TLS certificate of " + strings.TrimPrefix(untrusted.URL, "https://") + " is not trusted", "SSL_CERT_FILE"}},
		// --region picks no host of this API: the fix does not name it.
		{"unknown host", "https://integrationscore.exotel.invalid", noSuchHost,
			[]string{"the host name integrationscore.exotel.invalid is unknown: check --base-url or EXOTEL_BASE_URL for a typo"}},
	}
	for _, tc := range tests {
		for name, call := range calls {
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				c, logs := clientAt(t, tc.base, tc.client(), nil)
				err := call(c)
				if !exotel.IsMisconfiguration(err) {
					t.Fatalf("IsMisconfiguration(%v) = false", err)
				}
				if v := exotel.RetryVerdict(err); v != ratelimit.Stop {
					t.Errorf("RetryVerdict = %v, want Stop", v)
				}
				if v := c.Retrying(10)(err); v != ratelimit.Stop {
					t.Errorf("Retrying = %v, want Stop", v)
				}
				if exotel.KindOf(err) != exotel.KindTransport || exotel.IsAmbiguous(err) {
					t.Errorf("KindOf = %v, IsAmbiguous = %v", exotel.KindOf(err), exotel.IsAmbiguous(err))
				}
				msg := exotel.ExplainMisconfiguration(err).Error()
				for _, w := range tc.want {
					if !strings.Contains(msg, w) {
						t.Errorf("explanation %q lacks %q", msg, w)
					}
				}
				if strings.Contains(msg, "--region") {
					t.Errorf("explanation %q names --region, which the webrtc target does not read", msg)
				}
				for _, s := range []string{msg, err.Error(), logs.String()} {
					if strings.Contains(s, testToken) {
						t.Errorf("the token leaked: %s", s)
					}
				}
				if c.Answered() {
					t.Error("Answered after a failure")
				}
			})
		}
	}
}

// Failures that may pass (a dropped connection) are not misconfigurations,
// even on the first request.
func TestTransientFailuresAreNotMisconfiguration(t *testing.T) {
	hijack := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
	})
	c, _ := newTestClient(t, hijack)
	_, err := c.GetUser(context.Background(), "a")
	if err == nil || exotel.IsMisconfiguration(err) || c.Retrying(3)(err) != ratelimit.Backoff {
		t.Errorf("dropped connection: err %v, misconfiguration %v", err, exotel.IsMisconfiguration(err))
	}
}

// Once a request was answered, the same failure is an outage: retried, and
// said once per attempt number however many workers fail together, then
// its end.
func TestOutageLaterInARunIsRetriedAloud(t *testing.T) {
	var mu sync.Mutex
	refuse := false
	srv := httptest.NewServer(reply(200, `{"success":true,"data":{"user_id":"a"}}`))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	inner := exotel.NewHTTPClient(4, 5*time.Second)
	hc := &http.Client{Timeout: inner.Timeout, Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		down := refuse
		mu.Unlock()
		if down {
			// What a closed port answers, without waiting for one.
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
		}
		return inner.Transport.RoundTrip(r)
	})}
	c, logs := clientAt(t, srv.URL, hc, nil)
	if _, err := c.GetUser(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if !c.Answered() {
		t.Fatal("Answered false after an answer")
	}
	mu.Lock()
	refuse = true
	mu.Unlock()

	lim, err := ratelimit.New(ratelimit.Config{Rate: 1000, Burst: 4, BaseBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const workers, attempts = 4, 3
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Go(func() {
			_, errs[i] = lim.Retry(context.Background(), attempts, c.Retrying(attempts), func() error {
				_, err := c.GetUser(context.Background(), "a")
				return err
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err == nil || exotel.IsMisconfiguration(err) || exotel.KindOf(err) != exotel.KindTransport {
			t.Errorf("err = %v, want a plain transport error after %d attempts", err, attempts)
		}
	}
	out := logs.String()
	for _, line := range []string{`attempt="1 of 3"`, `attempt="2 of 3"`} {
		if n := strings.Count(out, line); n != 1 {
			t.Errorf("%s logged %d times, want once:\n%s", line, n, out)
		}
	}
	if !strings.Contains(out, `cause="`+host+` refused the connection"`) || strings.Contains(out, `attempt="3 of 3"`) {
		t.Errorf("log:\n%s", out)
	}

	mu.Lock()
	refuse = false
	mu.Unlock()
	if _, err := c.GetUser(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	if out := logs.String(); !strings.Contains(out, "the API answers again") || strings.Contains(out, testToken) {
		t.Errorf("log:\n%s", out)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// An import through the target against a misconfigured base URL stops at
// its first request with the explaining sentence; every row is skipped,
// none failed, so a corrected rerun creates them all.
func TestImportThroughTheTargetStopsOnMisconfiguration(t *testing.T) {
	plain := startFake(t, exoteltest.Options{})
	plainHost := strings.TrimPrefix(plain.URL(), "http://")
	closed := closedPort(t)
	for _, tc := range []struct{ name, base, want string }{
		{"tls to plain http", "https://" + plainHost, "speaks plain http, not https: use http://" + plainHost},
		{"refused connection", "http://" + closed, closed + " refused the connection"},
	} {
		for _, check := range []bool{false, true} {
			name := tc.name
			if check {
				name += "/check existing"
			}
			t.Run(name, func(t *testing.T) {
				lim := fastLimiter(t)
				c, logs := clientAt(t, tc.base, exotel.NewHTTPClient(2, 5*time.Second), lim)
				e := &targetEnv{t: t, srv: plain, lim: lim, dir: t.TempDir(),
					tg: NewTarget(c, lim, TargetConfig{Workers: 2, MaxAttempts: 10})}
				sum, lines := e.importFile(e.file("app.csv", appRoster(5)), importer.Config{Workers: 2, CheckExisting: check})
				if sum.Aborted == nil || !strings.Contains(sum.Aborted.Error(), tc.want) {
					t.Fatalf("aborted = %v, want the run stopped with %q", sum.Aborted, tc.want)
				}
				if strings.Contains(sum.Aborted.Error(), testToken) || strings.Contains(logs.String(), testToken) {
					t.Error("the token leaked")
				}
				if sum.Counts[results.Skipped] != 5 {
					t.Errorf("counts = %v, want every row skipped", sum.Counts)
				}
				for row := 1; row <= 5; row++ {
					if lines[row]["status"] != "skipped" {
						t.Errorf("row %d: %v", row, lines[row])
					}
				}
				if n := len(plain.Requests()); n != 0 {
					t.Errorf("the plain server saw %d requests", n)
				}
			})
		}
	}
}

// The target's retry rule is its client's, so importer and offboard pick it
// through exotel.Classifier as they do CCM's; a target that sends nothing
// falls back to exotel.RetryVerdict.
func TestTargetRetryRuleIsItsClients(t *testing.T) {
	c, logs := clientAt(t, DefaultBaseURL, exotel.NewHTTPClient(1, 5*time.Second), nil)
	tg := NewTarget(c, fastLimiter(t), TargetConfig{})
	if _, ok := any(tg).(exotel.RetryReporter); !ok {
		t.Fatal("Target is not an exotel.RetryReporter")
	}
	lost := &exotel.TransportError{Method: "GET", Path: "/a", Err: io.ErrUnexpectedEOF}
	if v := exotel.Classifier(tg, 3)(lost); v != ratelimit.Backoff || !strings.Contains(logs.String(), `attempt="1 of 3"`) {
		t.Errorf("verdict %v; log:\n%s", v, logs)
	}
	idle := NewTarget(nil, nil, TargetConfig{})
	if v := exotel.Classifier(idle, 3)(lost); v != ratelimit.Backoff {
		t.Errorf("a target without a client: verdict %v", v)
	}
}
