package audit

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/exoroster/exoroster/exporter"
)

// volatile columns change without anyone changing the user (a login, a
// call, the API's bookkeeping), so a difference in them is not a "changed"
// user. last_login still drives the newly-inactive and first-login
// transitions.
var volatile = []string{colDeviceID, colDeviceStatus, colLastLogin, colActiveCall,
	colDateCreated, colDateUpdated, colCreatedAt, colUpdatedAt}

// Source describes one report in a diff or an audit.
type Source struct {
	Name      string    `json:"name"`
	Format    Format    `json:"format"`
	Target    Target    `json:"target"`
	Users     int       `json:"users"`
	Taken     time.Time `json:"taken,omitzero"`
	TakenFrom string    `json:"taken_from,omitempty"`
}

func sourceOf(r *Report) Source {
	return Source{Name: r.Name, Format: r.Format, Target: r.Target, Users: r.Len(), Taken: r.Taken, TakenFrom: r.TakenFrom}
}

// UserRef names a user in a diff or a finding.
type UserRef struct {
	ID    string `json:"user_id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	Role  string `json:"role,omitempty"`
}

func refOf(u User) UserRef {
	return UserRef{ID: u.ID(), Name: u.Name(), Email: u.Get(colEmail), Phone: u.Phone(), Role: u.Get(colRole)}
}

// FieldChange is one column's old and new value.
type FieldChange struct {
	Column string `json:"column"`
	Old    string `json:"old"`
	New    string `json:"new"`
}

// Change is a user in both reports whose compared columns differ.
type Change struct {
	User   UserRef       `json:"user"`
	Fields []FieldChange `json:"fields"`
}

// Transition is what an auditor looks for between two reports.
type Transition string

const (
	// RoleEscalation: became admin or supervisor from a lower role, or
	// was added with one of those roles.
	RoleEscalation Transition = "role_escalation"
	// DeviceUnverified: device_verified went from true to false (a new
	// contact URI must be verified again).
	DeviceUnverified Transition = "device_became_unverified"
	// NewlyInactive: last logged in within InactiveDays of the old
	// report's time, but not within InactiveDays of now.
	NewlyInactive Transition = "newly_inactive"
	// FirstLogin: had never logged in, now has.
	FirstLogin Transition = "first_login"
)

// Transitions lists every transition in the order reports show them.
func Transitions() []Transition { return slices.Clone(transitionOrder[:]) }

// Event is one user's transition: the column's values that show it, and a
// phrase for people ("last login 93 days ago (2025-03-07)").
type Event struct {
	Kind   Transition `json:"kind"`
	User   UserRef    `json:"user"`
	Old    string     `json:"old"`
	New    string     `json:"new"`
	Detail string     `json:"detail"`
}

// Diff is what changed between two reports of the same target.
type Diff struct {
	Old Source `json:"old"`
	New Source `json:"new"`
	// Compared are the columns both reports have that a change is looked
	// for in; OnlyOld and OnlyNew are those one report lacks, ignored.
	Compared []string `json:"compared_columns"`
	OnlyOld  []string `json:"ignored_only_in_old"`
	OnlyNew  []string `json:"ignored_only_in_new"`

	Added   []UserRef `json:"added"`
	Removed []UserRef `json:"removed"`
	Changed []Change  `json:"changed"`
	Events  []Event   `json:"transitions"`
	// NotTracked names transitions the reports cannot show, with why.
	NotTracked []string `json:"not_tracked,omitempty"`
}

// Count returns how many events of a kind the diff has.
func (d *Diff) Count(kind Transition) int {
	n := 0
	for _, e := range d.Events {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// Empty reports whether nothing was added, removed or changed.
func (d *Diff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0 && len(d.Events) == 0
}

// Comparable refuses two reports of different targets, whose user_ids are
// different namespaces; a report whose target is unknown compares with
// either. It needs only the columns, so an export can check its --against
// report before fetching anything.
func Comparable(old, cur *Report) error {
	if old.Target != cur.Target && old.Target != TargetUnknown && cur.Target != TargetUnknown {
		return fmt.Errorf("%s is a %s report and %s a %s report: compare two reports of the same target",
			old.Name, old.Target, cur.Name, cur.Target)
	}
	return nil
}

// Compare finds what changed from old to cur: added and removed users by
// user_id, changed columns (those both have, less volatile ones), and the
// transitions. now is cur's time; the newly-inactive transition also needs
// old.Taken. Reports of different targets are refused: their user_ids are
// different namespaces.
func Compare(old, cur *Report, now time.Time, inactiveDays int) (*Diff, error) {
	if err := Comparable(old, cur); err != nil {
		return nil, err
	}
	d := &Diff{Old: sourceOf(old), New: sourceOf(cur)}
	for _, c := range old.columns {
		switch {
		case c == colUserID:
		case !cur.Has(c):
			d.OnlyOld = append(d.OnlyOld, c)
		case !slices.Contains(volatile, c):
			d.Compared = append(d.Compared, c)
		}
	}
	for _, c := range cur.columns {
		if !old.Has(c) {
			d.OnlyNew = append(d.OnlyNew, c)
		}
	}
	slices.SortFunc(d.Compared, compareColumns)

	both := func(c string) bool { return old.Has(c) && cur.Has(c) }
	trackRole := both(colRole)
	trackDevice := both(colDeviceVerified)
	trackLogin := both(colLastLogin)
	trackInactive := trackLogin && !old.Taken.IsZero() && old.Taken.Before(now)
	if !trackRole && cur.Target != TargetWebRTC {
		d.NotTracked = append(d.NotTracked, string(RoleEscalation)+": a report has no role column")
	}
	if !trackDevice && cur.Target != TargetWebRTC {
		d.NotTracked = append(d.NotTracked, string(DeviceUnverified)+": a report has no device_verified column")
	}
	switch {
	case !trackLogin && cur.Target != TargetWebRTC:
		d.NotTracked = append(d.NotTracked, string(NewlyInactive)+", "+string(FirstLogin)+": a report has no last_login column")
	case trackLogin && !trackInactive:
		d.NotTracked = append(d.NotTracked, string(NewlyInactive)+": the old report's time is unknown or not before the new one's")
	}

	var events [len(transitionOrder)][]Event
	add := func(kind Transition, u User, oldV, newV string) {
		i := slices.Index(transitionOrder[:], kind)
		events[i] = append(events[i], Event{Kind: kind, User: refOf(u), Old: oldV, New: newV, Detail: detail(kind, u, oldV, newV, now)})
	}
	for _, u := range cur.Users() {
		was, ok := old.Lookup(u.ID())
		if !ok {
			d.Added = append(d.Added, refOf(u))
			if trackRole && isElevated(u.Role()) {
				add(RoleEscalation, u, "", u.Get(colRole))
			}
			continue
		}
		var fields []FieldChange
		for _, c := range d.Compared {
			if o, n := was.Get(c), u.Get(c); o != n {
				fields = append(fields, FieldChange{Column: c, Old: o, New: n})
			}
		}
		if len(fields) > 0 {
			d.Changed = append(d.Changed, Change{User: refOf(u), Fields: fields})
		}
		if trackRole && isElevated(u.Role()) && roleRank(u.Role()) > roleRank(was.Role()) {
			add(RoleEscalation, u, was.Get(colRole), u.Get(colRole))
		}
		if trackDevice && isFalse(u.Get(colDeviceVerified)) && isTrue(was.Get(colDeviceVerified)) {
			add(DeviceUnverified, u, was.Get(colDeviceVerified), u.Get(colDeviceVerified))
		}
		if !trackLogin {
			continue
		}
		oldLogin, newLogin := was.Get(colLastLogin), u.Get(colLastLogin)
		switch {
		case strings.TrimSpace(oldLogin) == "" && strings.TrimSpace(newLogin) != "":
			add(FirstLogin, u, oldLogin, newLogin)
		case trackInactive:
			to, okOld := exporter.ParseTime(oldLogin)
			tn, okNew := exporter.ParseTime(newLogin)
			if okOld && okNew && !exporter.AtLeastDaysAgo(to, old.Taken, inactiveDays) && exporter.AtLeastDaysAgo(tn, now, inactiveDays) {
				add(NewlyInactive, u, oldLogin, newLogin)
			}
		}
	}
	for _, u := range old.Users() {
		if _, ok := cur.Lookup(u.ID()); !ok {
			d.Removed = append(d.Removed, refOf(u))
		}
	}
	for _, es := range events {
		d.Events = append(d.Events, es...)
	}
	return d, nil
}

var transitionOrder = [...]Transition{RoleEscalation, DeviceUnverified, NewlyInactive, FirstLogin}

// detail says what a transition means for this user.
func detail(kind Transition, u User, oldV, newV string, now time.Time) string {
	switch kind {
	case RoleEscalation:
		if oldV == "" {
			return "added as " + newV
		}
		return oldV + " → " + newV
	case DeviceUnverified:
		if p := u.Phone(); p != "" {
			return "device " + p + " is no longer verified"
		}
		return "device is no longer verified"
	case NewlyInactive:
		if t, ok := exporter.ParseTime(newV); ok {
			return fmt.Sprintf("last login %d days ago (%s)", int(now.Sub(t)/(24*time.Hour)), t.Format(time.DateOnly))
		}
	case FirstLogin:
		if t, ok := exporter.ParseTime(newV); ok {
			return "first login " + t.Format(time.DateOnly)
		}
		return "first login " + newV
	}
	return oldV + " → " + newV
}

func isElevated(role string) bool { return role == "admin" || role == "supervisor" }

// roleRank orders roles by what they may do; an unknown role ranks with
// user.
func roleRank(role string) int {
	switch role {
	case "admin":
		return 2
	case "supervisor":
		return 1
	}
	return 0
}

func isTrue(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes":
		return true
	}
	return false
}

func isFalse(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "false", "0", "no":
		return true
	}
	return false
}
