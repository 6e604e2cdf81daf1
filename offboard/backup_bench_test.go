package offboard_test

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/offboard"
)

// BenchmarkWriteBackupOverALargeBackup measures one batch of 50 appended
// to a backup that already holds 10,000 records: what each batch of a long
// offboard pays to skip the records the backup holds.
func BenchmarkWriteBackupOverALargeBackup(b *testing.B) {
	dir := b.TempDir()
	seed := filepath.Join(dir, "seed.csv")
	var held []*offboard.Row
	for i := range 10000 {
		held = append(held, &offboard.Row{User: &exotel.User{ID: "id" + itoa(i), FirstName: "Agent", LastName: itoa(i),
			Email: "agent" + itoa(i) + "@corp.example.com", Role: "user",
			Devices: []exotel.Device{{ID: int64(i), ContactURI: "+9198" + itoa(10000000+i), Type: "tel"}}}})
	}
	if err := offboard.WriteBackup(seed, held); err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(seed)
	if err != nil {
		b.Fatal(err)
	}
	batch := held[5000:5050]
	path := filepath.Join(dir, "b.csv")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := offboard.WriteBackup(path, batch); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
