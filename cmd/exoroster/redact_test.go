package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
)

// At debug level the log shows neither credential, and no email or number
// from a filtered lookup, even when every lookup's connection drops (the
// transport's error text repeats the whole URL, query and all).
func TestDebugLogHidesKeyTokenAndFilterValues(t *testing.T) {
	const key = "k3y-distinct-4bcd-ef01"
	srv := offServer(t, exoteltest.Options{APIKey: key, DropBeforeRate: 1})
	dir := t.TempDir()
	emails := []string{"asha.rao+ops@corp.example.com", "ravi@corp.example.com"}
	phones := []string{"+919876500012"}
	input := offFile(t, dir, "leavers.csv", "email,phone\n"+emails[0]+",\n"+emails[1]+",\n,"+phones[0]+"\n")
	var stdout, stderr strings.Builder
	vars := map[string]string{"EXOTEL_API_KEY": key, "EXOTEL_API_TOKEN": offToken, "EXOTEL_ACCOUNT_SID": "test-sid",
		"EXOTEL_BASE_URL": srv.URL()}
	code := run(t.Context(), []string{"offboard", input, "--dry-run", "--results", filepath.Join(dir, "out.csv"),
		"--log-level", "debug", "--max-attempts", "2", "--rate", "2000/s"}, Env{
		Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return vars[k] }})
	log := stderr.String()
	if code == ExitOK || !strings.Contains(log, "request failed") || !strings.Contains(log, `api_key=REDACTED`) {
		t.Fatalf("exit %d; want failed lookups logged at debug level with the key REDACTED:\n%s", code, log)
	}
	for _, secret := range append(append([]string{key, offToken}, emails...), phones...) {
		for _, form := range []string{secret, url.QueryEscape(secret)} {
			if strings.Contains(log, form) || strings.Contains(stdout.String(), form) {
				t.Errorf("%q appears in the output:\n%s\n%s", form, stdout.String(), log)
			}
		}
	}
}
