package config

import (
	"fmt"
	"strings"
	"time"
)

// identityEnv are the variables that say which account to use. With several
// profiles in one run each profile says that itself, so a variable set in
// the shell would point every profile at one account: refused.
var identityEnv = []string{
	EnvBaseURL, EnvAccountSID, EnvAPIKey, EnvAPIToken, EnvAPITokenFile,
	EnvCustomerID, EnvAppID, EnvWebRTCToken, EnvWebRTCTokenFile,
}

// ResolveProfiles resolves the settings of each profile an
// `export --profiles a,b,c` (names) or `--all-profiles` (all) run uses, in
// that order (all: name order). Flags such as --rate and --workers apply to
// each profile, as each runs under its own limiter.
func ResolveProfiles(in Input, names []string, all bool) ([]*Settings, error) {
	switch {
	case all && len(names) > 0:
		return nil, usageError{"give --profiles or --all-profiles, not both"}
	case !all && len(names) == 0:
		return nil, usageError{"name the profiles to run: --profiles a,b,c or --all-profiles"}
	case in.Flags.Profile != "" || in.Flags.ProfileIndex != "":
		return nil, usageError{"--profile and --profile-index pick one account; with --profiles or --all-profiles leave them out"}
	case in.Flags.BaseURL != "" || in.Flags.Region != "":
		return nil, usageError{"--base-url and --region would send every profile to one host; set base_url or region in each profile instead"}
	}
	getenv := in.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	for _, name := range identityEnv {
		if getenv(name) != "" {
			return nil, fmt.Errorf("%s is set, but with several profiles each profile names its own account; unset it (or run one profile with --profile)", name)
		}
	}
	file, path, err := loadConfig(in.Flags.Config, getenv)
	if err != nil {
		return nil, err
	}
	if file == nil {
		return nil, fmt.Errorf("no config file at %s to take profiles from; create it or give --config", path.V)
	}
	if all {
		names = file.Names()
		if len(names) == 0 {
			return nil, fmt.Errorf("--all-profiles: %s has no [profiles.NAME] sections", file.Path)
		}
	}
	seen := map[string]bool{}
	var out []*Settings
	for _, raw := range names {
		name := strings.TrimSpace(raw)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		one := in
		one.Flags.Profile = name
		one.Flags.Config = file.Path
		s, err := Resolve(one)
		if err != nil {
			return nil, err
		}
		// Resolve names the file as given by flag; say where it came from.
		s.ConfigFile = path
		out = append(out, s)
	}
	return out, nil
}

// OutVars are the values an --out template may use.
type OutVars struct {
	Profile string    // {profile}: the profile's name ("" without one)
	Target  string    // {target}: ccm or webrtc
	Now     time.Time // {date}: 2006-01-02, {time}: 150405, in Now's zone
}

// ExpandOut fills an --out (or --html, --metrics-file, …) template such as
// reports/{profile}-{date}.csv. An unknown or unclosed placeholder is an
// error, so a typo never becomes a literal file name. A path without
// placeholders is returned as it is.
func ExpandOut(tmpl string, v OutVars) (string, error) {
	var b strings.Builder
	rest := tmpl
	for {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:open])
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return "", fmt.Errorf("%q: a { without its }", tmpl)
		}
		name := rest[open+1 : open+end]
		switch name {
		case "profile":
			if v.Profile == "" {
				return "", fmt.Errorf("%q uses {profile}, but no profile is in use (give --profile)", tmpl)
			}
			b.WriteString(v.Profile)
		case "target":
			b.WriteString(v.Target)
		case "date":
			b.WriteString(v.Now.Format("2006-01-02"))
		case "time":
			b.WriteString(v.Now.Format("150405"))
		default:
			return "", fmt.Errorf("%q: unknown placeholder {%s}; use {profile}, {target}, {date} or {time}", tmpl, name)
		}
		rest = rest[open+end+1:]
	}
}

// CheckOutTemplate checks a template before any work: it must expand, and
// with several profiles it must hold {profile}, or every account would write
// the same file.
func CheckOutTemplate(flag, tmpl string, profiles int) error {
	if _, err := ExpandOut(tmpl, OutVars{Profile: "p", Target: TargetCCM, Now: time.Unix(0, 0)}); err != nil {
		return usageError{fmt.Sprintf("--%s %v", flag, err)}
	}
	if profiles > 1 && !strings.Contains(tmpl, "{profile}") {
		return usageError{fmt.Sprintf("--%s %q: with several profiles it must hold {profile}, like reports/{profile}-{date}.csv, or every account would write one file", flag, tmpl)}
	}
	return nil
}
