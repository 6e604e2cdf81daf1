package resolve

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/results"
)

// errNotLookedUp guards against a caller asking for a value it never gave
// Lookup: that must not read as "nobody has it".
var errNotLookedUp = errors.New("resolve: value was not looked up")

type lookupKey struct {
	k Key
	v string // normal form
}

// Index is what a Lookup found. It is not safe for concurrent use.
type Index struct {
	users map[string]*exotel.User // every user seen, by id
	found map[lookupKey][]string  // value → ids of the users that have it
	asked map[lookupKey]bool      // looked up: a value absent from found matched nobody
	errs  map[lookupKey]error
	// complete: the whole account was listed, so anything not found does
	// not exist.
	complete bool
	// Requests counts the GETs sent, retries included.
	Requests int
	Strategy Strategy
}

func newIndex() *Index {
	return &Index{users: map[string]*exotel.User{}, found: map[lookupKey][]string{},
		asked: map[lookupKey]bool{}, errs: map[lookupKey]error{}}
}

// Complete reports whether the whole account was listed.
func (ix *Index) Complete() bool { return ix.complete }

// All returns every user seen, by id order. When Complete, that is the
// whole account.
func (ix *Index) All() []*exotel.User {
	out := make([]*exotel.User, 0, len(ix.users))
	for _, u := range ix.users {
		out = append(out, u)
	}
	slices.SortFunc(out, func(a, b *exotel.User) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// User returns the user with this id, as last seen, or nil when the
// lookups did not see one.
func (ix *Index) User(id string) *exotel.User { return ix.users[id] }

// Users returns the users that have value as identifier k: none, one, or
// (if the account holds duplicates) several. The error is the lookup's own
// failure.
func (ix *Index) Users(k Key, value string) ([]*exotel.User, error) {
	key := lookupKey{k, normal(k, value)}
	if err := ix.errs[key]; err != nil && len(ix.found[key]) == 0 {
		return nil, err
	}
	ids := ix.found[key]
	if len(ids) == 0 && !ix.asked[key] && !ix.complete {
		return nil, errNotLookedUp
	}
	out := make([]*exotel.User, len(ids))
	for i, id := range ids {
		out[i] = ix.users[id]
	}
	return out, nil
}

// count adds the requests a retry loop sent; ratelimit.Retry counts only
// what left the machine.
func (ix *Index) count(attempts int) { ix.Requests += attempts }

func (ix *Index) fail(k Key, v string, err error) {
	ix.errs[lookupKey{k, normal(k, v)}] = err
}

// addAll records users and every identifier they have. A user seen again
// replaces the earlier copy: the later answer is the fresher one.
func (ix *Index) addAll(users []exotel.User) {
	for i := range users {
		u := users[i]
		if u.ID == "" {
			continue
		}
		if old := ix.users[u.ID]; old != nil {
			ix.forget(old)
		}
		ix.users[u.ID] = &u
		ix.note(KeyUserID, u.ID, u.ID)
		if u.Email != "" {
			ix.note(KeyEmail, u.Email, u.ID)
		}
		for _, d := range u.Devices {
			if d.ContactURI != "" {
				ix.note(KeyPhone, d.ContactURI, u.ID)
			}
		}
	}
}

func (ix *Index) note(k Key, v, id string) {
	key := lookupKey{k, normal(k, v)}
	if !slices.Contains(ix.found[key], id) {
		ix.found[key] = append(ix.found[key], id)
	}
}

// forget drops an older copy's identifiers, in case they changed.
func (ix *Index) forget(u *exotel.User) {
	drop := func(k Key, v string) {
		key := lookupKey{k, normal(k, v)}
		ix.found[key] = slices.DeleteFunc(ix.found[key], func(id string) bool { return id == u.ID })
		if len(ix.found[key]) == 0 {
			delete(ix.found, key)
		}
	}
	if u.Email != "" {
		drop(KeyEmail, u.Email)
	}
	for _, d := range u.Devices {
		drop(KeyPhone, d.ContactURI)
	}
}

// Match is the one user a row names, or why there is none.
type Match struct {
	User    *exotel.User
	Status  results.Status // empty when User is set: not_found, ambiguous or failed
	Message string
	Err     error // the lookup's failure, for a failed match
}

// Match finds the user that every identifier of id names: each one given
// must point to the same single user. Nothing found for any of them is
// not_found; identifiers that disagree, or one that matches several users,
// are ambiguous; a lookup that failed is failed.
func (ix *Index) Match(id Ident) Match {
	var hits []hit
	for _, k := range Keys() {
		v := id.Value(k)
		if v == "" {
			continue
		}
		users, err := ix.Users(k, v)
		if err != nil {
			return Match{Status: results.Failed, Err: err,
				Message: fmt.Sprintf("could not look up %s %s: %v", k, v, err)}
		}
		if len(users) > 1 {
			return Match{Status: results.Ambiguous,
				Message: fmt.Sprintf("%s %s matches %d users: %s", k, v, len(users), whoList(users))}
		}
		hits = append(hits, hit{k, v, users})
	}
	var user *exotel.User
	var none []string
	for _, h := range hits {
		if len(h.users) == 0 {
			none = append(none, h.k.String()+" "+h.v)
			continue
		}
		if user == nil {
			user = h.users[0]
		}
	}
	if user == nil {
		return Match{Status: results.NotFound, Message: "no user has " + strings.Join(none, " or ")}
	}
	for _, h := range hits {
		if len(h.users) == 1 && h.users[0].ID != user.ID {
			first := firstHit(hits, user.ID)
			return Match{Status: results.Ambiguous, Message: fmt.Sprintf("%s %s is user %s but %s %s is user %s",
				first.k, first.v, IDAndName(user), h.k, h.v, IDAndName(h.users[0]))}
		}
	}
	if len(none) > 0 {
		first := firstHit(hits, user.ID)
		return Match{Status: results.Ambiguous, Message: fmt.Sprintf("%s %s is user %s but no user has %s",
			first.k, first.v, IDAndName(user), strings.Join(none, " or "))}
	}
	return Match{User: user}
}

// hit is what one identifier of a row found.
type hit struct {
	k     Key
	v     string
	users []*exotel.User
}

// firstHit is the first identifier that found the user with this id.
func firstHit(hits []hit, id string) hit {
	for _, h := range hits {
		if len(h.users) == 1 && h.users[0].ID == id {
			return h
		}
	}
	return hit{}
}

// Claims remembers which row first named each user, so a user listed twice
// is acted on once.
type Claims map[string]int

// Claim records that row names userID and returns the earlier row that
// already did, if any.
func (c Claims) Claim(userID string, row int) (first int, dup bool) {
	if first, ok := c[userID]; ok {
		return first, true
	}
	c[userID] = row
	return 0, false
}

// SameUserMessage is the message of a row that names a user an earlier row
// already named.
func SameUserMessage(first int) string { return "same user as row " + strconv.Itoa(first) }

// Who describes a user for people: "First Last <email> (role)".
func Who(u *exotel.User) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(u.FirstName + " " + u.LastName))
	if u.Email != "" {
		b.WriteString(" <" + u.Email + ">")
	} else if d := u.PrimaryDevice(); d != nil {
		b.WriteString(" <" + d.ContactURI + ">")
	}
	if u.Role != "" {
		b.WriteString(" (" + u.Role + ")")
	}
	return b.String()
}

// IDAndName is "id (First Last)", for messages that must name the id.
func IDAndName(u *exotel.User) string {
	return u.ID + " (" + strings.TrimSpace(u.FirstName+" "+u.LastName) + ")"
}

func whoList(users []*exotel.User) string {
	parts := make([]string, len(users))
	for i, u := range users {
		parts[i] = IDAndName(u)
	}
	return strings.Join(parts, ", ")
}
