package exporter_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocarina/gocsv"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
)

// hostile is a user whose cells a spreadsheet would run as formulas.
func hostile() exoteltest.SeedUser {
	return exoteltest.SeedUser{ID: "evil", FirstName: "=cmd|' /C calc'!A0", LastName: "@SUM(1+1)", Email: "-1@x.com",
		Role: "user", ActiveCall: "+x", LastLogin: fixedNow(),
		Devices: []exoteltest.SeedDevice{{Name: "-1", ContactURI: "+919812345678"}, {Name: "\tTab", ContactURI: "+919812345679"}}}
}

func TestCSVReportNeutralisesFormulas(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.srv.Seed(hostile())
	var buf bytes.Buffer
	w := exporter.NewWriter(&buf, exporter.FormatCSV)
	if _, err := exporter.New(e.client, e.limiter, exporter.Config{}).Run(newSwitch(t, nil), w); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// Read it back as a spreadsheet-minded consumer would, by header name.
	var recs []*exporter.Record
	if err := gocsv.UnmarshalBytes(buf.Bytes(), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d records", len(recs))
	}
	r := recs[0]
	for _, c := range []struct{ col, got, want string }{
		{"first_name", r.FirstName, "'=cmd|' /C calc'!A0"},
		{"last_name", r.LastName, "'@SUM(1+1)"},
		{"email", r.Email, "'-1@x.com"},
		{"device_name", r.DeviceName, "'-1"},
		{"active_call", r.ActiveCall, "'+x"},
		{"device_contact_uri", r.DeviceContactURI, "+919812345678"},
		// Only device_contact_uri keeps its +: extra_devices is not read
		// by import, and a spreadsheet would take it for a formula.
		{"extra_devices", r.ExtraDevices, "'+919812345679"},
		{"role", r.Role, "user"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.col, c.got, c.want)
		}
	}
	// The header is the contract's, in order.
	header, _, _ := bufio.NewReader(bytes.NewReader(buf.Bytes())).ReadLine()
	if want := []byte(strings.Join(exporter.Columns(), ",")); !bytes.Equal(header, want) {
		t.Errorf("header %s\nwant   %s", header, want)
	}
}

func TestJSONLinesReportKeepsValues(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	e.srv.Seed(hostile(), exoteltest.SeedUser{ID: "plain", FirstName: "Asha", LastName: "Rao", Email: "a<b>@x.com"})
	var buf bytes.Buffer
	w := exporter.NewWriter(&buf, exporter.FormatJSON)
	if _, err := exporter.New(e.client, e.limiter, exporter.Config{}).Run(newSwitch(t, nil), w); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), buf.Bytes())
	}
	var r exporter.Record
	if err := json.Unmarshal(lines[0], &r); err != nil {
		t.Fatal(err)
	}
	if r.FirstName != "=cmd|' /C calc'!A0" || r.ActiveCall != "+x" || r.DeviceName != "-1" || r.DeviceContactURI != "+919812345678" {
		t.Errorf("JSON record changed values: %+v", r)
	}
	if !bytes.Contains(lines[1], []byte(`"email":"a<b>@x.com"`)) {
		t.Errorf("HTML-escaped JSON: %s", lines[1])
	}
	var keys map[string]any
	_ = json.Unmarshal(lines[0], &keys)
	for _, c := range exporter.Columns() {
		if _, ok := keys[c]; !ok {
			t.Errorf("JSON line has no %q", c)
		}
	}
}

func TestEmptyCSVReportHasHeader(t *testing.T) {
	var buf bytes.Buffer
	w := exporter.NewWriter(&buf, exporter.FormatCSV)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != strings.Join(exporter.Columns(), ",")+"\n" {
		t.Errorf("empty report = %q", got)
	}
}

func TestFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.csv")
	old := []byte("yesterday's report\n")
	if err := os.WriteFile(path, old, 0o640); err != nil {
		t.Fatal(err)
	}

	// Abandoned: the old report stays, byte for byte, and nothing else.
	f, err := exporter.CreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("half a rep")); err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(f.Name()) != dir {
		t.Errorf("temporary file %s is not beside the report", f.Name())
	}
	f.Abort()
	checkDir(t, dir, map[string][]byte{"users.csv": old})

	// Committed: replaced, with the old permissions.
	f, err = exporter.CreateFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("today\n"))
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // a no-op once committed
	checkDir(t, dir, map[string][]byte{"users.csv": []byte("today\n")})
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want the old report's 0640", st.Mode().Perm())
	}

	if _, err := exporter.CreateFile(filepath.Join(dir, "missing", "x.csv")); err == nil {
		t.Error("CreateFile in a missing directory worked")
	}
}

// checkDir fails unless dir holds exactly these files with these contents.
func checkDir(t *testing.T, dir string, want map[string][]byte) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		if w, ok := want[e.Name()]; !ok || !bytes.Equal(b, w) {
			t.Errorf("%s holds %q", e.Name(), b)
		}
	}
	if len(names) != len(want) {
		t.Errorf("directory holds %v, want only %d files", names, len(want))
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]exporter.Format{"csv": exporter.FormatCSV, "json": exporter.FormatJSON} {
		if got, err := exporter.ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := exporter.ParseFormat("xlsx"); err == nil {
		t.Error("xlsx accepted")
	}
}

// A killed export leaves its temporary file; the next export of the same
// report removes it, and touches nothing else.
func TestRemoveStaleTemps(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	old := start.Add(-time.Hour)
	files := map[string]time.Time{
		"users.csv":                       old,
		".users.csv.8412337901.tmp":       old,                    // a killed export's: removed
		".users.csv.17.tmp":               old,                    // also
		".users.csv.5550001.tmp":          start.Add(time.Second), // an export running now
		".users.csv.summary.json.123.tmp": old,                    // another file's
		".other.csv.123.tmp":              old,                    // another report's
		".users.csv.12x.tmp":              old,                    // not a name CreateFile makes
		".users.csv..tmp":                 old,
		"users.csv.123.tmp":               old, // not hidden
		".users.csv.123.tmp.bak":          old,
	}
	for name, mtime := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := exporter.RemoveStaleTemps(filepath.Join(dir, "users.csv"), start)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	want := []string{filepath.Join(dir, ".users.csv.17.tmp"), filepath.Join(dir, ".users.csv.8412337901.tmp")}
	if !slices.Equal(removed, want) {
		t.Errorf("removed %q, want %q", removed, want)
	}
	left := map[string][]byte{}
	for name := range files {
		if !slices.Contains(want, filepath.Join(dir, name)) {
			left[name] = []byte(name)
		}
	}
	checkDir(t, dir, left)
}
