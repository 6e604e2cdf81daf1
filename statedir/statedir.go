// Package statedir finds and creates exoroster's per-user state directory,
// where run locks and per-account state files live: --state-dir when given,
// else $XDG_STATE_HOME/exoroster, else ~/.local/state/exoroster (the XDG Base
// Directory rules). The environment is passed in, never read here.
package statedir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// App is the directory's name under the XDG state home.
const App = "exoroster"

// Resolve returns the state directory without creating it. override is the
// --state-dir flag's value ("" when not given); it is used as it is, with no
// exoroster/ appended, so a container can point it at a mounted volume.
func Resolve(getenv func(string) string, override string) (string, error) {
	if override != "" {
		return filepath.Abs(override)
	}
	// The spec says a relative XDG_STATE_HOME is invalid and to be ignored.
	if x := getenv("XDG_STATE_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, App), nil
	}
	home, err := Home(getenv)
	if err != nil {
		return "", fmt.Errorf("no state directory: %w; give --state-dir or set XDG_STATE_HOME", err)
	}
	return filepath.Join(home, ".local", "state", App), nil
}

// Home is the user's home directory from the environment: HOME, or
// USERPROFILE on Windows.
func Home(getenv func(string) string) (string, error) {
	for _, name := range []string{"HOME", "USERPROFILE"} {
		if h := getenv(name); h != "" && filepath.IsAbs(h) {
			return h, nil
		}
	}
	return "", errors.New("HOME is not set")
}

// Ensure creates dir (and its parents) readable only by the user, since
// lock files name PIDs and state files name accounts.
func Ensure(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	return nil
}

// TempFallback is the state directory of a process with neither HOME nor
// XDG_STATE_HOME (a bare cron job or container): exoroster-<uid> under the
// system's temporary directory, shared by every such process of the user
// so their locks still exclude one another. It creates the directory
// (0700) and checks that it is a directory of this user's, closed to
// others: in a shared /tmp another user could otherwise plant a link
// where a lock file will be written.
func TempFallback() (string, error) {
	dir := filepath.Join(os.TempDir(), App+"-"+strconv.Itoa(os.Getuid()))
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("state directory: %w", err)
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("state directory: %w", err)
	}
	if !info.IsDir() || info.Mode().Perm()&0o077 != 0 || !ownedByMe(info) {
		return "", fmt.Errorf("state directory %s is not a private directory of this user's", dir)
	}
	return dir, nil
}
