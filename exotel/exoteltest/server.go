package exoteltest

import (
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/exoroster/exoroster/exotel"
)

// Server is a Fake served by an httptest.Server on 127.0.0.1 (plain
// HTTP/1.1, so drops can hijack the connection). The Fake's methods are
// promoted.
type Server struct {
	*Fake
	ts *httptest.Server
}

// NewServer starts a fake on a loopback port; Close it when done.
func NewServer(opts Options) *Server {
	s := NewUnstartedServer(opts)
	s.Start()
	return s
}

// NewUnstartedServer returns a fake whose listener is bound but not
// serving, so a test can finish setting it up; call Start.
func NewUnstartedServer(opts Options) *Server {
	f := NewHandler(opts)
	return &Server{Fake: f, ts: httptest.NewUnstartedServer(f)}
}

// Start starts serving.
func (s *Server) Start() { s.ts.Start() }

// URL is the base URL, scheme and host (http://127.0.0.1:port); the client
// appends /v2/accounts/<sid>/users.
func (s *Server) URL() string { return s.ts.URL }

// UsersURL is URL plus the resource path, for raw requests.
func (s *Server) UsersURL() string { return s.ts.URL + s.UsersPath() }

// Client returns an HTTP client for the server, whose idle connections
// Close also closes.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// NewClient returns a client of the fake's account: the key and account SID
// the fake accepts, and token, or the token it accepts when token is "". It
// sends through pacer (nil: at once), and waits up to ten seconds for an
// answer, since a fake on a busy machine answers late.
func (s *Server) NewClient(token string, pacer exotel.Pacer) (*exotel.Client, error) {
	if token == "" {
		token = s.token
	}
	return exotel.New(exotel.Options{
		BaseURL:     s.URL(),
		Credentials: exotel.Credentials{APIKey: s.key, APIToken: exotel.NewSecret(token), AccountSID: s.sid},
		HTTPClient:  exotel.NewHTTPClient(8, 10*time.Second),
		Pacer:       pacer,
	})
}

// Close makes sleeping answers give up, then shuts the server down and
// waits for outstanding requests. The Fake's state stays readable.
func (s *Server) Close() {
	s.Fake.Close()
	s.ts.Close()
}
