package audit

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/webrtc"
)

func TestReadBothFormats(t *testing.T) {
	hostile := rec("u-001", "=SUM(A1)", func(r *exporter.Record) {
		r.LastName = "@home"
		r.Email = "-x@example.com"
	})
	recs := []exporter.Record{hostile, rec("u-002", "Priya", role("admin"))}
	for _, tc := range []struct {
		name   string
		format exporter.Format
		want   Format
	}{
		{name: "csv", format: exporter.FormatCSV, want: FormatCSV},
		{name: "json lines", format: exporter.FormatJSON, want: FormatJSONLines},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := report(t, tc.name, export(t, tc.format, recs...), now)
			if r.Format != tc.want || r.Target != TargetCCM || r.Len() != 2 {
				t.Fatalf("format %s target %s users %d", r.Format, r.Target, r.Len())
			}
			u, ok := r.Lookup("u-001")
			if !ok {
				t.Fatal("u-001 missing")
			}
			// The CSV's formula quote is undone; JSON had none.
			if u.Get("first_name") != "=SUM(A1)" || u.Get("last_name") != "@home" || u.Get("email") != "-x@example.com" {
				t.Errorf("values %q %q %q", u.Get("first_name"), u.Get("last_name"), u.Get("email"))
			}
			if u.Phone() != "+919876500001" || u.Name() != "=SUM(A1) @home" {
				t.Errorf("phone %q name %q", u.Phone(), u.Name())
			}
			if p, _ := r.Lookup("u-002"); p.Role() != "admin" || p.Line() < 2 {
				t.Errorf("role %q line %d", p.Role(), p.Line())
			}
			if got := r.Columns(); !slices.Equal(got, exporter.Columns()) {
				t.Errorf("columns %v", got)
			}
		})
	}
}

// JSON Lines as issue 12 will write it: the API's own types.
func TestReadTypedJSON(t *testing.T) {
	data := "\ufeff\n" + `{"user_id":"a1","first_name":"A","last_name":"B","email_verified":true,"device_id":100003,"active_call":null,"extra":{"x":[1, 2]}}` + "\n\n" +
		`{"user_id":"a2","first_name":"C","role":"agent"}` // no final newline
	r, err := Read(strings.NewReader(data), "typed.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	a1, _ := r.Lookup("a1")
	for col, want := range map[string]string{"email_verified": "true", "device_id": "100003", "active_call": "", "extra": `{"x":[1,2]}`, "role": ""} {
		if got := a1.Get(col); got != want {
			t.Errorf("%s = %q, want %q", col, got, want)
		}
	}
	a2, _ := r.Lookup("a2")
	if a2.Role() != "user" || a2.Get("device_id") != "" || a2.Line() != 4 {
		t.Errorf("a2: role %q device_id %q line %d", a2.Role(), a2.Get("device_id"), a2.Line())
	}
	if !r.Has("extra") || r.Target != TargetCCM {
		t.Errorf("columns %v target %s", r.Columns(), r.Target)
	}
}

func TestReadWebRTC(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{name: "csv", data: "user_id,name,phone,sip_enabled,status,phone_device,sip_device,created_at,updated_at\n" +
			"agent_001,John Agent,+919876543210,true,active,true,false,2024-06-15T10:30:00.000Z,2024-06-15T10:30:00.000Z\n"},
		{name: "json", data: `{"user_id":"agent_001","name":"John Agent","phone":"+919876543210","sip_enabled":true,"status":"active","phone_device":true,"sip_device":false}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Read(strings.NewReader(tc.data), tc.name)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := r.Lookup("agent_001")
			if r.Target != TargetWebRTC || u.Name() != "John Agent" || u.Phone() != "+919876543210" || u.Get("sip_device") != "false" {
				t.Errorf("target %s name %q phone %q sip_device %q", r.Target, u.Name(), u.Phone(), u.Get("sip_device"))
			}
		})
	}
}

func TestReadRefuses(t *testing.T) {
	for _, tc := range []struct{ name, data, want string }{
		{name: "empty", data: "", want: "is empty: not an exoroster export report"},
		{name: "blank", data: " \n\t\n", want: "is empty"},
		{name: "a roster, not an export", data: "first_name,last_name,email\nA,B,a@x.com\n", want: "not an exoroster export report: it has no user_id column (its columns: first_name, last_name, email)"},
		{name: "results file", data: "row,status,message\n2,created,\n", want: "no user_id column"},
		{name: "json without user_id", data: `{"id":"x","name":"y"}` + "\n", want: "not an exoroster export report: line 1 has no user_id"},
		{name: "json array", data: `{"user_id":"a"}` + "\n[1,2]\n", want: "line 2 is not a JSON object: it is array"},
		{name: "broken json", data: `{"user_id":"a"`, want: "line 1 is not a JSON object"},
		{name: "json line without its user_id", data: `{"user_id":"a"}` + "\n" + `{"name":"b"}` + "\n", want: "line 2 has no user_id"},
		{name: "duplicate user", data: "user_id,first_name\nu1,A\nu2,B\nu1,C\n", want: "lists user_id u1 twice (lines 2 and 4)"},
		{name: "empty user_id", data: "user_id,first_name\n,A\n", want: "line 2 has no user_id"},
		{name: "duplicate column", data: "user_id,Email,email\n", want: `column "email" appears twice`},
		{name: "ragged csv", data: "user_id,first_name\nu1,A,extra\n", want: "not a CSV export report"},
		{name: "bare quote", data: "user_id,first_name\nu1,A\"B\n", want: "not a CSV export report"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.data), "in.csv")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "in.csv") {
				t.Errorf("the message does not name the file: %v", err)
			}
		})
	}
}

func TestReadOnlyUserID(t *testing.T) {
	r, err := Read(strings.NewReader("user_id\nu1\nu2\n"), "ids.csv")
	if err != nil || r.Len() != 2 || r.Target != TargetUnknown {
		t.Fatalf("%v %v", r, err)
	}
}

func TestUnneutralizeUndoesNeutralize(t *testing.T) {
	for _, s := range []string{"", "plain", "=1+2", "+91", "-", "@x", "\tTab", "\rCR", "'quoted", "''=x", "'=x"} {
		if got := Unneutralize(exporter.Neutralize(s)); got != s && !strings.HasPrefix(s, "'") {
			t.Errorf("Unneutralize(Neutralize(%q)) = %q", s, got)
		}
	}
	// A quote export did not add, before a formula character, is read as
	// export's: the one ambiguity of the guard, shared with import.
	if got := Unneutralize("'=x"); got != "=x" {
		t.Errorf("got %q", got)
	}
}

func TestReadFileTaken(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(path, export(t, exporter.FormatCSV, rec("u-001", "A")), 0o644); err != nil {
		t.Fatal(err)
	}
	fileTime := now.Add(-time.Hour)
	if err := os.Chtimes(path, fileTime, fileTime); err != nil {
		t.Fatal(err)
	}
	summary := path + ".summary.json"
	generated := now.Add(-90 * time.Minute)
	writeSummary := func(mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(summary, []byte(`{"generated_at":"`+generated.Format(time.RFC3339Nano)+`","report":{"users":1}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(summary, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name      string
		setup     func()
		want      time.Time
		wantFrom  string
		wantError string
	}{
		{name: "file time without a summary", setup: func() {}, want: fileTime, wantFrom: "file time"},
		{name: "summary written with the report", setup: func() { writeSummary(fileTime.Add(time.Second)) }, want: generated, wantFrom: "summary"},
		{name: "summary left from another run", setup: func() { writeSummary(fileTime.Add(-48 * time.Hour)) }, want: fileTime, wantFrom: "file time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(summary)
			tc.setup()
			r, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Taken.Equal(tc.want) || r.TakenFrom != tc.wantFrom {
				t.Errorf("taken %v from %q, want %v from %q", r.Taken, r.TakenFrom, tc.want, tc.wantFrom)
			}
		})
	}
	if _, err := ReadFile(filepath.Join(dir, "missing.csv")); err == nil || !strings.Contains(err.Error(), "cannot read") || strings.Count(err.Error(), "missing.csv") != 1 {
		t.Errorf("missing file: %v", err)
	}
}

func TestNewReportAndTee(t *testing.T) {
	cur, err := NewReport("(this export)", exporter.Columns())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w := exporter.NewWriter(&buf, exporter.FormatCSV)
	var sink exporter.Sink = Tee[exporter.Record](w, cur)
	recs := []exporter.Record{rec("u-001", "=A"), rec("u-002", "B", role("admin"))}
	for _, r := range recs {
		if err := sink.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// What the tee collected equals what reading the written file gives.
	fromFile := report(t, "file", buf.Bytes(), now)
	d, err := Compare(fromFile, cur, now, 90)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Empty() || len(d.OnlyOld)+len(d.OnlyNew) != 0 || cur.Len() != 2 {
		t.Errorf("tee and file differ: %+v", d)
	}
	if err := cur.AddRecord(rec("u-001", "again")); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a user added twice: %v", err)
	}
	if _, err := NewReport("x", []string{"email"}); err == nil {
		t.Error("a report without user_id was accepted")
	}
	empty, err := NewReport("empty", exporter.Columns())
	if err != nil || empty.Target != TargetCCM || empty.Len() != 0 {
		t.Errorf("empty export: %v %v", empty, err)
	}
	if err := empty.Add(map[string]string{"user_id": "x", "role": "admin", "new_column": "v"}); err != nil || !empty.Has("new_column") {
		t.Errorf("Add: %v", err)
	}
}

func FuzzRead(f *testing.F) {
	f.Add(export(f, exporter.FormatCSV, rec("u-001", "=A"), rec("u-002", "B")))
	f.Add(export(f, exporter.FormatJSON, rec("u-001", "A")))
	f.Add([]byte("user_id,name\n\"a\nb\",c\n"))
	f.Add([]byte(`{"user_id":1,"x":{"y":null}}`))
	f.Add([]byte("\ufeffuser_id\n'=x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Read(bytes.NewReader(data), "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") && !strings.HasPrefix(err.Error(), "cannot read fuzz") {
				t.Fatalf("message does not name the file: %v", err)
			}
			return
		}
		if !r.Has("user_id") {
			t.Fatal("accepted a report without user_id")
		}
		seen := map[string]bool{}
		for _, u := range r.Users() {
			if u.ID() == "" || seen[u.ID()] {
				t.Fatalf("user id %q empty or repeated", u.ID())
			}
			seen[u.ID()] = true
			for _, c := range r.Columns() {
				_ = u.Get(c)
			}
		}
		// A report compares with itself as unchanged.
		d, err := Compare(r, r, now, 90)
		if err != nil || len(d.Added)+len(d.Removed)+len(d.Changed) != 0 {
			t.Fatalf("self-compare: %+v %v", d, err)
		}
	})
}

// lineWriter writes any target's lines as CSV, as exporter.Writer's
// WriteLine does: the shape TeeLines wraps.
type lineWriter struct{ w *csv.Writer }

func (l lineWriter) WriteLine(r interface{ Cells() []string }) error { return l.w.Write(r.Cells()) }

// A WebRTC export teed as it is written gives the report that reading the
// written file gives, of the webrtc target, and refuses a CCM report to
// compare with before anything is fetched.
func TestTeeLinesOfAnotherTarget(t *testing.T) {
	cur, err := NewReport("(this export)", webrtc.Columns())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	_ = cw.Write(webrtc.Columns())
	sink := TeeLines[interface{ Cells() []string }](lineWriter{cw}, cur)
	on, off := true, false
	for _, r := range []webrtc.Record{
		{UserID: "w-1", Name: "=Asha", Phone: "+919800000001", SIPEnabled: &on, Status: "active", PhoneDevice: &on, SIPDevice: &off, CreatedAt: daysAgo(10)},
		{UserID: "w-2", Name: "Ben", SIPEnabled: &off, Status: "inactive"},
	} {
		if err := sink.WriteLine(r); err != nil {
			t.Fatal(err)
		}
	}
	cw.Flush()
	fromFile := report(t, "webrtc.csv", buf.Bytes(), now)
	if cur.Target != TargetWebRTC || fromFile.Target != TargetWebRTC || cur.Len() != 2 {
		t.Fatalf("targets %s %s, %d users", cur.Target, fromFile.Target, cur.Len())
	}
	d, err := Compare(fromFile, cur, now, 90)
	if err != nil {
		t.Fatal(err)
	}
	if !d.Empty() || len(d.OnlyOld)+len(d.OnlyNew) != 0 {
		t.Errorf("tee and file differ: %+v", d)
	}
	if u, _ := cur.Lookup("w-1"); u.Name() != "=Asha" || u.Get("sip_device") != "false" {
		t.Errorf("w-1 teed as %q sip_device %q", u.Name(), u.Get("sip_device"))
	}

	ccm, err := NewReport("ccm.csv", exporter.Columns())
	if err != nil {
		t.Fatal(err)
	}
	if err := Comparable(ccm, cur); err == nil || !strings.Contains(err.Error(), "ccm.csv is a ccm report and (this export) a webrtc report") {
		t.Errorf("Comparable: %v", err)
	}
	if err := Comparable(fromFile, cur); err != nil {
		t.Errorf("two webrtc reports: %v", err)
	}
}
