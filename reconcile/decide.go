package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/roster"
)

// Roster is a whole roster file, read and checked offline.
type Roster struct {
	Path   string
	Header *roster.Header
	Wants  []*Want // one per data row, in order
	SHA256 string  // of the file's bytes
	// Describe is how the file was read and which column fills which
	// field (roster.Reader.Describe), printed before the plan.
	Describe string
}

// ReadRoster reads and checks every row of a roster as import does. Its
// errors are run-level: an unreadable file, or one t cannot read at all.
func ReadRoster(path string, open func() (io.ReadCloser, error), t Planner, opts roster.Options, read roster.ReadOptions) (*Roster, error) {
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	defer rc.Close()
	sum := sha256.New()
	rd, err := roster.NewReaderWith(io.TeeReader(rc, sum), read)
	if err != nil {
		// A column problem (*roster.UsageError, *roster.ColumnError)
		// stays recognisable to the caller.
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer rd.Close()
	h := rd.Header()
	if err := t.CheckHeader(h); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	check := t.NewChecker(h, opts)
	r := &Roster{Path: path, Header: h, Describe: rd.Describe()}
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", path, err)
		}
		r.Wants = append(r.Wants, check(rec))
	}
	// The hash covers every byte, also any the CSV reader did not need.
	if _, err := io.Copy(io.Discard, io.TeeReader(rc, sum)); err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}
	r.SHA256 = hex.EncodeToString(sum.Sum(nil))
	return r, nil
}

// index finds members by identifier.
type index struct {
	byID    map[string]*Member
	byEmail map[string][]*Member
	byPhone map[string][]*Member
}

func newIndex(ms []*Member) *index {
	ix := &index{byID: map[string]*Member{}, byEmail: map[string][]*Member{}, byPhone: map[string][]*Member{}}
	for _, m := range ms {
		ix.byID[m.ID] = m
		if m.Email != "" {
			k := roster.EmailKey(m.Email)
			ix.byEmail[k] = append(ix.byEmail[k], m)
		}
		for _, p := range m.Phones {
			if p != "" && !slices.Contains(ix.byPhone[p], m) {
				ix.byPhone[p] = append(ix.byPhone[p], m)
			}
		}
	}
	return ix
}

func (ix *index) find(k resolve.Key, v string) []*Member {
	switch k {
	case resolve.KeyUserID:
		if m := ix.byID[v]; m != nil {
			return []*Member{m}
		}
		return nil
	case resolve.KeyEmail:
		return ix.byEmail[roster.EmailKey(v)]
	}
	return ix.byPhone[v]
}

// hit is what one identifier of a row names.
type hit struct {
	k Key
	v string
	m *Member
}

// Key re-exports resolve's identifier kinds for messages.
type Key = resolve.Key

// matched is a row's user, or why it has none.
type matched struct {
	m *Member
	// named: every user one of the row's identifiers names; none of them
	// is deleted, whatever becomes of the row.
	named []*Member
	// kind and reason are set when the row cannot be acted on.
	kind   Kind
	reason string
}

// match finds a valid row's user by mode. Every identifier the row gives
// must agree with the user found, or the row is a conflict.
func match(ix *index, id resolve.Ident, mode Match, callerIDs bool) matched {
	var hits []hit
	var out matched
	for _, k := range resolve.Keys() {
		v := id.Value(k)
		if v == "" {
			continue
		}
		ms := ix.find(k, v)
		out.named = addNamed(out.named, ms)
		// The first identifier that names several users makes the row a
		// conflict, but the rest are still looked up: every user the row
		// names is kept from deletion.
		if len(ms) > 1 && out.kind == "" {
			out.kind, out.reason = Conflict, fmt.Sprintf("%s %s matches %d users: %s", k, v, len(ms), whoList(ms))
		}
		var m *Member
		if len(ms) == 1 {
			m = ms[0]
		}
		hits = append(hits, hit{k, v, m})
	}
	if out.kind != "" {
		return out
	}
	get := func(k Key) (hit, bool) {
		for _, h := range hits {
			if h.k == k {
				return h, true
			}
		}
		return hit{}, false
	}
	var primary hit
	switch mode {
	case MatchEmail, MatchPhone:
		k := resolve.KeyEmail
		if mode == MatchPhone {
			k = resolve.KeyPhone
		}
		h, ok := get(k)
		if !ok {
			out.kind, out.reason = Invalid, fmt.Sprintf("the row has no %s, and --match %s finds users by it", k, mode)
			return out
		}
		primary = h
	case MatchUserID:
		if h, ok := get(resolve.KeyUserID); ok {
			if h.m == nil && !callerIDs {
				out.kind, out.reason = Conflict, "no user has user_id "+h.v+" (remove the user_id to create the person anew)"
				return out
			}
			primary = h
		}
	default: // email, then phone
		e, hasEmail := get(resolve.KeyEmail)
		p, hasPhone := get(resolve.KeyPhone)
		switch {
		case !hasEmail && !hasPhone:
			out.kind, out.reason = Invalid, "the row has no email or phone to match it with a user by, so the user it creates could never be found again"
			return out
		case hasEmail && e.m != nil, !hasPhone:
			primary = e
		default:
			primary = p
		}
	}
	for _, h := range hits {
		if h.m == nil || h.m == primary.m {
			continue
		}
		switch {
		case primary.m != nil:
			out.reason = fmt.Sprintf("%s %s is %s but %s %s is %s", primary.k, primary.v, primary.m.label(), h.k, h.v, h.m.label())
		case primary.v != "":
			out.reason = fmt.Sprintf("%s %s is %s but %s %s names no user", h.k, h.v, h.m.label(), primary.k, primary.v)
		default:
			out.reason = fmt.Sprintf("%s %s is %s but the row has no %s to match it by (--match %s)", h.k, h.v, h.m.label(), MatchUserID, mode)
		}
		out.kind = Conflict
		return out
	}
	out.m = primary.m
	return out
}

// addNamed adds ms to named, each user once.
func addNamed(named, ms []*Member) []*Member {
	for _, m := range ms {
		if !slices.Contains(named, m) {
			named = append(named, m)
		}
	}
	return named
}

func (m *Member) label() string {
	if m.Who == "" {
		return m.ID
	}
	return m.Who + " [" + m.ID + "]"
}

func whoList(ms []*Member) string {
	parts := make([]string, len(ms))
	for i, m := range ms {
		parts[i] = m.label()
	}
	return strings.Join(parts, ", ")
}

// Decide makes the plan: one action per roster row, then one per account
// user no row names, then the guards. It sends nothing: r and l are read
// already, last is the roster last applied to the account (nil: none).
func Decide(r *Roster, l *Listing, t Planner, s Settings, last *Applied, now time.Time) *Plan {
	p := &Plan{
		Version:      Version,
		CreatedAt:    now.UTC().Truncate(time.Second),
		Account:      t.Account(),
		Roster:       RosterInfo{Path: r.Path, SHA256: r.SHA256, Rows: len(r.Wants), Header: r.Header.Names},
		Settings:     s,
		AccountUsers: len(l.Members),
		Notes:        append([]string(nil), l.Notes...),
	}
	ix := newIndex(l.Members)
	rows := make([]*Action, len(r.Wants))
	found := make([]matched, len(r.Wants))
	claims := map[*Member][]int{} // user → indexes of the rows naming it
	for i, w := range r.Wants {
		a := &Action{Kind: Invalid, Row: w.Rec.Row, Who: w.Who, Input: w.Rec.Raw}
		rows[i] = a
		if len(w.Problems) > 0 {
			a.Reason = problems(w.Problems)
			// An unreadable row still keeps the people it names from
			// deletion: a typo in one cell must not remove anyone.
			for _, k := range resolve.Keys() {
				if v := w.Ident.Value(k); v != "" {
					found[i].named = addNamed(found[i].named, ix.find(k, v))
				}
			}
		} else {
			found[i] = match(ix, w.Ident, s.Match, t.CallerIDs())
			a.Kind, a.Reason = found[i].kind, found[i].reason
			if a.Kind == "" {
				a.Kind = Create // decided below
			}
		}
		for _, m := range found[i].named {
			claims[m] = append(claims[m], i)
		}
	}

	// Two rows naming one user: which is the truth is not guessed.
	for m, idx := range claims {
		if len(idx) < 2 {
			continue
		}
		nums := make([]string, len(idx))
		for j, i := range idx {
			nums[j] = strconv.Itoa(rows[i].Row)
		}
		for _, i := range idx {
			a := rows[i]
			why := "rows " + strings.Join(nums, ", ") + " name the same user " + m.label()
			if a.Kind == Invalid && a.Reason != "" && !strings.Contains(a.Reason, why) {
				why = a.Reason + "; " + why
			}
			a.Kind, a.Reason = Invalid, why
		}
	}

	for i, w := range r.Wants {
		a := rows[i]
		if a.Kind != Create {
			if len(found[i].named) == 1 {
				setUser(a, found[i].named[0])
			}
			continue
		}
		if m := found[i].m; m != nil {
			decideRow(a, w, m, t, s)
			continue
		}
		if in, why := s.Scope.Contains(w.Role, w.Email); !in {
			a.Kind, a.Reason = Protected, "would be created outside --scope: "+why
			continue
		}
		a.New = w.New
	}

	var users []*Action
	var admins []*Action
	for _, m := range l.Members {
		if len(claims[m]) > 0 {
			continue
		}
		if in, _ := s.Scope.Contains(m.Role, m.Email); !in {
			p.OutOfScope++
			continue
		}
		a := &Action{Who: m.Who}
		setUser(a, m)
		users = append(users, a)
		switch {
		case !s.Prune:
			a.Kind, a.Reason = Unmanaged, "not in the roster; left alone (--prune deletes users the roster does not list)"
		case m.Role == roleAdmin && !s.AllowAdmins:
			a.Kind, a.Reason = Protected, "admin not in the roster: not deleted without --allow-admins"
		case m.OnCall != "":
			a.Kind, a.Reason = Protected, "on a call ("+m.OnCall+"): not deleted in this run; a later run deletes it"
		default:
			a.Kind, a.Reason = Delete, "not in the roster"
			if m.Role == roleAdmin {
				admins = append(admins, a)
			}
		}
	}
	keepLastAdmin(l.Members, admins)

	p.Actions = append(rows, users...)
	for i, a := range p.Actions {
		a.N = i + 1
	}
	p.count()
	p.Guards = evaluateGuards(p, l.Members, last)
	return p
}

// roleAdmin is the API's admin role; the WebRTC target has no roles.
const roleAdmin = "admin"

// keepLastAdmin protects the deletions that would leave the account
// without an admin: it keeps at least one, counting every admin listed.
func keepLastAdmin(all []*Member, deleting []*Action) {
	if len(deleting) == 0 {
		return
	}
	admins := 0
	for _, m := range all {
		if m.Role == roleAdmin {
			admins++
		}
	}
	left := admins
	for _, a := range deleting {
		if left <= 1 {
			a.Kind = Protected
			a.Reason = fmt.Sprintf("would delete the account's last admin (it has %d); an account keeps one admin, even with --allow-admins", admins)
			continue
		}
		left--
	}
}

// decideRow compares a row with its user.
func decideRow(a *Action, w *Want, m *Member, t Planner, s Settings) {
	setUser(a, m)
	if in, why := s.Scope.Contains(m.Role, m.Email); !in {
		a.Kind, a.Reason = Protected, "the row's user is outside --scope ("+why+"): left alone"
		return
	}
	c := t.Compare(w, m, s)
	switch {
	case c.Conflict != "":
		a.Kind, a.Reason = Conflict, c.Conflict
	case c.Protect != "":
		a.Kind, a.Reason = Protected, c.Protect
		a.Differs = c.Differs
	case len(c.Changes) > 0:
		a.Kind, a.Changes, a.Differs = Update, c.Changes, c.Differs
	case len(c.Differs) > 0:
		a.Kind, a.Differs = Differs, c.Differs
		whys := make([]string, len(c.Differs))
		for i, d := range c.Differs {
			whys[i] = d.String() + ": " + d.Why
		}
		a.Reason = strings.Join(whys, "; ")
	default:
		a.Kind = Unchanged
	}
}

// setUser ties an action to the user it is about.
func setUser(a *Action, m *Member) {
	a.UserID, a.Seen = m.ID, m.Seen
	if a.Who == "" {
		a.Who = m.Who
	}
}

func problems(ps []roster.Problem) string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.String()
	}
	return strings.Join(msgs, "; ")
}
