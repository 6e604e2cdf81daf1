package resolve_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/resolve"
)

// A run stopped while the account is being listed ends the lookup with a
// run-level error and no warning: a stop is not a failed listing.
func TestLookupStoppedDuringTheListingWarnsOfNothing(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := newEnv(t, 0, exoteltest.Options{OnRequest: func(r *http.Request) {
		cancel()
		select { // hold the page until the client gives up on it
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}})
	var mu sync.Mutex
	var logs bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	})
	r := resolve.New(e.client, e.limiter, resolve.Config{Logger: slog.New(slog.NewTextHandler(w, nil))})
	_, err := r.Lookup(ctx, []resolve.Ident{{UserID: "a"}, {UserID: "b"}})
	if !resolve.IsRunLevel(err) {
		t.Errorf("err = %v, want a run-level stop", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if logs.Len() > 0 {
		t.Errorf("a stop was logged:\n%s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
