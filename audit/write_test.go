package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/exporter"
)

// sampleResult has one of everything.
func sampleResult(t *testing.T) *Result {
	t.Helper()
	old := ccm(t, "old.csv", weekAgo,
		rec("u-001", "Asha", lastLogin("")),
		rec("u-002", "Ben"),
		rec("u-003", "Chen", lastLogin(daysAgo(93))),
		rec("u-009", "Gone"),
		rec("a-001", "Root", role("admin")))
	cur := ccm(t, "new.csv", now,
		rec("u-001", "Asha", lastLogin(daysAgo(1))),
		rec("u-002", "Ben", role("admin"), verified("false"), func(r *exporter.Record) { r.LastName = "=cmd|' /C calc'!A0" }),
		rec("u-003", "Chen", lastLogin(daysAgo(93))),
		rec("u-004", "Dev\x1b[31m", role("supervisor"), noDevice),
		rec("a-001", "Root", role("admin")))
	res, err := Run(old, cur, DefaultOptions(now))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestWriteCSV(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleResult(t), OutputCSV); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], CSVColumns()) {
		t.Fatalf("header %v", rows[0])
	}
	var got []string
	for _, r := range rows[1:] {
		got = append(got, strings.Join([]string{r[0], r[1], r[5], r[6], r[7]}, "|"))
	}
	want := []string{
		"added|u-004|||",
		"removed|u-009|||",
		"changed|u-002|last_name|Kumar|'=cmd|' /C calc'!A0",
		"changed|u-002|role|user|admin",
		"changed|u-002|device_verified|true|false",
		"role_escalation|u-002|role|user|admin",
		"role_escalation|u-004|role||supervisor",
		"device_became_unverified|u-002|device_verified|true|false",
		"newly_inactive|u-003|last_login|" + daysAgo(93) + "|" + daysAgo(93),
		"first_login|u-001|last_login||" + daysAgo(1),
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := rows[len(rows)-2][8]; got != "last login 93 days ago (2025-03-07)" {
		t.Errorf("detail %q", got)
	}
	// The phone stays a number, not '+91…, as in export.
	if rows[3][4] != "+919876500002" {
		t.Errorf("phone cell %q", rows[3][4])
	}
}

func TestWriteJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleResult(t), OutputJSON); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Report struct {
			Users int `json:"users"`
		} `json:"report"`
		Options Options `json:"options"`
		Stats   Stats   `json:"stats"`
		Diff    struct {
			Added       []UserRef `json:"added"`
			Transitions []Event   `json:"transitions"`
			Compared    []string  `json:"compared_columns"`
		} `json:"diff"`
		Findings []Finding `json:"findings"`
	}
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if back.Report.Users != 5 || !back.Options.Now.Equal(now) || back.Options.InactiveDays != 90 || back.Stats.Admins != 2 ||
		len(back.Diff.Added) != 1 || len(back.Diff.Transitions) != 5 || len(back.Diff.Compared) != 11 || len(back.Findings) != 3 {
		t.Errorf("round trip: %+v", back)
	}
	if !strings.Contains(buf.String(), `"rule": "role-escalation"`) {
		t.Errorf("rule names are not in the JSON:\n%s", buf.String())
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleResult(t), OutputText); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"old: old.csv (csv, ccm, 5 users, as of 2025-06-01 02:00 UTC)\n",
		"new: new.csv (csv, ccm, 5 users, as of 2025-06-08 02:00 UTC)\n",
		"compared: first_name, last_name, email, email_verified, role, device_contact_uri, device_name, device_type, device_verified, device_available, extra_devices\n",
		"\n1 added, 1 removed, 1 changed; 2 role escalations, 1 device became unverified, 1 newly inactive, 1 first login\n",
		"\nadded (1)\n  USER_ID  NAME",
		"  u-004    Dev\\x1b[31m Kumar  Dev\\x1b[31m@example.com  -      supervisor\n",
		"\nremoved (1)\n",
		"\nchanged (1)\n",
		"  u-002    Ben =cmd|' /C calc'!A0  last_name        Kumar → =cmd|' /C calc'!A0\n",
		"                                   role             user → admin\n",
		"  role_escalation           u-002    Ben =cmd|' /C calc'!A0  user → admin\n",
		"  role_escalation           u-004    Dev\\x1b[31m Kumar       added as supervisor\n",
		"  device_became_unverified  u-002    Ben =cmd|' /C calc'!A0  device +919876500002 is no longer verified\n",
		"  newly_inactive            u-003    Chen Kumar              last login 93 days ago (2025-03-07)\n",
		"  first_login               u-001    Asha Kumar              first login 2025-06-07\n",
		"findings: 3\n",
		"\nrole-escalation: 2 users became admin or supervisor since the earlier report\n",
		"\nno-device: 1 user has no device to take calls on\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "too-many-admins") || strings.Contains(out, "not checked") {
		t.Error("two admins are not too many, and every rule could be checked")
	}
	if strings.Contains(out, "\x1b") {
		t.Error("a control character reached the terminal")
	}

	buf.Reset()
	if err := WriteSummary(&buf, sampleResult(t)); err != nil {
		t.Fatal(err)
	}
	want := "diff old.csv → new.csv: 1 added, 1 removed, 1 changed; 2 role escalations, 1 device became unverified, 1 newly inactive, 1 first login\n" +
		"findings: 3\n" +
		"  role-escalation: 2 users became admin or supervisor since the earlier report: Ben =cmd|' /C calc'!A0, Dev\\x1b[31m Kumar\n"
	if got := buf.String(); !strings.Contains(got, want) {
		t.Errorf("summary:\n%s\nwant to contain:\n%s", got, want)
	}
}

func TestWriteTextNoDiff(t *testing.T) {
	res, err := Run(nil, ccm(t, "today.csv", now, rec("u-001", "A")), DefaultOptions(now))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, res); err != nil {
		t.Fatal(err)
	}
	want := "report: today.csv (csv, ccm, 1 user, as of 2025-06-08 02:00 UTC)\n\nfindings: none\n\nnot checked: role-escalation (no earlier report to compare with)\n"
	if buf.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", buf.String(), want)
	}
}

func TestParseOutputFormat(t *testing.T) {
	for in, want := range map[string]OutputFormat{"text": OutputText, "CSV": OutputCSV, " json": OutputJSON} {
		if got, err := ParseOutputFormat(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseOutputFormat("yaml"); err == nil || err.Error() != `format "yaml": use text, csv or json` {
		t.Errorf("err = %v", err)
	}
}
