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

func TestTempFallbackIsPrivate(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir, err := TempFallback()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != tmp {
		t.Errorf("fallback %s is not under TMPDIR %s", dir, tmp)
	}
	info, err := os.Stat(dir)
	if err != nil || info.Mode().Perm() != 0o700 {
		t.Fatalf("fallback %v, %v; want a 0700 directory", info, err)
	}
	if again, err := TempFallback(); err != nil || again != dir {
		t.Errorf("second call: %s, %v", again, err)
	}
	// One that others may write to, or a link planted in its place, is
	// refused.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := TempFallback(); err == nil {
		t.Error("a world-writable fallback was accepted")
	}
	os.Remove(dir)
	if err := os.Symlink(t.TempDir(), dir); err != nil {
		t.Fatal(err)
	}
	if _, err := TempFallback(); err == nil {
		t.Error("a link in the fallback's place was accepted")
	}
}
