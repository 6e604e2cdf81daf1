package exoteltest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
)

func asha() exotel.CreateUserRequest {
	return exotel.CreateUserRequest{FirstName: "Asha", LastName: "Rao", Email: "asha@example.com", DeviceContactURI: "+919800000001"}
}

func lastRequest(t *testing.T, s *exoteltest.Server) exoteltest.Request {
	t.Helper()
	log := s.Requests()
	if len(log) == 0 {
		t.Fatal("empty log")
	}
	return log[len(log)-1]
}

func TestDropBeforeHasNoEffect(t *testing.T) {
	s := start(t, exoteltest.Options{DropBeforeRate: 1, FaultMethods: []string{"post"}})
	c := newClient(t, s, 5*time.Second)
	_, err := c.CreateUser(context.Background(), asha())
	var te *exotel.TransportError
	if !errors.As(err, &te) || !te.Sent {
		// Sent: the fake reads the whole request before dropping it, so the
		// client cannot tell this from a drop after the effect.
		t.Fatalf("err = %#v, want a *exotel.TransportError with Sent", err)
	}
	if n := len(s.Users()); n != 0 || len(s.CreatesByEmail()) != 0 {
		t.Errorf("a request dropped before taking effect created %d users", n)
	}
	e := lastRequest(t, s)
	if e.Dropped != "before" || e.Status != 0 || e.Decided != 0 || e.Fault != "drop_before" || e.Method != "POST" {
		t.Errorf("log entry %+v", e)
	}
	// FaultMethods spares other methods.
	if _, err := c.ListUsers(context.Background(), exotel.ListOptions{}); err != nil {
		t.Errorf("GET was faulted: %v", err)
	}
}

func TestDropAfterTakesEffect(t *testing.T) {
	s := start(t, exoteltest.Options{DropAfterRate: 1, FaultMethods: []string{"POST"}})
	c := newClient(t, s, 5*time.Second)
	_, err := c.CreateUser(context.Background(), asha())
	var te *exotel.TransportError
	if !errors.As(err, &te) || !te.Sent || !exotel.IsAmbiguous(err) {
		t.Fatalf("err = %#v, want a *exotel.TransportError with Sent", err)
	}
	if got := s.CreatesByEmail()["asha@example.com"]; got != 1 {
		t.Errorf("CreatesByEmail = %d", got)
	}
	e := lastRequest(t, s)
	if e.Dropped != "after" || e.Status != 0 || e.Decided != 200 || e.Fault != "drop_after" || e.RequestID == "" {
		t.Errorf("log entry %+v", e)
	}
	// What a careful client does next: look the person up before retrying.
	p, err := c.ListUsers(context.Background(), exotel.ListOptions{Emails: []string{"asha@example.com"}, Fields: []string{"devices"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Users) != 1 || !p.Users[0].HasContact("+919800000001") {
		t.Errorf("lookup after a dropped create: %+v", p.Users)
	}
	// A blind retry would have drawn a conflict (and been dropped too).
	s.SetFaults(exoteltest.Faults{})
	_, err = c.CreateUser(context.Background(), asha())
	if ae := apiErr(t, err); ae.Code != "1022" {
		t.Errorf("retry: %+v", ae)
	}
}

func TestServerErrors(t *testing.T) {
	s := start(t, exoteltest.Options{ServerErrorRate: 1})
	wantFailure(t, do(t, s, "POST", "", `{"first_name":"A","last_name":"B","email":"a@example.com"}`),
		"POST", 500, 1004, "Internal Server Error")
	if n := len(s.Users()); n != 0 {
		t.Errorf("a 500 created %d users", n)
	}
	if e := lastRequest(t, s); e.Fault != "server_error" || e.Status != 500 || e.Code != "1004" {
		t.Errorf("log entry %+v", e)
	}
	_, err := newClient(t, s, 5*time.Second).CreateUser(context.Background(), asha())
	if ae := apiErr(t, err); ae.Kind != exotel.KindServer || ae.Code != "1004" {
		t.Errorf("client: %+v", ae)
	}
	// Faults are drawn only after auth: a bad login is still a 401.
	if r := do(t, s, "GET", "", "", auth("x", "y")); r.status != 401 {
		t.Errorf("bad login under faults: %d", r.status)
	}
}

// statuses runs n GETs and returns their statuses.
func statuses(t *testing.T, s *exoteltest.Server, n int) []int {
	t.Helper()
	out := make([]int, n)
	for i := range out {
		r := do(t, s, "GET", "", "")
		out[i] = r.status
		if r.status == 502 && r.header.Get("Content-Type") != "text/html" {
			t.Errorf("502 Content-Type %q", r.header.Get("Content-Type"))
		}
	}
	return out
}

func TestHTMLErrorsAndDeterminism(t *testing.T) {
	opts := exoteltest.Options{Seed: 7, ServerErrorRate: 0.5, HTMLErrors: true}
	a := statuses(t, start(t, opts), 60)
	b := statuses(t, start(t, opts), 60)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	count := map[int]int{}
	for _, st := range a {
		count[st]++
	}
	if count[200] == 0 || count[500] == 0 || count[502] == 0 || count[200]+count[500]+count[502] != 60 {
		t.Errorf("statuses %v", count)
	}
	opts.Seed = 8
	if c := statuses(t, start(t, opts), 60); slices.Equal(a, c) {
		t.Error("another seed gave the same faults")
	}
}

func TestSlowWriteStillTakesEffect(t *testing.T) {
	// The client gives up long before the slow answer would come, yet
	// leaves a busy machine time enough to send the request first.
	s := start(t, exoteltest.Options{SlowRate: 1, SlowLatency: time.Minute, FaultMethods: []string{"POST"}})
	c := newClient(t, s, time.Second)
	_, err := c.CreateUser(context.Background(), asha())
	if !exotel.IsAmbiguous(err) {
		t.Fatalf("err = %v, want an ambiguous transport error", err)
	}
	if _, ok := s.UserByEmail("asha@example.com"); !ok {
		t.Error("the slow create did not take effect")
	}
	// The fake notices the client left and stops waiting.
	waitFor(t, "the slow answer to be aborted", func() bool { return lastRequest(t, s).Dropped == "aborted" })
	if e := lastRequest(t, s); e.Fault != "slow" || e.Decided != 200 || e.Status != 0 {
		t.Errorf("log entry %+v", e)
	}
}

func TestLatency(t *testing.T) {
	s := start(t, exoteltest.Options{Latency: 60 * time.Millisecond, LatencyJitter: 40 * time.Millisecond})
	for range 3 {
		began := time.Now()
		if r := do(t, s, "GET", "", ""); r.status != 200 {
			t.Fatal(r.status)
		}
		// A lower bound only: a busy machine answers later, never sooner.
		if el := time.Since(began); el < 60*time.Millisecond {
			t.Errorf("answer took %v, less than the 60ms latency", el)
		}
	}
}

func TestCloseAbortsSleepingAnswers(t *testing.T) {
	s := exoteltest.NewServer(exoteltest.Options{Latency: time.Minute})
	c := newClient(t, s, 0) // no client timeout: only Close can end it
	errc := make(chan error, 1)
	go func() {
		_, err := c.CreateUser(context.Background(), asha())
		errc <- err
	}()
	waitFor(t, "the request to arrive", func() bool { return s.CountRequests("POST") == 1 })
	began := time.Now()
	s.Close()
	if el := time.Since(began); el >= 30*time.Second {
		t.Errorf("Close took %v: it waited for the minute-long answer", el)
	}
	if err := <-errc; !exotel.IsAmbiguous(err) {
		t.Errorf("client got %v, want an ambiguous transport error", err)
	}
	if _, ok := s.UserByEmail("asha@example.com"); !ok {
		t.Error("state lost or create undone by Close")
	}
	if e := s.Requests()[0]; e.Dropped != "aborted" {
		t.Errorf("log entry %+v", e)
	}
}

func TestHandlerServedElsewhere(t *testing.T) {
	f := exoteltest.NewHandler(exoteltest.Options{})
	ts := httptest.NewServer(f)
	defer ts.Close()
	req, _ := http.NewRequest("GET", ts.URL+f.UsersPath(), nil)
	req.SetBasicAuth("test-key", "test-token")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	f.Close()
	req, _ = http.NewRequest("GET", ts.URL+f.UsersPath(), nil)
	if resp, err := ts.Client().Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("after Fake.Close: status %d, want the connection closed", resp.StatusCode)
	}
}

func TestSetFaultsMidTest(t *testing.T) {
	s := start(t, exoteltest.Options{})
	if r := do(t, s, "GET", "", ""); r.status != 200 {
		t.Fatal(r.status)
	}
	s.SetFaults(exoteltest.Faults{ServerErrorRate: 1, FaultMethods: []string{"GET"}})
	if r := do(t, s, "GET", "", ""); r.status != 500 {
		t.Errorf("after SetFaults: %d", r.status)
	}
	if r := do(t, s, "POST", "", `{"first_name":"A","last_name":"B"}`); r.status != 200 {
		t.Errorf("POST spared by FaultMethods: %d", r.status)
	}
	s.SetFaults(exoteltest.Faults{})
	if r := do(t, s, "GET", "", ""); r.status != 200 {
		t.Errorf("after clearing: %d", r.status)
	}
}
