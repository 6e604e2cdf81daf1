package exporter

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/exoroster/exoroster/exotel"
)

// Audit counts users for the summary. Every count comes from the users the
// export fetched; none costs a request.
type Audit struct {
	Users  int            `json:"users"`
	ByRole map[string]int `json:"by_role"` // admin, supervisor and user always present
	Admins int            `json:"admins"`
	// NeverLoggedIn have no last_login.
	NeverLoggedIn int `json:"never_logged_in"`
	// InactiveOrNeverLoggedIn is the set --inactive-days selects: never
	// logged in, or last login at least InactiveDays days ago.
	InactiveOrNeverLoggedIn int `json:"inactive_or_never_logged_in"`
	// LoggedInButInactive did log in, but not within InactiveDays days.
	LoggedInButInactive int `json:"logged_in_but_inactive"`
	// UnverifiedDevices counts devices (not users) with verified=false.
	UnverifiedDevices         int `json:"unverified_devices"`
	UsersWithUnverifiedDevice int `json:"users_with_unverified_device"`
	// UnverifiedEmails counts users whose email is set but not verified.
	UnverifiedEmails int `json:"unverified_emails"`
	NoEmail          int `json:"no_email"`
	NoDevice         int `json:"no_device"`
}

// MarshalJSON adds "inactive", the name a script looks for first: the same
// set as inactive_or_never_logged_in, which is what --inactive-days selects.
func (a Audit) MarshalJSON() ([]byte, error) {
	type plain Audit // without this method
	return json.Marshal(struct {
		plain
		Inactive int `json:"inactive"`
	}{plain(a), a.InactiveOrNeverLoggedIn})
}

func newAudit() Audit {
	return Audit{ByRole: map[string]int{exotel.RoleAdmin: 0, exotel.RoleSupervisor: 0, exotel.RoleUser: 0}}
}

// add counts u as of now, with days as the inactivity threshold.
func (a *Audit) add(u *exotel.User, now time.Time, days int) {
	a.Users++
	role := strings.ToLower(u.Role)
	a.ByRole[role]++
	if role == exotel.RoleAdmin {
		a.Admins++
	}
	never, inactive := loginState(u.LastLogin, now, days)
	switch {
	case never:
		a.NeverLoggedIn++
		a.InactiveOrNeverLoggedIn++
	case inactive:
		a.LoggedInButInactive++
		a.InactiveOrNeverLoggedIn++
	}
	switch {
	case u.Email == "":
		a.NoEmail++
	case !u.EmailVerified:
		a.UnverifiedEmails++
	}
	if len(u.Devices) == 0 {
		a.NoDevice++
	}
	unverified := 0
	for _, d := range u.Devices {
		if !d.Verified {
			unverified++
		}
	}
	a.UnverifiedDevices += unverified
	if unverified > 0 {
		a.UsersWithUnverifiedDevice++
	}
}

// loginState reads last_login: never is true when the user has never logged
// in; inactive when the last login is at least days×24h before now. A date
// that does not parse counts as neither (the user did log in, at a time we
// cannot tell).
func loginState(lastLogin string, now time.Time, days int) (never, inactive bool) {
	s := strings.TrimSpace(lastLogin)
	if s == "" {
		return true, false
	}
	t, ok := ParseTime(s)
	if !ok {
		return false, false
	}
	return false, AtLeastDaysAgo(t, now, days)
}

// AtLeastDaysAgo reports whether t is at least days×24h before now:
// --inactive-days's rule, which export's filter and summary and the audit
// of a report (inactive users, stale invitations) all apply.
func AtLeastDaysAgo(t, now time.Time, days int) bool {
	return !t.After(now.Add(-time.Duration(days) * 24 * time.Hour))
}

// ParseTime reads the API's ISO 8601 dates (2021-07-28T02:59:34+05:30), and
// the zone-less and date-only forms other servers write, taken as UTC;
// spaces around it are ignored. Export and the audit of its reports read
// dates by this one rule.
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// Filters records what narrowed the export.
type Filters struct {
	Emails       int      `json:"emails,omitempty"` // addresses asked for
	Phones       int      `json:"phones,omitempty"` // contact URIs asked for
	Roles        []string `json:"roles,omitempty"`
	InactiveDays int      `json:"inactive_days,omitempty"`
}

// Summary is what one export saw.
type Summary struct {
	GeneratedAt time.Time `json:"generated_at"`
	Filters     Filters   `json:"filters"`
	// InactiveDays is the threshold of the inactive counts.
	InactiveDays int `json:"inactive_days"`

	// APITotal is metadata.total of the first page (summed over filter
	// batches); APITotalAtEnd that of the last page. They differ when the
	// account changed during the export.
	APITotal      int `json:"api_total"`
	APITotalAtEnd int `json:"api_total_at_end"`
	// Seen counts distinct users fetched. When it differs from APITotal
	// (less MatchedTwice), users were created or deleted mid-export, and
	// a user the offsets skipped may be missing: export again to be sure.
	Seen             int  `json:"seen"`
	SeenMatchesTotal bool `json:"seen_matches_total"`
	// DuplicatesDropped: records of a user already written, returned again
	// because the account changed under the offsets.
	DuplicatesDropped int `json:"duplicates_dropped"`
	// MatchedTwice: users found by both an email and a phone filter.
	MatchedTwice int `json:"matched_by_email_and_phone,omitempty"`
	// RecordErrors: elements of a page the API marked as failed; those
	// users are missing from the report.
	RecordErrors int `json:"record_errors"`
	Requests     int `json:"requests"` // bulk GETs sent, retries included
	// Missing counts users the API's total promised (the smaller of its
	// totals at the start and at the end, so users deleted meanwhile do
	// not count) that did not come back, record errors aside. A few are
	// a live account changing under the offsets; more than Tolerance
	// means the report is incomplete (see Incomplete).
	Missing int `json:"missing,omitempty"`
	// RepeatedPages counts queries stopped because a page brought only
	// users already seen: a server that does not move on with the offset.
	RepeatedPages int `json:"repeated_pages,omitempty"`
	// OddRecords counts users with a value of an unexpected shape (named
	// in OddFields); they are in the report with the values as they came.
	OddRecords int      `json:"odd_records,omitempty"`
	OddFields  []string `json:"odd_fields,omitempty"`

	// Report counts the users written (after --role and --inactive-days);
	// Fetched counts every user fetched, before them: the whole account
	// unless an email or phone filter narrowed the request.
	Report  Audit `json:"report"`
	Fetched Audit `json:"fetched"`

	Elapsed     time.Duration `json:"-"`
	Interrupted bool          `json:"-"`
}

func newSummary(now time.Time, cfg Config) *Summary {
	return &Summary{
		GeneratedAt: now,
		Filters: Filters{Emails: len(cfg.Emails), Phones: len(cfg.Phones),
			Roles: slices.Clone(cfg.Roles), InactiveDays: cfg.InactiveDays},
		InactiveDays: cfg.AuditDays,
		Report:       newAudit(),
		Fetched:      newAudit(),
	}
}

// finish settles the fields derived from the counts.
func (s *Summary) finish() {
	s.SeenMatchesTotal = s.Seen+s.MatchedTwice == s.APITotal
	s.Missing = max(0, s.expected()-s.Seen-s.MatchedTwice-s.RecordErrors)
}

// expected is how many users the API's totals promise for sure: the
// smaller of the first and the last, since users deleted during the export
// lower the last one.
func (s *Summary) expected() int { return min(s.APITotal, s.APITotalAtEnd) }

// Tolerance is how many missing users a live account explains: users
// deleted or created under the offsets while the export ran. It is 2 % of
// the users expected, at most 50; more missing than that is a server that
// did not page as documented (a repeated or empty page), not a change.
func (s *Summary) Tolerance() int { return min(50, s.expected()*2/100) }

// Incomplete reports whether more users are missing than a live account
// explains: the report must not replace a good one unless asked to.
func (s *Summary) Incomplete() bool { return s.Missing > s.Tolerance() }

// odd counts a user with values of an unexpected shape.
func (s *Summary) odd(fields []string) {
	if len(fields) == 0 {
		return
	}
	s.OddRecords++
	for _, f := range fields {
		if !slices.Contains(s.OddFields, f) {
			s.OddFields = append(s.OddFields, f)
		}
	}
	slices.Sort(s.OddFields)
}

// setTotalAtEnd records the last total each query reported.
func (s *Summary) setTotalAtEnd(qs []*query) {
	s.APITotalAtEnd = 0
	for _, q := range qs {
		s.APITotalAtEnd += q.lastTotal
	}
}

// ClientFiltered reports whether --role or --inactive-days narrowed the
// report, so that Report and Fetched differ.
func (s *Summary) ClientFiltered() bool {
	return len(s.Filters.Roles) > 0 || s.Filters.InactiveDays > 0
}

// Notes are the summary's warnings, one sentence each.
func (s *Summary) Notes() []string {
	var notes []string
	if !s.SeenMatchesTotal || s.APITotalAtEnd != s.APITotal {
		n := fmt.Sprintf("%d users were seen but the API reported %d at the start", s.Seen, s.APITotal)
		if s.APITotalAtEnd != s.APITotal {
			n += fmt.Sprintf(" and %d at the end", s.APITotalAtEnd)
		}
		n += ": the account changed during the export, so a user may be missing; export again to be sure"
		notes = append(notes, n)
	}
	if s.DuplicatesDropped > 0 {
		notes = append(notes, fmt.Sprintf("%d user records came back twice as the account changed and were written once", s.DuplicatesDropped))
	}
	if s.RecordErrors > 0 {
		notes = append(notes, fmt.Sprintf("%d user records were marked as failed by the API and are missing from the report (see the log)", s.RecordErrors))
	}
	if s.Incomplete() {
		notes = append(notes, fmt.Sprintf("%d of the %d users the API counted did not come back, more than a live account explains (%d): the report is incomplete",
			s.Missing, s.expected(), s.Tolerance()))
	}
	if s.RepeatedPages > 0 {
		notes = append(notes, "the API answered a page with users already seen, so no further pages were asked for")
	}
	if s.OddRecords > 0 {
		notes = append(notes, fmt.Sprintf("%d user records had values of an unexpected shape (%s); they are in the report with the values as the API gave them",
			s.OddRecords, strings.Join(s.OddFields, ", ")))
	}
	if n := adminNote(s.Fetched); n != "" && !s.filteredByAPI() {
		notes = append(notes, n)
	}
	return notes
}

func (s *Summary) filteredByAPI() bool { return s.Filters.Emails > 0 || s.Filters.Phones > 0 }

// adminNote applies the team-management guide's role table to a whole
// account: one admin under 5 people, one or two up to 20. Above 20 the guide
// names no maximum, only "only essential personnel".
func adminNote(a Audit) string {
	most := 0
	switch {
	case a.Users == 0:
		return ""
	case a.Users < 5:
		most = 1
	case a.Users <= 20:
		most = 2
	default:
		return ""
	}
	if a.Admins <= most {
		return ""
	}
	return fmt.Sprintf("%d admins for %d users: the team-management guide suggests at most %d for a team this size (limit admin access to essential personnel)",
		a.Admins, a.Users, most)
}

// WriteJSON writes the summary as indented JSON.
func (s *Summary) WriteJSON(w io.Writer) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// WriteText writes the audit as a table: one column for the report, and a
// second for everything fetched when --role or --inactive-days narrowed
// the report. Notes are not included: see Notes.
func (s *Summary) WriteText(w io.Writer) error {
	type line struct {
		label string
		get   func(Audit) int
	}
	lines := []line{{"users", func(a Audit) int { return a.Users }}}
	for _, role := range s.roles() {
		label := "  " + role
		if role == exotel.RoleUser {
			label = "  user (agent)"
		}
		lines = append(lines, line{label, func(a Audit) int { return a.ByRole[role] }})
	}
	days := strconv.Itoa(s.InactiveDays)
	lines = append(lines,
		line{"never logged in", func(a Audit) int { return a.NeverLoggedIn }},
		line{"inactive " + days + "+ days or never logged in", func(a Audit) int { return a.InactiveOrNeverLoggedIn }},
		line{"  logged in, but not in " + days + " days", func(a Audit) int { return a.LoggedInButInactive }},
		line{"unverified devices", func(a Audit) int { return a.UnverifiedDevices }},
		line{"  users with one", func(a Audit) int { return a.UsersWithUnverifiedDevice }},
		line{"unverified emails", func(a Audit) int { return a.UnverifiedEmails }},
		line{"no email", func(a Audit) int { return a.NoEmail }},
		line{"no device", func(a Audit) int { return a.NoDevice }},
	)
	width := 0
	for _, l := range lines {
		width = max(width, len(l.label))
	}
	var b strings.Builder
	two := s.ClientFiltered()
	if two {
		fmt.Fprintf(&b, "%-*s  %8s  %8s\n", width, "", "report", "fetched")
	}
	for _, l := range lines {
		fmt.Fprintf(&b, "%-*s  %8d", width, l.label, l.get(s.Report))
		if two {
			fmt.Fprintf(&b, "  %8d", l.get(s.Fetched))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// roles lists the roles to show: the API's three, then any other the
// account had, by name.
func (s *Summary) roles() []string {
	out := []string{exotel.RoleAdmin, exotel.RoleSupervisor, exotel.RoleUser}
	var other []string
	for role := range s.Fetched.ByRole {
		if !slices.Contains(out, role) {
			other = append(other, role)
		}
	}
	slices.Sort(other)
	return append(out, other...)
}
