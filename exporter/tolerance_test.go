package exporter

import "testing"

func TestSummaryTolerance(t *testing.T) {
	tests := []struct {
		name                     string
		total, totalAtEnd, seen  int
		recordErrors, matchTwice int
		missing                  int
		incomplete               bool
	}{
		{name: "all seen", total: 5000, totalAtEnd: 5000, seen: 5000},
		{name: "deleted meanwhile", total: 120, totalAtEnd: 119, seen: 119},
		{name: "two skipped of 120", total: 120, totalAtEnd: 118, seen: 116, missing: 2},
		{name: "three skipped of 120", total: 120, totalAtEnd: 120, seen: 117, missing: 3, incomplete: true},
		{name: "50 of 10000 is a live account", total: 10000, totalAtEnd: 10000, seen: 9950, missing: 50},
		{name: "51 of 10000 is not", total: 10000, totalAtEnd: 10000, seen: 9949, missing: 51, incomplete: true},
		{name: "record errors are not missing", total: 60, totalAtEnd: 60, seen: 58, recordErrors: 2},
		{name: "matched twice", total: 4, totalAtEnd: 4, seen: 3, matchTwice: 1},
		{name: "a small account answered empty", total: 30, totalAtEnd: 30, seen: 0, missing: 30, incomplete: true},
		{name: "created meanwhile", total: 100, totalAtEnd: 103, seen: 103},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Summary{APITotal: tc.total, APITotalAtEnd: tc.totalAtEnd, Seen: tc.seen,
				RecordErrors: tc.recordErrors, MatchedTwice: tc.matchTwice}
			s.finish()
			if s.Missing != tc.missing || s.Incomplete() != tc.incomplete {
				t.Errorf("missing %d, incomplete %v; want %d, %v (tolerance %d)", s.Missing, s.Incomplete(), tc.missing, tc.incomplete, s.Tolerance())
			}
		})
	}
}
