package exotel

import "net/url"

// DefaultFilterBytes keeps a filtered bulk GET's URL well under the 8 KB
// that proxies commonly accept.
const DefaultFilterBytes = 1800

// Batches splits values into groups for the bulk GET's comma-list filters
// (email=a,b or devices.contact_uri=+91…,+91…): at most MaxPageSize values,
// so one page holds every match, and at most maxBytes of escaped text.
func Batches(values []string, maxBytes int) [][]string {
	if maxBytes <= 0 {
		maxBytes = DefaultFilterBytes
	}
	var out [][]string
	var cur []string
	size := 0
	for _, v := range values {
		n := len(url.QueryEscape(v)) + 1
		if len(cur) > 0 && (len(cur) == MaxPageSize || size+n > maxBytes) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, v)
		size += n
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
