package exotel

import (
	"net/http"
	"strings"
	"testing"
)

func TestCheckBaseURL(t *testing.T) {
	const pass = "p4ssW0rdXYZ" // must never be echoed
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string // substring of the error; "" for success
	}{
		{name: "https host", in: "https://ccm-api.exotel.com", want: "https://ccm-api.exotel.com"},
		{name: "https mumbai", in: "https://ccm-api.in.exotel.com", want: "https://ccm-api.in.exotel.com"},
		{name: "trailing slash removed", in: "https://ccm-api.exotel.com/", want: "https://ccm-api.exotel.com"},
		{name: "surrounding space trimmed", in: "  https://ccm-api.exotel.com  ", want: "https://ccm-api.exotel.com"},
		{name: "https with port", in: "https://api.example.com:8443", want: "https://api.example.com:8443"},
		{name: "upper-case scheme", in: "HTTPS://ccm-api.exotel.com", want: "https://ccm-api.exotel.com"},
		{name: "http localhost", in: "http://localhost:8080", want: "http://localhost:8080"},
		{name: "http LOCALHOST", in: "http://LOCALHOST:8080/", want: "http://LOCALHOST:8080"},
		{name: "http 127.0.0.1", in: "http://127.0.0.1:54321", want: "http://127.0.0.1:54321"},
		{name: "http [::1]", in: "http://[::1]:9000", want: "http://[::1]:9000"},
		{name: "http remote host", in: "http://ccm-api.exotel.com", wantErr: "plain http"},
		{name: "http private address", in: "http://10.0.0.1:80", wantErr: "plain http"},
		{name: "http localhost lookalike", in: "http://localhost.example.com", wantErr: "plain http"},
		{name: "path", in: "https://ccm-api.exotel.com/v2/accounts/x/users", wantErr: "scheme and host only"},
		{name: "query", in: "https://ccm-api.exotel.com?region=sg", wantErr: "scheme and host only"},
		{name: "fragment", in: "https://ccm-api.exotel.com#top", wantErr: "scheme and host only"},
		{name: "userinfo", in: "https://key:" + pass + "@ccm-api.exotel.com", wantErr: "EXOTEL_API_TOKEN"},
		{name: "userinfo on loopback http", in: "http://key:" + pass + "@127.0.0.1:8080", wantErr: "EXOTEL_API_TOKEN"},
		{name: "userinfo with a slash in the token", in: "https://key:" + pass + "/x@ccm-api.exotel.com", wantErr: "EXOTEL_API_TOKEN"},
		{name: "userinfo and no host", in: "https://key:" + pass + "@", wantErr: "EXOTEL_API_TOKEN"},
		{name: "userinfo and a bad port", in: "https://key:" + pass + "@ccm-api.exotel.com:abc", wantErr: "EXOTEL_API_TOKEN"},
		{name: "userinfo and a bad escape", in: "https://key:" + pass + "%zz@ccm-api.exotel.com", wantErr: "EXOTEL_API_TOKEN"},
		{name: "ftp scheme", in: "ftp://ccm-api.exotel.com", wantErr: "must start with https://"},
		{name: "ws scheme", in: "ws://127.0.0.1:8080", wantErr: "must start with https://"},
		{name: "no scheme", in: "ccm-api.exotel.com", wantErr: "not a URL"},
		{name: "host and port, no scheme", in: "localhost:8080", wantErr: "not a URL"},
		{name: "empty", in: "", wantErr: "not a URL"},
		{name: "scheme only", in: "https://", wantErr: "not a URL"},
		{name: "garbage", in: "::not a url::", wantErr: "not a URL"},
		{name: "control character", in: "https://ccm-api.exotel.com\x7f", wantErr: "not a URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CheckBaseURL(tc.in)
			if tc.wantErr == "" {
				if err != nil || got != tc.want {
					t.Errorf("CheckBaseURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckBaseURL(%q) = %q, want an error", tc.in, got)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			if strings.Contains(tc.wantErr, "EXOTEL_API_TOKEN") && !strings.Contains(err.Error(), "EXOTEL_API_KEY") {
				t.Errorf("error %q does not name EXOTEL_API_KEY", err)
			}
			if strings.Contains(err.Error(), pass) {
				t.Errorf("error %q echoes the password", err)
			}
		})
	}
}

func TestResolveBaseURL(t *testing.T) {
	const sg, in = "https://ccm-api.exotel.com", "https://ccm-api.in.exotel.com"
	tests := []struct {
		name, region, override string
		want, wantErr          string
	}{
		{name: "default", want: sg},
		{name: "sg", region: "sg", want: sg},
		{name: "SG", region: "SG", want: sg},
		{name: "singapore", region: " Singapore ", want: sg},
		{name: "mumbai", region: "mumbai", want: in},
		{name: "in", region: "in", want: in},
		{name: "india", region: "India", want: in},
		{name: "unknown region", region: "tokyo", wantErr: `unknown region "tokyo"`},
		{name: "override wins", region: "tokyo", override: "http://127.0.0.1:8080/", want: "http://127.0.0.1:8080"},
		{name: "override is checked", region: "sg", override: "http://ccm-api.exotel.com", wantErr: "plain http"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolveBaseURL(tc.region, tc.override)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("ResolveBaseURL(%q, %q) = %q, %v; want error containing %q", tc.region, tc.override, got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ResolveBaseURL(%q, %q) = %q, %v; want %q", tc.region, tc.override, got, err, tc.want)
			}
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.1.2.3": true, "::1": true,
		"": false, "0.0.0.0": false, "10.0.0.1": false, "example.com": false, "localhost.example.com": false,
	} {
		t.Run(host, func(t *testing.T) {
			if got := IsLoopback(host); got != want {
				t.Errorf("IsLoopback(%q) = %v, want %v", host, got, want)
			}
		})
	}
}

func TestCheckCredentials(t *testing.T) {
	tok := NewSecret("t")
	tests := []struct {
		name    string
		creds   Credentials
		wantErr string
	}{
		{name: "nothing set", creds: Credentials{}, wantErr: "EXOTEL_API_KEY"},
		{name: "token and sid only", creds: Credentials{APIToken: tok, AccountSID: "s"}, wantErr: "EXOTEL_API_KEY"},
		{name: "key only", creds: Credentials{APIKey: "k"}, wantErr: "EXOTEL_API_TOKEN"},
		{name: "key and sid", creds: Credentials{APIKey: "k", AccountSID: "s"}, wantErr: "EXOTEL_API_TOKEN"},
		{name: "empty token", creds: Credentials{APIKey: "k", APIToken: NewSecret(""), AccountSID: "s"}, wantErr: "EXOTEL_API_TOKEN"},
		{name: "key and token", creds: Credentials{APIKey: "k", APIToken: tok}, wantErr: "EXOTEL_ACCOUNT_SID"},
		{name: "all set", creds: Credentials{APIKey: "k", APIToken: tok, AccountSID: "s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckCredentials(tc.creds)
			if tc.wantErr == "" {
				if err != nil {
					t.Errorf("CheckCredentials = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("CheckCredentials = %v, want an error naming %s", err, tc.wantErr)
			}
			for _, other := range []string{"EXOTEL_API_KEY", "EXOTEL_API_TOKEN", "EXOTEL_ACCOUNT_SID"} {
				if other != tc.wantErr && strings.Contains(err.Error(), other) {
					t.Errorf("error %q names %s too; it should name only the first missing one", err, other)
				}
			}
			// New reports the same thing.
			if _, nerr := New(Options{BaseURL: "https://ccm-api.exotel.com", Credentials: tc.creds,
				HTTPClient: &http.Client{}}); nerr == nil || nerr.Error() != err.Error() {
				t.Errorf("New: %v, want %v", nerr, err)
			}
		})
	}
}

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "no HTTP client", opts: Options{BaseURL: "https://ccm-api.exotel.com", Credentials: testCreds()}, wantErr: "HTTP client"},
		{name: "bad base URL", opts: Options{BaseURL: "http://example.com", Credentials: testCreds(), HTTPClient: &http.Client{}}, wantErr: "plain http"},
		{name: "ok", opts: Options{BaseURL: "https://ccm-api.exotel.com/", Credentials: testCreds(), HTTPClient: &http.Client{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || c != nil {
					t.Errorf("New = %v, %v; want an error containing %q", c, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := "https://ccm-api.exotel.com/v2/accounts/test-sid/users"; c.usersURL != want {
				t.Errorf("usersURL = %q, want %q", c.usersURL, want)
			}
		})
	}
}
