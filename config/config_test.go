package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sampleConfig = `
default_profile = "acme"
profile_index = ["acme", "globex", "soft"]

[profiles.acme]
account_sid = "acme1"
api_key = "key-acme"
api_token_file = "tokens/acme"
region = "mumbai"
rate = "40/min"
workers = 2

[profiles.globex]
account_sid = "globex1"
api_key = "key-globex"
api_token_env = "GLOBEX_TOKEN"
base_url = "http://127.0.0.1:9999/"
rate = 2
default_region = "sg"

[profiles.soft]
target = "webrtc"
customer_id = "cust9"
app_id = "app7"
api_token_file = "/run/secrets/soft"
`

// writeConfig writes content as dir/config.toml and returns its path.
func writeConfig(t *testing.T, dir, content string) string {
	t.Helper()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestResolvePrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, sampleConfig)
	src := func(kind Kind, name string) Source {
		s := Source{Kind: kind, Name: name}
		if kind == FromProfile {
			s.File = cfg
		}
		return s
	}
	type want struct {
		profile, sid, key, baseURL, region, rate, tokenFile, tokenEnv string
		workers                                                       int
		sidFrom, rateFrom, workersFrom, tokenFrom, profileFrom        Source
	}
	tests := []struct {
		name  string
		flags Flags
		env   map[string]string
		want  want
	}{
		{
			name:  "default_profile from the file",
			flags: Flags{Config: cfg},
			want: want{profile: "acme", sid: "acme1", key: "key-acme", region: "mumbai", rate: "40/min", workers: 2,
				tokenFile: filepath.Join(dir, "tokens/acme"),
				sidFrom:   src(FromProfile, "acme"), rateFrom: src(FromProfile, "acme"), workersFrom: src(FromProfile, "acme"),
				tokenFrom: src(FromProfile, "acme"), profileFrom: src(FromProfile, "default_profile")},
		},
		{
			name:  "env beats profile, flag beats env",
			flags: Flags{Config: cfg, Profile: "globex", Rate: "10/min", Workers: 8},
			env:   map[string]string{EnvProfile: "acme", EnvAccountSID: "envsid", EnvAPITokenFile: "/t"},
			want: want{profile: "globex", sid: "envsid", key: "key-globex", baseURL: "http://127.0.0.1:9999", region: "sg", rate: "10/min", workers: 8,
				tokenFile: "/t",
				sidFrom:   src(FromEnv, EnvAccountSID), rateFrom: src(FromFlag, "rate"), workersFrom: src(FromFlag, "workers"),
				tokenFrom: src(FromEnv, EnvAPITokenFile), profileFrom: src(FromFlag, "profile")},
		},
		{
			name:  "EXOTEL_PROFILE picks the profile; api_token_env",
			env:   map[string]string{EnvConfig: cfg, EnvProfile: "globex"},
			flags: Flags{},
			want: want{profile: "globex", sid: "globex1", key: "key-globex", baseURL: "http://127.0.0.1:9999", region: "sg", rate: "2", workers: 4,
				tokenEnv: "GLOBEX_TOKEN",
				sidFrom:  src(FromProfile, "globex"), rateFrom: src(FromProfile, "globex"), workersFrom: src(FromDefault, ""),
				tokenFrom: src(FromProfile, "globex"), profileFrom: src(FromEnv, EnvProfile)},
		},
		{
			name:  "a region flag outranks the profile's base_url",
			flags: Flags{Config: cfg, Profile: "globex", Region: "mumbai"},
			want: want{profile: "globex", sid: "globex1", key: "key-globex", region: "mumbai", rate: "2", workers: 4,
				tokenEnv: "GLOBEX_TOKEN",
				sidFrom:  src(FromProfile, "globex"), rateFrom: src(FromProfile, "globex"), workersFrom: src(FromDefault, ""),
				tokenFrom: src(FromProfile, "globex"), profileFrom: src(FromFlag, "profile")},
		},
		{
			name:  "EXOTEL_BASE_URL outranks a region flag, as before profiles",
			flags: Flags{Config: cfg, Profile: "acme", Region: "sg"},
			env:   map[string]string{EnvBaseURL: "https://other.example.com"},
			want: want{profile: "acme", sid: "acme1", key: "key-acme", baseURL: "https://other.example.com", region: "sg", rate: "40/min", workers: 2,
				tokenFile: filepath.Join(dir, "tokens/acme"),
				sidFrom:   src(FromProfile, "acme"), rateFrom: src(FromProfile, "acme"), workersFrom: src(FromProfile, "acme"),
				tokenFrom: src(FromProfile, "acme"), profileFrom: src(FromFlag, "profile")},
		},
		{
			name:  "no config file: environment and defaults, as before profiles",
			flags: Flags{},
			env:   map[string]string{"HOME": dir, EnvAccountSID: "s", EnvAPIKey: "k", EnvAPIToken: "tok"},
			want: want{sid: "s", key: "k", region: "sg", rate: "50/min", workers: 4, tokenEnv: EnvAPIToken,
				sidFrom: src(FromEnv, EnvAccountSID), rateFrom: src(FromDefault, ""), workersFrom: src(FromDefault, ""),
				tokenFrom: src(FromEnv, EnvAPIToken)},
		},
		{
			name:  "profile index (a Job's completion index)",
			flags: Flags{Config: cfg, ProfileIndex: "1"},
			want: want{profile: "globex", sid: "globex1", key: "key-globex", baseURL: "http://127.0.0.1:9999", region: "sg", rate: "2", workers: 4,
				tokenEnv: "GLOBEX_TOKEN",
				sidFrom:  src(FromProfile, "globex"), rateFrom: src(FromProfile, "globex"), workersFrom: src(FromDefault, ""),
				tokenFrom: src(FromProfile, "globex"), profileFrom: src(FromFlag, "profile-index=1")},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Resolve(Input{Flags: tc.flags, Defaults: StandardDefaults(), Getenv: envOf(tc.env)})
			if err != nil {
				t.Fatal(err)
			}
			got := want{profile: s.Profile.V, sid: s.AccountSID.V, key: s.APIKey.V, baseURL: s.BaseURL.V, region: s.Region.V,
				rate: s.Rate.V, workers: s.Workers.V, tokenFile: s.Token.File, tokenEnv: s.Token.Env,
				sidFrom: s.AccountSID.From, rateFrom: s.Rate.From, workersFrom: s.Workers.From, tokenFrom: s.Token.From,
				profileFrom: s.Profile.From}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestResolveWebRTCProfile(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), sampleConfig)
	s, err := Resolve(Input{Flags: Flags{Config: cfg, Profile: "soft"}, Defaults: StandardDefaults(),
		Getenv: envOf(map[string]string{EnvAccountSID: "ignored-for-webrtc"})})
	if err != nil {
		t.Fatal(err)
	}
	if s.Target.V != TargetWebRTC || s.CustomerID.V != "cust9" || s.AppID.V != "app7" || s.Token.File != "/run/secrets/soft" {
		t.Errorf("got %+v", s)
	}
	if s.AccountSID.Set() || s.Region.Set() {
		t.Errorf("a webrtc run resolved ccm settings: sid %+v region %+v", s.AccountSID, s.Region)
	}
	if s.AccountKey() != "cust9-app7" || s.Account() != "soft" {
		t.Errorf("account key %q, account %q", s.AccountKey(), s.Account())
	}
	if _, err := Resolve(Input{Flags: Flags{Config: cfg, Profile: "soft", Target: "ccm"}, Defaults: StandardDefaults()}); err == nil ||
		!strings.Contains(err.Error(), "contradicts profile soft") {
		t.Errorf("--target ccm with a webrtc profile: %v", err)
	}
}

func TestResolveTargetFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	s, err := Resolve(Input{Flags: Flags{AppID: "app-flag"}, Defaults: StandardDefaults(),
		Getenv: envOf(map[string]string{"HOME": dir, EnvTarget: "WebRTC", EnvCustomerID: "cust", EnvAppID: "app-env"})})
	if err != nil {
		t.Fatal(err)
	}
	if s.Target.V != TargetWebRTC || s.Target.From.Kind != FromEnv || s.AppID.V != "app-flag" || s.CustomerID.V != "cust" {
		t.Errorf("target %+v, app %+v, customer %+v", s.Target, s.AppID, s.CustomerID)
	}
	s, err = Resolve(Input{Flags: Flags{Target: "ccm"}, Defaults: StandardDefaults(),
		Getenv: envOf(map[string]string{"HOME": dir, EnvTarget: "webrtc"})})
	if err != nil || s.Target.V != TargetCCM {
		t.Errorf("--target ccm under EXOTEL_TARGET=webrtc: %v %+v", err, s)
	}
	cfg := writeConfig(t, dir, sampleConfig)
	if _, err := Resolve(Input{Flags: Flags{Config: cfg, Profile: "acme"}, Defaults: StandardDefaults(),
		Getenv: envOf(map[string]string{EnvTarget: "webrtc"})}); err == nil ||
		!strings.Contains(err.Error(), "EXOTEL_TARGET webrtc contradicts profile acme") {
		t.Errorf("EXOTEL_TARGET against a ccm profile: %v", err)
	}
}

func TestResolveErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, sampleConfig)
	tests := []struct {
		name    string
		flags   Flags
		env     map[string]string
		want    string
		isUsage bool
	}{
		{name: "unknown profile", flags: Flags{Config: cfg, Profile: "nope"}, want: "profile nope (from flag --profile) is not in " + cfg + " (it has acme, globex, soft)"},
		{name: "missing named file", flags: Flags{Config: filepath.Join(dir, "none.toml")}, want: "the config file comes from flag --config"},
		{name: "profile without a file", flags: Flags{Profile: "acme"}, env: map[string]string{"HOME": t.TempDir()}, want: "no config file at"},
		{name: "profile and index", flags: Flags{Config: cfg, Profile: "acme", ProfileIndex: "0"}, want: "not both", isUsage: true},
		{name: "index past the list", flags: Flags{Config: cfg, ProfileIndex: "3"}, want: "lists only 3 profiles"},
		{name: "index not a number", env: map[string]string{EnvConfig: cfg, EnvProfileIndex: "x"}, want: `env EXOTEL_PROFILE_INDEX "x"`},
		{name: "token twice", flags: Flags{Config: cfg}, env: map[string]string{EnvAPIToken: "a", EnvAPITokenFile: "/b"}, want: "EXOTEL_API_TOKEN and EXOTEL_API_TOKEN_FILE are both set"},
		{name: "bad target", flags: Flags{Target: "sip"}, env: map[string]string{"HOME": dir}, want: `--target "sip"`},
		{name: "bad target from env", env: map[string]string{"HOME": dir, EnvTarget: "sip"}, want: `EXOTEL_TARGET "sip"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Resolve(Input{Flags: tc.flags, Defaults: StandardDefaults(), Getenv: envOf(tc.env)})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error saying %q", err, tc.want)
			}
			if IsUsage(err) != tc.isUsage {
				t.Errorf("IsUsage = %v, want %v", IsUsage(err), tc.isUsage)
			}
		})
	}
}

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"XDG_CONFIG_HOME", map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/exoroster/config.toml"},
		{"relative XDG ignored", map[string]string{"XDG_CONFIG_HOME": "x", "HOME": "/h"}, "/h/.config/exoroster/config.toml"},
		{"HOME", map[string]string{"HOME": "/h"}, "/h/.config/exoroster/config.toml"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DefaultPath(envOf(tc.env))
			if err != nil || got != filepath.FromSlash(tc.want) {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestDefaultConfigFileIsRead(t *testing.T) {
	xdg := t.TempDir()
	if err := os.MkdirAll(filepath.Join(xdg, "exoroster"), 0o700); err != nil {
		t.Fatal(err)
	}
	path := writeConfig(t, filepath.Join(xdg, "exoroster"), sampleConfig)
	s, err := Resolve(Input{Defaults: StandardDefaults(), Getenv: envOf(map[string]string{"XDG_CONFIG_HOME": xdg, EnvProfile: "globex"})})
	if err != nil {
		t.Fatal(err)
	}
	if s.ConfigFile.V != path || s.ConfigFile.From.Kind != FromDefault || s.AccountSID.V != "globex1" {
		t.Errorf("config %+v, sid %q", s.ConfigFile, s.AccountSID.V)
	}
}

func TestParseRefusesLiteralToken(t *testing.T) {
	const token = "s3cr3t-t0ken-value"
	for _, key := range []string{"api_token", "token", "webrtc_token"} {
		t.Run(key, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(fmt.Sprintf("[profiles.acme]\naccount_sid = \"a\"\n%s = %q\n", key, token)))
			if err == nil {
				t.Fatal("a literal token was accepted")
			}
			msg := err.Error()
			if strings.Contains(msg, token) {
				t.Errorf("the refusal echoes the token: %s", msg)
			}
			for _, want := range []string{"profile acme", key, "api_token_file", "api_token_env"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%q does not say %q", msg, want)
				}
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"unknown key named", "[profiles.a]\naccount_sid = \"x\"\nacount = 1\n", "unknown key profiles.a.acount"},
		{"unknown top-level key", "colour = \"red\"\n", "unknown key colour"},
		{"bad target", "[profiles.a]\ntarget = \"sip\"\n", `profile a: target "sip"`},
		{"region and base_url", "[profiles.a]\nregion = \"sg\"\nbase_url = \"https://x.example.com\"\n", "not both"},
		{"bad region", "[profiles.a]\nregion = \"mars\"\n", `unknown region "mars"`},
		{"plain http elsewhere", "[profiles.a]\nbase_url = \"http://example.com\"\n", "plain http"},
		{"webrtc with sid", "[profiles.a]\ntarget = \"webrtc\"\naccount_sid = \"x\"\n", "belong to ccm profiles"},
		{"ccm with app id", "[profiles.a]\napp_id = \"x\"\n", "belong to webrtc profiles"},
		{"both token refs", "[profiles.a]\napi_token_file = \"f\"\napi_token_env = \"E\"\n", "not both"},
		{"bad rate", "[profiles.a]\nrate = \"fast\"\n", "rate"},
		{"workers zero", "[profiles.a]\nworkers = 0\n", "workers 0: use 1 to 64"},
		{"bad default region", "[profiles.a]\ndefault_region = \"XX\"\n", "default_region"},
		{"bad profile name", "[profiles.\"a/b\"]\naccount_sid = \"x\"\n", "profile a/b: a profile name"},
		{"unknown default_profile", "default_profile = \"z\"\n[profiles.a]\n", `default_profile "z" is not a profile here (it has a)`},
		{"unknown in profile_index", "profile_index = [\"a\", \"z\"]\n[profiles.a]\n", `profile_index[1] "z"`},
		{"twice in profile_index", "profile_index = [\"a\", \"a\"]\n[profiles.a]\n", "names \"a\" twice"},
		{"syntax error has a line", "[profiles.a]\nrate = \n", "line 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(tc.content))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestParseDoesNotEchoTokenLikeValues(t *testing.T) {
	const token = "s3cr3t-t0ken-value"
	for name, content := range map[string]string{
		"token pasted into api_token_env": "[profiles.a]\napi_token_env = \"" + token + "\"\n",
		"unterminated api_token":          "[profiles.a]\napi_token = \"" + token + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse("c.toml", []byte(content))
			if err == nil {
				t.Fatal("accepted")
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("the error echoes the value: %v", err)
			}
		})
	}
}

func TestResolveProfiles(t *testing.T) {
	cfg := writeConfig(t, t.TempDir(), sampleConfig)
	in := Input{Flags: Flags{Config: cfg, Rate: "5/s"}, Defaults: StandardDefaults(), Getenv: envOf(nil)}

	all, err := ResolveProfiles(in, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range all {
		names = append(names, s.Profile.V+":"+s.AccountKey()+":"+s.Rate.V)
	}
	if got := strings.Join(names, " "); got != "acme:acme1:5/s globex:globex1:5/s soft:cust9-app7:5/s" {
		t.Errorf("--all-profiles: %s", got)
	}
	if all[0].ConfigFile.From.Kind != FromFlag || all[0].ConfigFile.V != cfg {
		t.Errorf("config file %+v", all[0].ConfigFile)
	}

	some, err := ResolveProfiles(in, []string{"globex", "acme", "globex"}, false)
	if err != nil || len(some) != 2 || some[0].Profile.V != "globex" || some[1].Profile.V != "acme" {
		t.Fatalf("--profiles globex,acme,globex: %v %v", some, err)
	}

	tests := []struct {
		name  string
		in    Input
		names []string
		all   bool
		want  string
	}{
		{"both", in, []string{"a"}, true, "not both"},
		{"neither", in, nil, false, "--profiles a,b,c or --all-profiles"},
		{"unknown", in, []string{"acme", "nope"}, false, "profile nope"},
		{"with --profile", Input{Flags: Flags{Config: cfg, Profile: "acme"}}, nil, true, "leave them out"},
		{"with --base-url", Input{Flags: Flags{Config: cfg, BaseURL: "https://x.example.com"}}, nil, true, "one host"},
		{"identity in env", Input{Flags: Flags{Config: cfg}, Getenv: envOf(map[string]string{EnvAccountSID: "x"})}, nil, true, "EXOTEL_ACCOUNT_SID is set"},
		{"no file", Input{Getenv: envOf(map[string]string{"HOME": t.TempDir()})}, nil, true, "no config file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ResolveProfiles(tc.in, tc.names, tc.all)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
}

func TestExpandOut(t *testing.T) {
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name, tmpl, profile, want, wantErr string
	}{
		{name: "profile and date", tmpl: "reports/{profile}-{date}.csv", profile: "acme", want: "reports/acme-2026-03-04.csv"},
		{name: "time and target", tmpl: "{target}/{date}T{time}.jsonl", want: "ccm/2026-03-04T050607.jsonl"},
		{name: "plain path", tmpl: "users.csv", want: "users.csv"},
		{name: "stdout", tmpl: "-", want: "-"},
		{name: "unknown", tmpl: "{prof}.csv", wantErr: "unknown placeholder {prof}"},
		{name: "unclosed", tmpl: "{date.csv", wantErr: "without its }"},
		{name: "profile without one", tmpl: "{profile}.csv", wantErr: "no profile is in use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ExpandOut(tc.tmpl, OutVars{Profile: tc.profile, Target: TargetCCM, Now: now})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("got %q, %v; want an error saying %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestCheckOutTemplate(t *testing.T) {
	if err := CheckOutTemplate("out", "reports/{date}.csv", 2); err == nil || !IsUsage(err) {
		t.Errorf("several profiles without {profile}: %v", err)
	}
	if err := CheckOutTemplate("out", "reports/{profile}-{date}.csv", 2); err != nil {
		t.Error(err)
	}
	if err := CheckOutTemplate("out", "reports/{date}.csv", 1); err != nil {
		t.Error(err)
	}
	if err := CheckOutTemplate("html", "{nope}", 1); err == nil || !strings.Contains(err.Error(), "--html") {
		t.Errorf("bad placeholder: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sampleConfig))
	f.Add([]byte("[profiles.a]\napi_token = \"x\"\n"))
	f.Add([]byte("profile_index = [1]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("f.toml", data)
		if err != nil {
			return
		}
		for _, name := range file.ProfileIndex {
			if _, ok := file.Profiles[name]; !ok {
				t.Errorf("profile_index names %q, which is not a profile", name)
			}
		}
	})
}

// The README's example config must be one exoroster accepts.
func TestREADMEExampleParses(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(data), "## Named accounts")
	if !ok {
		t.Fatal("README has no Named accounts section")
	}
	_, rest, ok = strings.Cut(rest, "```toml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no toml block in Named accounts")
	}
	f, err := Parse("README.md", []byte(block))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.Names(), ","); got != "acme,globex,softphone" {
		t.Errorf("profiles %s", got)
	}
}
