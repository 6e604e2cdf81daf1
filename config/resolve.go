package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/exoroster/exoroster/statedir"
)

// Environment variables the resolution reads.
const (
	EnvConfig          = "EXOROSTER_CONFIG"
	EnvProfile         = "EXOTEL_PROFILE"
	EnvProfileIndex    = "EXOTEL_PROFILE_INDEX"
	EnvTarget          = "EXOTEL_TARGET"
	EnvBaseURL         = "EXOTEL_BASE_URL"
	EnvAccountSID      = "EXOTEL_ACCOUNT_SID"
	EnvAPIKey          = "EXOTEL_API_KEY"
	EnvAPIToken        = "EXOTEL_API_TOKEN"
	EnvAPITokenFile    = "EXOTEL_API_TOKEN_FILE"
	EnvCustomerID      = "EXOTEL_CUSTOMER_ID"
	EnvAppID           = "EXOTEL_APP_ID"
	EnvWebRTCToken     = "EXOTEL_WEBRTC_TOKEN"
	EnvWebRTCTokenFile = "EXOTEL_WEBRTC_TOKEN_FILE"
)

// Flags are the command-line values the user gave. An empty field (0 for
// Workers) was not given: pass a flag only when the user set it, never its
// default, or it would hide the profile's value.
type Flags struct {
	Config        string // --config
	Profile       string // --profile
	ProfileIndex  string // --profile-index (a Kubernetes Job's completion index)
	Target        string // --target
	CustomerID    string // --customer-id (webrtc)
	AppID         string // --app-id (webrtc)
	Region        string // --region
	BaseURL       string // --base-url
	Rate          string // --rate
	Workers       int    // --workers
	DefaultRegion string // --default-region
}

// Defaults are the values used when neither flag, environment nor profile
// gives one: the flags' own defaults.
type Defaults struct {
	Target        string
	Region        string
	Rate          string
	Workers       int
	DefaultRegion string
}

// StandardDefaults are exoroster's documented defaults.
func StandardDefaults() Defaults {
	return Defaults{Target: TargetCCM, Region: "sg", Rate: "50/min", Workers: 4, DefaultRegion: "IN"}
}

// Input is everything resolution reads.
type Input struct {
	Flags    Flags
	Defaults Defaults
	// Getenv reads the environment (os.Getenv in main, a map in tests).
	Getenv func(string) string
}

// Kind says which layer a value came from.
type Kind int

const (
	FromNone    Kind = iota // not set anywhere
	FromDefault             // the built-in default
	FromProfile             // the profile in the config file
	FromEnv                 // an environment variable
	FromFlag                // a command-line flag
)

// Source is where a value came from, for `config show` and for messages.
type Source struct {
	Kind Kind
	Name string // the flag, variable or profile's name
	File string // the config file, for FromProfile
}

func (s Source) String() string {
	switch s.Kind {
	case FromFlag:
		return "flag --" + s.Name
	case FromEnv:
		return "env " + s.Name
	case FromProfile:
		return "profile " + s.Name + " in " + s.File
	case FromDefault:
		return "default"
	}
	return "not set"
}

// Value is a resolved setting and its source.
type Value[T comparable] struct {
	V    T
	From Source
}

// Set reports whether some layer gave the value.
func (v Value[T]) Set() bool { return v.From.Kind != FromNone }

// candidate is one layer's offer of a value; the zero value offers nothing.
type candidate[T comparable] struct {
	v    T
	from Source
}

// first picks the first candidate that offers a value.
func first[T comparable](cands ...candidate[T]) Value[T] {
	var zero T
	for _, c := range cands {
		if c.v != zero {
			return Value[T]{V: c.v, From: c.from}
		}
	}
	return Value[T]{}
}

// TokenRef says where the token is; it never holds the token.
type TokenRef struct {
	Env  string // the variable that holds the token, or
	File string // the file that holds it
	From Source // where this reference came from
}

// Set reports whether a token source was found.
func (t TokenRef) Set() bool { return t.Env != "" || t.File != "" }

// Describe says where the token is read from, for `config show`.
func (t TokenRef) Describe() string {
	switch {
	case t.File != "":
		return "file " + t.File
	case t.Env != "":
		return "env " + t.Env
	}
	return ""
}

// Settings are a run's resolved settings.
type Settings struct {
	ConfigFile Value[string] // the config file read, if any
	Profile    Value[string]
	Target     Value[string]
	// Region and BaseURL: pass both to exotel.ResolveBaseURL for ccm (a
	// non-empty BaseURL wins); for webrtc BaseURL, when set, overrides the
	// integrations host.
	Region        Value[string]
	BaseURL       Value[string]
	AccountSID    Value[string]
	APIKey        Value[string]
	CustomerID    Value[string]
	AppID         Value[string]
	Token         TokenRef
	Rate          Value[string]
	Workers       Value[int]
	DefaultRegion Value[string]

	fileRead bool // ConfigFile was there and was read
	getenv   func(string) string
}

// Resolve works out a run's settings. Its errors are one sentence naming the
// flag, variable or file at fault (exit 1, or 2 for contradictory flags).
func Resolve(in Input) (*Settings, error) {
	getenv := in.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	env := func(name string) candidate[string] {
		return candidate[string]{v: strings.TrimSpace(getenv(name)), from: Source{Kind: FromEnv, Name: name}}
	}
	flag := func(name, v string) candidate[string] {
		return candidate[string]{v: strings.TrimSpace(v), from: Source{Kind: FromFlag, Name: name}}
	}
	def := func(v string) candidate[string] { return candidate[string]{v: v, from: Source{Kind: FromDefault}} }

	file, path, err := loadConfig(in.Flags.Config, getenv)
	if err != nil {
		return nil, err
	}
	s := &Settings{ConfigFile: path, fileRead: file != nil, getenv: getenv}

	s.Profile, err = pickProfile(in.Flags, getenv, file)
	if err != nil {
		return nil, err
	}
	var p Profile
	if s.Profile.Set() {
		if file == nil {
			return nil, fmt.Errorf("profile %s (from %s): no config file at %s; create it or give --config", s.Profile.V, s.Profile.From, path.V)
		}
		var ok bool
		if p, ok = file.Profiles[s.Profile.V]; !ok {
			return nil, fmt.Errorf("profile %s (from %s) is not in %s (%s)", s.Profile.V, s.Profile.From, file.Path, file.namesList())
		}
	}
	var profSource Source // FromNone when no profile is in use
	if s.Profile.Set() {
		profSource = Source{Kind: FromProfile, Name: s.Profile.V, File: file.Path}
	}
	prof := func(v string) candidate[string] {
		if !s.Profile.Set() {
			return candidate[string]{}
		}
		return candidate[string]{v: v, from: profSource}
	}

	envTarget := env(EnvTarget)
	envTarget.v = strings.ToLower(envTarget.v)
	s.Target = first(flag("target", strings.ToLower(in.Flags.Target)), envTarget, prof(p.target()), def(in.Defaults.Target))
	targetFrom := "--target"
	if s.Target.From.Kind == FromEnv {
		targetFrom = EnvTarget
	}
	if s.Profile.Set() && (s.Target.From.Kind == FromFlag || s.Target.From.Kind == FromEnv) && s.Target.V != p.target() {
		return nil, fmt.Errorf("%s %s contradicts profile %s, which is a %s account", targetFrom, s.Target.V, s.Profile.V, p.target())
	}
	switch s.Target.V {
	case TargetCCM, TargetWebRTC:
	default:
		return nil, fmt.Errorf("%s %q: use ccm or webrtc", targetFrom, s.Target.V)
	}

	// A region flag outranks a base_url in the profile (it is the more
	// specific choice), but EXOTEL_BASE_URL keeps outranking --region, as
	// it always has. WebRTC has one host and no regions.
	s.BaseURL = first(flag("base-url", in.Flags.BaseURL), env(EnvBaseURL))
	if !s.BaseURL.Set() && (in.Flags.Region == "" || s.Target.V == TargetWebRTC) {
		s.BaseURL = first(prof(p.BaseURL))
	}

	if s.Target.V == TargetCCM {
		s.Region = first(flag("region", in.Flags.Region), prof(p.Region), def(in.Defaults.Region))
		s.AccountSID = first(env(EnvAccountSID), prof(p.AccountSID))
		s.APIKey = first(env(EnvAPIKey), prof(p.APIKey))
		s.Token, err = pickToken(getenv, EnvAPIToken, EnvAPITokenFile, s.Profile, p, file)
	} else {
		s.CustomerID = first(flag("customer-id", in.Flags.CustomerID), env(EnvCustomerID), prof(p.CustomerID))
		s.AppID = first(flag("app-id", in.Flags.AppID), env(EnvAppID), prof(p.AppID))
		s.Token, err = pickToken(getenv, EnvWebRTCToken, EnvWebRTCTokenFile, s.Profile, p, file)
	}
	if err != nil {
		return nil, err
	}

	s.Rate = first(flag("rate", in.Flags.Rate), prof(string(p.Rate)), def(in.Defaults.Rate))
	s.Workers = first(
		candidate[int]{v: in.Flags.Workers, from: Source{Kind: FromFlag, Name: "workers"}},
		candidate[int]{v: p.Workers, from: profSource},
		candidate[int]{v: in.Defaults.Workers, from: Source{Kind: FromDefault}},
	)
	s.DefaultRegion = first(flag("default-region", in.Flags.DefaultRegion), prof(p.DefaultRegion), def(in.Defaults.DefaultRegion))
	return s, nil
}

// DefaultPath is where the config file is looked for when neither --config
// nor EXOROSTER_CONFIG names one: $XDG_CONFIG_HOME/exoroster/config.toml,
// else ~/.config/exoroster/config.toml.
func DefaultPath(getenv func(string) string) (string, error) {
	if x := getenv("XDG_CONFIG_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, statedir.App, "config.toml"), nil
	}
	home, err := statedir.Home(getenv)
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".config", statedir.App, "config.toml"), nil
}

// loadConfig finds and reads the config file. A file named by flag or
// environment must exist; the default one need not.
func loadConfig(flagPath string, getenv func(string) string) (*File, Value[string], error) {
	path := first(
		candidate[string]{v: flagPath, from: Source{Kind: FromFlag, Name: "config"}},
		candidate[string]{v: getenv(EnvConfig), from: Source{Kind: FromEnv, Name: EnvConfig}},
	)
	if !path.Set() {
		p, err := DefaultPath(getenv)
		if err != nil {
			return nil, Value[string]{}, nil // no home: no default file, which is fine
		}
		path = Value[string]{V: p, From: Source{Kind: FromDefault}}
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			return nil, path, nil
		}
	}
	f, err := Load(path.V)
	if err != nil {
		return nil, path, fmt.Errorf("%w (the config file comes from %s)", err, path.From)
	}
	return f, path, nil
}

// pickProfile: --profile > --profile-index > EXOTEL_PROFILE >
// EXOTEL_PROFILE_INDEX > the file's default_profile.
func pickProfile(fl Flags, getenv func(string) string, file *File) (Value[string], error) {
	if fl.Profile != "" && fl.ProfileIndex != "" {
		return Value[string]{}, usageError{"give --profile or --profile-index, not both"}
	}
	if fl.Profile != "" {
		return Value[string]{V: fl.Profile, From: Source{Kind: FromFlag, Name: "profile"}}, nil
	}
	if fl.ProfileIndex != "" {
		return byIndex(fl.ProfileIndex, Source{Kind: FromFlag, Name: "profile-index"}, file)
	}
	if v := strings.TrimSpace(getenv(EnvProfile)); v != "" {
		return Value[string]{V: v, From: Source{Kind: FromEnv, Name: EnvProfile}}, nil
	}
	if v := strings.TrimSpace(getenv(EnvProfileIndex)); v != "" {
		return byIndex(v, Source{Kind: FromEnv, Name: EnvProfileIndex}, file)
	}
	if file != nil && file.DefaultProfile != "" {
		return Value[string]{V: file.DefaultProfile, From: Source{Kind: FromProfile, Name: "default_profile", File: file.Path}}, nil
	}
	return Value[string]{}, nil
}

// byIndex maps a Job completion index to the config's profile_index list.
func byIndex(raw string, from Source, file *File) (Value[string], error) {
	i, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || i < 0 {
		return Value[string]{}, fmt.Errorf("%s %q: want a profile index, 0 or more", from, raw)
	}
	if file == nil {
		return Value[string]{}, fmt.Errorf("%s %d: no config file to look the profile up in", from, i)
	}
	if len(file.ProfileIndex) == 0 {
		return Value[string]{}, fmt.Errorf("%s %d: %s has no profile_index list; add profile_index = [\"a\", \"b\", …] in the order of the Job's completion indexes", from, i, file.Path)
	}
	if i >= len(file.ProfileIndex) {
		return Value[string]{}, fmt.Errorf("%s %d: %s's profile_index lists only %d profiles (0 to %d); the Job's completions and the list must match", from, i, file.Path, len(file.ProfileIndex), len(file.ProfileIndex)-1)
	}
	return Value[string]{V: file.ProfileIndex[i], From: Source{Kind: from.Kind, Name: fmt.Sprintf("%s=%d", from.Name, i)}}, nil
}

// pickToken finds where the token is: the literal variable or the file
// variable (both set is a mistake worth stopping for), else the profile's
// api_token_file or api_token_env. A relative api_token_file is relative to
// the config file's folder.
func pickToken(getenv func(string) string, literal, fileVar string, profile Value[string], p Profile, file *File) (TokenRef, error) {
	lit, fv := getenv(literal) != "", strings.TrimSpace(getenv(fileVar))
	switch {
	case lit && fv != "":
		return TokenRef{}, fmt.Errorf("%s and %s are both set: keep one", literal, fileVar)
	case lit:
		return TokenRef{Env: literal, From: Source{Kind: FromEnv, Name: literal}}, nil
	case fv != "":
		return TokenRef{File: fv, From: Source{Kind: FromEnv, Name: fileVar}}, nil
	case !profile.Set():
		return TokenRef{}, nil
	}
	from := Source{Kind: FromProfile, Name: profile.V, File: file.Path}
	switch {
	case p.APITokenFile != "":
		path, err := expandPath(p.APITokenFile, filepath.Dir(file.Path), getenv)
		if err != nil {
			return TokenRef{}, fmt.Errorf("profile %s: api_token_file: %w", profile.V, err)
		}
		return TokenRef{File: path, From: from}, nil
	case p.APITokenEnv != "":
		return TokenRef{Env: p.APITokenEnv, From: from}, nil
	}
	return TokenRef{}, nil
}

// expandPath resolves ~/ against HOME and a relative path against base.
func expandPath(p, base string, getenv func(string) string) (string, error) {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		home, err := statedir.Home(getenv)
		if err != nil {
			return "", err
		}
		return filepath.Join(home, rest), nil
	}
	if filepath.IsAbs(p) {
		return p, nil
	}
	return filepath.Join(base, p), nil
}

// usageError marks a mistake in the flags themselves (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// IsUsage reports whether err is a contradiction between flags, which cmd
// maps to exit 2; every other resolution error is exit 1.
func IsUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// Account names the account for logs and summaries: the profile's name when
// one is in use, else the account SID (ccm) or customer/app id (webrtc).
// Never a secret.
func (s *Settings) Account() string {
	if s.Profile.Set() {
		return s.Profile.V
	}
	return s.AccountKey()
}

// AccountKey is what identifies the account on its target, whatever profile
// names it: the key of its run lock (runlock.ForAccount(dir, Target, key)).
func (s *Settings) AccountKey() string {
	if s.Target.V == TargetWebRTC {
		if s.CustomerID.V == "" && s.AppID.V == "" {
			return ""
		}
		return s.CustomerID.V + "-" + s.AppID.V
	}
	return s.AccountSID.V
}
