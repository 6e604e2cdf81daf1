package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestMain keeps the tests apart from the developer's exoroster and from
// other test processes: the programs the tests start read a config file,
// and take locks in a state directory, of this process's own; a run without
// HOME falls back to a lock directory under TMPDIR, here this process's own
// too. Without it two test runs at once would hold each other's account
// locks (every test uses the account test-sid).
func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "exoroster-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	for name, sub := range map[string]string{"TMPDIR": "tmp", "XDG_STATE_HOME": "state", "XDG_CONFIG_HOME": "config"} {
		path := filepath.Join(dir, sub)
		if err := os.Mkdir(path, 0o700); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Setenv(name, path)
	}
	for _, name := range []string{"EXOROSTER_CONFIG", "EXOTEL_PROFILE", "EXOTEL_PROFILE_INDEX"} {
		os.Unsetenv(name)
	}
	return m.Run()
}
