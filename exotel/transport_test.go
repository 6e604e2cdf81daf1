package exotel

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// hijackAfterRead reads the whole request, then closes the connection
// without answering: the request arrived, no answer came back.
func hijackAfterRead(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	}
}

// truncatedBody sends a status line promising more body than it sends.
func truncatedBody(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"request_id\":")
		_ = buf.Flush()
		conn.Close()
	}
}

func TestTransportErrors(t *testing.T) {
	tests := []struct {
		name     string
		client   func(t *testing.T) *Client
		ctx      func() context.Context
		wantSent bool
		wantIs   error // optional: errors.Is(err, wantIs)
	}{
		{
			name:   "refused connection",
			client: func(t *testing.T) *Client { return clientForClosedPort(t) },
		},
		{
			name: "context canceled before sending",
			client: func(t *testing.T) *Client {
				c, _ := newTestClient(t, answer(200, ""))
				return c
			},
			ctx: func() context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx
			},
			wantIs: context.Canceled,
		},
		{
			name: "connection closed after the request was read",
			client: func(t *testing.T) *Client {
				c, _ := newTestClient(t, hijackAfterRead(t))
				return c
			},
			wantSent: true,
		},
		{
			name: "client timeout after the request was written",
			client: func(t *testing.T) *Client {
				release := make(chan struct{})
				t.Cleanup(func() { close(release) })
				c, _ := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, _ = io.Copy(io.Discard, r.Body)
					select {
					case <-r.Context().Done():
					case <-release:
					}
				}), func(o *Options) { o.HTTPClient.Timeout = 100 * time.Millisecond })
				return c
			},
			wantSent: true,
			wantIs:   context.DeadlineExceeded,
		},
		{
			name: "body cut short after the status line",
			client: func(t *testing.T) *Client {
				c, _ := newTestClient(t, truncatedBody(t))
				return c
			},
			wantSent: true,
			wantIs:   io.ErrUnexpectedEOF,
		},
	}
	basic := base64.StdEncoding.EncodeToString([]byte(testKey + ":" + testToken))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.client(t)
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx()
			}
			u, err := c.CreateUser(ctx, CreateUserRequest{FirstName: "Asha", LastName: "Rao", Email: "asha@example.com"})
			if u != nil {
				t.Errorf("user = %+v, want nil", u)
			}
			te := asTransportError(t, err)
			if te.Sent != tc.wantSent {
				t.Errorf("Sent = %v, want %v (err %v)", te.Sent, tc.wantSent, err)
			}
			if te.Method != http.MethodPost || te.Path != "/users" {
				t.Errorf("Method, Path = %q, %q; want POST and the users resource", te.Method, te.Path)
			}
			if IsAmbiguous(err) != tc.wantSent {
				t.Errorf("IsAmbiguous = %v, want %v", IsAmbiguous(err), tc.wantSent)
			}
			if KindOf(err) != KindTransport {
				t.Errorf("KindOf = %v, want transport", KindOf(err))
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
			}
			msg := err.Error()
			for _, secret := range []string{testToken, basic, "http://", "@127.0.0.1"} {
				if strings.Contains(msg, secret) {
					t.Errorf("error text %q contains %q", msg, secret)
				}
			}
			wantState := "before the request was sent"
			if tc.wantSent {
				wantState = "after the request was sent"
			}
			if !strings.Contains(msg, wantState) {
				t.Errorf("error text %q does not say %q", msg, wantState)
			}
		})
	}
}

// A base URL cannot carry the token in the first place, so no URL in an
// error can show it.
func TestNewRefusesUserinfo(t *testing.T) {
	_, err := New(Options{BaseURL: "http://" + testKey + ":" + testToken + "@127.0.0.1:1",
		Credentials: testCreds(), HTTPClient: &http.Client{}})
	if err == nil {
		t.Fatal("New accepted a base URL with credentials")
	}
	if strings.Contains(err.Error(), testToken) {
		t.Errorf("error %q shows the token", err)
	}
}

// smallBufferListener shrinks each accepted connection's receive buffer so
// a client's upload stalls after a few kilobytes.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4 << 10)
	}
	return c, err
}

// A request whose body never finished going out was not sent, even though
// net/http reports WroteRequest (with an error) for it.
func TestTimeoutWhileWritingBody(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // never read the body
		case <-r.Context().Done():
		case <-release:
		}
		// Close at once; returning would make the server linger 500ms
		// over the unread body.
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
	}))
	srv.Listener = smallBufferListener{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })

	dialer := &net.Dialer{}
	hc := &http.Client{Timeout: 100 * time.Millisecond, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dialer.DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetWriteBuffer(4 << 10)
			}
			return c, err
		},
	}}
	c, err := New(Options{BaseURL: srv.URL, Credentials: testCreds(), HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateUser(context.Background(), CreateUserRequest{FirstName: "A", LastName: "B",
		DeviceName: strings.Repeat("x", 1<<20)})
	te := asTransportError(t, err)
	if te.Sent || IsAmbiguous(err) {
		t.Errorf("Sent = %v, IsAmbiguous = %v for a body that was never fully written (%v)", te.Sent, IsAmbiguous(err), err)
	}
}
