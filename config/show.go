package config

import (
	"strconv"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/webrtc"
)

// Line is one row of `config show`: a setting, its value (secrets as
// REDACTED) and where it came from.
type Line struct {
	Key, Value, From string
}

// Lines lists the resolved settings for `config show`. It reads the token,
// to say whether it can be read, but shows only REDACTED; warnings are the
// token file's (readable by others).
func (s *Settings) Lines() (lines []Line, warnings []string) {
	add := func(key string, v Value[string]) {
		val := v.V
		if !v.Set() || val == "" {
			val = "(not set)"
		}
		lines = append(lines, Line{key, val, v.From.String()})
	}
	if s.ConfigFile.Set() && !s.fileRead {
		lines = append(lines, Line{"config", "(no file at " + s.ConfigFile.V + ")", s.ConfigFile.From.String()})
	} else {
		add("config", s.ConfigFile)
	}
	add("profile", s.Profile)
	add("target", s.Target)
	if s.Target.V == TargetCCM {
		add("region", s.Region)
		if s.BaseURL.Set() {
			add("base_url", s.BaseURL)
		} else if u, err := exotel.ResolveBaseURL(s.Region.V, ""); err == nil {
			lines = append(lines, Line{"base_url", u, "region " + s.Region.V})
		}
		add("account_sid", s.AccountSID)
		add("api_key", s.APIKey)
	} else {
		if s.BaseURL.Set() {
			add("base_url", s.BaseURL)
		} else if u, err := webrtc.ResolveBaseURL(""); err == nil {
			lines = append(lines, Line{"base_url", u, "default"})
		}
		add("customer_id", s.CustomerID)
		add("app_id", s.AppID)
	}
	tok := Line{Key: "api_token", Value: "(not set)", From: "not set"}
	if s.Token.Set() {
		tok.From = s.Token.From.String()
		_, warn, err := s.ReadToken()
		warnings = warn
		switch {
		case err != nil:
			tok.Value = "unreadable: " + err.Error()
		default:
			tok.Value = "REDACTED (" + s.Token.Describe() + ")"
		}
	}
	lines = append(lines, tok)
	add("rate", s.Rate)
	lines = append(lines, Line{"workers", strconv.Itoa(s.Workers.V), s.Workers.From.String()})
	add("default_region", s.DefaultRegion)
	return lines, warnings
}
