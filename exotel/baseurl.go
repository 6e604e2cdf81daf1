package exotel

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ResolveBaseURL picks the API's base URL: override (EXOTEL_BASE_URL or
// --base-url) when set, otherwise the region's host. The document names the
// Singapore cluster ccm-api.exotel.com and Mumbai ccm-api.in.exotel.com.
func ResolveBaseURL(region, override string) (string, error) {
	if override != "" {
		return CheckBaseURL(override)
	}
	switch strings.ToLower(strings.TrimSpace(region)) {
	case "sg", "singapore", "":
		return "https://ccm-api.exotel.com", nil
	case "mumbai", "in", "india":
		return "https://ccm-api.in.exotel.com", nil
	}
	return "", fmt.Errorf("unknown region %q: use sg or mumbai", region)
}

func errBaseURLCredentials() error {
	return errors.New("base URL must not carry credentials; set EXOTEL_API_KEY and EXOTEL_API_TOKEN instead")
}

// CheckBaseURL accepts a scheme and host (and port) only: https anywhere,
// plain http only on loopback, where nothing leaves the machine. It returns
// the URL without a trailing slash.
func CheckBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		if strings.Contains(raw, "@") { // do not echo what may be key:token@
			return "", errBaseURLCredentials()
		}
		return "", fmt.Errorf("base URL %q is not a URL like https://ccm-api.exotel.com", raw)
	}
	if u.User != nil {
		return "", errBaseURLCredentials()
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("base URL %q must be a scheme and host only; the tool appends /v2/accounts/<sid>/users", u.Redacted())
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return "", fmt.Errorf("base URL %q uses plain http, which is allowed only for loopback hosts; use https", u.Redacted())
		}
	default:
		return "", fmt.Errorf("base URL %q must start with https://", u.Redacted())
	}
	return u.Scheme + "://" + u.Host, nil
}

// IsLoopback reports whether host names this machine.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
