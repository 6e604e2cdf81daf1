package results

import (
	"path/filepath"
	"strconv"
	"testing"
)

// BenchmarkWriterLocalLines writes a dry run's lines (would_create, no
// request) for 10,000 rows of seven cells, as import --dry-run does for
// every row of a roster.
func BenchmarkWriterLocalLines(b *testing.B) {
	const rows = 10000
	layout := Layout{Input: []string{"Employee ID", "First Name", "Last Name", "Email", "Mobile", "Role", "Department"}}
	lines := make([]Line, rows)
	for i := range lines {
		n := strconv.Itoa(i)
		lines[i] = Line{Row: i + 1, Status: WouldCreate,
			Message: "would create Aarav Sharma, role agent, aarav.sharma" + n + "@acme-support.in, +9198450" + n,
			Input:   []string{"E" + n, "Aarav", "Sharma", "aarav.sharma" + n + "@acme-support.in", "+9198450" + n, "", "Inbound"}}
	}
	dir := b.TempDir()
	b.ReportAllocs()
	for i := range b.N {
		w, err := Create(filepath.Join(dir, strconv.Itoa(i)+".csv"), layout)
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range lines {
			if err := w.Write(l); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/line")
}
