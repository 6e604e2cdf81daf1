package importer_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/importer"
)

// logBuffer is a log's text, written from many goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A Ctrl-C during --check-existing's batched lookup is a stop, not a
// failed lookup: nothing warns of rows to be checked one by one.
func TestImportCheckExistingInterruptedSaysNoFailure(t *testing.T) {
	interrupt := make(chan struct{})
	var once sync.Once
	e := newEnv(t, exoteltest.Options{OnRequest: func(r *http.Request) {
		if r.Method != http.MethodGet {
			return
		}
		once.Do(func() { close(interrupt) })
		// Hold the lookup until the client gives up on it.
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}})
	var logs logBuffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o := e.importFile(e.roster("roster.csv", people(60)), importer.Config{CheckExisting: true, Logger: log}, interrupt)
	if !o.sum.Interrupted {
		t.Fatal("summary not marked interrupted")
	}
	if got := logs.String(); strings.Contains(got, "level=WARN") || strings.Contains(got, "lookup failed") {
		t.Errorf("a stop logged as a failure:\n%s", got)
	}
	if posts := e.srv.CountRequests(http.MethodPost); posts != 0 {
		t.Errorf("%d POSTs after the interrupt", posts)
	}
}
