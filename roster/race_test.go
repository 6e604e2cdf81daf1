//go:build race

package roster

// raceEnabled thins the slowest equivalence tests under -race, which runs
// phonenumbers' regular expressions ten times slower; the full runs happen
// without it.
const raceEnabled = true
