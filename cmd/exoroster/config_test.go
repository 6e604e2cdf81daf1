package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// cfgRun runs the real command with env as the whole environment.
func cfgRun(t *testing.T, env map[string]string, args ...string) (ExitCode, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, Env{
		Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string { return env[k] },
	})
	return code, out.String(), errb.String()
}

// cfgFixture writes a config file with two accounts, each token in its own
// file, and returns the directory and the config's path.
func cfgFixture(t *testing.T) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	for name, tok := range map[string]string{"acme.token": "acme-secret-token\n", "globex.token": "globex-secret-token\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(tok), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg = writeFile(t, dir, "config.toml", `profile_index = ["acme", "globex"]

[profiles.acme]
account_sid = "acme1"
api_key = "key-acme"
api_token_file = "acme.token"
region = "mumbai"
rate = "40/min"

[profiles.globex]
account_sid = "globex1"
api_key = "key-globex"
api_token_file = "globex.token"
workers = 2

[profiles.soft]
target = "webrtc"
customer_id = "cust9"
app_id = "app7"
api_token_env = "SOFT_TOKEN"
`)
	return dir, cfg
}

func TestConfigShowGolden(t *testing.T) {
	dir, cfg := cfgFixture(t)
	env := map[string]string{"HOME": dir, "EXOROSTER_CONFIG": cfg, "EXOTEL_API_KEY": "key-from-env"}
	code, out, errb := cfgRun(t, env, "config", "show", "--profile", "acme", "--workers", "8")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if strings.Contains(out+errb, "secret-token") {
		t.Fatalf("config show printed a token:\n%s%s", out, errb)
	}
	// The temporary directory's length moves the columns: compare the
	// cells, not the padding.
	cells := regexp.MustCompile(` {2,}`).ReplaceAll(normalize([]byte(out), dir), []byte("  "))
	golden(t, "config_show.golden", cells)
}

func TestConfigShowWebRTCAndIndex(t *testing.T) {
	dir, cfg := cfgFixture(t)
	env := map[string]string{"HOME": dir, "SOFT_TOKEN": "soft-secret-token"}
	code, out, errb := cfgRun(t, env, "config", "show", "--config", cfg, "--profile", "soft")
	if code != ExitOK || strings.Contains(out, "soft-secret-token") {
		t.Fatalf("exit %d:\n%s%s", code, out, errb)
	}
	for _, want := range []string{"customer_id     cust9", "REDACTED (env SOFT_TOKEN)", "target          webrtc"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, errb = cfgRun(t, env, "config", "show", "--config", cfg, "--profile-index", "1")
	if code != ExitOK || !strings.Contains(out, "globex  ") || !strings.Contains(out, "flag --profile-index=1") {
		t.Errorf("--profile-index 1: exit %d\n%s%s", code, out, errb)
	}
}

func TestConfigShowErrors(t *testing.T) {
	dir, cfg := cfgFixture(t)
	literal := writeFile(t, dir, "literal.toml", "[profiles.x]\naccount_sid = \"s\"\napi_token = \"literal-secret-token\"\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code ExitCode
		want string
	}{
		{"unknown profile", nil, []string{"--config", cfg, "--profile", "nope"}, ExitAborted, "profile nope (from flag --profile) is not in"},
		{"literal token refused, not echoed", nil, []string{"--config", literal, "--profile", "x"}, ExitAborted, "api_token holds a token itself"},
		{"profile and index", nil, []string{"--config", cfg, "--profile", "acme", "--profile-index", "0"}, ExitUsage, "not both"},
		{"token variable and file", map[string]string{"EXOTEL_API_TOKEN": "a", "EXOTEL_API_TOKEN_FILE": "/b"}, []string{"--config", cfg}, ExitAborted, "both set"},
		{"bad flag", nil, []string{"--rate", "fast"}, ExitUsage, ""},
		// The table is printed, and the exit says a run would not start.
		{"token file unreadable", map[string]string{"EXOTEL_API_TOKEN_FILE": filepath.Join(dir, "missing.token")}, []string{"--config", cfg, "--profile", "acme"},
			ExitAborted, "a run with these settings would stop: api_token is unreadable"},
		{"token variable unset", nil, []string{"--config", cfg, "--profile", "soft"}, ExitAborted, "api_token is unreadable: SOFT_TOKEN is not set"},
		{"no account", nil, nil, ExitAborted, "account_sid is not set; api_key is not set; api_token is not set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"HOME": dir}
			for k, v := range tc.env {
				env[k] = v
			}
			code, out, errb := cfgRun(t, env, append([]string{"config", "show"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errb, tc.want) {
				t.Errorf("exit %d, want %d; stderr %q, want %q", code, tc.code, errb, tc.want)
			}
			if strings.Contains(out+errb, "secret-token") {
				t.Errorf("a token was printed: %s%s", out, errb)
			}
		})
	}
}

func TestConfigShowWarnsAboutReadableTokenFile(t *testing.T) {
	dir, cfg := cfgFixture(t)
	if err := os.Chmod(filepath.Join(dir, "acme.token"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errb := cfgRun(t, map[string]string{"HOME": dir}, "config", "show", "--config", cfg, "--profile", "acme")
	if code != ExitOK || !strings.Contains(errb, "warning: token file "+filepath.Join(dir, "acme.token")+" is readable by every user") {
		t.Errorf("exit %d, stderr %q", code, errb)
	}
}

func TestConfigProfiles(t *testing.T) {
	dir, cfg := cfgFixture(t)
	code, out, errb := cfgRun(t, map[string]string{"HOME": dir, "EXOROSTER_CONFIG": cfg}, "config", "profiles")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	want := "PROFILE  INDEX  TARGET  ACCOUNT\n" +
		"acme     0      ccm     acme1\n" +
		"globex   1      ccm     globex1\n" +
		"soft     -      webrtc  cust9-app7\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
}
