package exporter_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// shapes are one user of each shape a JSON report must keep: every value
// set, every optional one null, a second unverified sip device, a device
// turned off, and values of shapes the documents do not give.
func shapes() []exoteltest.SeedUser {
	on, off := true, false
	created := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	login := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return []exoteltest.SeedUser{
		{ID: "full", FirstName: "Asha", LastName: "Rao", Email: "asha@x.com", EmailVerified: true, Role: "admin",
			LastLogin: login, ActiveCall: "72827ead13a355d334338f53af71157s", DateCreated: created,
			Devices: []exoteltest.SeedDevice{{Name: "Desk", ContactURI: "+919800000001", Verified: true, Available: &on, Status: "busy"}}},
		{ID: "bare", FirstName: "No", LastName: "Thing", DateCreated: created},
		{ID: "two_devices", FirstName: "Sip", LastName: "First", Email: "sip@x.com", Role: "supervisor", DateCreated: created,
			Devices: []exoteltest.SeedDevice{{ContactURI: "sip:sipfirst1"}, {ContactURI: "+919800000003", Verified: true}}},
		{ID: "off", FirstName: "Off", LastName: "Duty", Email: "off@x.com", DateCreated: created,
			Devices: []exoteltest.SeedDevice{{ContactURI: "+919800000004", Verified: true, Available: &off, Status: "free"}}},
		{ID: "odd", FirstName: "Odd", LastName: "Shapes", Email: "odd@x.com", DateCreated: created, Phone: "+919800000005",
			Raw: map[string]json.RawMessage{
				"active_call":    json.RawMessage(`{"sid":"ca1","direction":"inbound"}`),
				"last_login":     json.RawMessage(`1767323045`),
				"email_verified": json.RawMessage(`"yes"`),
			}},
	}
}

func TestJSONLinesKeepTheAPIsTypes(t *testing.T) {
	e := newEnv(t, exoteltest.Options{Now: fixedNow})
	e.srv.Seed(shapes()...)
	var buf bytes.Buffer
	w := exporter.NewWriter(&buf, exporter.FormatJSON)
	sum, err := exporter.New(e.client, e.limiter, exporter.Config{Now: fixedNow}).Run(newSwitch(t, nil), w)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if sum.Seen != len(shapes()) || sum.RecordErrors != 0 {
		t.Errorf("seen %d, record errors %d: an odd record was dropped", sum.Seen, sum.RecordErrors)
	}
	golden(t, "json_shapes.golden", buf.Bytes())

	// Each line reads back as the CSV report's text of the same user.
	var csvBuf bytes.Buffer
	cw := exporter.NewWriter(&csvBuf, exporter.FormatCSV)
	if _, err := exporter.New(e.client, e.limiter, exporter.Config{Now: fixedNow}).Run(newSwitch(t, nil), cw); err != nil {
		t.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	sink := &memSink{}
	if _, err := exporter.New(e.client, e.limiter, exporter.Config{Now: fixedNow}).Run(newSwitch(t, nil), sink); err != nil {
		t.Fatal(err)
	}
	for i, l := range lines {
		var r exporter.Record
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if got, want := r.Strings(), sink.recs[i].Strings(); !slices.Equal(got, want) {
			t.Errorf("line %d reads back as\n %q\nwant\n %q", i+1, got, want)
		}
	}
}

func TestRecordWithoutUserWritesStrings(t *testing.T) {
	b, err := json.Marshal(exporter.Record{UserID: "u1", EmailVerified: "true", DeviceID: "7"})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m["email_verified"] != "true" || m["device_id"] != "7" || len(m) != len(exporter.Columns()) {
		t.Errorf("record = %s", b)
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n got:\n%s\nwant:\n%s", path, got, want)
	}
}

// The hand-written string escaping writes what encoding/json would,
// without HTML escaping.
func FuzzJSONStringLikeEncodingJSON(f *testing.F) {
	for _, s := range []string{"", "plain", `q"uote`, `back\slash`, "tab\tnew\nline\r", "\x00\x1f\x7f", "<a&b>",
		"héllo", "\u2028\u2029", "\xff\xfe bad utf-8", "=cmd|' /C calc'!A0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := json.Marshal(exporter.Record{FirstName: s})
		if err != nil {
			t.Fatal(err)
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(s)
		wantField := `"first_name":` + strings.TrimSuffix(want.String(), "\n") + `,`
		// json.Marshal re-escapes HTML in a Marshaler's output; compare
		// through the Writer, which does not.
		var buf bytes.Buffer
		w := exporter.NewWriter(&buf, exporter.FormatJSON)
		_ = w.Write(exporter.Record{FirstName: s})
		_ = w.Flush()
		if !strings.Contains(buf.String(), wantField) {
			t.Errorf("wrote %s\nwant the field %s", buf.String(), wantField)
		}
		if !json.Valid(got) {
			t.Errorf("invalid JSON %q", got)
		}
	})
}
