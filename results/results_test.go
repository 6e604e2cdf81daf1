package results

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestHeaderRenamesCollidingInputColumns(t *testing.T) {
	l := Layout{Extra: []string{"email"}, Input: []string{"user_id", "Email", "phone", "input_phone"}}
	got := l.Header()
	want := []string{"row", "status", "user_id", "device_id", "http_status", "error_code", "message", "attempts",
		"email", "input_user_id", "input_Email", "phone", "input_phone"}
	if !slices.Equal(got, want) {
		t.Errorf("Header() =\n %q\nwant\n %q", got, want)
	}
}

func readAll(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func TestWriterWritesEveryLineAndPadsInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	layout := Layout{Input: []string{"first_name", "last_name", "email"}}
	w, err := Create(path, layout)
	if err != nil {
		t.Fatal(err)
	}
	lines := []Line{
		{Row: 1, Status: Created, UserID: "u1", DeviceID: "7", HTTPStatus: 200, Attempts: 1, Input: []string{"A", "B", "a@x.com"}},
		{Row: 2, Status: Invalid, Message: "email: not valid;\nrole: bad", Input: []string{"C"}},
		{Row: 3, Status: Failed, HTTPStatus: 400, ErrorCode: "1401", Message: "Enter Valid Phone Number", Attempts: 1,
			Input: []string{"D", "E", "d@x.com", "extra cell"}},
	}
	for _, l := range lines {
		if err := w.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	// Lines are on disk before Close: a killed process keeps them.
	if recs := readAll(t, path); len(recs) != 4 {
		t.Fatalf("before Close: %d records, want header + 3", len(recs))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, path)
	want := [][]string{
		layout.Header(),
		{"1", "created", "u1", "7", "200", "", "", "1", "A", "B", "a@x.com"},
		{"2", "invalid", "", "", "", "", "email: not valid; role: bad", "0", "C", "", ""},
		{"3", "failed", "", "", "400", "1401", "Enter Valid Phone Number", "1", "D", "E", "d@x.com", "extra cell"},
	}
	for i := range want {
		if !slices.Equal(recs[i], want[i]) {
			t.Errorf("record %d = %q, want %q", i, recs[i], want[i])
		}
	}
	if err := w.Write(Line{Row: 9}); err == nil {
		t.Error("Write after Close succeeded")
	}
}

func TestWriterConcurrentWritesStayWhole(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	w, err := Create(path, Layout{Input: []string{"name"}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				w.Write(Line{Row: g*50 + i + 1, Status: Created, Message: "a, \"quoted\" message", Input: []string{"x,y"}})
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, path)
	if len(recs) != 401 {
		t.Fatalf("%d records, want 401", len(recs))
	}
	for _, r := range recs[1:] {
		if len(r) != 9 || r[6] != `a, "quoted" message` || r[8] != "x,y" {
			t.Fatalf("mangled record %q", r)
		}
	}
}

// writeResults makes a results file with the given rows' statuses.
func writeResults(t *testing.T, path string, layout Layout, statuses map[int]Status) {
	t.Helper()
	w, err := Create(path, layout)
	if err != nil {
		t.Fatal(err)
	}
	for row := 1; row <= len(statuses); row++ {
		w.Write(Line{Row: row, Status: statuses[row], Attempts: 1, Input: []string{"First" + string(rune('A'+row)), "Last"}})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestResumeKeepsChosenLinesAndAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	layout := Layout{Input: []string{"first_name", "last_name"}}
	writeResults(t, path, layout, map[int]Status{1: Created, 2: Failed, 3: Exists, 4: Skipped})

	keepDone := func(_ int, p PriorRow) bool { return p.Status == Created || p.Status == Exists }
	prior, err := Load(path, layout)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Reopen(path, layout, keepDone)
	if err != nil {
		t.Fatal(err)
	}
	if len(prior.Rows) != 4 || prior.TornLine {
		t.Fatalf("prior = %+v, want 4 rows and no torn line", prior)
	}
	if got := prior.Rows[2]; got.Status != Failed || got.Attempts != 1 ||
		got.InputHash != InputHash([]string{"FirstC", "Last"}) {
		t.Errorf("row 2 = %+v", got)
	}
	w.Write(Line{Row: 2, Status: Created, Input: []string{"FirstC", "Last"}})
	w.Write(Line{Row: 4, Status: Created, Input: []string{"FirstE", "Last"}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range readAll(t, path)[1:] {
		rows = append(rows, r[0]+":"+r[1])
	}
	want := []string{"1:created", "3:exists", "2:created", "4:created"}
	if !slices.Equal(rows, want) {
		t.Errorf("rows after resume = %v, want %v (one line per row)", rows, want)
	}
}

func TestResumeDropsTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	layout := Layout{Input: []string{"first_name", "last_name"}}
	writeResults(t, path, layout, map[int]Status{1: Created, 2: Created})
	// A kill -9 in the middle of a write leaves a line without its newline.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`3,created,abc,1,200,,,1,"First`)
	f.Close()

	prior, err := Load(path, layout)
	if err != nil {
		t.Fatal(err)
	}
	w, err := Reopen(path, layout, func(int, PriorRow) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if !prior.TornLine {
		t.Error("TornLine = false, want the partial last line noticed")
	}
	if _, ok := prior.Rows[3]; ok || len(prior.Rows) != 2 {
		t.Errorf("rows = %v, want rows 1 and 2 only", prior.Rows)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "abc") || !strings.HasSuffix(string(data), "\n") {
		t.Errorf("rewritten file still holds the torn line:\n%s", data)
	}
}

func TestResumeRefusesOtherInputsAndDamage(t *testing.T) {
	dir := t.TempDir()
	layout := Layout{Input: []string{"first_name", "last_name"}}
	keepAll := func(int, PriorRow) bool { return true }

	other := filepath.Join(dir, "other.csv")
	writeResults(t, other, Layout{Input: []string{"name", "email"}}, map[int]Status{1: Created})
	if _, err := Reopen(other, layout, keepAll); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("resume with other columns: err = %v, want a mismatch", err)
	}

	damaged := filepath.Join(dir, "damaged.csv")
	writeResults(t, damaged, layout, map[int]Status{1: Created})
	f, _ := os.OpenFile(damaged, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("x,created\n2,created,,,,,,1,A,B\n")
	f.Close()
	if _, err := Load(damaged, layout); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("resume of a damaged file: err = %v, want it refused", err)
	}

	if _, err := Load(filepath.Join(dir, "missing.csv"), layout); err == nil {
		t.Error("resume of a missing file succeeded")
	}
}

func TestStateRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	if _, ok, err := LoadState(path); ok || err != nil {
		t.Fatalf("LoadState of nothing = %v, %v", ok, err)
	}
	want := State{Command: "import", Input: "roster.csv", InputSHA256: "abc", InputRows: 12,
		Updated: time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)}
	if err := SaveState(path, want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := LoadState(path)
	if err != nil || !ok {
		t.Fatalf("LoadState = %v, %v", ok, err)
	}
	want.Version = 1
	if got != want {
		t.Errorf("state = %+v, want %+v", got, want)
	}
	os.WriteFile(StatePath(path), []byte("{not json"), 0o644)
	if _, _, err := LoadState(path); err == nil {
		t.Error("LoadState of a damaged state file succeeded")
	}
}

func TestInputHashIgnoresPadding(t *testing.T) {
	if InputHash([]string{"a", "b"}) != InputHash([]string{"a", "b", "", ""}) {
		t.Error("padding changed the hash")
	}
	if InputHash([]string{"a,b"}) == InputHash([]string{"a", "b"}) {
		t.Error("cell boundaries are not part of the hash")
	}
}

func TestOnly(t *testing.T) {
	counts := map[Status]int{Created: 3, Exists: 1, Failed: 0}
	if !Only(counts, Created, Exists) {
		t.Error("zero counts of other statuses must not matter")
	}
	counts[Invalid] = 1
	if Only(counts, Created, Exists) {
		t.Error("an invalid row was accepted")
	}
	if !Only(nil, Created) {
		t.Error("no rows need no attention")
	}
}

// A line decided without a request may wait in memory; the first line that
// records a request takes it to the file with it, in order, so a kill loses
// nothing the API did and a dry run costs no system call per row.
func TestWriterHoldsLocalLinesUntilARequestLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	w, err := Create(path, Layout{Input: []string{"email"}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i, st := range []Status{Invalid, WouldCreate} {
		if err := w.Write(Line{Row: i + 1, Status: st, Input: []string{"a@x.com"}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(readAll(t, path)); got != 1 {
		t.Fatalf("%d lines on disk after two local lines, want the header alone", got)
	}
	if err := w.Write(Line{Row: 3, Status: Created, UserID: "u3", HTTPStatus: 200, Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, rec := range readAll(t, path)[1:] {
		rows = append(rows, rec[0]+":"+rec[1])
	}
	if want := []string{"1:invalid", "2:would_create", "3:created"}; !slices.Equal(rows, want) {
		t.Errorf("on disk %q, want %q: the request line must bring the held lines, in order", rows, want)
	}
	// A skipped row after a request is not local either: a resume reads it.
	if err := w.Write(Line{Row: 4, Status: Skipped, Attempts: 2}); err != nil {
		t.Fatal(err)
	}
	if got := len(readAll(t, path)); got != 5 {
		t.Errorf("%d lines on disk, want 5", got)
	}
}

func TestWriterCloseWritesHeldLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.csv")
	w, err := Create(path, Layout{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := w.Write(Line{Row: i + 1, Status: Invalid}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(readAll(t, path)); got != 4 {
		t.Errorf("%d lines after Close, want the header and 3", got)
	}
}
