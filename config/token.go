package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/exoroster/exoroster/exotel"
)

// maxTokenFile bounds what is read from a token file: a token is tens of
// bytes, and a path pointing at the wrong (large) file should fail fast.
const maxTokenFile = 64 << 10

// ReadTokenFile reads a token from a file, as Kubernetes mounts a Secret:
// the whole file, trailing newline (and spaces) trimmed. warnings says, in
// sentences, what is unsafe about the file (readable by others); the caller
// prints them. The error never includes the file's content.
func ReadTokenFile(path string) (token exotel.Secret, warnings []string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return exotel.Secret{}, nil, fmt.Errorf("token file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return exotel.Secret{}, nil, fmt.Errorf("token file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return exotel.Secret{}, nil, fmt.Errorf("token file %s is not a regular file", path)
	}
	if w := looseMode(path, st); w != "" {
		warnings = append(warnings, w)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return exotel.Secret{}, nil, fmt.Errorf("token file: %w", err)
	}
	if len(data) > maxTokenFile {
		return exotel.Secret{}, nil, fmt.Errorf("token file %s is over %d bytes, too large to be a token; is it the right file?", path, maxTokenFile)
	}
	value := strings.TrimRight(string(data), " \t\r\n")
	if value == "" {
		return exotel.Secret{}, warnings, fmt.Errorf("token file %s is empty", path)
	}
	if strings.ContainsAny(value, "\r\n") {
		return exotel.Secret{}, warnings, fmt.Errorf("token file %s holds more than one line; it must hold the token alone", path)
	}
	return exotel.NewSecret(value), warnings, nil
}

// looseMode warns about a token file others can read. Group read is judged
// by looseGroup: Kubernetes makes Secret files group-readable for the pod's
// fsGroup by design, so it alone is not worth a warning every night.
func looseMode(path string, st fs.FileInfo) string {
	perm := st.Mode().Perm()
	switch {
	case perm&0o004 != 0:
		return fmt.Sprintf("token file %s is readable by every user on this machine (mode %04o); chmod 600 it", path, perm)
	case perm&0o040 != 0 && looseGroup(st):
		return fmt.Sprintf("token file %s is readable by its group (mode %04o); chmod 600 it", path, perm)
	}
	return ""
}

// ReadToken reads the resolved token: from its variable or file. warnings are
// for the caller to print (a file readable by others). A missing token is an
// error naming where it may be given.
func (s *Settings) ReadToken() (exotel.Secret, []string, error) {
	switch {
	case s.Token.File != "":
		tok, warn, err := ReadTokenFile(s.Token.File)
		if err != nil {
			return exotel.Secret{}, warn, fmt.Errorf("%w (named by %s)", err, s.Token.From)
		}
		return tok, warn, nil
	case s.Token.Env != "":
		v := strings.TrimSpace(s.getenv(s.Token.Env))
		if v == "" {
			return exotel.Secret{}, nil, fmt.Errorf("%s is not set (named by %s)", s.Token.Env, s.Token.From)
		}
		return exotel.NewSecret(v), nil, nil
	}
	return exotel.Secret{}, nil, errors.New(s.missing("token"))
}

// CCMCredentials returns the ccm account's key, SID and token (read now),
// or an error naming the first one missing and where it may be given.
func (s *Settings) CCMCredentials() (exotel.Credentials, []string, error) {
	if s.Target.V != TargetCCM {
		return exotel.Credentials{}, nil, fmt.Errorf("profile %s is a %s account, not ccm", s.Profile.V, s.Target.V)
	}
	if s.APIKey.V == "" {
		return exotel.Credentials{}, nil, errors.New(s.missing("api_key"))
	}
	tok, warn, err := s.ReadToken()
	if err != nil {
		return exotel.Credentials{}, warn, err
	}
	if s.AccountSID.V == "" {
		return exotel.Credentials{}, warn, errors.New(s.missing("account_sid"))
	}
	return exotel.Credentials{APIKey: s.APIKey.V, APIToken: tok, AccountSID: s.AccountSID.V}, warn, nil
}

// WebRTC identifies a WebRTC integrations app and carries its token.
type WebRTC struct {
	CustomerID string
	AppID      string
	Token      exotel.Secret
}

// WebRTCCredentials returns the webrtc app's ids and token (read now), or an
// error naming the first one missing.
func (s *Settings) WebRTCCredentials() (WebRTC, []string, error) {
	if s.Target.V != TargetWebRTC {
		return WebRTC{}, nil, fmt.Errorf("the target is %s, not webrtc", s.Target.V)
	}
	if s.CustomerID.V == "" {
		return WebRTC{}, nil, errors.New(s.missing("customer_id"))
	}
	if s.AppID.V == "" {
		return WebRTC{}, nil, errors.New(s.missing("app_id"))
	}
	tok, warn, err := s.ReadToken()
	if err != nil {
		return WebRTC{}, warn, err
	}
	return WebRTC{CustomerID: s.CustomerID.V, AppID: s.AppID.V, Token: tok}, warn, nil
}

// missing says that a setting is not set and where it could be. Without a
// profile the sentence starts as it always has ("EXOTEL_API_KEY is not
// set"), which scripts and tests match.
func (s *Settings) missing(key string) string {
	envName := map[string]string{
		"api_key":     EnvAPIKey,
		"account_sid": EnvAccountSID,
		"customer_id": EnvCustomerID,
		"app_id":      EnvAppID,
	}[key]
	if key == "token" {
		lit, file := EnvAPIToken, EnvAPITokenFile
		if s.Target.V == TargetWebRTC {
			lit, file = EnvWebRTCToken, EnvWebRTCTokenFile
		}
		if !s.Profile.Set() {
			return fmt.Sprintf("%s is not set (nor %s)", lit, file)
		}
		return fmt.Sprintf("no token: %s and %s are not set and profile %s in %s has no api_token_file or api_token_env",
			lit, file, s.Profile.V, s.ConfigFile.V)
	}
	if !s.Profile.Set() {
		// The webrtc ids have flags too, and have always said so.
		if flag := map[string]string{"customer_id": "--customer-id", "app_id": "--app-id"}[key]; flag != "" {
			return envName + " (or " + flag + ") is not set"
		}
		return envName + " is not set"
	}
	return fmt.Sprintf("%s is not set and profile %s in %s has no %s", envName, s.Profile.V, s.ConfigFile.V, key)
}
