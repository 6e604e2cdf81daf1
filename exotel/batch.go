package exotel

import (
	"net/http"
	"net/url"
	"strings"
)

// DefaultFilterBytes is the escaped size of a filtered bulk GET's values:
// room for 50 ordinary emails (up to about 80 characters each once
// escaped), so 50 rows cost one call, while the whole URL stays well under
// the 8 KB that proxies commonly accept. A server that refuses a long URL
// anyway answers 414 (IsTooLong), and callers halve their batches.
const DefaultFilterBytes = 4096

// Batches splits values into groups for the bulk GET's comma-list filters
// (email=a,b or devices.contact_uri=+91…,+91…): at most MaxPageSize values,
// so one page holds every match, and at most maxBytes of escaped text
// (DefaultFilterBytes when maxBytes ≤ 0).
func Batches(values []string, maxBytes int) [][]string {
	return BatchesOf(values, MaxPageSize, maxBytes, nil)
}

// BatchesOf is Batches where each item stands for the filter values
// expand returns for it (an email and its lower-case form, say): they go in
// one request, and every one of them counts against both budgets, at most
// maxValues values (MaxPageSize when ≤ 0 or above it) and maxBytes of
// escaped text. A nil expand stands each item for itself. It returns the
// items of each batch, in order; an item too big for a batch of its own
// goes alone.
func BatchesOf(items []string, maxValues, maxBytes int, expand func(string) []string) [][]string {
	if maxValues <= 0 || maxValues > MaxPageSize {
		maxValues = MaxPageSize
	}
	if maxBytes <= 0 {
		maxBytes = DefaultFilterBytes
	}
	var out [][]string
	var cur []string
	values, size := 0, 0
	for _, it := range items {
		vals := []string{it}
		if expand != nil {
			vals = expand(it)
		}
		n := FilterBytes(vals)
		if len(cur) > 0 && (values+len(vals) > maxValues || size+n > maxBytes) {
			out = append(out, cur)
			cur, values, size = nil, 0, 0
		}
		cur = append(cur, it)
		values += len(vals)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// FilterBytes is what values add to a filter's escaped text: each value
// escaped, and a comma.
func FilterBytes(values []string) int {
	n := 0
	for _, v := range values {
		n += len(url.QueryEscape(v)) + 1
	}
	return n
}

// IsTooLong reports whether err is a refusal of a request for its length:
// 414 URI Too Long, or a 400 whose message says the request, its line or
// its URI is too long or too large (what some proxies send instead).
func IsTooLong(err error) bool {
	ae := AsAPIError(err)
	switch {
	case ae == nil:
		return false
	case ae.HTTPStatus == http.StatusRequestURITooLong:
		return true
	case ae.HTTPStatus != http.StatusBadRequest:
		return false
	}
	m := strings.ToLower(ae.Message)
	return strings.Contains(m, "too long") || strings.Contains(m, "too large")
}
