package exoteltest

import (
	"fmt"
	"strings"
)

// SetRole changes a user's role as an admin does in Exotel's dashboard: the
// Users API has no request for it (PUT takes names and email only), so a
// test of what an audit sees after a promotion makes it here. It sends no
// request and is not logged.
func (f *Fake) SetRole(id, role string) error {
	role = strings.ToLower(strings.TrimSpace(role))
	if !validRole(role) {
		return fmt.Errorf("exoteltest: role %q: use admin, supervisor or user", role)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	u := f.userByID(id)
	if u == nil {
		return fmt.Errorf("exoteltest: no user %s", id)
	}
	u.role, u.updated = role, f.now()
	return nil
}
