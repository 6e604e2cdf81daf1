package exotel

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Credentials used by the hand-written servers. The token is long and
// distinctive so that a leak is easy to spot in any text.
const (
	testKey   = "test-key"
	testToken = "tok-Zq8Lw3Vn5Rk7Xy2"
	testSID   = "test-sid"
)

func testCreds() Credentials {
	return Credentials{APIKey: testKey, APIToken: NewSecret(testToken), AccountSID: testSID}
}

// newTestClient serves h on loopback and returns a client pointed at it.
// mod may adjust the options before New is called.
func newTestClient(t *testing.T, h http.Handler, mod ...func(*Options)) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	hc := srv.Client()
	hc.Timeout = 5 * time.Second
	opts := Options{BaseURL: srv.URL, Credentials: testCreds(), HTTPClient: hc}
	for _, m := range mod {
		m(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c, srv
}

// answer returns a handler that drains the request and writes status,
// headers (name, value pairs) and body.
func answer(status int, body string, headers ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// jsonAnswer is answer with a JSON content type.
func jsonAnswer(status int, body string, headers ...string) http.HandlerFunc {
	return answer(status, body, append([]string{"Content-Type", "application/json"}, headers...)...)
}

// successEnvelope wraps data (raw JSON) in a single-record success answer.
func successEnvelope(method, data string) string {
	return `{"request_id":"req-ok","method":"` + method + `","http_code":200,` +
		`"response":{"code":200,"error_data":null,"status":"success","data":` + data + `}}`
}

// errorEnvelope is a CCM failure answer; code is raw JSON (1022, "1022",
// "NA", null).
func errorEnvelope(status int, code, msg string) string {
	return `{"request_id":"req-err","method":"POST","http_code":` + strconv.Itoa(status) + `,` +
		`"response":{"code":` + strconv.Itoa(status) + `,"error_data":{"code":` + code +
		`,"description":"","message":"` + msg + `"},"status":"failure","data":null}}`
}

// asAPIError fails the test unless err is (or wraps) an *APIError.
func asAPIError(t *testing.T, err error) *APIError {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not an *APIError", err, err)
	}
	return ae
}

// asTransportError fails the test unless err is (or wraps) a *TransportError.
func asTransportError(t *testing.T, err error) *TransportError {
	t.Helper()
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("error %v (%T) is not a *TransportError", err, err)
	}
	return te
}

// seen is what a recording handler saw of one request.
type seen struct {
	Method      string
	RequestURI  string
	RawQuery    string
	Header      http.Header
	Body        string
	User, Token string
	BasicOK     bool
}

// recorder answers every request with reply and remembers what it saw.
type recorder struct {
	mu    sync.Mutex
	reqs  []seen
	reply http.HandlerFunc
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	u, p, ok := r.BasicAuth()
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, seen{
		Method: r.Method, RequestURI: r.RequestURI, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: string(body), User: u, Token: p, BasicOK: ok,
	})
	rec.mu.Unlock()
	rec.reply(w, r)
}

func (rec *recorder) all() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.reqs...)
}
