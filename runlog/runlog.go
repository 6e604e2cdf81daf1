// Package runlog builds a run's structured logger: text or JSON on stderr,
// every line tagged with the run's id, command and account, and people's
// emails and phone numbers kept out of every line above debug level.
package runlog

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
)

// Format is --log-format's value.
type Format string

const (
	FormatText Format = "text"
	FormatJSON Format = "json"
)

// ParseFormat reads --log-format.
func ParseFormat(s string) (Format, error) {
	switch Format(strings.ToLower(strings.TrimSpace(s))) {
	case FormatText, "":
		return FormatText, nil
	case FormatJSON:
		return FormatJSON, nil
	}
	return "", fmt.Errorf("log format %q: use text or json", s)
}

// Options configure a run's logger.
type Options struct {
	Format Format
	Level  slog.Leveler
	// RunID ties a run's lines together (NewRunID); Command is the
	// subcommand (export, import, …); Account is the profile name or
	// account SID: never a key or token.
	RunID, Command, Account string
}

// Keys every line carries.
const (
	KeyRunID   = "run_id"
	KeyCommand = "command"
	KeyAccount = "account"
)

// New builds the logger. Its handler redacts emails and phone numbers at
// every level above debug (see Redact).
func New(w io.Writer, o Options) *slog.Logger {
	opts := &slog.HandlerOptions{Level: o.Level}
	var h slog.Handler
	if o.Format == FormatJSON {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(Redact(h)).With(KeyRunID, o.RunID, KeyCommand, o.Command, KeyAccount, o.Account)
}

// NewRunID returns an id that sorts by start time and is unique enough to
// tell apart runs started in the same second: 20260102T030405Z-1a2b3c.
func NewRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}
