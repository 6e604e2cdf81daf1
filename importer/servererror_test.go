package importer_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/importer"
)

// failAfterCreate sits in front of the fake and turns the answer to the
// first POST of each body into a 500 after the fake has made the user: a
// server error that came after the write took effect.
func failAfterCreate(t *testing.T, srv *exoteltest.Server) string {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	client := srv.Client()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, err := http.NewRequestWithContext(r.Context(), r.Method, srv.URL()+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			t.Error(err)
			return
		}
		out.Header = r.Header.Clone()
		resp, err := client.Do(out)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		mu.Lock()
		first := r.Method == http.MethodPost && !seen[string(body)]
		seen[string(body)] = true
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if first {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"request_id":"x","method":"POST","http_code":500,"response":{"code":500,"error_data":`+
				`{"code":1004,"description":"Internal Server Error","message":"Internal Server Error"},"status":"failure","data":null}}`)
			return
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(answer)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// A 5xx that came after the user was made must not make a row with
// neither email nor phone twice: it gets the rule of a lost answer.
func TestServerErrorAfterCreateIsNotResentBlind(t *testing.T) {
	cases := []struct {
		name       string
		roster     string
		cfg        importer.Config
		wantStatus string
		wantUsers  int
		wantInMsg  string
	}{
		{name: "no email or phone: not sent again", roster: "first_name,last_name\nNo,Contact\n",
			wantStatus: "failed", wantUsers: 1, wantInMsg: "--retry-unverifiable"},
		{name: "no email or phone, --retry-unverifiable: sent again as asked", roster: "first_name,last_name\nNo,Contact\n",
			cfg: importer.Config{RetryUnverifiable: true}, wantStatus: "created", wantUsers: 2},
		{name: "with an email: the retry's 409 settles it", roster: "first_name,last_name,email\nHas,Mail,has.mail@corp.example.com\n",
			wantStatus: "created", wantUsers: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, exoteltest.Options{})
			client, err := exotel.New(exotel.Options{
				BaseURL: failAfterCreate(t, e.srv),
				Credentials: exotel.Credentials{APIKey: "test-key", APIToken: exotel.NewSecret("test-token"),
					AccountSID: "test-sid"},
				HTTPClient: exotel.NewHTTPClient(8, 2*time.Second),
				Pacer:      e.limiter,
			})
			if err != nil {
				t.Fatal(err)
			}
			e.client = client
			o := e.importFile(e.roster("roster.csv", c.roster), c.cfg, nil)
			line := o.lines[1]
			if line["status"] != c.wantStatus {
				t.Errorf("status = %q, want %q (%s)", line["status"], c.wantStatus, line["message"])
			}
			if !strings.Contains(line["message"], c.wantInMsg) {
				t.Errorf("message = %q, want it to hold %q", line["message"], c.wantInMsg)
			}
			if c.wantStatus == "failed" && line["http_status"] != "" {
				t.Errorf("http_status = %q, want blank so a resume treats the user as maybe made", line["http_status"])
			}
			if got := len(e.srv.Users()); got != c.wantUsers {
				t.Errorf("server holds %d users, want %d", got, c.wantUsers)
			}
		})
	}
}
