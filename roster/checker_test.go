package roster

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// sliceSource hands out records, then err (io.EOF when nil).
type sliceSource struct {
	recs   []Record
	err    error
	closed bool // set by the test once Close has returned: no read may follow
	t      *testing.T
}

func (s *sliceSource) Next() (Record, error) {
	if s.closed {
		s.t.Error("the source was read after Close returned")
	}
	if len(s.recs) == 0 {
		if s.err != nil {
			return Record{}, s.err
		}
		return Record{}, io.EOF
	}
	rec := s.recs[0]
	s.recs = s.recs[1:]
	return rec, nil
}

// TestCheckerMatchesCheck runs a generated roster — repeated people, bad
// rows, every phone shape — through Checkers of several widths: each must
// hand back, in order, exactly what Check says row by row.
func TestCheckerMatchesCheck(t *testing.T) {
	rows := 3*checkBatchSize*4 + 17 // several batches per worker, the last one short
	if raceEnabled {
		rows = 3*checkBatchSize + 17
	}
	h, recs := generated(t, rows, 30)
	v := NewValidator(h, Options{})
	want := make([]string, len(recs))
	dups := 0
	for i, rec := range recs {
		p, probs := v.Check(rec)
		want[i] = fmt.Sprint(rec.Row, p, probs)
		for _, pr := range probs {
			if strings.HasPrefix(pr.Reason, "duplicate of row") {
				dups++
			}
		}
	}
	if dups == 0 {
		t.Fatal("no duplicates in the roster: the in-order lookup is untested")
	}
	for _, workers := range []int{1, 2, 3, 8} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			src := &sliceSource{recs: recs, t: t}
			c := NewChecker(src, NewValidator(h, Options{}), workers)
			defer c.Close()
			for i := range recs {
				got, err := c.Next()
				if err != nil {
					t.Fatalf("row %d: %v", i+1, err)
				}
				if s := fmt.Sprint(got.Record.Row, got.Person, got.Problems); s != want[i] {
					t.Fatalf("record %d: got %s\nwant %s", i, s, want[i])
				}
			}
			if _, err := c.Next(); err != io.EOF {
				t.Fatalf("after the last row: %v, want io.EOF", err)
			}
			if _, err := c.Next(); err != io.EOF {
				t.Fatalf("again after the last row: %v, want io.EOF", err)
			}
		})
	}
}

// TestCheckerReadError: rows before a read error come first, then the
// error, and it stays.
func TestCheckerReadError(t *testing.T) {
	h, recs := generated(t, 2*checkBatchSize+10, 0)
	broken := errors.New("disk on fire")
	for _, n := range []int{0, 5, checkBatchSize, checkBatchSize + 1, len(recs)} {
		for _, workers := range []int{1, 4} {
			t.Run(fmt.Sprintf("%d rows, %d workers", n, workers), func(t *testing.T) {
				src := &sliceSource{recs: recs[:n], err: broken, t: t}
				c := NewChecker(src, NewValidator(h, Options{}), workers)
				defer c.Close()
				for i := range n {
					got, err := c.Next()
					if err != nil || got.Record.Row != recs[i].Row {
						t.Fatalf("record %d: row %d, %v", i, got.Record.Row, err)
					}
				}
				for range 2 {
					if _, err := c.Next(); err != broken {
						t.Fatalf("after %d rows: %v, want the read error", n, err)
					}
				}
			})
		}
	}
}

// TestCheckerCloseEarly: a consumer that stops after a few rows closes the
// Checker; its goroutines are gone when Close returns (the source is not
// read again, which -race would also catch) and Next says it is closed.
func TestCheckerCloseEarly(t *testing.T) {
	h, recs := generated(t, 10*checkBatchSize, 0)
	for _, read := range []int{0, 1, 300} {
		t.Run(fmt.Sprintf("after %d rows", read), func(t *testing.T) {
			src := &sliceSource{recs: recs, t: t}
			c := NewChecker(src, NewValidator(h, Options{}), 4)
			for range read {
				if _, err := c.Next(); err != nil {
					t.Fatal(err)
				}
			}
			c.Close()
			src.closed = true
			c.Close()
			if _, err := c.Next(); err != ErrCheckerClosed {
				t.Fatalf("Next after Close: %v", err)
			}
		})
	}
}
