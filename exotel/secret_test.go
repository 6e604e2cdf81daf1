package exotel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// holder keeps credentials in an unexported field, as Client does; fmt
// cannot call methods on such a field and prints it by reflection.
type holder struct {
	name  string
	creds Credentials
}

func TestSecretFmt(t *testing.T) {
	s := NewSecret(testToken)
	creds := testCreds()
	client, err := New(Options{BaseURL: "https://ccm-api.exotel.com", Credentials: creds, HTTPClient: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	values := []struct {
		name string
		v    any
	}{
		{"Secret", s},
		{"*Secret", &s},
		{"Credentials", creds},
		{"*Credentials", &creds},
		{"slice of Secret", []Secret{s}},
		{"map of Secret", map[string]Secret{"t": s}},
		{"unexported field", holder{name: "h", creds: creds}},
		{"*Client", client},
		{"Client", *client},
	}
	verbs := []string{"%v", "%s", "%+v", "%#v", "%q", "%x", "%X", "%d", "%T %v"}
	for _, val := range values {
		for _, verb := range verbs {
			t.Run(val.name+" "+verb, func(t *testing.T) {
				var out string
				if strings.HasPrefix(verb, "%T") {
					out = fmt.Sprintf(verb, val.v, val.v)
				} else {
					out = fmt.Sprintf(verb, val.v)
				}
				if strings.Contains(out, testToken) || strings.Contains(out, fmt.Sprintf("%x", testToken)) {
					t.Errorf("Sprintf(%q) = %s shows the token", verb, out)
				}
			})
		}
	}
	if got := fmt.Sprint(s); got != "REDACTED" {
		t.Errorf("Sprint(secret) = %q, want REDACTED", got)
	}
	if got := s.String() + s.GoString(); strings.Contains(got, testToken) {
		t.Errorf("String/GoString = %q", got)
	}
	if got := fmt.Sprintf("%+v", creds); !strings.Contains(got, "APIToken:REDACTED") || !strings.Contains(got, testKey) {
		t.Errorf("%%+v of Credentials = %q, want the key shown and the token REDACTED", got)
	}
}

func TestSecretSlog(t *testing.T) {
	s := NewSecret(testToken)
	creds := testCreds()
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	}
	attrs := []struct {
		name string
		args []any
	}{
		{"secret value", []any{"token", s}},
		{"secret pointer", []any{"token", &s}},
		{"slog.Any", []any{slog.Any("token", s)}},
		{"credentials struct", []any{"creds", creds}},
		{"credentials pointer", []any{"creds", &creds}},
		{"group", []any{slog.Group("auth", "token", s, "key", testKey)}},
		{"unexported field", []any{"holder", holder{name: "h", creds: creds}}},
		{"map", []any{"m", map[string]Secret{"t": s}}},
	}
	for hname, mk := range handlers {
		for _, a := range attrs {
			t.Run(hname+" "+a.name, func(t *testing.T) {
				var buf bytes.Buffer
				slog.New(mk(&buf)).Info("auth", a.args...)
				slog.New(mk(&buf)).With(a.args...).Info("with")
				slog.New(mk(&buf)).WithGroup("g").Info("in group", a.args...)
				if strings.Contains(buf.String(), testToken) {
					t.Errorf("log shows the token:\n%s", buf.String())
				}
			})
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("auth", "token", s)
	if !strings.Contains(buf.String(), `"token":"REDACTED"`) {
		t.Errorf("JSON log = %s, want token REDACTED", buf.String())
	}
}

func TestSecretJSON(t *testing.T) {
	creds := testCreds()
	tests := []struct {
		name string
		v    any
	}{
		{"secret", NewSecret(testToken)},
		{"credentials", creds},
		{"credentials pointer", &creds},
		{"nested", map[string]any{"creds": []Credentials{creds}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), testToken) || !strings.Contains(string(b), `"REDACTED"`) {
				t.Errorf("json = %s, want the token REDACTED", b)
			}
		})
	}
}

func TestSecretRevealEmpty(t *testing.T) {
	tests := []struct {
		name      string
		s         Secret
		wantEmpty bool
		reveal    string
	}{
		{"zero value", Secret{}, true, ""},
		{"empty string", NewSecret(""), true, ""},
		{"token", NewSecret(testToken), false, testToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.s.Empty() != tc.wantEmpty || tc.s.Reveal() != tc.reveal {
				t.Errorf("Empty, Reveal = %v, %q; want %v, %q", tc.s.Empty(), tc.s.Reveal(), tc.wantEmpty, tc.reveal)
			}
		})
	}
}
