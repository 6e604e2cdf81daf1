package main

import (
	"strings"
	"testing"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/results"
)

// Rows counted without examples (apply's plan-time protected rows come in
// as engine.Spec.Settled) are named by their count, not as an empty list.
func TestNextStepCountsRowsWithoutExamples(t *testing.T) {
	tests := []struct {
		name string
		sum  engine.Summary
		want string
	}{
		{"examples for every row",
			engine.Summary{Counts: map[results.Status]int{results.Stale: 2},
				Examples: map[results.Status][]results.Line{results.Stale: {{Row: 15}, {Row: 316}}}},
			"needs attention: stale rows 15, 316 (the results file says why)\n"},
		{"some examples",
			engine.Summary{Counts: map[results.Status]int{results.Failed: 7},
				Examples: map[results.Status][]results.Line{results.Failed: {{Row: 1}, {Row: 2}}}},
			"needs attention: failed rows 1, 2 and 5 more (the results file says why)\n"},
		{"settled rows only",
			engine.Summary{Counts: map[results.Status]int{results.Stale: 2, results.Protected: 2},
				Examples: map[results.Status][]results.Line{results.Stale: {{Row: 15}, {Row: 316}}}},
			"needs attention: stale rows 15, 316; 2 protected rows (the results file says why)\n"},
		{"one settled row",
			engine.Summary{Counts: map[results.Status]int{results.Protected: 1}},
			"needs attention: 1 protected row (the results file says why)\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			writeNextStep(&b, rowReport{verb: "apply", sum: &tc.sum}, nil)
			if b.String() != tc.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tc.want)
			}
		})
	}
}
