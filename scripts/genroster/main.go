// Command genroster writes a large, realistic roster CSV for measuring
// exoroster from outside:
//
//	go run ./scripts/genroster -rows 1000000 > big.csv
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/exoroster/exoroster/roster/rostertest"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "data rows to write")
	seed := flag.Uint64("seed", 1, "random seed; the same seed writes the same file")
	dups := flag.Int("dups", 0, "per mille of rows repeating an earlier email or phone (0: 5, negative: none)")
	bad := flag.Int("bad", 0, "per mille of rows with a problem (0: 10, negative: none)")
	flag.Parse()
	// Write buffers and flushes its output itself.
	c, err := rostertest.Write(os.Stdout, rostertest.Spec{Rows: *rows, Seed: *seed, Duplicates: *dups, Bad: *bad})
	if err != nil {
		fmt.Fprintln(os.Stderr, "genroster:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "genroster: %d rows, %d written as duplicates, %d spoiled\n", c.Rows, c.Duplicates, c.Bad)
}
