package exotel

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func bearer(token Secret) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token.Reveal()) }
}

func TestNewSenderChecksOptions(t *testing.T) {
	auth := bearer(NewSecret(testToken))
	tests := []struct {
		name string
		opts SenderOptions
		want string
	}{
		{"no http client", SenderOptions{URL: "https://h/x", Authorize: auth}, "HTTP client"},
		{"no credentials", SenderOptions{URL: "https://h/x", HTTPClient: &http.Client{}}, "credentials"},
		{"no host", SenderOptions{URL: "/users", HTTPClient: &http.Client{}, Authorize: auth}, "not a resource URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewSender(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewSender: %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// Send hands back every answer as it came, whatever its status or body:
// what an answer means is its client's to say.
func TestSendReturnsAnswersUnjudged(t *testing.T) {
	var seen http.Header
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		b, _ := io.ReadAll(r.Body)
		gotBody = string(b)
		w.Header().Set("X-Seen-Path", r.URL.RequestURI())
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "<html>not JSON</html>")
	}))
	t.Cleanup(srv.Close)
	var logs syncBuffer
	s, err := NewSender(SenderOptions{URL: srv.URL + "/v2/things", HTTPClient: srv.Client(), UserAgent: "ua/1",
		Authorize: bearer(NewSecret(testToken)), Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	resp, raw, err := s.Send(context.Background(), http.MethodPost, "/a", "x=1", map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusTeapot || string(raw) != "<html>not JSON</html>" || resp.Header.Get("X-Seen-Path") != "/v2/things/a?x=1" {
		t.Errorf("answer %d %q %v", resp.StatusCode, raw, resp.Header)
	}
	if seen.Get("Authorization") != "Bearer "+testToken || seen.Get("User-Agent") != "ua/1" ||
		seen.Get("Content-Type") != "application/json" || gotBody != `{"k":"v"}` {
		t.Errorf("request headers %v, body %q", seen, gotBody)
	}
	if !s.Answered() {
		t.Error("Answered false after an answer")
	}
	if strings.Contains(logs.String(), testToken) || !strings.Contains(logs.String(), "status=418") {
		t.Errorf("log:\n%s", logs.String())
	}
}

// A sender holds the token only inside its Authorize closure, which prints
// as an address.
func TestSenderPrintsNoToken(t *testing.T) {
	s, err := NewSender(SenderOptions{URL: "https://ccm-api.exotel.com/v2/x", HTTPClient: &http.Client{Timeout: time.Second},
		Authorize: bearer(NewSecret(testToken))})
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		for _, v := range []any{s, *s} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, testToken) || strings.Contains(out, fmt.Sprintf("%x", testToken)) {
				t.Errorf("Sprintf(%q, %T) shows the token", verb, v)
			}
		}
	}
}

// dropSecond is a loopback HTTP/1.1 server that answers the first request
// of each connection and keeps it alive; when a second request arrives on
// the same connection it reads it whole and closes the connection without
// answering: a keep-alive connection that dies before the answer.
type dropSecond struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
	seen  []seenRequest
}

// seenRequest is a request as it arrived, framing included.
type seenRequest struct {
	method, path  string
	contentLength string // the header as sent, "" without one
	chunked       bool
	body          string
}

func startDropSecond(t *testing.T) *dropSecond {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &dropSecond{ln: ln}
	d.wg.Add(1)
	go d.serve()
	t.Cleanup(func() {
		ln.Close()
		d.mu.Lock()
		for _, c := range d.conns {
			c.Close()
		}
		d.mu.Unlock()
		d.wg.Wait()
	})
	return d
}

func (d *dropSecond) serve() {
	defer d.wg.Done()
	for {
		c, err := d.ln.Accept()
		if err != nil {
			return
		}
		d.mu.Lock()
		d.conns = append(d.conns, c)
		d.mu.Unlock()
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			defer c.Close()
			br := bufio.NewReader(c)
			for n := 1; ; n++ {
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				body, err := io.ReadAll(req.Body)
				if err != nil {
					return
				}
				d.mu.Lock()
				d.seen = append(d.seen, seenRequest{method: req.Method, path: req.URL.Path,
					contentLength: req.Header.Get("Content-Length"), chunked: slices.Contains(req.TransferEncoding, "chunked"),
					body: string(body)})
				d.mu.Unlock()
				if n == 2 {
					return
				}
				if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"); err != nil {
					return
				}
			}
		}()
	}
}

func (d *dropSecond) requests() []seenRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.seen)
}

// A request whose keep-alive connection dies before the answer comes back
// to the caller as a TransportError, for its retry to wait for the limiter:
// net/http's transport never sends it again by itself (it would a GET with
// no body, a request the limiter never saw). Bodiless requests still go
// without a body: no Content-Length, no chunked encoding.
func TestSendNeverReplaysOnADeadKeepAliveConnection(t *testing.T) {
	tests := []struct {
		method   string
		body     any
		wantBody string
	}{
		{method: http.MethodGet},
		{method: http.MethodDelete},
		{method: http.MethodPost, body: map[string]string{"k": "v"}, wantBody: `{"k":"v"}`},
		{method: http.MethodPut, body: map[string]string{"k": "v"}, wantBody: `{"k":"v"}`},
	}
	for _, tc := range tests {
		t.Run(tc.method, func(t *testing.T) {
			srv := startDropSecond(t)
			client := NewHTTPClient(1, 10*time.Second)
			t.Cleanup(client.CloseIdleConnections)
			s, err := NewSender(SenderOptions{URL: "http://" + srv.ln.Addr().String() + "/v2/things",
				HTTPClient: client, Authorize: bearer(NewSecret(testToken))})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Send(context.Background(), http.MethodGet, "/first", "", nil); err != nil {
				t.Fatalf("first request: %v", err)
			}
			var reused []bool
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				GotConn: func(info httptrace.GotConnInfo) { reused = append(reused, info.Reused) }})
			_, _, err = s.Send(ctx, tc.method, "/second", "", tc.body)

			if len(reused) == 0 || !reused[0] {
				t.Fatalf("connections of the second request: reused %v, want the first one's kept alive", reused)
			}
			var te *TransportError
			if !errors.As(err, &te) || !te.Sent || te.Method != tc.method {
				t.Errorf("second request: %v (%T), want a TransportError after the request was sent", err, err)
			}
			var second []seenRequest
			for _, r := range srv.requests() {
				if r.path == "/v2/things/second" {
					second = append(second, r)
				}
			}
			if len(second) != 1 || len(reused) != 1 {
				t.Fatalf("the server saw the second request %d times (connections taken: %v), want once", len(second), reused)
			}
			got := second[0]
			if got.method != tc.method || got.body != tc.wantBody || got.chunked {
				t.Errorf("server saw %+v, want %s with body %q, not chunked", got, tc.method, tc.wantBody)
			}
			if tc.body == nil && got.contentLength != "" {
				t.Errorf("a bodiless %s went with Content-Length %q", tc.method, got.contentLength)
			}
			first := srv.requests()[0]
			if first.contentLength != "" || first.chunked || first.body != "" {
				t.Errorf("the first GET went with a body: %+v", first)
			}
		})
	}
}
