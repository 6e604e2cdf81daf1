package exporter

import (
	"testing"
	"time"
)

func TestLoginState(t *testing.T) {
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		last            string
		never, inactive bool
	}{
		{"", true, false},
		{"  ", true, false},
		{"2026-01-14T12:00:00Z", false, false},
		{"2025-10-17T12:00:00Z", false, true},       // exactly 90 days
		{"2025-10-17T17:30:01+05:30", false, false}, // one second short of 90 days
		{"2025-10-17T12:00:00.5Z", false, false},    // half a second short
		{"2025-06-01T09:11:20+05:30", false, true},  // the documents' form
		{"2025-06-01 09:11:20", false, true},        // zone-less, read as UTC
		{"2025-06-01", false, true},                 // date only
		{"last tuesday", false, false},              // unreadable: logged in, when unknown
	}
	for _, tc := range tests {
		never, inactive := loginState(tc.last, now, 90)
		if never != tc.never || inactive != tc.inactive {
			t.Errorf("loginState(%q) = %v, %v; want %v, %v", tc.last, never, inactive, tc.never, tc.inactive)
		}
	}
}
