package exotel

import (
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func numbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+9198%08d", i)
	}
	return out
}

func TestBatches(t *testing.T) {
	big := strings.Repeat("x", 100) + "@example.com"
	tests := []struct {
		name     string
		values   []string
		maxBytes int
		sizes    []int      // expected batch sizes
		want     [][]string // exact batches, when given
	}{
		{name: "nil input", values: nil, maxBytes: 100, sizes: nil},
		{name: "empty input", values: []string{}, maxBytes: 100, sizes: nil},
		{name: "one batch", values: []string{"a@x.com", "b@x.com", "c@x.com"}, maxBytes: 100,
			want: [][]string{{"a@x.com", "b@x.com", "c@x.com"}}},
		{name: "at most MaxPageSize values", values: numbers(120), maxBytes: 1 << 20, sizes: []int{50, 50, 20}},
		{name: "exactly MaxPageSize", values: numbers(50), maxBytes: 1 << 20, sizes: []int{50}},
		{name: "default budget when maxBytes is 0", values: numbers(200), maxBytes: 0, sizes: []int{50, 50, 50, 50}},
		{name: "byte budget splits", values: []string{"aaaa", "bbbb", "cccc", "dddd", "eeee"}, maxBytes: 10,
			want: [][]string{{"aaaa", "bbbb"}, {"cccc", "dddd"}, {"eeee"}}},
		// Two raw numbers and a comma are 27 bytes and would fit 30, but
		// escaped (+ as %2B) they are 31.
		{name: "escaping counts", values: []string{"+919800000001", "+919800000002"}, maxBytes: 30,
			want: [][]string{{"+919800000001"}, {"+919800000002"}}},
		{name: "oversized value alone", values: []string{"a@x.com", big, "b@x.com"}, maxBytes: 40,
			want: [][]string{{"a@x.com"}, {big}, {"b@x.com"}}},
		{name: "oversized value first", values: []string{big, "a@x.com", "b@x.com"}, maxBytes: 40,
			want: [][]string{{big}, {"a@x.com", "b@x.com"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Batches(tc.values, tc.maxBytes)
			if len(tc.values) == 0 && len(got) != 0 {
				t.Fatalf("Batches(empty) = %q, want none", got)
			}
			if tc.want != nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Batches = %q\nwant      %q", got, tc.want)
			}
			if tc.sizes != nil {
				var sizes []int
				for _, b := range got {
					sizes = append(sizes, len(b))
				}
				if !reflect.DeepEqual(sizes, tc.sizes) {
					t.Errorf("batch sizes = %v, want %v", sizes, tc.sizes)
				}
			}
			checkBatches(t, tc.values, tc.maxBytes, got)
		})
	}
}

// checkBatches verifies the invariants: order and values kept, at most
// MaxPageSize per batch, and the escaped comma list within budget unless a
// single value alone exceeds it.
func checkBatches(t *testing.T, values []string, maxBytes int, got [][]string) {
	t.Helper()
	if maxBytes <= 0 {
		maxBytes = DefaultFilterBytes
	}
	var flat []string
	for i, b := range got {
		if len(b) == 0 || len(b) > MaxPageSize {
			t.Errorf("batch %d has %d values", i, len(b))
		}
		if n := len(escapeList(b)); n > maxBytes && len(b) > 1 {
			t.Errorf("batch %d is %d escaped bytes, over %d", i, n, maxBytes)
		}
		flat = append(flat, b...)
	}
	if len(values) > 0 && !reflect.DeepEqual(flat, values) {
		t.Errorf("batches flatten to %q, want %q", flat, values)
	}
	// The list as sent reads back to the batch.
	for i, b := range got {
		q, err := url.ParseQuery("email=" + escapeList(b))
		if err != nil || q.Get("email") != strings.Join(b, ",") {
			t.Errorf("batch %d does not round-trip: %q, %v", i, q.Get("email"), err)
		}
	}
}

func FuzzBatches(f *testing.F) {
	f.Add("a@x.com,b+c@y.in,+919800000001", 20)
	f.Add("", 0)
	f.Add("ü@ä.de,%,&,=,,", 5)
	f.Fuzz(func(t *testing.T, joined string, maxBytes int) {
		if maxBytes > 1<<16 {
			maxBytes = 1 << 16
		}
		var values []string
		if joined != "" {
			values = strings.Split(joined, ",")
		}
		checkBatches(t, values, maxBytes, Batches(values, maxBytes))
	})
}
