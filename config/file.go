// Package config reads exoroster's config file of named accounts and
// resolves every setting a run needs, remembering where each value came
// from: flags > environment > profile > defaults.
//
// The environment and file paths are passed in; nothing here reads
// os.Getenv or keeps package state, so tests resolve with a map.
package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/roster"
)

// Targets: the API a profile's account lives on.
const (
	TargetCCM    = "ccm"
	TargetWebRTC = "webrtc"
)

// File is a parsed and checked config file.
type File struct {
	Path string
	// DefaultProfile is used when neither --profile nor EXOTEL_PROFILE names one.
	DefaultProfile string
	// ProfileIndex lists profiles in the order a Kubernetes Indexed Job's
	// completion indexes pick them (--profile-index N).
	ProfileIndex []string
	Profiles     map[string]Profile
}

// Profile is one [profiles.NAME] section: one account on one target.
type Profile struct {
	Target        string    `toml:"target"`
	Region        string    `toml:"region"`
	BaseURL       string    `toml:"base_url"`
	AccountSID    string    `toml:"account_sid"`
	CustomerID    string    `toml:"customer_id"`
	AppID         string    `toml:"app_id"`
	APIKey        string    `toml:"api_key"`
	APITokenFile  string    `toml:"api_token_file"`
	APITokenEnv   string    `toml:"api_token_env"`
	Rate          rateValue `toml:"rate"`
	Workers       int       `toml:"workers"`
	DefaultRegion string    `toml:"default_region"`
}

// target is the profile's target, ccm when the file does not say.
func (p Profile) target() string {
	if p.Target == "" {
		return TargetCCM
	}
	return p.Target
}

// rateValue accepts a rate as TOML writes it naturally: "50/min", or a plain
// number per second (2, 0.5).
type rateValue string

func (r *rateValue) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case string:
		*r = rateValue(v)
	case int64:
		*r = rateValue(strconv.FormatInt(v, 10))
	case float64:
		*r = rateValue(strconv.FormatFloat(v, 'f', -1, 64))
	default:
		return fmt.Errorf("rate must be like \"50/min\" or a number per second, not a %T", v)
	}
	return nil
}

type fileSchema struct {
	DefaultProfile string             `toml:"default_profile"`
	ProfileIndex   []string           `toml:"profile_index"`
	Profiles       map[string]Profile `toml:"profiles"`
}

// literalTokenKeys are keys a user may reach for to put the token itself in
// the file; each is refused with the reason, never the value.
var literalTokenKeys = []string{"api_token", "token", "app_token", "webrtc_token", "password"}

var (
	profileNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	envNameRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Load reads and checks the config file at path. Its errors name the file,
// the profile and the key, and never quote a value that might be a token.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return Parse(path, data)
}

// Parse checks a config file's content; path is only for messages.
func Parse(path string, data []byte) (*File, error) {
	var raw fileSchema
	md, err := toml.Decode(string(data), &raw)
	if err != nil {
		return nil, parseError(path, err)
	}
	for name := range raw.Profiles {
		for _, k := range literalTokenKeys {
			if md.IsDefined("profiles", name, k) {
				return nil, fmt.Errorf("config %s: profile %s: %s holds a token itself, which a config file must not: "+
					"config files get copied, shared and committed. Put the token in a file readable only by you and "+
					"name it with api_token_file, or name an environment variable with api_token_env", path, name, k)
			}
		}
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return nil, fmt.Errorf("config %s: unknown key %s: the keys a profile takes are target, region, base_url, "+
			"account_sid, customer_id, app_id, api_key, api_token_file, api_token_env, rate, workers and default_region",
			path, strings.Join(keys, ", "))
	}
	f := &File{Path: path, DefaultProfile: raw.DefaultProfile, ProfileIndex: raw.ProfileIndex, Profiles: raw.Profiles}
	if f.Profiles == nil {
		f.Profiles = map[string]Profile{}
	}
	for _, name := range f.Names() {
		p := f.Profiles[name]
		if err := checkProfile(name, &p, md.IsDefined("profiles", name, "workers")); err != nil {
			return nil, fmt.Errorf("config %s: profile %s: %w", path, name, err)
		}
		f.Profiles[name] = p
	}
	if f.DefaultProfile != "" {
		if _, ok := f.Profiles[f.DefaultProfile]; !ok {
			return nil, fmt.Errorf("config %s: default_profile %q is not a profile here (%s)", path, f.DefaultProfile, f.namesList())
		}
	}
	seen := map[string]bool{}
	for i, name := range f.ProfileIndex {
		if _, ok := f.Profiles[name]; !ok {
			return nil, fmt.Errorf("config %s: profile_index[%d] %q is not a profile here (%s)", path, i, name, f.namesList())
		}
		if seen[name] {
			return nil, fmt.Errorf("config %s: profile_index names %q twice", path, name)
		}
		seen[name] = true
	}
	return f, nil
}

// parseError reports a TOML syntax error by line and key. The parser's own
// message is left out when the key is a token's: it may quote the value.
func parseError(path string, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return fmt.Errorf("config %s: %w", path, err)
	}
	if strings.Contains(strings.ToLower(pe.LastKey), "token") {
		return fmt.Errorf("config %s: line %d: the value of %s is not valid TOML", path, pe.Position.Line, pe.LastKey)
	}
	return fmt.Errorf("config %s: line %d: %s", path, pe.Position.Line, pe.Message)
}

// checkProfile checks one profile and normalises its target and region.
func checkProfile(name string, p *Profile, workersSet bool) error {
	if !profileNameRE.MatchString(name) {
		return errors.New("a profile name may hold only letters, digits, '.', '_' and '-' (it names report files), and must start with a letter or digit")
	}
	p.Target = strings.ToLower(strings.TrimSpace(p.Target))
	switch p.Target {
	case "", TargetCCM:
		if p.CustomerID != "" || p.AppID != "" {
			return errors.New("customer_id and app_id belong to webrtc profiles; a ccm profile names its account with account_sid")
		}
	case TargetWebRTC:
		if p.AccountSID != "" || p.APIKey != "" {
			return errors.New("account_sid and api_key belong to ccm profiles; a webrtc profile names its app with customer_id and app_id")
		}
		if p.Region != "" {
			return errors.New("region is for ccm profiles; a webrtc profile may give base_url")
		}
	default:
		return fmt.Errorf("target %q: use ccm or webrtc", p.Target)
	}
	if p.Region != "" && p.BaseURL != "" {
		return errors.New("give region or base_url, not both")
	}
	if p.Region != "" {
		if _, err := exotel.ResolveBaseURL(p.Region, ""); err != nil {
			return err
		}
	}
	if p.BaseURL != "" {
		u, err := exotel.CheckBaseURL(p.BaseURL)
		if err != nil {
			return err
		}
		p.BaseURL = u
	}
	if p.APITokenFile != "" && p.APITokenEnv != "" {
		return errors.New("give api_token_file or api_token_env, not both")
	}
	if p.APITokenEnv != "" && !envNameRE.MatchString(p.APITokenEnv) {
		// Not quoted: a user who pasted the token here must not see it echoed.
		return errors.New("api_token_env must name an environment variable (like ACME_EXOTEL_TOKEN), not hold the token itself")
	}
	if p.Rate != "" {
		if _, err := ratelimit.ParseRate(string(p.Rate)); err != nil {
			return err
		}
	}
	if workersSet && (p.Workers < 1 || p.Workers > 64) {
		return fmt.Errorf("workers %d: use 1 to 64", p.Workers)
	}
	if p.DefaultRegion != "" {
		if err := roster.CheckRegion(p.DefaultRegion); err != nil {
			return fmt.Errorf("default_region: %w", err)
		}
	}
	return nil
}

// Names lists the profiles in name order: the order --all-profiles runs them.
func (f *File) Names() []string {
	if f == nil {
		return nil
	}
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (f *File) namesList() string {
	names := f.Names()
	if len(names) == 0 {
		return "it has no [profiles.NAME] sections"
	}
	return "it has " + strings.Join(names, ", ")
}
