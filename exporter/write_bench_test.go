package exporter_test

import (
	"io"
	"testing"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exporter"
)

// BenchmarkWriteRecord writes one user's report line in each format.
func BenchmarkWriteRecord(b *testing.B) {
	on := true
	u := exotel.User{ID: "4944735d9ae8436e91956d2ec11c638b", FirstName: "Asha", LastName: "Rao", Email: "asha@x.com",
		EmailVerified: true, Role: "admin", LastLogin: "2026-01-02T03:04:05+05:30", DateCreated: "2025-01-01T00:00:00+05:30",
		DateUpdated: "2025-01-01T00:00:00+05:30",
		Devices:     []exotel.Device{{ID: 425215, Name: "Desk", ContactURI: "+919800000001", Type: "tel", Verified: true, Available: &on, Status: "busy"}}}
	for _, f := range []exporter.Format{exporter.FormatCSV, exporter.FormatJSON} {
		b.Run(string(f), func(b *testing.B) {
			w := exporter.NewWriter(io.Discard, f)
			b.ReportAllocs()
			for b.Loop() {
				if err := w.Write(exporter.NewRecord(u)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
