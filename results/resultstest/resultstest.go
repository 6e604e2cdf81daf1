// Package resultstest reads results files back in tests.
package resultstest

import (
	"encoding/csv"
	"os"
	"strconv"
	"strings"
	"testing"
)

// ByRow reads the results file at path into column → value maps, keyed by
// the row column, and fails t if a row has more than one line.
func ByRow(t testing.TB, path string) map[int]map[string]string {
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
	if len(recs) == 0 {
		t.Fatalf("%s has no header line", path)
	}
	got := map[int]map[string]string{}
	for _, rec := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			if i < len(rec) {
				m[h] = rec[i]
			}
		}
		row, _ := strconv.Atoi(m["row"])
		if _, dup := got[row]; dup {
			t.Errorf("row %d has more than one line in %s", row, path)
		}
		got[row] = m
	}
	return got
}

// Complete is ByRow that also fails t unless rows 1 to rows each have a line
// and there are no others.
func Complete(t testing.TB, path string, rows int) map[int]map[string]string {
	t.Helper()
	got := ByRow(t, path)
	if len(got) != rows {
		t.Errorf("results have %d rows, want %d", len(got), rows)
	}
	for row := 1; row <= rows; row++ {
		if _, ok := got[row]; !ok {
			t.Errorf("row %d has no results line", row)
		}
	}
	return got
}

// Status fails t unless line has status want and its message mentions each
// of msgs; it returns line.
func Status(t testing.TB, row int, line map[string]string, want string, msgs ...string) map[string]string {
	t.Helper()
	if line["status"] != want {
		t.Errorf("row %d: status %q, want %q (message %q)", row, line["status"], want, line["message"])
	}
	for _, m := range msgs {
		if !strings.Contains(line["message"], m) {
			t.Errorf("row %d: message %q does not mention %q", row, line["message"], m)
		}
	}
	return line
}
