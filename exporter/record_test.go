package exporter

import (
	"slices"
	"testing"

	"github.com/exoroster/exoroster/exotel"
)

func TestNeutralize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Rahul", "Rahul"},
		{"=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"},
		{"+91 cmd", "'+91 cmd"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tTab", "'\tTab"},
		{"\rCR", "'\rCR"},
		{"a=b", "a=b"},
	}
	for _, tc := range tests {
		if got := Neutralize(tc.in); got != tc.want {
			t.Errorf("Neutralize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRecordCells(t *testing.T) {
	on := true
	u := exotel.User{
		ID: "u1", FirstName: "=Evil", LastName: "Rao", Email: "asha@x.com", EmailVerified: true, Role: "admin",
		Devices: []exotel.Device{
			{ID: 7, Name: "-desk", ContactURI: "+919876543210", Type: "tel", Verified: true, Available: &on, Status: "free"},
			{ID: 8, ContactURI: "sip:asha8", Type: "sip"},
			{ID: 9, ContactURI: "+919876543211", Type: "tel"},
		},
		LastLogin: "2026-01-02T03:04:05+05:30", DateCreated: "2025-01-01T00:00:00+05:30", DateUpdated: "2025-02-01T00:00:00+05:30",
	}
	got := NewRecord(u).Cells()
	want := []string{"u1", "'=Evil", "Rao", "asha@x.com", "true", "admin", "+919876543210", "'-desk", "7", "tel", "true",
		"true", "free", "sip:asha8;+919876543211", "2026-01-02T03:04:05+05:30", "", "2025-01-01T00:00:00+05:30", "2025-02-01T00:00:00+05:30"}
	if !slices.Equal(got, want) {
		t.Errorf("Cells() =\n %q\nwant\n %q", got, want)
	}
	if len(Columns()) != len(got) {
		t.Errorf("%d columns but %d cells", len(Columns()), len(got))
	}
	// A user without devices leaves the device columns empty; a
	// contact that is not E.164 is neutralised like any other cell.
	bare := NewRecord(exotel.User{ID: "u2", FirstName: "No", LastName: "Device", Role: "user"}).Cells()
	for _, i := range []int{6, 7, 8, 9, 10, 11, 12, 13} {
		if bare[i] != "" {
			t.Errorf("device column %s = %q for a user without devices", Columns()[i], bare[i])
		}
	}
	odd := NewRecord(exotel.User{Devices: []exotel.Device{{ContactURI: "+91 not e164"}}}).Cells()
	if odd[6] != "'+91 not e164" {
		t.Errorf("non-E.164 contact = %q, want it neutralised", odd[6])
	}
}
