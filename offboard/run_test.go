package offboard_test

import (
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoroster/exoroster/confirm"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/results/resultstest"
)

// confirmer is a scripted answer to the confirmation. It notes when it was
// asked, relative to the DELETEs and the backup.
type confirmer struct {
	srv       *exoteltest.Server
	backup    string
	answer    bool
	interrupt chan struct{} // closed while asking: the user presses Ctrl-C

	calls, rows, deletesBefore int
	backupBefore               bool
}

func (c *confirmer) Confirm(rows []*offboard.Row, stop <-chan struct{}) (bool, error) {
	c.calls++
	c.rows = len(rows)
	c.deletesBefore = c.srv.CountRequests("DELETE")
	_, err := os.Stat(c.backup)
	c.backupBefore = err == nil
	if c.interrupt != nil {
		close(c.interrupt)
		<-stop
		return false, confirm.ErrInterrupted
	}
	return c.answer, nil
}

// backupRecords counts the user records in a backup file (0: no file).
func backupRecords(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return len(recs) - 1
}

// The safety sequence: each guard runs before any DELETE, in order, and a
// guard that refuses leaves no DELETE, no backup and every row recorded.
func TestRunGuardsComeBeforeTheFirstDelete(t *testing.T) {
	tests := []struct {
		name       string
		guards     func(g *offboard.Guards, c *confirmer, dir string)
		token      string
		wantAsked  bool
		wantDelete bool
		wantStatus results.Status // of the rows to delete
		wantAbort  string
		wantIntr   bool
		wantNote   string
	}{
		{name: "dry run", guards: func(g *offboard.Guards, _ *confirmer, _ string) { g.DryRun = true },
			wantStatus: results.WouldDelete},
		{name: "dry run over --max-delete only warns", guards: func(g *offboard.Guards, _ *confirmer, _ string) { g.DryRun, g.MaxDelete = true, 1 },
			wantStatus: results.WouldDelete, wantNote: "a real run would delete nothing"},
		{name: "over --max-delete", guards: func(g *offboard.Guards, _ *confirmer, _ string) { g.MaxDelete = 1 },
			wantStatus: results.Skipped, wantAbort: "more than --max-delete 1"},
		{name: "not confirmed", guards: func(*offboard.Guards, *confirmer, string) {},
			wantAsked: true, wantStatus: results.Skipped, wantAbort: "confirmation was not given"},
		{name: "interrupted at the prompt", guards: func(_ *offboard.Guards, c *confirmer, _ string) { c.interrupt = make(chan struct{}) },
			wantAsked: true, wantStatus: results.Skipped, wantIntr: true, wantNote: "nothing was deleted"},
		{name: "backup cannot be written", guards: func(g *offboard.Guards, c *confirmer, dir string) {
			c.answer = true
			g.Backup = filepath.Join(dir, "no-such-dir", "b.csv")
		}, wantAsked: true, wantStatus: results.Skipped, wantAbort: "cannot write the backup"},
		{name: "credentials refused while deciding", token: "wrong", guards: func(*offboard.Guards, *confirmer, string) {},
			wantStatus: results.Skipped, wantAbort: "EXOTEL_API_TOKEN"},
		{name: "confirmed", guards: func(_ *offboard.Guards, c *confirmer, _ string) { c.answer = true },
			wantAsked: true, wantDelete: true, wantStatus: results.Deleted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, exoteltest.Options{})
			e.seed(10)
			if tc.token != "" {
				e.client, e.limiter = e.connect(tc.token)
			}
			agents := e.agents(2)
			list := e.list("email\n" + agents[0].Email + "\n" + agents[1].Email + "\ngone@corp.example.com\n")
			backup := filepath.Join(e.dir, "backup.csv")
			c := &confirmer{srv: e.srv, backup: backup}
			var notes strings.Builder
			g := offboard.Guards{Confirm: c, Backup: backup, Notes: &notes}
			tc.guards(&g, c, e.dir)
			// Whatever the guards, the backup is complete when the first
			// DELETE arrives.
			var backupAtFirstDelete atomic.Int32
			backupAtFirstDelete.Store(-1)
			e.srv.SetOnRequest(func(r *http.Request) {
				if r.Method == http.MethodDelete {
					backupAtFirstDelete.CompareAndSwap(-1, int32(backupRecords(t, g.Backup)))
				}
			})
			interrupt := c.interrupt
			if interrupt == nil {
				interrupt = make(chan struct{})
			}
			path := filepath.Join(e.dir, "out.csv")
			out, err := results.Create(path, offboard.Layout(list))
			if err != nil {
				t.Fatal(err)
			}
			res, err := e.offboarder(offboard.Config{}).Run(context.Background(), e.halt(interrupt), list, out, g)
			out.Close()
			if err != nil {
				t.Fatal(err)
			}
			sum := res.Summary

			if asked := c.calls == 1; asked != tc.wantAsked || (asked && (c.rows != 2 || c.deletesBefore != 0 || c.backupBefore)) {
				t.Errorf("asked %d times for %d rows, with %d DELETEs and backup %v before; want asked %v, before any DELETE or backup",
					c.calls, c.rows, c.deletesBefore, c.backupBefore, tc.wantAsked)
			}
			deletes := e.srv.CountRequests("DELETE")
			if tc.wantDelete {
				if deletes != 2 || !res.Deleting || backupAtFirstDelete.Load() != 2 || !sum.OK() {
					t.Errorf("%d DELETEs, backup held %d records at the first; summary %+v", deletes, backupAtFirstDelete.Load(), sum)
				}
			} else if deletes != 0 || res.Deleting || backupRecords(t, backup) != 0 {
				t.Errorf("%d DELETEs, deleting %v, backup of %d records; want none", deletes, res.Deleting, backupRecords(t, backup))
			}
			lines := resultstest.Complete(t, path, 3)
			for row := 1; row <= 2; row++ {
				if lines[row]["status"] != string(tc.wantStatus) {
					t.Errorf("row %d = %v, want %s", row, lines[row], tc.wantStatus)
				}
			}
			switch {
			case tc.wantAbort == "" && sum.Aborted != nil:
				t.Errorf("aborted: %v", sum.Aborted)
			case tc.wantAbort != "" && (sum.Aborted == nil || !strings.Contains(sum.Aborted.Error(), tc.wantAbort)):
				t.Errorf("Aborted = %v, want %q", sum.Aborted, tc.wantAbort)
			}
			if sum.Interrupted != tc.wantIntr {
				t.Errorf("Interrupted = %v", sum.Interrupted)
			}
			if !strings.Contains(notes.String(), tc.wantNote) {
				t.Errorf("notes %q, want %q", notes.String(), tc.wantNote)
			}
		})
	}
}

func promptRows(n int) []*offboard.Row {
	rows := make([]*offboard.Row, n)
	for i := range rows {
		rows[i] = &offboard.Row{User: &exotel.User{ID: "u" + string(rune('a'+i)), FirstName: "Agent", LastName: string(rune('A' + i)),
			Email: "a" + string(rune('a'+i)) + "@corp.example.com", Role: "user"}}
	}
	return rows
}

func TestPromptAsksAndReadsOneLine(t *testing.T) {
	tests := []struct {
		name, in string
		want     bool
		left     string // what the prompt leaves unread
	}{
		{"yes", "yes\n", true, ""},
		{"yes with spaces", "  yes \r\n", true, ""},
		{"yes at the end of input", "yes", true, ""},
		{"no", "no\n", false, ""},
		{"more than yes", "YES please\n", false, ""},
		{"nothing", "", false, ""},
		{"only the first line is read", "yes\nrest\n", true, "rest\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := strings.NewReader(tc.in)
			var out strings.Builder
			p := &offboard.Prompt{In: in, Out: &out, Account: "acme1"}
			ok, err := p.Confirm(promptRows(12), make(chan struct{}))
			if err != nil || ok != tc.want {
				t.Errorf("Confirm = %v, %v; want %v", ok, err, tc.want)
			}
			rest := make([]byte, 64)
			n, _ := in.Read(rest)
			if string(rest[:n]) != tc.left {
				t.Errorf("left unread %q, want %q", rest[:n], tc.left)
			}
			for _, want := range []string{"About to delete 12 users from Exotel account acme1. This cannot be undone.",
				"  Agent A <aa@corp.example.com> (user)", "  ... and 2 more (see --dry-run for the full list)",
				"Delete 12 users? Type yes to continue: "} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("prompt lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// watchedReader counts the reads in progress on a pipe.
type watchedReader struct {
	*os.File
	reading atomic.Int32
}

func (w *watchedReader) Read(p []byte) (int, error) {
	w.reading.Add(1)
	defer w.reading.Add(-1)
	return w.File.Read(p)
}

// An interrupted prompt leaves no goroutine reading the terminal: what is
// typed next is there for whoever reads next.
func TestInterruptedPromptLeavesNoReader(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	in := &watchedReader{File: pr}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := (&offboard.Prompt{In: in}).Confirm(promptRows(1), stop)
		done <- err
	}()
	for in.reading.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	if err := <-done; !errors.Is(err, confirm.ErrInterrupted) {
		t.Fatalf("Confirm = %v, want ErrInterrupted", err)
	}
	if n := in.reading.Load(); n != 0 {
		t.Fatalf("%d reads still waiting after the prompt was interrupted", n)
	}
	pw.WriteString("yes\n")
	got := make([]byte, 4)
	if _, err := pr.Read(got); err != nil || string(got) != "yes\n" {
		t.Errorf("next read = %q, %v; the interrupted prompt must not take it", got, err)
	}
}
