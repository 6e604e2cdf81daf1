package audit

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/exoroster/exoroster/exporter"
)

// Defaults, from the team-management guide: review users quarterly (90
// days), keep admins few.
const (
	DefaultInactiveDays = 90
	DefaultMaxAdmins    = 3
	DefaultStaleAfter   = 30
)

// Options are an audit's thresholds and its clock.
type Options struct {
	// Now is the time the report describes: the export's time, injected
	// so that an audit is reproducible.
	Now time.Time `json:"now"`
	// InactiveDays: a user whose last login is at least this many days
	// (of 24 hours) before Now is inactive.
	InactiveDays int `json:"inactive_days"`
	// MaxAdmins: more admins than this is a finding.
	MaxAdmins int `json:"max_admins"`
	// StaleAfter: a user who never logged in, created at least this many
	// days before Now, is a finding.
	StaleAfter int `json:"stale_after"`
}

// DefaultOptions returns the defaults at now.
func DefaultOptions(now time.Time) Options {
	return Options{Now: now, InactiveDays: DefaultInactiveDays, MaxAdmins: DefaultMaxAdmins, StaleAfter: DefaultStaleAfter}
}

// Check refuses thresholds that make no sense.
func (o Options) Check() error {
	switch {
	case o.Now.IsZero():
		return errors.New("the audit's time is not set")
	case o.InactiveDays < 1:
		return fmt.Errorf("inactive days %d: use 1 or more", o.InactiveDays)
	case o.MaxAdmins < 0:
		return fmt.Errorf("max admins %d: use 0 or more", o.MaxAdmins)
	case o.StaleAfter < 0:
		return fmt.Errorf("stale after %d days: use 0 or more", o.StaleAfter)
	}
	return nil
}

// Rule is an audit rule's name, as --fail-on takes it.
type Rule string

const (
	RuleTooManyAdmins    Rule = "too-many-admins"   // more admins than MaxAdmins
	RuleRoleEscalation   Rule = "role-escalation"   // someone became admin or supervisor (needs a diff)
	RuleNeverLoggedIn    Rule = "never-logged-in"   // never logged in, created StaleAfter+ days ago
	RuleUnverifiedDevice Rule = "unverified-device" // a device with verified=false
	RuleNoDevice         Rule = "no-device"         // nothing to take calls on
)

// Rules lists every rule in the order reports show them.
func Rules() []Rule {
	return []Rule{RuleTooManyAdmins, RuleRoleEscalation, RuleNeverLoggedIn, RuleUnverifiedDevice, RuleNoDevice}
}

// Finding is a rule that found something, and the users it names.
type Finding struct {
	Rule    Rule      `json:"rule"`
	Message string    `json:"message"`
	Users   []UserRef `json:"users"`
}

// Skipped is a rule that could not be evaluated on these reports.
type Skipped struct {
	Rule   Rule   `json:"rule"`
	Reason string `json:"reason"`
}

// Bucket is one bar of a chart.
type Bucket struct {
	Label string `json:"label"`
	Count int    `json:"count"`
}

// The last-login histogram's buckets, in days since the last login.
const (
	Login0To7    = "0–7 days"
	Login8To30   = "8–30 days"
	Login31To90  = "31–90 days"
	Login91To180 = "91–180 days"
	LoginOver180 = "over 180 days"
	LoginNever   = "never"
	LoginUnknown = "unreadable date"
)

// Stats are a report's headline counts.
type Stats struct {
	Users int `json:"users"`
	// ByRole counts users by role (admin, supervisor and user always
	// present); nil when the report has no role column.
	ByRole map[string]int `json:"by_role,omitempty"`
	Admins int            `json:"admins"`
	// ByStatus counts WebRTC users by status; nil without a status column.
	ByStatus map[string]int `json:"by_status,omitempty"`
	// LastLogin is the days-since-last-login histogram; nil without a
	// last_login column.
	LastLogin     []Bucket `json:"last_login,omitempty"`
	NeverLoggedIn int      `json:"never_logged_in"`
	// Inactive never logged in, or last logged in InactiveDays+ ago.
	Inactive int `json:"inactive"`
	// UnverifiedDevice counts users whose device is unverified.
	UnverifiedDevice int `json:"unverified_device"`
	NoDevice         int `json:"no_device"`
}

// Result is one audit: the report's counts, the diff against an older
// report when there is one, and the findings.
type Result struct {
	Report     Source    `json:"report"`
	Options    Options   `json:"options"`
	Stats      Stats     `json:"stats"`
	Diff       *Diff     `json:"diff,omitempty"`
	Findings   []Finding `json:"findings"`
	NotChecked []Skipped `json:"not_checked,omitempty"`
}

// Finding returns the finding of a rule, if it found anything.
func (r *Result) Finding(rule Rule) (Finding, bool) {
	for _, f := range r.Findings {
		if f.Rule == rule {
			return f, true
		}
	}
	return Finding{}, false
}

// Run audits cur, and compares it with old when old is not nil.
func Run(old, cur *Report, o Options) (*Result, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	res := &Result{Report: sourceOf(cur), Options: o, Stats: Summarize(cur, o), Findings: []Finding{}}
	if old != nil {
		d, err := Compare(old, cur, o.Now, o.InactiveDays)
		if err != nil {
			return nil, err
		}
		res.Diff = d
	}
	for _, rule := range Rules() {
		f, skip := evaluate(rule, cur, res.Diff, o)
		switch {
		case skip != "":
			res.NotChecked = append(res.NotChecked, Skipped{Rule: rule, Reason: skip})
		case len(f.Users) > 0:
			res.Findings = append(res.Findings, f)
		}
	}
	return res, nil
}

// evaluate applies one rule; skip says why it could not be.
func evaluate(rule Rule, r *Report, d *Diff, o Options) (f Finding, skip string) {
	f.Rule = rule
	users := r.Users()
	switch rule {
	case RuleTooManyAdmins:
		if !r.Has(colRole) {
			return f, "the report has no role column"
		}
		var admins []UserRef
		for _, u := range users {
			if u.Role() == "admin" {
				admins = append(admins, refOf(u))
			}
		}
		if len(admins) > o.MaxAdmins {
			f.Users = admins
			f.Message = fmt.Sprintf("%s, more than the %d allowed: keep admin access to essential personnel", count(len(admins), "admin"), o.MaxAdmins)
		}
	case RuleRoleEscalation:
		switch {
		case d == nil:
			return f, "no earlier report to compare with"
		case !slices.Contains(d.Compared, colRole):
			return f, "a report has no role column"
		}
		for _, e := range d.Events {
			if e.Kind == RoleEscalation {
				f.Users = append(f.Users, e.User)
			}
		}
		f.Message = fmt.Sprintf("%s became admin or supervisor since the earlier report", count(len(f.Users), "user"))
	case RuleNeverLoggedIn:
		if !r.Has(colLastLogin) || !(r.Has(colDateCreated) || r.Has(colCreatedAt)) {
			return f, "the report has no last_login or creation date column"
		}
		for _, u := range users {
			if strings.TrimSpace(u.Get(colLastLogin)) != "" {
				continue
			}
			created, ok := exporter.ParseTime(u.Get(colDateCreated))
			if !ok {
				created, ok = exporter.ParseTime(u.Get(colCreatedAt))
			}
			if ok && exporter.AtLeastDaysAgo(created, o.Now, o.StaleAfter) {
				f.Users = append(f.Users, refOf(u))
			}
		}
		f.Message = fmt.Sprintf("%s never logged in, though created %d or more days ago", count(len(f.Users), "user"), o.StaleAfter)
	case RuleUnverifiedDevice:
		if !r.Has(colDeviceVerified) {
			return f, "the report has no device_verified column"
		}
		for _, u := range users {
			if isFalse(u.Get(colDeviceVerified)) {
				f.Users = append(f.Users, refOf(u))
			}
		}
		f.Message = fmt.Sprintf("%s an unverified device: calls are not routed to it until it is verified", countHave(len(f.Users)))
	case RuleNoDevice:
		if !canTellDevice(r) {
			return f, "the report has no device_contact_uri column, nor phone and sip_enabled"
		}
		for _, u := range users {
			if hasNoDevice(u) {
				f.Users = append(f.Users, refOf(u))
			}
		}
		f.Message = fmt.Sprintf("%s no device to take calls on", countHave(len(f.Users)))
	}
	return f, ""
}

func canTellDevice(r *Report) bool {
	return r.Has(colDeviceContactURI) || (r.Has(colPhone) && r.Has(colSIPEnabled))
}

// hasNoDevice: a CCM user with no device at all, or a WebRTC user with
// neither a phone nor SIP enabled.
func hasNoDevice(u User) bool {
	if u.rep.Has(colDeviceContactURI) {
		return u.Get(colDeviceContactURI) == "" && u.Get(colDeviceID) == "" && u.Get(colExtraDevices) == ""
	}
	return strings.TrimSpace(u.Get(colPhone)) == "" && !isTrue(u.Get(colSIPEnabled))
}

// Summarize counts a report's users as of o.Now.
func Summarize(r *Report, o Options) Stats {
	s := Stats{Users: r.Len()}
	if r.Has(colRole) {
		s.ByRole = map[string]int{"admin": 0, "supervisor": 0, "user": 0}
	}
	if r.Has(colStatus) {
		s.ByStatus = map[string]int{}
	}
	var hist [7]int // the Login* buckets, in order
	for _, u := range r.Users() {
		if s.ByRole != nil {
			s.ByRole[u.Role()]++
			if u.Role() == "admin" {
				s.Admins++
			}
		}
		if s.ByStatus != nil {
			s.ByStatus[strings.ToLower(strings.TrimSpace(u.Get(colStatus)))]++
		}
		if r.Has(colLastLogin) {
			b := loginBucket(u.Get(colLastLogin), o.Now)
			hist[b]++
			switch b {
			case 5:
				s.NeverLoggedIn++
				s.Inactive++
			case 6:
			default:
				if t, _ := exporter.ParseTime(u.Get(colLastLogin)); exporter.AtLeastDaysAgo(t, o.Now, o.InactiveDays) {
					s.Inactive++
				}
			}
		}
		if isFalse(u.Get(colDeviceVerified)) {
			s.UnverifiedDevice++
		}
		if canTellDevice(r) && hasNoDevice(u) {
			s.NoDevice++
		}
	}
	if r.Has(colLastLogin) {
		labels := []string{Login0To7, Login8To30, Login31To90, Login91To180, LoginOver180, LoginNever, LoginUnknown}
		for i, l := range labels {
			if l == LoginUnknown && hist[i] == 0 {
				continue
			}
			s.LastLogin = append(s.LastLogin, Bucket{Label: l, Count: hist[i]})
		}
	}
	return s
}

// loginBucket places a last login in the histogram: 0–4 by days since,
// 5 never, 6 a date that does not parse.
func loginBucket(lastLogin string, now time.Time) int {
	if strings.TrimSpace(lastLogin) == "" {
		return 5
	}
	t, ok := exporter.ParseTime(lastLogin)
	if !ok {
		return 6
	}
	days := int(now.Sub(t) / (24 * time.Hour))
	switch {
	case days <= 7:
		return 0
	case days <= 30:
		return 1
	case days <= 90:
		return 2
	case days <= 180:
		return 3
	}
	return 4
}

// FailOn is the set of rules whose findings fail a run (--fail-on).
type FailOn struct {
	all   bool
	rules []Rule
}

// ParseFailOn reads --fail-on values: rule names, comma-separated or
// repeated, or "any".
func ParseFailOn(values []string) (FailOn, error) {
	var f FailOn
	for _, v := range values {
		for name := range strings.SplitSeq(v, ",") {
			name = strings.ToLower(strings.TrimSpace(name))
			switch {
			case name == "":
			case name == "any":
				f.all = true
			case slices.Contains(Rules(), Rule(name)):
				if !slices.Contains(f.rules, Rule(name)) {
					f.rules = append(f.rules, Rule(name))
				}
			default:
				return FailOn{}, fmt.Errorf("unknown rule %q: use any, or one or more of %s", name, ruleList())
			}
		}
	}
	return f, nil
}

func ruleList() string {
	names := make([]string, 0, len(Rules()))
	for _, r := range Rules() {
		names = append(names, string(r))
	}
	return strings.Join(names, ", ")
}

// Set reports whether any rule was asked for.
func (f FailOn) Set() bool { return f.all || len(f.rules) > 0 }

// Includes reports whether findings of rule fail the run.
func (f FailOn) Includes(rule Rule) bool { return f.all || slices.Contains(f.rules, rule) }

// Tripped returns the findings that fail the run.
func (f FailOn) Tripped(findings []Finding) []Finding {
	var out []Finding
	for _, fd := range findings {
		if f.Includes(fd.Rule) && len(fd.Users) > 0 {
			out = append(out, fd)
		}
	}
	return out
}

// Unchecked returns the rules asked for that these reports could not
// evaluate: an alert that can never fire deserves a warning.
func (f FailOn) Unchecked(res *Result) []Skipped {
	var out []Skipped
	for _, s := range res.NotChecked {
		if slices.Contains(f.rules, s.Rule) {
			out = append(out, s)
		}
	}
	return out
}

// count writes "1 admin", "2 admins".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func countHave(n int) string {
	if n == 1 {
		return "1 user has"
	}
	return fmt.Sprintf("%d users have", n)
}
