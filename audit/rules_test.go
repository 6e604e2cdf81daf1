package audit

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exporter"
)

func TestRules(t *testing.T) {
	admins := func(n int) []exporter.Record {
		var out []exporter.Record
		for i := range n {
			out = append(out, rec("a-00"+string(rune('1'+i)), "Admin", role("admin")))
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		old       []exporter.Record // nil: no diff
		cur       []exporter.Record
		opts      func(*Options)
		rule      Rule
		wantUsers []string
		wantMsg   string
	}{
		{name: "three admins are allowed", cur: admins(3), rule: RuleTooManyAdmins},
		{name: "four admins are too many", cur: append(admins(4), rec("u-001", "Agent")), rule: RuleTooManyAdmins,
			wantUsers: []string{"a-001", "a-002", "a-003", "a-004"}, wantMsg: "4 admins, more than the 3 allowed"},
		{name: "--max-admins 1", cur: admins(2), opts: func(o *Options) { o.MaxAdmins = 1 }, rule: RuleTooManyAdmins,
			wantUsers: []string{"a-001", "a-002"}, wantMsg: "2 admins, more than the 1 allowed"},

		{name: "escalation", old: []exporter.Record{rec("u-001", "A"), rec("u-002", "B")},
			cur: []exporter.Record{rec("u-001", "A", role("supervisor")), rec("u-002", "B"), rec("u-003", "C", role("admin"))}, rule: RuleRoleEscalation,
			wantUsers: []string{"u-001", "u-003"}, wantMsg: "2 users became admin or supervisor since the earlier report"},
		{name: "no escalation", old: []exporter.Record{rec("u-001", "A", role("admin"))}, cur: []exporter.Record{rec("u-001", "A", role("user"))}, rule: RuleRoleEscalation},

		{name: "never logged in, created 31 days ago", cur: []exporter.Record{
			rec("u-001", "A", lastLogin(""), created(daysAgo(31))),
			rec("u-002", "B", lastLogin(""), created(daysAgo(29))),
			rec("u-003", "C", lastLogin(daysAgo(100)), created(daysAgo(200))),
			rec("u-004", "D", lastLogin(""), created("")),
			rec("u-005", "E", lastLogin(""), created(daysAgo(30))),
		}, rule: RuleNeverLoggedIn, wantUsers: []string{"u-001", "u-005"}, wantMsg: "2 users never logged in, though created 30 or more days ago"},
		{name: "--stale-after 0", cur: []exporter.Record{rec("u-002", "B", lastLogin(""), created(daysAgo(0)))},
			opts: func(o *Options) { o.StaleAfter = 0 }, rule: RuleNeverLoggedIn, wantUsers: []string{"u-002"}},

		{name: "unverified device", cur: []exporter.Record{rec("u-001", "A", verified("false")), rec("u-002", "B"), rec("u-003", "C", noDevice)},
			rule: RuleUnverifiedDevice, wantUsers: []string{"u-001"}, wantMsg: "1 user has an unverified device"},
		{name: "no device", cur: []exporter.Record{rec("u-001", "A", noDevice), rec("u-002", "B"), rec("u-003", "C", noDevice, func(r *exporter.Record) { r.ExtraDevices = "sip:c@x" })},
			rule: RuleNoDevice, wantUsers: []string{"u-001"}, wantMsg: "1 user has no device to take calls on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions(now)
			if tc.opts != nil {
				tc.opts(&o)
			}
			var old *Report
			if tc.old != nil {
				old = ccm(t, "old", weekAgo, tc.old...)
			}
			res, err := Run(old, ccm(t, "new", now, tc.cur...), o)
			if err != nil {
				t.Fatal(err)
			}
			f, found := res.Finding(tc.rule)
			if found != (tc.wantUsers != nil) {
				t.Fatalf("finding %v = %+v, want users %v", found, f, tc.wantUsers)
			}
			if got := ids(f.Users); found && !slices.Equal(got, tc.wantUsers) {
				t.Errorf("users %v, want %v", got, tc.wantUsers)
			}
			if !strings.Contains(f.Message, tc.wantMsg) {
				t.Errorf("message %q, want %q", f.Message, tc.wantMsg)
			}
			for _, other := range res.Findings {
				if len(other.Users) == 0 {
					t.Errorf("a finding without users: %+v", other)
				}
			}
		})
	}
}

func TestRulesNotChecked(t *testing.T) {
	webrtc := report(t, "app.csv", []byte("user_id,name,phone,sip_enabled,status\n"+
		"u1,A,+919876543210,true,active\nu2,B,,false,active\nu3,C,,true,inactive\n"), now)
	res, err := Run(nil, webrtc, DefaultOptions(now))
	if err != nil {
		t.Fatal(err)
	}
	var skipped []Rule
	for _, s := range res.NotChecked {
		skipped = append(skipped, s.Rule)
	}
	if want := []Rule{RuleTooManyAdmins, RuleRoleEscalation, RuleNeverLoggedIn, RuleUnverifiedDevice}; !slices.Equal(skipped, want) {
		t.Errorf("not checked %v, want %v", skipped, want)
	}
	// A WebRTC user with no phone and SIP off has nothing to take calls on.
	if f, ok := res.Finding(RuleNoDevice); !ok || !slices.Equal(ids(f.Users), []string{"u2"}) {
		t.Errorf("no-device %+v", f)
	}
	if res.Stats.ByRole != nil || !maps.Equal(res.Stats.ByStatus, map[string]int{"active": 2, "inactive": 1}) || res.Stats.LastLogin != nil || res.Stats.NoDevice != 1 {
		t.Errorf("stats %+v", res.Stats)
	}
}

func TestStats(t *testing.T) {
	cur := ccm(t, "new", now,
		rec("u-001", "A", lastLogin(daysAgo(0)), role("admin")),
		rec("u-002", "B", lastLogin(daysAgo(7))),
		rec("u-003", "C", lastLogin(daysAgo(8)), role("supervisor")),
		rec("u-004", "D", lastLogin(daysAgo(30))),
		rec("u-005", "E", lastLogin(daysAgo(31)), verified("false")),
		rec("u-006", "F", lastLogin(daysAgo(90))),
		rec("u-007", "G", lastLogin(daysAgo(91)), noDevice),
		rec("u-008", "H", lastLogin(daysAgo(180))),
		rec("u-009", "I", lastLogin(daysAgo(181)), role("Agent")),
		rec("u-010", "J", lastLogin("")),
		rec("u-011", "K", lastLogin("yesterday")),
		rec("u-012", "L", lastLogin(now.Add(time.Hour).Format(time.RFC3339))), // a clock ahead of ours
	)
	s := Summarize(cur, DefaultOptions(now))
	want := []Bucket{{Login0To7, 3}, {Login8To30, 2}, {Login31To90, 2}, {Login91To180, 2}, {LoginOver180, 1}, {LoginNever, 1}, {LoginUnknown, 1}}
	if !slices.Equal(s.LastLogin, want) {
		t.Errorf("histogram %v\nwant %v", s.LastLogin, want)
	}
	if !maps.Equal(s.ByRole, map[string]int{"admin": 1, "supervisor": 1, "user": 10}) || s.Admins != 1 {
		t.Errorf("by role %v admins %d", s.ByRole, s.Admins)
	}
	// Inactive: 90, 91, 180, 181 days and never; the unreadable date is not.
	if s.Users != 12 || s.Inactive != 5 || s.NeverLoggedIn != 1 || s.UnverifiedDevice != 1 || s.NoDevice != 1 {
		t.Errorf("stats %+v", s)
	}
	// Without an unreadable date the bucket is not shown.
	if s := Summarize(ccm(t, "x", now, rec("u-001", "A")), DefaultOptions(now)); len(s.LastLogin) != 6 {
		t.Errorf("buckets %v", s.LastLogin)
	}
}

func TestOptionsCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{name: "defaults", edit: func(*Options) {}},
		{name: "no time", edit: func(o *Options) { o.Now = time.Time{} }, want: "time is not set"},
		{name: "zero inactive days", edit: func(o *Options) { o.InactiveDays = 0 }, want: "inactive days 0"},
		{name: "negative admins", edit: func(o *Options) { o.MaxAdmins = -1 }, want: "max admins -1"},
		{name: "negative stale", edit: func(o *Options) { o.StaleAfter = -2 }, want: "stale after -2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions(now)
			tc.edit(&o)
			err := o.Check()
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestFailOn(t *testing.T) {
	findings := []Finding{
		{Rule: RuleTooManyAdmins, Users: []UserRef{{ID: "a"}}},
		{Rule: RuleNoDevice, Users: []UserRef{{ID: "b"}}},
	}
	for _, tc := range []struct {
		name    string
		values  []string
		want    []Rule
		wantErr string
	}{
		{name: "not given", values: nil, want: nil},
		{name: "any", values: []string{"any"}, want: []Rule{RuleTooManyAdmins, RuleNoDevice}},
		{name: "one rule", values: []string{"no-device"}, want: []Rule{RuleNoDevice}},
		{name: "a rule that found nothing", values: []string{"role-escalation"}, want: nil},
		{name: "comma list, spaces, case", values: []string{" Too-Many-Admins , role-escalation", "no-device"}, want: []Rule{RuleTooManyAdmins, RuleNoDevice}},
		{name: "unknown", values: []string{"admins"}, wantErr: `unknown rule "admins": use any, or one or more of too-many-admins, role-escalation, never-logged-in, unverified-device, no-device`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFailOn(tc.values)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []Rule
			for _, fd := range f.Tripped(findings) {
				got = append(got, fd.Rule)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("tripped %v, want %v", got, tc.want)
			}
			if f.Set() != (len(tc.values) > 0) {
				t.Errorf("Set() = %v", f.Set())
			}
		})
	}
	f, _ := ParseFailOn([]string{"unverified-device,no-device"})
	res := &Result{NotChecked: []Skipped{{Rule: RuleUnverifiedDevice, Reason: "no column"}, {Rule: RuleTooManyAdmins, Reason: "no role"}}}
	if got := f.Unchecked(res); len(got) != 1 || got[0].Rule != RuleUnverifiedDevice {
		t.Errorf("unchecked %v", got)
	}
}
