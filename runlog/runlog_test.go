package runlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
)

func TestRedactText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"email", `row 4: email "asha.k@acme.in" already exists`, `row 4: email "[email]" already exists`},
		{"malformed email", "ajay.verma@acme-support is not valid", "[email] is not valid"},
		{"E.164", "device +919876543210 already exists", "device [phone] already exists"},
		{"local with spaces", "phone 098765 43210 taken", "phone [phone] taken"},
		{"parenthesised code", "(+91) 98765 43210", "([phone]"},
		{"URL query", `Get "https://h/v2/accounts/A1/users?email=a%40b.com&devices.contact_uri=%2B919876543210%2C%2B919812345678": EOF`,
			`Get "https://h/v2/accounts/A1/users?email=[email]&devices.contact_uri=[phone]%2C[phone]": EOF`},
		{"date kept", "last login 2026-01-02", "last login 2026-01-02"},
		{"counts kept", "exporting 12000 users in 240 pages", "exporting 12000 users in 240 pages"},
		{"hex id kept", "user 5f3a91827364aa01 deleted", "user 5f3a91827364aa01 deleted"},
		{"uuid kept", "request 123e4567-e89b-12d3-a456-426614174000", "request 123e4567-e89b-12d3-a456-426614174000"},
		{"nanosecond timestamp kept", "at 1767312000000000000", "at 1767312000000000000"},
		{"ip and port kept", "dial tcp 127.0.0.1:45678: refused", "dial tcp 127.0.0.1:45678: refused"},
		{"nothing to do", "rate lowered", "rate lowered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := RedactText(tc.in); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func FuzzRedactText(f *testing.F) {
	for _, s := range []string{"a@b.c +919876543210", "%2B91 98765-43210", "(+91) 0", "2026-01-02"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := RedactText(s)
		if strings.Contains(out, "@") && emailRE.MatchString(out) {
			t.Errorf("an email survived: %q -> %q", s, out)
		}
		if RedactText(out) != out {
			t.Errorf("redacting twice changes %q", out)
		}
	})
}

// lines decodes JSON Lines.
func lines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("not JSON: %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

func TestJSONLinesCarryRunAndNoSecret(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, Options{Format: FormatJSON, Level: slog.LevelDebug, RunID: "r-1", Command: "export", Account: "acme"})
	tok := exotel.NewSecret("tok-very-secret")
	log.Info("connecting", "token", tok, "creds", exotel.Credentials{APIKey: "k", APIToken: tok, AccountSID: "AC1"})
	log.With("phase", "pages").Warn("lookup failed", "err", errors.New("email a@b.com: 409"))
	log.Debug("row", "email", "a@b.com", "phone", "+919876543210")
	log.WithGroup("row").Info("created", "email", "c@d.com", "n", 3)

	if strings.Contains(buf.String(), "tok-very-secret") {
		t.Fatalf("the token is in the log:\n%s", buf.String())
	}
	got := lines(t, buf.Bytes())
	if len(got) != 4 {
		t.Fatalf("%d lines, want 4:\n%s", len(got), buf.String())
	}
	for i, l := range got {
		if l[KeyRunID] != "r-1" || l[KeyCommand] != "export" || l[KeyAccount] != "acme" {
			t.Errorf("line %d lacks run_id/command/account: %v", i, l)
		}
	}
	if got[1]["err"] != "email [email]: 409" || got[1]["phase"] != "pages" {
		t.Errorf("warn line: %v", got[1])
	}
	if got[2]["email"] != "a@b.com" || got[2]["phone"] != "+919876543210" {
		t.Errorf("debug keeps people's details, for whoever asked for them: %v", got[2])
	}
	if row, _ := got[3]["row"].(map[string]any); row["email"] != "[email]" || row["n"] != float64(3) {
		t.Errorf("grouped info line: %v", got[3])
	}
}

func TestWithAttrsRedactedAboveDebugOnly(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, Options{Format: FormatText, Level: slog.LevelDebug, RunID: "r", Command: "offboard", Account: "AC1"})
	row := log.With("email", "x@y.com", "ids", []string{"+919876543210"})
	row.Debug("looking up")
	row.Info("deleted")
	out := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(out) != 2 {
		t.Fatalf("got %q", buf.String())
	}
	if !strings.Contains(out[0], "email=x@y.com") {
		t.Errorf("debug line: %s", out[0])
	}
	if strings.Contains(out[1], "x@y.com") || strings.Contains(out[1], "9876543210") || !strings.Contains(out[1], "email=[email]") {
		t.Errorf("info line: %s", out[1])
	}
	if !strings.Contains(out[1], "run_id=r command=offboard account=AC1") {
		t.Errorf("text line lacks the run's attributes: %s", out[1])
	}
}

func TestLevelFilters(t *testing.T) {
	var buf bytes.Buffer
	log := New(&buf, Options{Format: FormatJSON, Level: slog.LevelWarn})
	log.Info("quiet")
	log.Debug("quieter")
	if buf.Len() != 0 {
		t.Errorf("below the level: %q", buf.String())
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": FormatText, "text": FormatText, "JSON": FormatJSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Errorf("xml: %v", err)
	}
}

func TestNewRunID(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("IST", 19800))
	a, b := NewRunID(now), NewRunID(now)
	if !strings.HasPrefix(a, "20260101T213405Z-") || len(a) != len("20260101T213405Z-")+6 {
		t.Errorf("run id %q", a)
	}
	if a == b {
		t.Errorf("two runs in one second share the id %q", a)
	}
}
