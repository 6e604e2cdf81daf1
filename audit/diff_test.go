package audit

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exporter"
)

func TestCompareChanges(t *testing.T) {
	type edit = func(*exporter.Record)
	for _, tc := range []struct {
		name       string
		edit       edit
		wantFields []FieldChange // nil: not changed
	}{
		{name: "nothing", edit: func(*exporter.Record) {}},
		{name: "first name", edit: func(r *exporter.Record) { r.FirstName = "Rahul" },
			wantFields: []FieldChange{{"first_name", "Asha", "Rahul"}}},
		{name: "last name", edit: func(r *exporter.Record) { r.LastName = "Verma" },
			wantFields: []FieldChange{{"last_name", "Kumar", "Verma"}}},
		{name: "email set", edit: func(r *exporter.Record) { r.Email, r.EmailVerified = "asha@new.example.com", "false" },
			wantFields: []FieldChange{{"email", "Asha@example.com", "asha@new.example.com"}, {"email_verified", "true", "false"}}},
		{name: "role", edit: func(r *exporter.Record) { r.Role = "supervisor" },
			wantFields: []FieldChange{{"role", "user", "supervisor"}}},
		{name: "phone", edit: func(r *exporter.Record) { r.DeviceContactURI = "+919999900001" },
			wantFields: []FieldChange{{"device_contact_uri", "+919876500001", "+919999900001"}}},
		{name: "device verified", edit: func(r *exporter.Record) { r.DeviceVerified = "false" },
			wantFields: []FieldChange{{"device_verified", "true", "false"}}},
		{name: "device available", edit: func(r *exporter.Record) { r.DeviceAvailable = "false" },
			wantFields: []FieldChange{{"device_available", "true", "false"}}},
		{name: "extra device", edit: func(r *exporter.Record) { r.ExtraDevices = "sip:asha@x.sip.exotel.com" },
			wantFields: []FieldChange{{"extra_devices", "", "sip:asha@x.sip.exotel.com"}}},
		{name: "a formula-looking name, through the CSV quote", edit: func(r *exporter.Record) { r.LastName = "=HYPERLINK()" },
			wantFields: []FieldChange{{"last_name", "Kumar", "=HYPERLINK()"}}},
		// Volatile columns change without anyone changing the user.
		{name: "a login, a call, bookkeeping", edit: func(r *exporter.Record) {
			r.LastLogin, r.ActiveCall, r.DateUpdated, r.DeviceStatus, r.DeviceID = daysAgo(0), "CA123", daysAgo(0), "busy", "999"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := rec("u-001", "Asha")
			before.Email = "Asha@example.com"
			after := before
			tc.edit(&after)
			for _, pair := range [][2]exporter.Format{{exporter.FormatCSV, exporter.FormatCSV}, {exporter.FormatCSV, exporter.FormatJSON}, {exporter.FormatJSON, exporter.FormatCSV}} {
				old := report(t, "old", export(t, pair[0], before), weekAgo)
				cur := report(t, "new", export(t, pair[1], after), now)
				d, err := Compare(old, cur, now, 90)
				if err != nil {
					t.Fatal(err)
				}
				if len(d.Added)+len(d.Removed) != 0 {
					t.Fatalf("%v: added %v removed %v", pair, d.Added, d.Removed)
				}
				var got []FieldChange
				if len(d.Changed) == 1 {
					got = d.Changed[0].Fields
					if d.Changed[0].User.ID != "u-001" {
						t.Errorf("changed user %+v", d.Changed[0].User)
					}
				}
				if !slices.Equal(got, tc.wantFields) {
					t.Errorf("%v: changed %+v, want %+v", pair, got, tc.wantFields)
				}
			}
		})
	}
}

func TestCompareAddedRemoved(t *testing.T) {
	old := ccm(t, "old", weekAgo, rec("u-001", "A"), rec("u-002", "B"), rec("u-003", "C"))
	cur := ccm(t, "new", now, rec("u-004", "D"), rec("u-002", "B"), rec("u-005", "E"))
	d, err := Compare(old, cur, now, 90)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(d.Added); !slices.Equal(got, []string{"u-004", "u-005"}) {
		t.Errorf("added %v", got)
	}
	if got := ids(d.Removed); !slices.Equal(got, []string{"u-001", "u-003"}) {
		t.Errorf("removed %v", got)
	}
	if len(d.Changed) != 0 || len(d.Events) != 0 {
		t.Errorf("changed %v events %v", d.Changed, d.Events)
	}
	if d.Added[0].Name != "D Kumar" || d.Added[0].Email != "D@example.com" || d.Added[0].Phone != "+919876500004" {
		t.Errorf("added ref %+v", d.Added[0])
	}
	if got := d.CountsLine(); got != "2 added, 2 removed, 0 changed" {
		t.Errorf("counts %q", got)
	}
}

func TestCompareTransitions(t *testing.T) {
	for _, tc := range []struct {
		name           string
		old, cur       []exporter.Record // nil old: the user is added
		oldTimeUnknown bool
		want           Transition
		wantOld        string
		wantNew        string
		wantCount      int
	}{
		{name: "user to admin", old: []exporter.Record{rec("u-001", "A")}, cur: []exporter.Record{rec("u-001", "A", role("admin"))},
			want: RoleEscalation, wantOld: "user", wantNew: "admin", wantCount: 1},
		{name: "user to supervisor", old: []exporter.Record{rec("u-001", "A")}, cur: []exporter.Record{rec("u-001", "A", role("supervisor"))},
			want: RoleEscalation, wantOld: "user", wantNew: "supervisor", wantCount: 1},
		{name: "supervisor to admin", old: []exporter.Record{rec("u-001", "A", role("supervisor"))}, cur: []exporter.Record{rec("u-001", "A", role("admin"))},
			want: RoleEscalation, wantOld: "supervisor", wantNew: "admin", wantCount: 1},
		{name: "agent (as the guides say) to supervisor", old: []exporter.Record{rec("u-001", "A", role("Agent"))}, cur: []exporter.Record{rec("u-001", "A", role("supervisor"))},
			want: RoleEscalation, wantOld: "Agent", wantNew: "supervisor", wantCount: 1},
		{name: "added as admin", cur: []exporter.Record{rec("u-001", "A", role("admin"))},
			want: RoleEscalation, wantOld: "", wantNew: "admin", wantCount: 1},
		{name: "added as agent", cur: []exporter.Record{rec("u-001", "A")}, want: RoleEscalation, wantCount: 0},
		{name: "admin to supervisor is no escalation", old: []exporter.Record{rec("u-001", "A", role("admin"))}, cur: []exporter.Record{rec("u-001", "A", role("supervisor"))},
			want: RoleEscalation, wantCount: 0},
		{name: "admin stays admin", old: []exporter.Record{rec("u-001", "A", role("admin"))}, cur: []exporter.Record{rec("u-001", "A", role("ADMIN"))},
			want: RoleEscalation, wantCount: 0},

		{name: "device became unverified", old: []exporter.Record{rec("u-001", "A")}, cur: []exporter.Record{rec("u-001", "A", verified("false"))},
			want: DeviceUnverified, wantOld: "true", wantNew: "false", wantCount: 1},
		{name: "device was never verified", old: []exporter.Record{rec("u-001", "A", verified("false"))}, cur: []exporter.Record{rec("u-001", "A", verified("false"))},
			want: DeviceUnverified, wantCount: 0},
		{name: "device added unverified", old: []exporter.Record{rec("u-001", "A", noDevice)}, cur: []exporter.Record{rec("u-001", "A", verified("false"))},
			want: DeviceUnverified, wantCount: 0},

		{name: "crossed 90 days this week",
			old: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(93)))}, cur: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(93)))},
			want: NewlyInactive, wantOld: daysAgo(93), wantNew: daysAgo(93), wantCount: 1},
		{name: "exactly 90 days counts as inactive",
			old: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(90)))}, cur: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(90)))},
			want: NewlyInactive, wantCount: 1},
		{name: "already inactive a week ago",
			old: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(100)))}, cur: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(100)))},
			want: NewlyInactive, wantCount: 0},
		{name: "still active",
			old: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(80)))}, cur: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(80)))},
			want: NewlyInactive, wantCount: 0},
		{name: "old report's time unknown", oldTimeUnknown: true,
			old: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(93)))}, cur: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(93)))},
			want: NewlyInactive, wantCount: 0},
		{name: "never logged in is not newly inactive",
			old: []exporter.Record{rec("u-001", "A", lastLogin(""))}, cur: []exporter.Record{rec("u-001", "A", lastLogin(""))},
			want: NewlyInactive, wantCount: 0},

		{name: "first login", old: []exporter.Record{rec("u-001", "A", lastLogin(""))}, cur: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(2)))},
			want: FirstLogin, wantOld: "", wantNew: daysAgo(2), wantCount: 1},
		{name: "a later login is no first login", old: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(9)))}, cur: []exporter.Record{rec("u-001", "A", lastLogin(daysAgo(2)))},
			want: FirstLogin, wantCount: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := ccm(t, "old", weekAgo, tc.old...)
			if tc.oldTimeUnknown {
				old.Taken = time.Time{}
			}
			cur := ccm(t, "new", now, tc.cur...)
			d, err := Compare(old, cur, now, 90)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Count(tc.want); got != tc.wantCount {
				t.Fatalf("%s: %d, want %d (events %+v)", tc.want, got, tc.wantCount, d.Events)
			}
			for _, e := range d.Events {
				if e.Kind != tc.want {
					t.Errorf("unexpected event %+v", e)
				}
				if e.User.ID != "u-001" || (tc.wantNew != "" && (e.Old != tc.wantOld || e.New != tc.wantNew)) {
					t.Errorf("event %+v, want %q → %q", e, tc.wantOld, tc.wantNew)
				}
			}
		})
	}
}

func TestCompareEventOrder(t *testing.T) {
	old := ccm(t, "old", weekAgo,
		rec("u-001", "A", lastLogin("")), rec("u-002", "B"), rec("u-003", "C", lastLogin(daysAgo(93))))
	cur := ccm(t, "new", now,
		rec("u-003", "C", lastLogin(daysAgo(93))), rec("u-002", "B", role("admin"), verified("false")),
		rec("u-001", "A", lastLogin(daysAgo(1))), rec("u-004", "D", role("supervisor")))
	d, err := Compare(old, cur, now, 90)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range d.Events {
		got = append(got, string(e.Kind)+":"+e.User.ID)
	}
	want := []string{"role_escalation:u-002", "role_escalation:u-004", "device_became_unverified:u-002", "newly_inactive:u-003", "first_login:u-001"}
	if !slices.Equal(got, want) {
		t.Errorf("events %v\nwant %v", got, want)
	}
	if line := d.CountsLine(); line != "1 added, 0 removed, 1 changed; 2 role escalations, 1 device became unverified, 1 newly inactive, 1 first login" {
		t.Errorf("counts line %q", line)
	}
}

// An older or hand-edited report is compared on the columns both have.
func TestCompareMismatchedColumns(t *testing.T) {
	old := report(t, "old.csv", []byte("user_id,first_name,last_name,email,role,device_name,notes\n"+
		"u-001,Asha,Kumar,asha@example.com,user,Mobile,VIP\n"), weekAgo)
	cur := report(t, "new.jsonl", export(t, exporter.FormatJSON, rec("u-001", "Asha", func(r *exporter.Record) {
		r.Email, r.Role, r.DeviceName = "asha@example.com", "admin", "Desk"
	})), now)
	d, err := Compare(old, cur, now, 90)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"first_name", "last_name", "email", "role", "device_name"}; !slices.Equal(d.Compared, want) {
		t.Errorf("compared %v, want %v", d.Compared, want)
	}
	if !slices.Equal(d.OnlyOld, []string{"notes"}) {
		t.Errorf("only old %v", d.OnlyOld)
	}
	if want := []string{"email_verified", "device_contact_uri", "device_id", "device_type", "device_verified", "device_available",
		"device_status", "extra_devices", "last_login", "active_call", "date_created", "date_updated"}; !slices.Equal(d.OnlyNew, want) {
		t.Errorf("only new %v", d.OnlyNew)
	}
	if len(d.Changed) != 1 || len(d.Changed[0].Fields) != 2 {
		t.Fatalf("changed %+v", d.Changed)
	}
	if d.Count(RoleEscalation) != 1 {
		t.Errorf("role escalation not seen: %+v", d.Events)
	}
	nt := strings.Join(d.NotTracked, "; ")
	if !strings.Contains(nt, "device_became_unverified: a report has no device_verified column") ||
		!strings.Contains(nt, "newly_inactive, first_login: a report has no last_login column") {
		t.Errorf("not tracked: %v", d.NotTracked)
	}
}

func TestCompareWebRTC(t *testing.T) {
	header := "user_id,name,phone,sip_enabled,status,phone_device,sip_device,created_at,updated_at\n"
	old := report(t, "old", []byte(header+
		"agent_001,John Agent,+919876543210,true,active,true,true,2024-06-15T10:30:00Z,2024-06-15T10:30:00Z\n"+
		"agent_002,Jane Support,+919876543211,true,active,true,false,2024-06-15T10:30:00Z,2024-06-15T10:30:00Z\n"), weekAgo)
	cur := report(t, "new", []byte(
		`{"user_id":"agent_001","name":"John Agent","phone":"+919876543219","sip_enabled":false,"status":"inactive","phone_device":true,"sip_device":false,"created_at":"2024-06-15T10:30:00Z","updated_at":"2025-06-01T00:00:00Z"}`+"\n"+
			`{"user_id":"agent_003","name":"New Agent","phone":"","sip_enabled":true,"status":"active","phone_device":false,"sip_device":true}`+"\n"), now)
	d, err := Compare(old, cur, now, 90)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids(d.Added), []string{"agent_003"}) || !slices.Equal(ids(d.Removed), []string{"agent_002"}) {
		t.Errorf("added %v removed %v", ids(d.Added), ids(d.Removed))
	}
	want := []FieldChange{{"phone", "+919876543210", "+919876543219"}, {"sip_enabled", "true", "false"},
		{"status", "active", "inactive"}, {"sip_device", "true", "false"}}
	if len(d.Changed) != 1 || !slices.Equal(d.Changed[0].Fields, want) {
		t.Errorf("changed %+v", d.Changed)
	}
	if len(d.NotTracked) != 0 || len(d.Events) != 0 {
		t.Errorf("webrtc has no role or login: not tracked %v events %v", d.NotTracked, d.Events)
	}
}

func TestCompareRefusesOtherTarget(t *testing.T) {
	old := ccm(t, "ccm.csv", weekAgo, rec("u-001", "A"))
	cur := report(t, "webrtc.csv", []byte("user_id,name,phone,sip_enabled\nu-001,A,,true\n"), now)
	_, err := Compare(old, cur, now, 90)
	if err == nil || !strings.Contains(err.Error(), "ccm.csv is a ccm report and webrtc.csv a webrtc report") {
		t.Errorf("err = %v", err)
	}
}
