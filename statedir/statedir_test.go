package statedir

import (
	"os"
	"path/filepath"
	"testing"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name     string
		env      map[string]string
		override string
		want     string
		wantErr  bool
	}{
		{name: "flag wins", env: map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}, override: "/data/state", want: "/data/state"},
		{name: "XDG_STATE_HOME", env: map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}, want: "/x/exoroster"},
		{name: "relative XDG_STATE_HOME ignored", env: map[string]string{"XDG_STATE_HOME": "rel", "HOME": "/h"}, want: "/h/.local/state/exoroster"},
		{name: "home fallback", env: map[string]string{"HOME": "/h"}, want: "/h/.local/state/exoroster"},
		{name: "windows profile", env: map[string]string{"USERPROFILE": "/u"}, want: "/u/.local/state/exoroster"},
		{name: "nothing", env: map[string]string{}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Resolve(func(k string) string { return tc.env[k] }, tc.override)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != filepath.FromSlash(tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestResolveRelativeOverrideIsAbsolute(t *testing.T) {
	got, err := Resolve(func(string) string { return "" }, "state")
	if err != nil {
		t.Fatal(err)
	}
	if !filepath.IsAbs(got) || filepath.Base(got) != "state" {
		t.Errorf("got %q, want an absolute path ending in state", got)
	}
}

func TestEnsureMakesPrivateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := Ensure(dir); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !st.IsDir() || st.Mode().Perm()&0o077 != 0 {
		t.Errorf("mode %v, want a directory only the user can read", st.Mode())
	}
	if err := Ensure(dir); err != nil {
		t.Errorf("second Ensure: %v", err)
	}
}
