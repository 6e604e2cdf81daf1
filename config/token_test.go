package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeToken(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestReadTokenFile(t *testing.T) {
	tests := []struct {
		name      string
		content   string
		mode      os.FileMode
		want      string
		wantWarn  string
		wantError string
	}{
		{name: "trailing newline trimmed", content: "tok123\n", mode: 0o600, want: "tok123"},
		{name: "CRLF trimmed", content: "tok123\r\n", mode: 0o400, want: "tok123"},
		{name: "no newline", content: "tok123", mode: 0o600, want: "tok123"},
		{name: "readable by others", content: "tok123\n", mode: 0o644, want: "tok123", wantWarn: "readable by every user"},
		{name: "own file readable by group", content: "tok123\n", mode: 0o640, want: "tok123", wantWarn: "readable by its group"},
		{name: "empty", content: "\n", mode: 0o600, wantError: "is empty"},
		{name: "two lines", content: "tok123\nmore\n", mode: 0o600, wantError: "more than one line"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeToken(t, tc.content, tc.mode)
			tok, warn, err := ReadTokenFile(path)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("got %v, want an error saying %q", err, tc.wantError)
				}
				if strings.Contains(err.Error(), "tok123") {
					t.Errorf("the error shows the file's content: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.Reveal() != tc.want {
				t.Errorf("token %q, want %q", tok.Reveal(), tc.want)
			}
			if got := strings.Join(warn, "; "); (tc.wantWarn == "") != (got == "") || !strings.Contains(got, tc.wantWarn) {
				t.Errorf("warnings %q, want %q", got, tc.wantWarn)
			}
			if s := fmt.Sprint(tok, warn); strings.Contains(s, "tok123") {
				t.Errorf("printing the token shows it: %s", s)
			}
		})
	}
}

func TestReadTokenFileRefusesOtherFiles(t *testing.T) {
	if _, _, err := ReadTokenFile(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
	big := writeToken(t, strings.Repeat("x", maxTokenFile+1), 0o600)
	if _, _, err := ReadTokenFile(big); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("a large file: %v", err)
	}
	if _, _, err := ReadTokenFile(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("a missing file was read")
	}
}

func TestCCMCredentials(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, sampleConfig)
	if err := os.MkdirAll(filepath.Join(dir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tokens", "acme"), []byte("acme-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokFile := writeToken(t, "file-token\n", 0o600)
	tests := []struct {
		name      string
		flags     Flags
		env       map[string]string
		wantToken string
		wantErr   string
	}{
		{name: "profile's relative token file", flags: Flags{Config: cfg, Profile: "acme"}, wantToken: "acme-token"},
		{name: "profile's token variable", flags: Flags{Config: cfg, Profile: "globex"}, env: map[string]string{"GLOBEX_TOKEN": "g-token"}, wantToken: "g-token"},
		{name: "EXOTEL_API_TOKEN_FILE beats the profile", flags: Flags{Config: cfg, Profile: "acme"}, env: map[string]string{EnvAPITokenFile: tokFile}, wantToken: "file-token"},
		{name: "environment only, as before", env: map[string]string{"HOME": dir, EnvAPIKey: "k", EnvAccountSID: "s", EnvAPIToken: "env-token"}, wantToken: "env-token"},
		{name: "profile's variable unset", flags: Flags{Config: cfg, Profile: "globex"}, wantErr: "GLOBEX_TOKEN is not set (named by profile globex in " + cfg + ")"},
		{name: "missing key, no profile", env: map[string]string{"HOME": dir, EnvAPIToken: "t", EnvAccountSID: "s"}, wantErr: "EXOTEL_API_KEY is not set"},
		{name: "missing token, no profile", env: map[string]string{"HOME": dir, EnvAPIKey: "k", EnvAccountSID: "s"}, wantErr: "EXOTEL_API_TOKEN is not set"},
		{name: "missing sid, no profile", env: map[string]string{"HOME": dir, EnvAPIKey: "k", EnvAPIToken: "t"}, wantErr: "EXOTEL_ACCOUNT_SID is not set"},
		{name: "missing token file", flags: Flags{Config: cfg, Profile: "acme"}, env: map[string]string{EnvAPITokenFile: filepath.Join(dir, "none")}, wantErr: "named by env EXOTEL_API_TOKEN_FILE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Resolve(Input{Flags: tc.flags, Defaults: StandardDefaults(), Getenv: envOf(tc.env)})
			if err != nil {
				t.Fatal(err)
			}
			creds, _, err := s.CCMCredentials()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if creds.APIToken.Reveal() != tc.wantToken {
				t.Errorf("token %q, want %q", creds.APIToken.Reveal(), tc.wantToken)
			}
		})
	}
}

func TestWebRTCCredentials(t *testing.T) {
	dir := t.TempDir()
	tok := writeToken(t, "w-token\n", 0o600)
	cfg := writeConfig(t, dir, "[profiles.soft]\ntarget = \"webrtc\"\ncustomer_id = \"c\"\napp_id = \"a\"\napi_token_file = \""+tok+"\"\n")
	s, err := Resolve(Input{Flags: Flags{Config: cfg, Profile: "soft"}, Defaults: StandardDefaults(), Getenv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := s.WebRTCCredentials()
	if err != nil || w.CustomerID != "c" || w.AppID != "a" || w.Token.Reveal() != "w-token" {
		t.Errorf("got %+v, %v", w, err)
	}
	if _, _, err := s.CCMCredentials(); err == nil {
		t.Error("a webrtc profile gave ccm credentials")
	}
	// From the environment, with the Kubernetes-style file variable.
	s, err = Resolve(Input{Flags: Flags{Target: "webrtc"}, Defaults: StandardDefaults(),
		Getenv: envOf(map[string]string{"HOME": dir, EnvCustomerID: "c2", EnvAppID: "a2", EnvWebRTCTokenFile: tok})})
	if err != nil {
		t.Fatal(err)
	}
	if w, _, err := s.WebRTCCredentials(); err != nil || w.Token.Reveal() != "w-token" || s.AccountKey() != "c2-a2" {
		t.Errorf("got %+v, %v", w, err)
	}
	s, _ = Resolve(Input{Flags: Flags{Target: "webrtc"}, Defaults: StandardDefaults(),
		Getenv: envOf(map[string]string{"HOME": dir, EnvCustomerID: "c2", EnvAppID: "a2"})})
	if _, _, err := s.WebRTCCredentials(); err == nil || !strings.Contains(err.Error(), "EXOTEL_WEBRTC_TOKEN is not set (nor EXOTEL_WEBRTC_TOKEN_FILE)") {
		t.Errorf("missing token: %v", err)
	}
}

func TestLinesRedactTheToken(t *testing.T) {
	dir := t.TempDir()
	tok := writeToken(t, "very-secret\n", 0o644)
	cfg := writeConfig(t, dir, "[profiles.acme]\naccount_sid = \"AC1\"\napi_key = \"k1\"\napi_token_file = \""+tok+"\"\n")
	s, err := Resolve(Input{Flags: Flags{Config: cfg, Profile: "acme", Rate: "1/s"}, Defaults: StandardDefaults(), Getenv: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	lines, warn := s.Lines()
	got := map[string]Line{}
	var all strings.Builder
	for _, l := range lines {
		got[l.Key] = l
		fmt.Fprintln(&all, l)
	}
	if strings.Contains(all.String(), "very-secret") {
		t.Fatalf("config show prints the token:\n%s", all.String())
	}
	checks := []Line{
		{"profile", "acme", "flag --profile"},
		{"account_sid", "AC1", "profile acme in " + cfg},
		{"api_token", "REDACTED (file " + tok + ")", "profile acme in " + cfg},
		{"rate", "1/s", "flag --rate"},
		{"workers", "4", "default"},
		{"base_url", "https://ccm-api.exotel.com", "region sg"},
	}
	for _, want := range checks {
		if got[want.Key] != want {
			t.Errorf("%s: got %+v, want %+v", want.Key, got[want.Key], want)
		}
	}
	if len(warn) != 1 || !strings.Contains(warn[0], "readable by every user") {
		t.Errorf("warnings %q", warn)
	}
}
