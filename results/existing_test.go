package results

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHasLines(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content *string // nil: no file
		want    bool
	}{
		{name: "no file", want: false},
		{name: "empty", content: ptr(""), want: false},
		{name: "header without newline", content: ptr("row,status"), want: false},
		{name: "header only", content: ptr("row,status\n"), want: false},
		{name: "header only, CRLF", content: ptr("row,status\r\n"), want: false},
		{name: "one line", content: ptr("row,status\n1,created\n"), want: true},
		{name: "a torn line", content: ptr("row,status\n1,cre"), want: true},
		{name: "a blank line", content: ptr("row,status\n\n"), want: true},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "r"+string(rune('a'+i))+".csv")
			if tc.content != nil {
				if err := os.WriteFile(path, []byte(*tc.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := HasLines(path)
			if err != nil || got != tc.want {
				t.Errorf("HasLines = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
	// Not a regular file: no earlier run's lines, and nothing read.
	for _, p := range []string{dir, os.DevNull, "/dev/zero"} {
		if has, err := HasLines(p); has || err != nil {
			t.Errorf("HasLines(%s) = %v, %v", p, has, err)
		}
	}
}

func ptr(s string) *string { return &s }

func TestMoveAsideKeepsTheFileAndItsState(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.csv")
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(path, "row,status\n1,created\n")
	write(StatePath(path), "{}\n")
	now := time.Date(2025, 3, 4, 5, 6, 7, 0, time.FixedZone("IST", 5*3600+1800))
	bak, err := MoveAside(path, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := path + ".20250303T233607Z.bak"; bak != want {
		t.Errorf("moved to %s, want %s", bak, want)
	}
	if data, _ := os.ReadFile(bak); string(data) != "row,status\n1,created\n" {
		t.Errorf("backup holds %q", data)
	}
	if _, err := os.Stat(StatePath(bak)); err != nil {
		t.Errorf("state not moved: %v", err)
	}
	for _, p := range []string{path, StatePath(path)} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	// A second move in the same second does not replace the first backup.
	write(path, "row,status\n2,created\n")
	again, err := MoveAside(path, now)
	if err != nil || again == bak || !strings.HasSuffix(again, "-2.bak") {
		t.Errorf("second move to %s, %v", again, err)
	}
	if data, _ := os.ReadFile(bak); string(data) != "row,status\n1,created\n" {
		t.Errorf("first backup now holds %q", data)
	}
}

func TestPriorKeepsExtraCellsRestored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.csv")
	layout := Layout{Extra: []string{"old_first_name"}, Input: []string{"email"}}
	w, err := Create(path, layout)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(Line{Row: 1, Status: Updated, Extra: []string{Neutralize("=Asha")}, Input: []string{"a@x.co"}}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	prior, err := Load(path, layout)
	if err != nil {
		t.Fatal(err)
	}
	if got := prior.Rows[1].Extra; len(got) != 1 || got[0] != "=Asha" {
		t.Errorf("Extra = %q", got)
	}
}
