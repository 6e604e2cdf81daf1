package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/exoroster/exoroster/config"
	"github.com/exoroster/exoroster/statedir"
)

// profileFlags pick the config file and the named account: root flags,
// so every command takes them.
type profileFlags struct {
	config, profile, profileIndex string
}

func (f *profileFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "config file of named accounts (env EXOROSTER_CONFIG; default $XDG_CONFIG_HOME/exoroster/config.toml)")
	fs.StringVar(&f.profile, "profile", "", "the config file's [profiles.NAME] to use (env EXOTEL_PROFILE)")
	fs.StringVar(&f.profileIndex, "profile-index", "", "the profile at this position of the config's profile_index (a Kubernetes Job's $(JOB_COMPLETION_INDEX); env EXOTEL_PROFILE_INDEX)")
}

func (a *app) configCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the settings a run would use, and the config file's named accounts",
		Long: `exoroster reads named accounts from a TOML config file
($XDG_CONFIG_HOME/exoroster/config.toml, else ~/.config/exoroster/config.toml;
--config FILE or EXOROSTER_CONFIG to name another), one [profiles.NAME] section
per account. --profile NAME (or EXOTEL_PROFILE) picks one. A value given as a
flag beats the environment, which beats the profile, which beats the default.`,
		Args: noArgs,
	}
	cmd.AddCommand(a.configShowCommand(), a.configProfilesCommand())
	return cmd
}

func (a *app) configShowCommand() *cobra.Command {
	var api apiFlags
	var defaultRegion, stateDir string
	cmd := &cobra.Command{
		Use:   "show",
		Short: "Print the resolved settings and where each came from (token as REDACTED)",
		Long: `Resolves the settings exactly as a run would (the same flags may be given here to
see their effect), reads the token to check it can be read, and prints each
setting with its source: a flag, an environment variable, a profile in the
config file, or the default. The token is shown as REDACTED, with where it is
read from. Needs no network.

Exit codes: 0 settings resolved; 1 the config file or a token file is
unreadable or wrong, or a required setting is missing; 2 wrong flags.`,
		Example: `  exoroster config show
  exoroster config show --profile acme
  EXOTEL_API_TOKEN_FILE=/run/secrets/exotel exoroster config show --profile acme --rate 30/min`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := api.check(); err != nil {
				return err
			}
			s, err := a.resolveSettings(cmd.Flags())
			if err != nil {
				return err
			}
			lines, warnings := s.Lines()
			dir, err := statedir.Resolve(a.env.Getenv, stateDir)
			if err == nil {
				from := "XDG_STATE_HOME or HOME"
				if stateDir != "" {
					from = "flag --state-dir"
				}
				lines = append(lines, config.Line{Key: "state_dir", Value: dir, From: from})
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SETTING\tVALUE\tFROM")
			for _, l := range lines {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", l.Key, l.Value, l.From)
			}
			if err := tw.Flush(); err != nil {
				return abortErr(err)
			}
			for _, w := range warnings {
				fmt.Fprintf(a.env.Stderr, "exoroster: warning: %s.\n", w)
			}
			if missing := unusableSettings(lines); len(missing) > 0 {
				return abortErr(fmt.Errorf("a run with these settings would stop: %s", strings.Join(missing, "; ")))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	api.register(fs)
	api.registerTarget(fs) // --target, --customer-id and --app-id, as a run takes them
	fs.StringVar(&defaultRegion, "default-region", config.StandardDefaults().DefaultRegion, "country of phone numbers written without +country code")
	fs.StringVar(&stateDir, "state-dir", "", stateDirHelpState)
	return cmd
}

// unusableSettings names the settings a run needs that config show found
// unset or unreadable, so that its exit code says whether a run could start.
func unusableSettings(lines []config.Line) []string {
	required := map[string]bool{"account_sid": true, "api_key": true, "customer_id": true, "app_id": true, "api_token": true}
	var out []string
	for _, l := range lines {
		switch {
		case !required[l.Key]:
		case l.Value == "(not set)":
			out = append(out, l.Key+" is not set")
		case strings.HasPrefix(l.Value, "unreadable: "):
			out = append(out, l.Key+" is "+l.Value)
		}
	}
	return out
}

func (a *app) configProfilesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "profiles",
		Short: "List the config file's named accounts",
		Long: `Lists each [profiles.NAME] of the config file, in name order (the order of
--all-profiles), with its position in profile_index (what a Kubernetes Indexed
Job's completion index picks), its target and the account it names.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := a.settingsInput(cmd.Flags())
			in.Flags.Profile, in.Flags.ProfileIndex = "", ""
			all, err := config.ResolveProfiles(in, nil, true)
			if err != nil {
				return settingsErr(err)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PROFILE\tINDEX\tTARGET\tACCOUNT")
			index := map[string]int{}
			if f, err := config.Load(all[0].ConfigFile.V); err == nil {
				for i, n := range f.ProfileIndex {
					index[n] = i
				}
			}
			for _, s := range all {
				i := "-"
				if n, ok := index[s.Profile.V]; ok {
					i = strconv.Itoa(n)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Profile.V, i, s.Target.V, s.AccountKey())
			}
			if err := tw.Flush(); err != nil {
				return abortErr(err)
			}
			return nil
		},
	}
}

// settingsInput turns the flags the user set into the config package's
// input. A flag left at its default is not passed as a flag (it would hide
// the profile's value); its default becomes the default layer instead.
// Flags a command does not have are simply not given.
func (a *app) settingsInput(fs *pflag.FlagSet) config.Input {
	set := func(name string) string {
		if f := fs.Lookup(name); f != nil && f.Changed {
			return f.Value.String()
		}
		return ""
	}
	defaults := config.StandardDefaults()
	def := func(name string, fallback *string) {
		if f := fs.Lookup(name); f != nil && f.DefValue != "" {
			*fallback = f.DefValue
		}
	}
	def("region", &defaults.Region)
	def("rate", &defaults.Rate)
	def("default-region", &defaults.DefaultRegion)
	if f := fs.Lookup("workers"); f != nil {
		if n, err := strconv.Atoi(f.DefValue); err == nil {
			defaults.Workers = n
		}
	}
	in := config.Input{
		Getenv:   a.env.Getenv,
		Defaults: defaults,
		Flags: config.Flags{
			Config:        set("config"),
			Profile:       set("profile"),
			ProfileIndex:  set("profile-index"),
			Target:        set("target"),
			CustomerID:    set("customer-id"),
			AppID:         set("app-id"),
			Region:        set("region"),
			BaseURL:       set("base-url"),
			Rate:          set("rate"),
			DefaultRegion: set("default-region"),
		},
	}
	if w := set("workers"); w != "" {
		in.Flags.Workers, _ = strconv.Atoi(w) // pflag has parsed it already
	}
	return in
}

// resolveSettings resolves a run's settings from its flags and environment.
func (a *app) resolveSettings(fs *pflag.FlagSet) (*config.Settings, error) {
	s, err := config.Resolve(a.settingsInput(fs))
	if err != nil {
		return nil, settingsErr(err)
	}
	return s, nil
}

// settingsErr maps a resolution error to its exit code: contradictory flags
// are usage (2); a bad or missing file or setting stops the run (1).
func settingsErr(err error) error {
	if config.IsUsage(err) {
		return usageErr("%v", err)
	}
	return abortErr(err)
}
