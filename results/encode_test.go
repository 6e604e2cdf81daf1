package results

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
)

// csvLine is a line as encoding/csv writes the record the Writer once
// built for it: the reference appendLine must match byte for byte.
func csvLine(t *testing.T, layout Layout, l Line) []byte {
	t.Helper()
	rec := []string{strconv.Itoa(l.Row), string(l.Status), l.UserID, l.DeviceID, "", l.ErrorCode, oneLine(l.Message), strconv.Itoa(l.Attempts)}
	if l.HTTPStatus != 0 {
		rec[4] = strconv.Itoa(l.HTTPStatus)
	}
	extra := make([]string, len(layout.Extra))
	copy(extra, l.Extra)
	rec = append(rec, extra...)
	for _, c := range l.Input {
		rec = append(rec, SafeCell(c, true))
	}
	for i := len(l.Input); i < len(layout.Input); i++ {
		rec = append(rec, "")
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	return b.Bytes()
}

func TestAppendLineMatchesEncodingCSV(t *testing.T) {
	layout := Layout{Extra: []string{"old_email", "old_phone"}, Input: []string{"name", "email", "phone"}}
	tests := []struct {
		name string
		line Line
	}{
		{name: "would create", line: Line{Row: 1, Status: WouldCreate, Message: "would create Rahul Sharma, role agent, r@x.com, +919876543210",
			Input: []string{"Rahul Sharma", "r@x.com", "+919876543210"}}},
		{name: "created with an answer", line: Line{Row: 12, Status: Created, UserID: "u-1", DeviceID: "d-1", HTTPStatus: 200, Attempts: 2,
			Input: []string{"Priya", "p@x.com", "9876543210"}}},
		{name: "failed, multi-line message", line: Line{Row: 3, Status: Failed, HTTPStatus: 409, ErrorCode: "1022", Attempts: 1,
			Message: "email taken\r\nby a deleted user", Input: []string{"x", "y", "z"}}},
		{name: "quotes, commas and line breaks in cells", line: Line{Row: 4, Status: Invalid, Message: `bad "email", see row 2`,
			Input: []string{"Sharma, \"Rahul\"", "a\nb", "c\rd"}}},
		{name: "formula and spaces", line: Line{Row: 5, Status: Invalid, Input: []string{"=cmd|' /C calc'!A0", " lead", "\tTab"}}},
		{name: "control spaces first", line: Line{Row: 10, Status: Invalid, Message: "\vvt", Input: []string{"\ffeed", "\u0085nel", "\x01"}}},
		{name: "backslash dot", line: Line{Row: 6, Status: Invalid, Message: `\.`, Input: []string{`\.`, "", ""}}},
		{name: "short and long input, extra", line: Line{Row: 7, Status: Updated, Extra: []string{"o@x.com", "", "dropped"},
			Input: []string{"only one"}}},
		{name: "more cells than the header", line: Line{Row: 8, Status: Skipped, Input: []string{"a", "b", "c", "d", "e"}}},
		{name: "unicode space first", line: Line{Row: 9, Status: Invalid, Message: "\u00a0nbsp", Input: []string{"\u2003em", "\u200bzw", "ü"}}},
		{name: "empty", line: Line{}},
	}
	w := &Writer{extraWidth: len(layout.Extra), inputWidth: len(layout.Input)}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, want := w.appendLine(nil, tc.line), csvLine(t, layout, tc.line)
			if !bytes.Equal(got, want) {
				t.Errorf("appendLine:\n got %q\nwant %q", got, want)
			}
		})
	}
}

// FuzzAppendRecord checks appendRecord against encoding/csv's Writer.
func FuzzAppendRecord(f *testing.F) {
	for _, s := range []string{"a,b", "\"q\"\x00 lead", `\.`, "\r\n\x00\n", "\u00a0x\x00\u3000", "=1+2\x00'@x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cells := strings.Split(s, "\x00")
		var want bytes.Buffer
		w := csv.NewWriter(&want)
		if err := w.Write(cells); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		if got := appendRecord(nil, cells); !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("appendRecord(%q) = %q, want %q", cells, got, want.Bytes())
		}
		l := Line{Row: len(s), Status: Status(cells[0]), Message: s, Input: cells}
		lw := &Writer{extraWidth: 1, inputWidth: 2}
		if got, want := lw.appendLine(nil, l), csvLine(t, Layout{Extra: []string{"x"}, Input: []string{"a", "b"}}, l); !bytes.Equal(got, want) {
			t.Fatalf("appendLine:\n got %q\nwant %q", got, want)
		}
	})
}
