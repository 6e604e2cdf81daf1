package exotel

import (
	"fmt"
	"log/slog"
)

// Secret holds the API token. Every way of printing it (fmt verbs, slog,
// JSON) shows REDACTED, so it cannot leak into logs or results by accident;
// only Reveal gives the value, and only the client's auth header calls it.
// The value sits behind a pointer: fmt cannot call Format on a Secret in an
// unexported field (Client.creds) and prints it by reflection, which shows
// a nested pointer as an address, never the string.
type Secret struct{ value *string }

// NewSecret wraps a token.
func NewSecret(s string) Secret { return Secret{value: &s} }

const redacted = "REDACTED"

func (s Secret) String() string                { return redacted }
func (s Secret) GoString() string              { return redacted }
func (s Secret) LogValue() slog.Value          { return slog.StringValue(redacted) }
func (s Secret) MarshalText() ([]byte, error)  { return []byte(redacted), nil }
func (s Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// Empty reports whether no token was given.
func (s Secret) Empty() bool { return s.Reveal() == "" }

// Reveal returns the token itself. Use it only to authenticate a request.
func (s Secret) Reveal() string {
	if s.value == nil {
		return ""
	}
	return *s.value
}

// Credentials identify an Exotel account.
type Credentials struct {
	APIKey     string
	APIToken   Secret
	AccountSID string
}
