package exoteltest

import (
	"encoding/json"
	"fmt"
)

// ListFault makes the bulk GET misbehave as a broken or hostile server
// might, so a test can check that a client does not trust it blindly. The
// zero value is an honest server.
type ListFault struct {
	// RepeatFirstPage answers every bulk GET with the first page of its
	// matches, whatever the offset: the same page forever.
	RepeatFirstPage bool
	// Empty answers every bulk GET with no users ("response": null).
	Empty bool
	// Total, when above zero, is the metadata.total every bulk GET states,
	// however many users match.
	Total int
}

// SetListFault replaces the bulk GET's fault (the zero ListFault removes
// it).
func (f *Fake) SetListFault(lf ListFault) {
	if lf.Total < 0 {
		panic(fmt.Sprintf("exoteltest: ListFault.Total %d is negative", lf.Total))
	}
	f.mu.Lock()
	f.listFault = lf
	f.mu.Unlock()
}

// page cuts one page of the bulk GET's matches as the fault says, and
// returns it with the total to state.
func (lf ListFault) page(match []*user, offset, limit int) ([]*user, int) {
	total := len(match)
	if lf.Total > 0 {
		total = lf.Total
	}
	switch {
	case lf.Empty:
		return nil, total
	case lf.RepeatFirstPage:
		offset = 0
	}
	if offset >= len(match) {
		return nil, total
	}
	return match[offset:min(len(match), offset+limit)], total
}

// withRaw applies a seeded user's Raw values to its wire form: the JSON
// object's keys in alphabetical order, as the documents show them.
func withRaw(w wireUser, raw map[string]json.RawMessage) any {
	if len(raw) == 0 {
		return w
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(marshal(w), &m); err != nil {
		panic(fmt.Sprintf("exoteltest: re-reading a user: %v", err)) // only our own type
	}
	for k, v := range raw {
		m[k] = v
	}
	return m
}
