package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"github.com/exoroster/exoroster/results/resultstest"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
)

// The offboard and update CLI tests keep their own helpers (off*), so they
// do not depend on other commands' test files.

const offToken = "0ffb0ard-t0ken-value"

// offFast keeps runs quick against the fake.
func offFast() []string { return []string{"--rate", "2000/s", "--burst", "8"} }

type offRun struct {
	code           ExitCode
	stdout, stderr string
}

// offCLI runs the program in-process against srv.
func offCLI(t *testing.T, srv *exoteltest.Server, env Env, args ...string) offRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	vars := map[string]string{
		"EXOTEL_API_KEY": "test-key", "EXOTEL_API_TOKEN": offToken, "EXOTEL_ACCOUNT_SID": "test-sid",
		"EXOTEL_BASE_URL": srv.URL(),
	}
	env.Stdout, env.Stderr = &stdout, &stderr
	env.Getenv = func(k string) string { return vars[k] }
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	code := run(context.Background(), append(args, offFast()...), env)
	r := offRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
	if strings.Contains(r.stdout+r.stderr, offToken) {
		t.Errorf("the token was printed:\n%s\n%s", r.stdout, r.stderr)
	}
	return r
}

func offServer(t *testing.T, opts exoteltest.Options) *exoteltest.Server {
	t.Helper()
	opts.APIToken = offToken
	srv := exoteltest.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}

func offFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func offStatuses(t *testing.T, path string) []string {
	t.Helper()
	lines := resultstest.ByRow(t, path)
	out := make([]string, len(lines))
	for row, l := range lines {
		if row < 1 || row > len(out) {
			t.Fatalf("row %d out of range", row)
		}
		out[row-1] = l["status"]
	}
	return out
}

func offNonGET(srv *exoteltest.Server) []string {
	var out []string
	for _, r := range srv.Requests() {
		if r.Method != http.MethodGet {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// offAccount seeds a small account: two admins and five agents with fixed
// ids, so output is stable.
func offAccount(srv *exoteltest.Server) []exotel.User {
	var seeds []exoteltest.SeedUser
	for i, n := range []string{"Asha Rao", "Ravi Nair", "Meera Iyer", "Vikram Das", "Kavya Menon", "Arjun Pillai", "Isha Bose"} {
		first, last, _ := strings.Cut(n, " ")
		s := exoteltest.SeedUser{ID: strings.Repeat(strconv.Itoa(i+1), 32), FirstName: first, LastName: last,
			Email: strings.ToLower(first) + "@corp.example.com", Phone: "+9198765000" + strconv.Itoa(10+i)}
		if i >= 5 {
			s.Role = "admin"
		}
		seeds = append(seeds, s)
	}
	return srv.Seed(seeds...)
}

const offLeavers = "user_id,email,mobile\n" +
	"11111111111111111111111111111111,,\n" +
	",RAVI@corp.example.com,\n" +
	",,098765 00012\n"

func TestOffboardCommandDryRunThenDelete(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	users := offAccount(srv)
	dir := t.TempDir()
	input := offFile(t, dir, "leavers.csv", offLeavers)

	r := offCLI(t, srv, Env{}, "offboard", input, "--dry-run")
	if r.code != ExitOK {
		t.Fatalf("dry run exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden(t, "offboard_dry_run.golden", normalize([]byte(r.stdout), dir))
	if got := offStatuses(t, filepath.Join(dir, "leavers.dry-run.csv")); !slices.Equal(got, []string{"would_delete", "would_delete", "would_delete"}) {
		t.Errorf("dry run statuses %v", got)
	}
	if w := offNonGET(srv); len(w) != 0 {
		t.Errorf("dry run sent %v", w)
	}

	out := filepath.Join(dir, "out.csv")
	r = offCLI(t, srv, Env{}, "offboard", input, "--results", out, "--yes")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := offStatuses(t, out); !slices.Equal(got, []string{"deleted", "deleted", "deleted"}) {
		t.Errorf("statuses %v", got)
	}
	if n := len(srv.Deleted()); n != 3 {
		t.Errorf("%d users deleted, want 3", n)
	}
	// The backup is export's format, synced before the DELETEs.
	backup := filepath.Join(dir, "out.backup.csv")
	data, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if len(recs) != 4 || !slices.Equal(recs[0], exporter.Columns()) || recs[1][0] != users[0].ID {
		t.Errorf("backup = %q", recs)
	}
	if !strings.Contains(r.stdout, "backup: "+backup) {
		t.Errorf("summary does not name the backup:\n%s", r.stdout)
	}

	// A rerun deletes nothing and reports every row not_found: exit 0.
	// (Starting afresh over the first run's results takes --overwrite.)
	deletes := srv.CountRequests("DELETE")
	r = offCLI(t, srv, Env{}, "offboard", input, "--results", out, "--yes", "--overwrite")
	if r.code != ExitOK || srv.CountRequests("DELETE") != deletes {
		t.Errorf("rerun exit %d, %d DELETEs\n%s", r.code, srv.CountRequests("DELETE")-deletes, r.stderr)
	}
	if got := offStatuses(t, out); !slices.Equal(got, []string{"not_found", "not_found", "not_found"}) {
		t.Errorf("rerun statuses %v", got)
	}
	// The rerun appended nothing to the backup and did not truncate it.
	if again, _ := os.ReadFile(backup); !bytes.Equal(again, data) {
		t.Error("the rerun changed the backup")
	}
}

func TestOffboardCommandRefusesWithoutYesOffTerminal(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	offAccount(srv)
	input := offFile(t, t.TempDir(), "leavers.csv", offLeavers)
	r := offCLI(t, srv, Env{}, "offboard", input)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "pass --yes") {
		t.Errorf("exit %d, stderr %q; want 2 and a sentence naming --yes", r.code, r.stderr)
	}
	if strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("want one sentence, got %q", r.stderr)
	}
	if n := srv.CountRequests(""); n != 0 {
		t.Errorf("%d requests sent before refusing", n)
	}
}

func TestOffboardCommandAsksOnATerminal(t *testing.T) {
	for _, tc := range []struct {
		answer  string
		code    ExitCode
		deleted int
		status  string
	}{
		{"yes\n", ExitOK, 3, "deleted"},
		{"no\n", ExitAborted, 0, "skipped"},
		{"YES please\n", ExitAborted, 0, "skipped"},
		{"", ExitAborted, 0, "skipped"},
	} {
		t.Run(strings.TrimSpace(tc.answer), func(t *testing.T) {
			srv := offServer(t, exoteltest.Options{})
			offAccount(srv)
			dir := t.TempDir()
			input := offFile(t, dir, "leavers.csv", offLeavers)
			r := offCLI(t, srv, Env{Interactive: true, Stdin: strings.NewReader(tc.answer)}, "offboard", input)
			if r.code != tc.code || len(srv.Deleted()) != tc.deleted {
				t.Fatalf("exit %d, %d deleted; want %d, %d\n%s", r.code, len(srv.Deleted()), tc.code, tc.deleted, r.stderr)
			}
			for _, want := range []string{"About to delete 3 users", "Asha Rao <asha@corp.example.com> (user)",
				"Meera Iyer <meera@corp.example.com> (user)", "Delete 3 users? Type yes to continue:"} {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("prompt lacks %q:\n%s", want, r.stderr)
				}
			}
			if tc.code == ExitAborted {
				if !strings.Contains(r.stderr, "nothing was deleted") || len(offNonGET(srv)) != 0 {
					t.Errorf("refusal: stderr %q, requests %v", r.stderr, offNonGET(srv))
				}
				// A declined prompt is no fault to fix: the next step says how
				// to delete after all.
				if !strings.Contains(r.stdout, "--resume  (the deletion was not confirmed: run this and type yes to delete, or add --yes)") ||
					strings.Contains(r.stdout, "cause below") {
					t.Errorf("next step after a declined prompt:\n%s", r.stdout)
				}
			}
			for i, st := range offStatuses(t, filepath.Join(dir, "leavers.results.csv")) {
				if st != tc.status {
					t.Errorf("row %d: %s, want %s", i+1, st, tc.status)
				}
			}
		})
	}
}

func TestOffboardCommandMaxDelete(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	offAccount(srv)
	dir := t.TempDir()
	input := offFile(t, dir, "leavers.csv", offLeavers+",gone@corp.example.com,\n")
	r := offCLI(t, srv, Env{}, "offboard", input, "--yes", "--max-delete", "2")
	if r.code != ExitAborted || !strings.Contains(r.stderr, "more than --max-delete 2") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if w := offNonGET(srv); len(w) != 0 {
		t.Errorf("sent %v", w)
	}
	lines := resultstest.ByRow(t, filepath.Join(dir, "leavers.results.csv"))
	for row := 1; row <= 3; row++ {
		if l := lines[row]; l["status"] != "skipped" || !strings.Contains(l["message"], "--max-delete") {
			t.Errorf("row %d = %v", row, l)
		}
	}
	if lines[4]["status"] != "not_found" {
		t.Errorf("row 4 = %v", lines[4])
	}
	// --dry-run warns instead.
	r = offCLI(t, srv, Env{}, "offboard", input, "--dry-run", "--max-delete", "2")
	if r.code != ExitOK || !strings.Contains(r.stderr, "a real run would delete nothing") {
		t.Errorf("dry run exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestOffboardCommandAdminsAndExitCodes(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	offAccount(srv)
	dir := t.TempDir()
	// Both admins listed: without --allow-admins both are protected.
	input := offFile(t, dir, "admins.csv", "email\narjun@corp.example.com\nisha@corp.example.com\n")
	r := offCLI(t, srv, Env{}, "offboard", input, "--yes")
	if r.code != ExitRowsNotDone || len(srv.Deleted()) != 0 {
		t.Errorf("exit %d, %d deleted; want 3, 0", r.code, len(srv.Deleted()))
	}
	// With it, one goes and the last admin stays. (Starting afresh over
	// the first run's results takes --overwrite.)
	r = offCLI(t, srv, Env{}, "offboard", input, "--yes", "--allow-admins", "--overwrite")
	got := offStatuses(t, filepath.Join(dir, "admins.results.csv"))
	if r.code != ExitRowsNotDone || !slices.Equal(got, []string{"deleted", "protected"}) {
		t.Errorf("exit %d, statuses %v\n%s", r.code, got, r.stdout)
	}
	if !strings.Contains(r.stdout, "admins in the account: 2") {
		t.Errorf("summary:\n%s", r.stdout)
	}
}

func TestOffboardCommandStops(t *testing.T) {
	t.Run("usage", func(t *testing.T) {
		srv := offServer(t, exoteltest.Options{})
		input := offFile(t, t.TempDir(), "l.csv", offLeavers)
		for _, args := range [][]string{
			{"offboard"},
			{"offboard", input, "--yes", "--max-delete", "0"},
			{"offboard", input, "--yes", "--results", input},
			{"offboard", input, "--yes", "--default-region", "XX"},
		} {
			if r := offCLI(t, srv, Env{}, args...); r.code != ExitUsage {
				t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.stderr)
			}
		}
		if n := srv.CountRequests(""); n != 0 {
			t.Errorf("%d requests", n)
		}
	})
	t.Run("no lookup column", func(t *testing.T) {
		srv := offServer(t, exoteltest.Options{})
		input := offFile(t, t.TempDir(), "l.csv", "first_name,last_name\nA,B\n")
		if r := offCLI(t, srv, Env{}, "offboard", input, "--yes"); r.code != ExitAborted || !strings.Contains(r.stderr, "user_id, email or phone") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("credentials refused", func(t *testing.T) {
		srv := exoteltest.NewServer(exoteltest.Options{APIToken: "another"})
		t.Cleanup(srv.Close)
		offAccount(srv)
		dir := t.TempDir()
		input := offFile(t, dir, "l.csv", offLeavers)
		r := offCLI(t, srv, Env{}, "offboard", input, "--yes")
		if r.code != ExitAborted || !strings.Contains(r.stderr, "EXOTEL_API_TOKEN") || len(srv.Deleted()) != 0 {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
		if got := offStatuses(t, filepath.Join(dir, "l.results.csv")); !slices.Equal(got, []string{"skipped", "skipped", "skipped"}) {
			t.Errorf("statuses %v", got)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		srv := offServer(t, exoteltest.Options{})
		offAccount(srv)
		stop := make(chan struct{})
		close(stop)
		input := offFile(t, t.TempDir(), "l.csv", offLeavers)
		r := offCLI(t, srv, Env{Interrupt: stop}, "offboard", input, "--yes")
		if r.code != ExitInterrupted || len(srv.Deleted()) != 0 || !strings.Contains(r.stderr, "nothing was deleted") {
			t.Errorf("exit %d, %d deleted, stderr %q", r.code, len(srv.Deleted()), r.stderr)
		}
	})
	t.Run("interrupted mid-run", func(t *testing.T) {
		srv := offServer(t, exoteltest.Options{Latency: 20 * time.Millisecond})
		offAccount(srv)
		stop := make(chan struct{})
		deletes := 0
		srv.SetOnRequest(func(r *http.Request) {
			if r.Method == http.MethodDelete {
				if deletes++; deletes == 1 {
					close(stop)
				}
			}
		})
		dir := t.TempDir()
		input := offFile(t, dir, "l.csv", offLeavers)
		r := offCLI(t, srv, Env{Interrupt: stop}, "offboard", input, "--yes", "--workers", "1")
		got := offStatuses(t, filepath.Join(dir, "l.results.csv"))
		slices.Sort(got)
		if r.code != ExitInterrupted || !slices.Equal(got, []string{"deleted", "skipped", "skipped"}) || len(srv.Deleted()) != 1 {
			t.Errorf("exit %d, statuses %v, %d deleted\n%s", r.code, got, len(srv.Deleted()), r.stderr)
		}
	})
}
