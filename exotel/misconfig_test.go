package exotel

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/ratelimit"
)

// A first request that fails in a way waiting cannot fix is final, with one
// sentence naming the cause and the fix.
func TestFirstRequestMisconfiguration(t *testing.T) {
	plain := httptest.NewServer(jsonAnswer(http.StatusOK, successEnvelope("GET", userJSON)))
	t.Cleanup(plain.Close)
	plainHost := strings.TrimPrefix(plain.URL, "http://")
	untrusted := httptest.NewUnstartedServer(jsonAnswer(http.StatusOK, successEnvelope("GET", userJSON)))
	untrusted.Config.ErrorLog = log.New(io.Discard, "", 0) // the handshake error it would print is the point
	untrusted.StartTLS()
	t.Cleanup(untrusted.Close)

	// A plain-http server that answers a TLS hello with an error page and
	// no status line, as Python's http.server does.
	pageOnly := pageOnlyServer(t)

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedHost := closed.Addr().String()
	closed.Close()

	hc := func() *http.Client { return NewHTTPClient(1, 5*time.Second) }
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
	tests := []struct {
		name   string
		base   string
		client func() *http.Client
		want   []string
	}{
		{"https to a plain http server", "https://" + plainHost, hc,
			[]string{"the server at " + plainHost + " speaks plain http, not https", "use http://" + plainHost + " as --base-url or EXOTEL_BASE_URL"}},
		{"https to a plain http server that sends only a page", "https://" + pageOnly, hc,
			[]string{"the server at " + pageOnly + " speaks plain http, not https", "use http://" + pageOnly + " as --base-url or EXOTEL_BASE_URL"}},
		{"refused connection", "http://" + closedHost, hc,
			[]string{closedHost + " refused the connection", "check --base-url or EXOTEL_BASE_URL"}},
		{"certificate not trusted", untrusted.URL, hc,
			[]string{"the TLS certificate of " + strings.TrimPrefix(untrusted.URL, "https://") + " is not trusted", "SSL_CERT_FILE"}},
		{"unknown host", "https://ccm-api.exotel.invalid", noSuchHost,
			[]string{"the host name ccm-api.exotel.invalid is unknown", "check --region"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(Options{BaseURL: tc.base, Credentials: testCreds(), HTTPClient: tc.client()})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.ListUsers(context.Background(), ListOptions{Limit: 50})
			if !IsMisconfiguration(err) {
				t.Fatalf("IsMisconfiguration(%v) = false", err)
			}
			if v := RetryVerdict(err); v != ratelimit.Stop {
				t.Errorf("RetryVerdict = %v, want Stop", v)
			}
			if KindOf(err) != KindTransport || IsAmbiguous(err) {
				t.Errorf("KindOf = %v, IsAmbiguous = %v", KindOf(err), IsAmbiguous(err))
			}
			msg := ExplainMisconfiguration(err).Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("explanation %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, testToken) {
				t.Error("the explanation shows the token")
			}
			if c.Answered() {
				t.Error("Answered after a failure")
			}
		})
	}
}

// Failures that may pass are not misconfigurations, even on the first
// request.
func TestTransientFailuresAreNotMisconfiguration(t *testing.T) {
	c, _ := newTestClient(t, hijackAfterRead(t))
	_, err := c.ListUsers(context.Background(), ListOptions{})
	if err == nil || IsMisconfiguration(err) || RetryVerdict(err) != ratelimit.Backoff {
		t.Errorf("dropped connection: err %v, misconfiguration %v", err, IsMisconfiguration(err))
	}
	if ExplainMisconfiguration(err) != err {
		t.Error("ExplainMisconfiguration changed an ordinary error")
	}
}

// Once a request was answered, the same failure is an outage: retried, and
// reported once per attempt however many workers fail together, then its
// end.
func TestOutageLaterInARunIsRetriedAloud(t *testing.T) {
	srv := httptest.NewServer(jsonAnswer(http.StatusOK, successEnvelope("GET", userJSON)))
	host := strings.TrimPrefix(srv.URL, "http://")
	var logs syncBuffer
	c, err := New(Options{BaseURL: srv.URL, Credentials: testCreds(), HTTPClient: NewHTTPClient(4, 5*time.Second),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	if !c.Answered() {
		t.Fatal("Answered false after an answer")
	}
	srv.Close() // nothing listens there any more: connections are refused

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
				_, err := c.GetUser(context.Background(), "u1")
				return err
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err == nil || IsMisconfiguration(err) || KindOf(err) != KindTransport {
			t.Errorf("err = %v, want a plain transport error after %d attempts", err, attempts)
		}
	}
	out := logs.String()
	for n := 1; n < attempts; n++ {
		line := `attempt="` + string(rune('0'+n)) + ` of 3"`
		if c := strings.Count(out, line); c != 1 {
			t.Errorf("%s logged %d times, want once:\n%s", line, c, out)
		}
	}
	if !strings.Contains(out, "cause=\""+host+" refused the connection\"") {
		t.Errorf("log does not name the cause:\n%s", out)
	}
	if strings.Contains(out, `attempt="3 of 3"`) {
		t.Errorf("the last attempt was reported as retried:\n%s", out)
	}
}

func TestOutageEndIsReported(t *testing.T) {
	var logs syncBuffer
	var mu sync.Mutex
	refuse := true
	c, _ := newTestClient(t, jsonAnswer(http.StatusOK, successEnvelope("GET", userJSON)), func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		inner := o.HTTPClient.Transport
		o.HTTPClient.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			defer mu.Unlock()
			if refuse {
				return nil, errors.New("connection reset by peer")
			}
			return inner.RoundTrip(r)
		})
	})
	mu.Lock()
	refuse = false
	mu.Unlock()
	if _, err := c.GetUser(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	refuse = true
	mu.Unlock()
	lim, _ := ratelimit.New(ratelimit.Config{Rate: 1000, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	tries := 0
	_, err := lim.Retry(context.Background(), 5, c.Retrying(5), func() error {
		tries++
		if tries == 3 {
			mu.Lock()
			refuse = false
			mu.Unlock()
		}
		_, err := c.GetUser(context.Background(), "u1")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, "the API answers again") || !strings.Contains(out, "failed_requests=2") ||
		!strings.Contains(out, "cause=\"connection reset by peer\"") {
		t.Errorf("log:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the client's concurrent logging.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// pageOnlyServer answers every connection with an HTML page and no status
// line, then closes it, and returns its host:port.
func pageOnlyServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 512)
				_, _ = conn.Read(buf)
				_, _ = io.WriteString(conn, "<!DOCTYPE HTML>\n<html><body><h1>Error response</h1><p>Error code: 400</p></body></html>\n")
			}()
		}
	}()
	return ln.Addr().String()
}
