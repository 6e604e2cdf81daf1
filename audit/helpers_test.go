package audit

import (
	"bytes"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exporter"
)

// now is the new report's time in every test; the old report is a week
// older.
var (
	now     = time.Date(2025, 6, 8, 2, 0, 0, 0, time.UTC)
	weekAgo = now.AddDate(0, 0, -7)
)

// daysAgo is an API date n days before now.
func daysAgo(n int) string { return now.AddDate(0, 0, -n).Format(time.RFC3339) }

// rec is a verified agent with a phone device who logged in yesterday,
// created a year ago; edits adjust it.
func rec(id, first string, edits ...func(*exporter.Record)) exporter.Record {
	r := exporter.Record{
		UserID: id, FirstName: first, LastName: "Kumar", Email: first + "@example.com",
		EmailVerified: "true", Role: "user", DeviceContactURI: "+919876500" + id[len(id)-3:],
		DeviceName: "Mobile", DeviceID: "1" + id[len(id)-3:], DeviceType: "phone", DeviceVerified: "true",
		DeviceAvailable: "true", DeviceStatus: "free", LastLogin: daysAgo(1),
		DateCreated: daysAgo(365), DateUpdated: daysAgo(30),
	}
	for _, e := range edits {
		e(&r)
	}
	return r
}

func role(r string) func(*exporter.Record) { return func(x *exporter.Record) { x.Role = r } }
func lastLogin(s string) func(*exporter.Record) {
	return func(x *exporter.Record) { x.LastLogin = s }
}
func created(s string) func(*exporter.Record) {
	return func(x *exporter.Record) { x.DateCreated = s }
}
func verified(v string) func(*exporter.Record) {
	return func(x *exporter.Record) { x.DeviceVerified = v }
}
func noDevice(x *exporter.Record) {
	x.DeviceContactURI, x.DeviceName, x.DeviceID, x.DeviceType = "", "", "", ""
	x.DeviceVerified, x.DeviceAvailable, x.DeviceStatus = "", "", ""
}

// export writes records as exporter does.
func export(t testing.TB, f exporter.Format, recs ...exporter.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := exporter.NewWriter(&buf, f)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// report reads data as a report taken at taken.
func report(t testing.TB, name string, data []byte, taken time.Time) *Report {
	t.Helper()
	r, err := Read(bytes.NewReader(data), name)
	if err != nil {
		t.Fatalf("Read(%s): %v\n%s", name, err, data)
	}
	r.Taken = taken
	return r
}

func ccm(t testing.TB, name string, taken time.Time, recs ...exporter.Record) *Report {
	t.Helper()
	return report(t, name, export(t, exporter.FormatCSV, recs...), taken)
}

func ids(us []UserRef) []string {
	out := []string{}
	for _, u := range us {
		out = append(out, u.ID)
	}
	return out
}
