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

// Fifty ordinary work emails are one batch under the default budget: one
// call per 50 rows.
func TestDefaultBudgetFitsFiftyOrdinaryEmails(t *testing.T) {
	emails := make([]string, 2*MaxPageSize)
	for i := range emails {
		// 40-odd characters: longer than most real addresses.
		emails[i] = fmt.Sprintf("firstname.lastname%03d@acme-logistics.co.in", i)
	}
	if got := Batches(emails, 0); len(got) != 2 || len(got[0]) != MaxPageSize {
		t.Errorf("100 ordinary emails made %d batches of %d first, want 2 of %d", len(got), len(got[0]), MaxPageSize)
	}
}

func TestBatchesOfCountsEveryExpandedValue(t *testing.T) {
	// An item with capitals stands for itself and its lower-case form.
	expand := func(s string) []string {
		if l := strings.ToLower(s); l != s {
			return []string{s, l}
		}
		return []string{s}
	}
	upper := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("User%d@X.com", i)
		}
		return out
	}
	tests := []struct {
		name      string
		items     []string
		maxValues int
		maxBytes  int
		sizes     []int // items per batch
	}{
		{"fifty with capitals are a hundred values", upper(50), 0, 1 << 20, []int{25, 25}},
		{"the value cap counts variants", upper(5), 4, 1 << 20, []int{2, 2, 1}},
		{"the byte budget counts variants", upper(4), 0, 2 * FilterBytes([]string{"User0@X.com", "user0@x.com"}), []int{2, 2}},
		{"an item bigger than a batch goes alone", upper(3), 1, 1 << 20, []int{1, 1, 1}},
		{"a value cap above the page size is the page size", numbers(60), 80, 1 << 20, []int{50, 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := BatchesOf(tc.items, tc.maxValues, tc.maxBytes, expand)
			capValues := tc.maxValues
			if capValues <= 0 || capValues > MaxPageSize {
				capValues = MaxPageSize
			}
			var sizes []int
			var flat []string
			for _, b := range got {
				sizes = append(sizes, len(b))
				flat = append(flat, b...)
				var vals []string
				for _, it := range b {
					vals = append(vals, expand(it)...)
				}
				if len(b) > 1 && (len(vals) > capValues || FilterBytes(vals) > tc.maxBytes) {
					t.Errorf("batch %q expands to %d values, %d bytes: over budget", b, len(vals), FilterBytes(vals))
				}
			}
			if !reflect.DeepEqual(sizes, tc.sizes) {
				t.Errorf("batch sizes = %v, want %v", sizes, tc.sizes)
			}
			if !reflect.DeepEqual(flat, tc.items) {
				t.Errorf("batches flatten to %q, want the items in order", flat)
			}
		})
	}
}

func TestIsTooLong(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"414", &APIError{Kind: KindInvalid, HTTPStatus: 414, Message: "URI Too Long (text/html body)"}, true},
		{"400 saying the URI is too long", &APIError{Kind: KindInvalid, HTTPStatus: 400, Message: "Request-URI Too Long"}, true},
		{"400 saying the request line is too large", &APIError{Kind: KindInvalid, HTTPStatus: 400, Message: "request line too large"}, true},
		{"400 for bad input", &APIError{Kind: KindInvalid, HTTPStatus: 400, Code: "1001", Message: "Invalid email"}, false},
		{"500", &APIError{Kind: KindServer, HTTPStatus: 500, Message: "too long"}, false},
		{"transport", &TransportError{Method: "GET", Err: fmt.Errorf("reset")}, false},
		{"nil", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsTooLong(tc.err); got != tc.want {
				t.Errorf("IsTooLong(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
