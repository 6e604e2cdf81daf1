package resolve

import (
	"slices"
	"testing"
)

func TestWithLowerCase(t *testing.T) {
	tests := []struct{ in, want []string }{
		{nil, nil},
		{[]string{"a@x.com"}, []string{"a@x.com"}},
		{[]string{"A@X.com", "b@x.com"}, []string{"A@X.com", "b@x.com", "a@x.com"}},
	}
	for _, tc := range tests {
		in := slices.Clone(tc.in)
		if got := withLowerCase(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("withLowerCase(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("withLowerCase changed its input")
		}
	}
}
