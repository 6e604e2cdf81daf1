package metrics

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/exoroster/exoroster/audit"
	"github.com/exoroster/exoroster/metrics/metricstest"
)

var finished = time.Date(2025, 6, 8, 2, 0, 0, 0, time.UTC)

func intp(n int) *int { return &n }

func TestWriteImportRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exoroster.prom")
	err := Write(path, Run{
		Command:   "import",
		Rows:      map[string]int{"created": 40, "exists": 3, "invalid": 5, "failed": 2},
		Requests:  map[int]int{201: 40, 200: 3, 429: 4, 500: 1, 0: 2},
		Throttled: 4,
		Held:      1500 * time.Millisecond,
		Duration:  83 * time.Second,
		Success:   true,
		Finished:  finished,
	})
	if err != nil {
		t.Fatal(err)
	}
	mfs := metricstest.Parse(t, path)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"exoroster_rows_total", []string{"command", "import", "status", "created"}, 40},
		{"exoroster_rows_total", []string{"command", "import", "status", "invalid"}, 5},
		{"exoroster_requests_total", []string{"command", "import", "code", "201"}, 40},
		{"exoroster_requests_total", []string{"command", "import", "code", "429"}, 4},
		{"exoroster_requests_total", []string{"command", "import", "code", "none"}, 2},
		{"exoroster_throttled_requests_total", []string{"command", "import"}, 4},
		{"exoroster_limiter_held_seconds_total", []string{"command", "import"}, 1.5},
		{"exoroster_run_duration_seconds", []string{"command", "import"}, 83},
		{"exoroster_last_run_success", []string{"command", "import"}, 1},
		{"exoroster_last_run_timestamp_seconds", []string{"command", "import"}, float64(finished.Unix())},
		{"exoroster_last_success_timestamp_seconds", []string{"command", "import"}, float64(finished.Unix())},
	} {
		t.Run(tc.name+strings.Join(tc.labels, ","), func(t *testing.T) {
			got, ok := metricstest.Value(t, mfs, tc.name, tc.labels...)
			if !ok || got != tc.want {
				t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
			}
		})
	}
	for name, mf := range mfs {
		if mf.GetHelp() == "" {
			t.Errorf("%s has no help", name)
		}
		wantCounter := strings.HasSuffix(name, "_total")
		if (mf.GetType() == dto.MetricType_COUNTER) != wantCounter {
			t.Errorf("%s is a %v", name, mf.GetType())
		}
	}
	if _, ok := mfs["exoroster_users"]; ok {
		t.Error("an import wrote account counts")
	}
	// Nothing but the file is left in the directory.
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("directory holds %d entries", len(entries))
	}
}

func TestWriteExportAudit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exoroster.prom")
	err := Write(path, Run{
		Command: "export", Rows: map[string]int{"exported": 120}, Requests: map[int]int{200: 3},
		Duration: 4 * time.Second, Success: true, Finished: finished,
		Audit: &Audit{
			Users: 120, ByRole: map[string]int{"admin": 4, "supervisor": 10, "user": 106},
			Inactive: intp(17), UnverifiedDevice: intp(3), NoDevice: intp(0),
			Findings: map[string]int{"too-many-admins": 4, "no-device": 0},
			Changes:  map[string]int{"added": 2, "role_escalation": 1},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mfs := metricstest.Parse(t, path)
	for _, tc := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"exoroster_users", nil, 120},
		{"exoroster_users_by_role", []string{"role", "admin"}, 4},
		{"exoroster_users_by_role", []string{"role", "user"}, 106},
		{"exoroster_inactive_users", nil, 17},
		{"exoroster_unverified_device_users", nil, 3},
		{"exoroster_no_device_users", nil, 0},
		{"exoroster_audit_findings", []string{"rule", "too-many-admins"}, 4},
		{"exoroster_audit_findings", []string{"rule", "no-device"}, 0},
		{"exoroster_diff_users", []string{"change", "added"}, 2},
		{"exoroster_diff_users", []string{"change", "role_escalation"}, 1},
		{"exoroster_rows_total", []string{"status", "exported"}, 120},
	} {
		labels := append([]string{"command", "export"}, tc.labels...)
		if got, ok := metricstest.Value(t, mfs, tc.name, labels...); !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
}

// A WebRTC report has no roles or logins: those series are left out, not 0.
func TestWriteOmitsUnknownCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.prom")
	if err := Write(path, Run{Command: "export", Success: true, Finished: finished,
		Audit: &Audit{Users: 3, NoDevice: intp(1), Findings: map[string]int{"no-device": 1}}}); err != nil {
		t.Fatal(err)
	}
	mfs := metricstest.Parse(t, path)
	for _, name := range []string{"exoroster_users_by_role", "exoroster_inactive_users", "exoroster_unverified_device_users", "exoroster_diff_users"} {
		if _, ok := mfs[name]; ok {
			t.Errorf("%s written for a count the report cannot give", name)
		}
	}
	if v, ok := metricstest.Value(t, mfs, "exoroster_no_device_users", "command", "export"); !ok || v != 1 {
		t.Errorf("no device %v %v", v, ok)
	}
}

// Commands can share one file; a failed run keeps the last success time.
func TestWriteKeepsOtherCommandsAndLastSuccess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "exoroster.prom")
	earlier := finished.Add(-24 * time.Hour)
	steps := []Run{
		{Command: "export", Success: true, Finished: earlier, Audit: &Audit{Users: 10}, Rows: map[string]int{"exported": 10}},
		{Command: "import", Success: true, Finished: earlier, Rows: map[string]int{"created": 5}},
		{Command: "export", Success: false, Finished: finished, Rows: map[string]int{"exported": 2}},
	}
	for _, r := range steps {
		if err := Write(path, r); err != nil {
			t.Fatal(err)
		}
	}
	mfs := metricstest.Parse(t, path)
	check := func(name string, want float64, labels ...string) {
		t.Helper()
		if got, ok := metricstest.Value(t, mfs, name, labels...); !ok || got != want {
			t.Errorf("%s%v = %v (found %v), want %v", name, labels, got, ok, want)
		}
	}
	check("exoroster_last_run_success", 0, "command", "export")
	check("exoroster_last_run_timestamp_seconds", float64(finished.Unix()), "command", "export")
	check("exoroster_last_success_timestamp_seconds", float64(earlier.Unix()), "command", "export")
	check("exoroster_rows_total", 2, "command", "export", "status", "exported")
	check("exoroster_rows_total", 5, "command", "import", "status", "created")
	check("exoroster_last_run_success", 1, "command", "import")
	// The failed export has no account counts of its own: the old ones
	// are not passed off as fresh.
	if _, ok := mfs["exoroster_users"]; ok {
		t.Error("the failed export kept the previous users count")
	}
	// The next success moves the time on.
	if err := Write(path, Run{Command: "export", Success: true, Finished: finished.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	mfs = metricstest.Parse(t, path)
	check("exoroster_last_success_timestamp_seconds", float64(finished.Add(time.Hour).Unix()), "command", "export")
}

func TestWriteReplacesForeignFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, content string }{
		{name: "not prometheus", content: "this is not { prometheus text\n"},
		{name: "other labels", content: "# TYPE exoroster_users gauge\nexoroster_users{account=\"x\"} 4\nexoroster_users{command=\"diff\"} 7\nexoroster_users{command=\"diff\"} 8\n"},
		{name: "wrong type", content: "# TYPE exoroster_rows_total gauge\nexoroster_rows_total{command=\"import\",status=\"created\"} 4\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".prom")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := Write(path, Run{Command: "export", Success: true, Finished: finished}); err != nil {
				t.Fatal(err)
			}
			mfs := metricstest.Parse(t, path)
			if _, ok := metricstest.Value(t, mfs, "exoroster_last_run_success", "command", "export"); !ok {
				t.Error("this run is missing")
			}
			if mf := mfs["exoroster_users"]; mf != nil && len(mf.GetMetric()) != 1 {
				t.Errorf("kept %d users series", len(mf.GetMetric()))
			}
			if _, ok := metricstest.Value(t, mfs, "exoroster_rows_total", "command", "import", "status", "created"); ok {
				t.Error("a series of the wrong type was kept")
			}
			st, err := os.Stat(path)
			if err != nil || st.Mode().Perm() != 0o644 {
				t.Errorf("mode %v %v: the collector must be able to read it", st.Mode(), err)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	if err := Write(filepath.Join(t.TempDir(), "m.prom"), Run{}); err == nil {
		t.Error("a run without a command was written")
	}
	notDir := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := Write(filepath.Join(notDir, "m.prom"), Run{Command: "x"})
	if err == nil || !strings.HasPrefix(err.Error(), "cannot write metrics to ") {
		t.Errorf("err = %v", err)
	}
}

// A textfile folder on a fresh volume does not exist before the first run.
func TestWriteMakesTheFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics", "textfile", "m.prom")
	if err := Write(path, Run{Command: "export", Success: true, Finished: finished}); err != nil {
		t.Fatal(err)
	}
	metricstest.Parse(t, path)
}

func TestAuditOf(t *testing.T) {
	now := finished
	day := func(n int) string { return now.AddDate(0, 0, -n).Format(time.RFC3339) }
	header := "user_id,first_name,last_name,email,role,device_contact_uri,device_verified,last_login,date_created\n"
	old, err := audit.Read(strings.NewReader(header+"u1,A,B,a@x.com,user,+919876543210,true,"+day(1)+","+day(400)+"\n"), "old")
	if err != nil {
		t.Fatal(err)
	}
	cur, err := audit.Read(strings.NewReader(header+
		"u1,A,B,a@x.com,admin,+919876543210,false,"+day(1)+","+day(400)+"\n"+
		"u2,C,D,c@x.com,user,,,,"+day(60)+"\n"), "new")
	if err != nil {
		t.Fatal(err)
	}
	old.Taken = now.AddDate(0, 0, -7)
	res, err := audit.Run(old, cur, audit.DefaultOptions(now))
	if err != nil {
		t.Fatal(err)
	}
	a := AuditOf(res)
	if a.Users != 2 || a.ByRole["admin"] != 1 || *a.Inactive != 1 || *a.UnverifiedDevice != 1 || *a.NoDevice != 1 {
		t.Errorf("counts %+v", a)
	}
	rules := make([]string, 0, len(a.Findings))
	for r := range a.Findings {
		rules = append(rules, r)
	}
	slices.Sort(rules)
	if want := []string{"never-logged-in", "no-device", "role-escalation", "too-many-admins", "unverified-device"}; !slices.Equal(rules, want) {
		t.Errorf("rules %v", rules)
	}
	if a.Findings["role-escalation"] != 1 || a.Findings["too-many-admins"] != 0 || a.Findings["never-logged-in"] != 1 {
		t.Errorf("findings %v", a.Findings)
	}
	if a.Changes["added"] != 1 || a.Changes["changed"] != 1 || a.Changes["role_escalation"] != 1 || a.Changes["first_login"] != 0 {
		t.Errorf("changes %v", a.Changes)
	}
}
