package results

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNeutralizeAndRestore(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Rahul", "Rahul"},
		{"=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"},
		{"+91 98765", "'+91 98765"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tTab", "'\tTab"},
		{"\rCR", "'\rCR"},
		{"a=b", "a=b"},
		{"'", "'"},
		{"'quoted", "'quoted"},
		// Already quoted by hand: one more quote, so Restore gives it back.
		{"'=x", "''=x"},
		{"''+1", "'''+1"},
	}
	for _, tc := range tests {
		got := Neutralize(tc.in)
		if got != tc.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if back := Restore(got); back != tc.in {
			t.Errorf("Restore(%q) = %q, want %q", got, back, tc.in)
		}
	}
}

func FuzzNeutralizeRestore(f *testing.F) {
	for _, s := range []string{"", "=1", "'=1", "''", "'", "-", "a", "\t", "'\r"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Neutralize(s)
		if Restore(n) != s {
			t.Errorf("Restore(Neutralize(%q)) = %q", s, Restore(n))
		}
		if n != "" && strings.ContainsRune("=+-@\t\r", rune(n[0])) {
			t.Errorf("Neutralize(%q) = %q still starts a formula", s, n)
		}
	})
}

// Cells that echo the input are neutralised on the way out and read back
// as they were, so a resume still recognises each row's input.
func TestInputCellsAreNeutralisedAndReadBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	layout := Layout{Input: []string{"first_name", "last_name", "phone"}}
	inputs := [][]string{
		{"=cmd|' /C calc'!A0", "@SUM(1)", "+919800000001"},
		{"'=already", "Rao", "-"},
		{"Plain", "Name", "98000 00001"},
	}
	w, err := Create(path, layout)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range inputs {
		if err := w.Write(Line{Row: i + 1, Status: Invalid, Message: "x", Input: in}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, path)
	wantCells := [][]string{
		{"'=cmd|' /C calc'!A0", "'@SUM(1)", "+919800000001"},
		{"''=already", "Rao", "'-"},
		{"Plain", "Name", "98000 00001"},
	}
	for i, want := range wantCells {
		if got := recs[i+1][8:]; strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("line %d echoes %q, want %q", i+1, got, want)
		}
	}
	prior, err := Load(path, layout)
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range inputs {
		if prior.Rows[i+1].InputHash != InputHash(in) {
			t.Errorf("row %d: the input hash read back does not match the input %q", i+1, in)
		}
	}
}

// A results file re-saved by a spreadsheet (a UTF-8 BOM, CRLF line ends,
// every cell quoted) resumes like the original.
func TestResumeReadsASpreadsheetsResave(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	layout := Layout{Input: []string{"first_name", "email"}}
	w, err := Create(path, layout)
	if err != nil {
		t.Fatal(err)
	}
	lines := []Line{
		{Row: 1, Status: Created, UserID: "u1", HTTPStatus: 200, Attempts: 1, Input: []string{"Asha", "asha@x.com"}},
		{Row: 2, Status: Failed, HTTPStatus: 500, Attempts: 3, Message: "server error", Input: []string{"=Bala", "bala@x.com"}},
	}
	for _, l := range lines {
		w.Write(l)
	}
	w.Close()
	original, _ := os.ReadFile(path)

	// What Excel writes back: BOM, CRLF, quotes around every cell.
	var b strings.Builder
	b.WriteString("\xEF\xBB\xBF")
	for _, rec := range readAll(t, path) {
		for i, c := range rec {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"` + strings.ReplaceAll(c, `"`, `""`) + `"`)
		}
		b.WriteString("\r\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	prior, err := Load(path, layout)
	if err != nil {
		t.Fatalf("Load of a re-saved file: %v", err)
	}
	if prior.TornLine || len(prior.Rows) != 2 || prior.Rows[1].UserID != "u1" || prior.Rows[2].Status != Failed {
		t.Errorf("prior = %+v", prior)
	}
	for _, l := range lines {
		if prior.Rows[l.Row].InputHash != InputHash(l.Input) {
			t.Errorf("row %d: input hash differs after the re-save", l.Row)
		}
	}
	w, err = Reopen(path, layout, func(_ int, p PriorRow) bool { return p.Status == Created })
	if err != nil {
		t.Fatal(err)
	}
	w.Write(Line{Row: 2, Status: Created, UserID: "u2", HTTPStatus: 200, Attempts: 1, Input: []string{"=Bala", "bala@x.com"}})
	w.Close()
	recs := readAll(t, path)
	if len(recs) != 3 || recs[0][0] != "row" || recs[1][2] != "u1" || recs[2][2] != "u2" || recs[2][8] != "'=Bala" {
		t.Errorf("after the resume: %q", recs)
	}
	if got, _ := os.ReadFile(path); strings.Contains(string(got), "\r\n") || !strings.HasPrefix(string(got), string(original[:10])) {
		t.Errorf("the rewritten file is not in the writer's own form:\n%q", got)
	}
}
