package main

import (
	"strings"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/webrtc"
)

// TestWebRTCColumnsLine: the columns line of every command that reads a
// webrtc roster names sip_enabled as read, and neither it, user_id nor the
// export's own columns as ignored.
func TestWebRTCColumnsLine(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{})
	dir := t.TempDir()
	export := writeFile(t, dir, "export.csv", strings.Join(webrtc.Columns(), ",")+"\n"+
		"agent_001,Asha Rao,+919876500001,false,active,true,false,2024-06-15T10:30:00Z,2024-06-15T10:30:00Z\n")
	hr := writeFile(t, dir, "hr.csv", "User ID,Name,Mobile,Enable SIP,Team\nagent_001,Asha Rao,9876500001,no,North\n")
	tests := []struct {
		name    string
		args    []string
		columns string // the columns line, whole
	}{
		{"validate an export", []string{"validate", export}, `columns: name ← "name", phone ← "phone", user_id ← "user_id", sip_enabled ← "sip_enabled"`},
		{"validate an HR file", []string{"validate", hr}, `columns: name ← "Name", phone ← "Mobile", user_id ← "User ID", sip_enabled ← "Enable SIP"; ignored: "Team"`},
		{"import dry run", []string{"import", export, "--dry-run", "--results", dir + "/dry.csv"}, `columns: name ← "name", phone ← "phone", user_id ← "user_id", sip_enabled ← "sip_enabled"`},
		{"plan", []string{"plan", hr, "--state-dir", dir + "/state"}, `columns: name ← "Name", phone ← "Mobile", user_id ← "User ID", sip_enabled ← "Enable SIP"; ignored: "Team"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := appCLI(t, srv)
			code := c.run(nil, append(tc.args, "--target", "webrtc")...)
			if code != ExitOK && code != ExitChangesPending {
				t.Fatalf("exit %d; stdout %s stderr %s", code, c.stdout.String(), c.stderr.String())
			}
			var got string
			for line := range strings.Lines(c.stdout.String()) {
				if strings.HasPrefix(line, "columns:") {
					got = strings.TrimSpace(line)
				}
			}
			if got != tc.columns {
				t.Errorf("columns line\n got %s\nwant %s", got, tc.columns)
			}
		})
	}
}
