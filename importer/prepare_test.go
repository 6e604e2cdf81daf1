package importer_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/roster"
)

// TestPrepareCountsAndHashes checks the plan's count, last row and hash
// against the Reader and the file's bytes, for files roster.CountRows
// counts itself and files it leaves to the Reader.
func TestPrepareCountsAndHashes(t *testing.T) {
	dir := t.TempDir()
	header, _, _ := strings.Cut(people(0), "\n")
	header += "\n"
	rowsOf := func(n int) string { _, body, _ := strings.Cut(people(n), "\n"); return body }
	utf16le := func(s string) string {
		b := []byte{0xff, 0xfe}
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return string(b)
	}
	tests := []struct {
		name string
		file string
		rows int
		read roster.ReadOptions
	}{
		{name: "plain", file: header + rowsOf(5), rows: 5},
		{name: "CRLF and blank rows", file: strings.ReplaceAll(header+"\n,,,\n"+rowsOf(3)+"\n", "\n", "\r\n"), rows: 3},
		{name: "CR only", file: strings.ReplaceAll(header+rowsOf(3), "\n", "\r"), rows: 3},
		{name: "BOM and quoted cells", file: "\ufeff" + header + "\"Rahul, Jr\",Sharma,r@x.com,9876543210\n" + rowsOf(2), rows: 3},
		{name: "quoted line break (the Reader counts)", file: header + "\"Rahul\nKumar\",Sharma,r@x.com,9876543210\n" + rowsOf(2), rows: 3},
		{name: "Windows-1252 (the Reader counts)", file: header + "Jos\xe9,M,j@x.com,9876543210\n" + rowsOf(2), rows: 3},
		{name: "UTF-16LE (the Reader counts)", file: utf16le(header + rowsOf(4)), rows: 4},
		{name: "forced separator", file: strings.ReplaceAll(header+rowsOf(2), ",", ";"), rows: 2, read: roster.ReadOptions{Delimiter: ";"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".csv")
			if err := os.WriteFile(path, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			in := input(path)
			in.Read = tc.read
			plan, err := importer.Prepare(in, roster.Options{})
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256([]byte(tc.file))
			if plan.SHA256 != hex.EncodeToString(sum[:]) {
				t.Errorf("SHA256 %s, want the file's %x", plan.SHA256, sum)
			}
			rows, last := readAll(t, path, tc.read)
			if plan.Rows != tc.rows || plan.Rows != rows || plan.LastRow != last {
				t.Errorf("plan: %d rows, last row %d; the Reader %d rows, last row %d; want %d rows",
					plan.Rows, plan.LastRow, rows, last, tc.rows)
			}
		})
	}
}

// TestPrepareWorkbookRows: a workbook is counted by the Reader, whose rows
// are the sheet's own numbers.
func TestPrepareWorkbookRows(t *testing.T) {
	path := hrWorkbook(t, t.TempDir())
	plan, err := importer.Prepare(input(path), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if plan.Rows != 4 || plan.LastRow != 6 || plan.SHA256 != hex.EncodeToString(sum[:]) {
		t.Errorf("plan: %d rows, last row %d, hash %s; want 4, 6, %x", plan.Rows, plan.LastRow, plan.SHA256, sum)
	}
}

// TestPrepareStopsOnAnUnclosedQuote: a file the Reader cannot read to its
// end is refused before the run, as before there was a counter.
func TestPrepareStopsOnAnUnclosedQuote(t *testing.T) {
	path := filepath.Join(t.TempDir(), "open.csv")
	if err := os.WriteFile(path, []byte(people(2)+"Rahul,\"Sharma,r@x.com,9876543210\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := importer.Prepare(input(path), roster.Options{})
	if err == nil || !strings.Contains(err.Error(), "never closed") {
		t.Fatalf("Prepare = %v, want the unclosed quote refused", err)
	}
}

func readAll(t *testing.T, path string, opts roster.ReadOptions) (rows, last int) {
	t.Helper()
	r, err := roster.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return rows, last
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		last = rec.Row
	}
}
