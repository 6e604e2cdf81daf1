package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/results/resultstest"
)

// guardCLI is offCLI with more environment: a state directory, say.
func guardCLI(t *testing.T, srv *exoteltest.Server, extra map[string]string, env Env, args ...string) offRun {
	t.Helper()
	var stdout, stderr bytes.Buffer
	vars := map[string]string{
		"EXOTEL_API_KEY": "test-key", "EXOTEL_API_TOKEN": offToken, "EXOTEL_ACCOUNT_SID": "test-sid",
		"EXOTEL_BASE_URL": srv.URL(),
	}
	for k, v := range extra {
		vars[k] = v
	}
	env.Stdout, env.Stderr = &stdout, &stderr
	env.Getenv = func(k string) string { return vars[k] }
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	code := run(context.Background(), append(args, offFast()...), env)
	return offRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// Every row command refuses to replace an earlier run's results file:
// before any request, with exit 1 and the two ways on. --overwrite keeps
// the old file as .bak; a dry run's preview is replaced without asking.
func TestRowCommandsNeverReplaceResultsByAccident(t *testing.T) {
	tests := []struct {
		name  string
		input string
		args  []string
	}{
		{"import", "first_name,last_name,email\nNew,Person,new.person@corp.example.com\nOther,Person,other.person@corp.example.com\n",
			[]string{"import"}},
		{"offboard", offLeavers, []string{"offboard", "--yes"}},
		{"update", "email,last_name\nasha@corp.example.com,Rao-Iyer\nravi@corp.example.com,Nair-Das\n", []string{"update"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := offServer(t, exoteltest.Options{})
			offAccount(srv)
			dir := t.TempDir()
			input := offFile(t, dir, "in.csv", tc.input)
			res := filepath.Join(dir, "out.csv")
			args := append(slices.Clone(tc.args), input, "--results", res)
			if r := offCLI(t, srv, Env{}, args...); r.code != ExitOK {
				t.Fatalf("first run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			first, _ := os.ReadFile(res)
			requests := srv.CountRequests("")

			r := offCLI(t, srv, Env{}, args...)
			if r.code != ExitAborted || !strings.Contains(r.stderr, "--resume") || !strings.Contains(r.stderr, "--overwrite") ||
				!strings.Contains(r.stderr, "already holds the results of an earlier run") {
				t.Errorf("rerun: exit %d, stderr %q; want 1 and the way to continue or start afresh", r.code, r.stderr)
			}
			if n := srv.CountRequests("") - requests; n != 0 {
				t.Errorf("the refused rerun sent %d requests", n)
			}
			if now, _ := os.ReadFile(res); !bytes.Equal(now, first) {
				t.Error("the refused rerun changed the results file")
			}

			// A dry run does not replace them either.
			if r := offCLI(t, srv, Env{}, append(slices.Clone(args), "--dry-run")...); r.code != ExitAborted {
				t.Errorf("dry run over the results: exit %d, want 1", r.code)
			}

			r = offCLI(t, srv, Env{}, append(slices.Clone(args), "--overwrite")...)
			if r.code != ExitOK && r.code != ExitRowsNotDone {
				t.Fatalf("--overwrite: exit %d\n%s", r.code, r.stderr)
			}
			baks, _ := filepath.Glob(res + ".*.bak")
			if len(baks) != 1 || !strings.Contains(r.stderr, "the earlier results are kept as "+baks[0]) {
				t.Fatalf("backups %v; stderr %q", baks, r.stderr)
			}
			if kept, _ := os.ReadFile(baks[0]); !bytes.Equal(kept, first) {
				t.Error("the .bak does not hold the first run's results")
			}
			if _, err := os.Stat(baks[0] + ".state.json"); err != nil {
				t.Errorf("the state file was not kept beside the .bak: %v", err)
			}

			// --resume of a finished run sends nothing new and keeps the file whole.
			r = offCLI(t, srv, Env{}, append(slices.Clone(args), "--resume")...)
			if r.code != ExitOK && r.code != ExitRowsNotDone {
				t.Errorf("--resume: exit %d\n%s", r.code, r.stderr)
			}
			resultstest.Complete(t, res, strings.Count(tc.input, "\n")-1)
		})
	}
	t.Run("dry run previews are replaced", func(t *testing.T) {
		srv := offServer(t, exoteltest.Options{})
		offAccount(srv)
		dir := t.TempDir()
		input := offFile(t, dir, "leavers.csv", offLeavers)
		for i := range 2 {
			if r := offCLI(t, srv, Env{}, "offboard", input, "--dry-run"); r.code != ExitOK {
				t.Fatalf("dry run %d: exit %d\n%s", i+1, r.code, r.stderr)
			}
		}
		// A real run may write over a preview too.
		if r := offCLI(t, srv, Env{}, "offboard", input, "--results", filepath.Join(dir, "leavers.dry-run.csv"), "--yes"); r.code != ExitOK {
			t.Errorf("real run over a preview: exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("usage", func(t *testing.T) {
		srv := offServer(t, exoteltest.Options{})
		input := offFile(t, t.TempDir(), "l.csv", offLeavers)
		for _, args := range [][]string{
			{"offboard", input, "--yes", "--resume", "--overwrite"},
			{"update", input, "--dry-run", "--resume"},
			{"import", input, "--resume", "--overwrite"},
		} {
			if r := offCLI(t, srv, Env{}, args...); r.code != ExitUsage {
				t.Errorf("%v: exit %d, want 2", args, r.code)
			}
		}
	})
}

// While a run writes its results file it holds the file's lock: a second
// run on the same file, in another process, stops at once naming the PID.
// A run killed with SIGKILL leaves no lock behind.
func TestSecondRunOnAResultsFileRefusedNamingThePID(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a real process")
	}
	srv := offServer(t, exoteltest.Options{Latency: 20 * time.Millisecond})
	bin := buildBinary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	input := offFile(t, dir, "big.csv", rosterOf(200))
	res := filepath.Join(dir, "big.results.csv")

	cmd := exec.Command(bin, "import", input, "--results", res, "--rate", "40/s", "--progress-every", "0")
	cmd.Env = append(os.Environ(), "EXOTEL_BASE_URL="+srv.URL(), "EXOTEL_API_KEY=test-key",
		"EXOTEL_API_TOKEN="+offToken, "EXOTEL_ACCOUNT_SID=test-sid", "XDG_STATE_HOME="+state)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(20 * time.Second)
	for srv.Creates() < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}

	before := srv.CountRequests("")
	// --no-lock: past the account's run lock, which would refuse first,
	// to the results file's own.
	r := guardCLI(t, srv, map[string]string{"XDG_STATE_HOME": state}, Env{}, "import", input, "--results", res, "--resume", "--no-lock")
	if r.code != ExitAborted || !strings.Contains(r.stderr, "another run is writing "+res) ||
		!strings.Contains(r.stderr, "PID "+strconv.Itoa(cmd.Process.Pid)) {
		t.Errorf("second run: exit %d, stderr %q; want 1 naming PID %d", r.code, r.stderr, cmd.Process.Pid)
	}
	if n := srv.CountRequests("") - before; n > 8 { // the first run goes on meanwhile, at 40/s
		t.Logf("%d requests while the second run was refused (the first's)", n)
	}

	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	r = guardCLI(t, srv, map[string]string{"XDG_STATE_HOME": state}, Env{}, "import", input, "--results", res, "--resume", "--progress-every", "0")
	if r.code != ExitOK {
		t.Fatalf("resume after the kill: exit %d\n%s", r.code, r.stderr)
	}
	resultstest.Complete(t, res, 200)
	if n := len(srv.Users()); n != 200 {
		t.Errorf("%d users, want 200", n)
	}
}

// Two offboards started together, each with one of the account's two
// admins, in two processes: the account ends with one admin, never none.
func TestTwoOffboardProcessesKeepOneAdmin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs real processes")
	}
	srv := offServer(t, exoteltest.Options{Latency: 30 * time.Millisecond})
	offAccount(srv) // admins: Arjun and Isha
	bin := buildBinary(t)
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, who := range []string{"arjun", "isha"} {
		input := offFile(t, dir, who+".csv", "email\n"+who+"@corp.example.com\n")
		// --no-lock: both runs go ahead on one account, so only the
		// admin-delete lock keeps the last admin.
		cmd := exec.Command(bin, "offboard", input, "--yes", "--allow-admins", "--rate", "2000/s", "--burst", "8", "--no-lock")
		cmd.Env = append(os.Environ(), "EXOTEL_BASE_URL="+srv.URL(), "EXOTEL_API_KEY=test-key",
			"EXOTEL_API_TOKEN="+offToken, "EXOTEL_ACCOUNT_SID=test-sid", "XDG_STATE_HOME="+state)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for _, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	var statuses []string
	for i, cmd := range cmds {
		cmd.Wait()
		who := []string{"arjun", "isha"}[i]
		statuses = append(statuses, resultstest.Complete(t, filepath.Join(dir, who+".results.csv"), 1)[1]["status"])
		t.Logf("%s: exit %d\n%s", who, cmd.ProcessState.ExitCode(), outs[i])
	}
	slices.Sort(statuses)
	if !slices.Equal(statuses, []string{"deleted", "protected"}) {
		t.Errorf("statuses %v, want one deleted and one protected", statuses)
	}
	admins := 0
	for _, u := range srv.Users() {
		if u.Role == "admin" {
			admins++
		}
	}
	if admins != 1 {
		t.Errorf("%d admins left, want 1", admins)
	}
}

// An update's results carry the old values; fed back to update they undo
// the changes, names exactly as they were (even ones import would refuse).
func TestUpdateResultsUndoABadBulkChange(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	users := offAccount(srv)
	odd := srv.Seed(exoteltest.SeedUser{FirstName: "=Odd", LastName: "Name", Email: "odd@corp.example.com"})[0]
	dir := t.TempDir()
	input := offFile(t, dir, "changes.csv", "email,first_name,last_name,new_phone\n"+
		"asha@corp.example.com,,Wrong,\n"+
		"ravi@corp.example.com,Wrong,,+919876500099\n"+
		"odd@corp.example.com,Even,,\n"+
		"nobody@corp.example.com,,Wrong,\n")
	out := filepath.Join(dir, "out.csv")
	if r := offCLI(t, srv, Env{}, "update", input, "--results", out); r.code != ExitRowsNotDone {
		t.Fatalf("update: exit %d\n%s", r.code, r.stderr)
	}
	lines := resultstest.Complete(t, out, 4)
	if l := lines[2]; l["old_first_name"] != "Ravi" || l["old_last_name"] != "Nair" || l["old_email"] != "ravi@corp.example.com" ||
		l["old_phone"] != users[1].Devices[0].ContactURI || l["status"] != "updated" {
		t.Errorf("row 2 = %v, want the old values", l)
	}
	if l := lines[3]; l["old_first_name"] != "'=Odd" {
		t.Errorf("row 3's old first name is %q, want it neutralised", l["old_first_name"])
	}

	undo := filepath.Join(dir, "undo.csv")
	r := offCLI(t, srv, Env{}, "update", out, "--results", undo)
	if r.code != ExitOK || !strings.Contains(r.stderr, "is an update results file: undoing its changes") {
		t.Fatalf("undo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for i, u := range []struct{ id, first, last, phone string }{
		{users[0].ID, "Asha", "Rao", users[0].Devices[0].ContactURI},
		{users[1].ID, "Ravi", "Nair", users[1].Devices[0].ContactURI},
		{odd.ID, "=Odd", "Name", ""},
	} {
		got, _ := srv.User(u.id)
		if got.FirstName != u.first || got.LastName != u.last || (u.phone != "" && got.Devices[0].ContactURI != u.phone) {
			t.Errorf("user %d after the undo: %+v", i, got)
		}
	}
	// The undo's rows are the results file's lines, which are in the order
	// rows finished: input_row names the first run's row.
	for row, l := range resultstest.Complete(t, undo, 4) {
		if l["input_row"] == "4" {
			resultstest.Status(t, row, l, "unchanged", "nothing to undo")
		}
	}
	if r := offCLI(t, srv, Env{}, "update", out, "--results", undo, "--overwrite"); r.code != ExitOK {
		t.Errorf("undo again: exit %d", r.code)
	}
	for row, l := range resultstest.Complete(t, undo, 4) {
		if l["status"] != "unchanged" {
			t.Errorf("undo again, row %d: %s %s", row, l["status"], l["message"])
		}
	}
}

// An interrupted update resumes: rows updated are kept, the rest are
// done, and a row done again keeps the old values first recorded.
func TestUpdateResumes(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	offAccount(srv)
	dir := t.TempDir()
	input := offFile(t, dir, "changes.csv", "email,last_name\n"+
		"asha@corp.example.com,A\nravi@corp.example.com,B\nmeera@corp.example.com,C\nvikram@corp.example.com,D\n")
	out := filepath.Join(dir, "out.csv")
	stop := make(chan struct{})
	puts := 0
	srv.SetOnRequest(func(r *http.Request) {
		if r.Method == http.MethodPut {
			if puts++; puts == 2 {
				close(stop)
			}
		}
	})
	if r := offCLI(t, srv, Env{Interrupt: stop}, "update", input, "--results", out, "--workers", "1"); r.code != ExitInterrupted ||
		!strings.Contains(r.stderr, "--resume") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	srv.SetOnRequest(nil)
	if r := offCLI(t, srv, Env{}, "update", input, "--results", out, "--resume"); r.code != ExitOK {
		t.Fatalf("resume: exit %d\n%s", r.code, r.stderr)
	}
	// Each row's PUT went once, over both runs: the resume kept the rows
	// the first run updated.
	if n := srv.CountRequests("PUT"); n != 4 {
		t.Errorf("%d PUTs over both runs, want 4", n)
	}
	lines := resultstest.Complete(t, out, 4)
	for row, old := range map[int]string{1: "Rao", 2: "Nair", 3: "Iyer", 4: "Das"} {
		if l := lines[row]; l["status"] != "updated" || l["old_last_name"] != old {
			t.Errorf("row %d = %s, old %q; want updated, old %q", row, l["status"], l["old_last_name"], old)
		}
	}
}

// An interrupted offboard resumes: rows deleted are kept, the others are
// decided again, and the backup holds each user once.
func TestOffboardResumes(t *testing.T) {
	srv := offServer(t, exoteltest.Options{Latency: 10 * time.Millisecond})
	offAccount(srv)
	dir := t.TempDir()
	input := offFile(t, dir, "l.csv", offLeavers)
	stop := make(chan struct{})
	deletes := 0
	srv.SetOnRequest(func(r *http.Request) {
		if r.Method == http.MethodDelete {
			if deletes++; deletes == 1 {
				close(stop)
			}
		}
	})
	r := offCLI(t, srv, Env{Interrupt: stop}, "offboard", input, "--yes", "--workers", "1")
	if r.code != ExitInterrupted || !strings.Contains(r.stderr, "exoroster offboard "+input+" --results ") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	srv.SetOnRequest(nil)
	res := filepath.Join(dir, "l.results.csv")
	r = offCLI(t, srv, Env{}, "offboard", input, "--yes", "--resume")
	if r.code != ExitOK {
		t.Fatalf("resume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := offStatuses(t, res); !slices.Equal(got, []string{"deleted", "deleted", "deleted"}) {
		t.Errorf("statuses %v", got)
	}
	if n := len(srv.Deleted()); n != 3 {
		t.Errorf("%d deleted", n)
	}
	if n := strings.Count(string(mustRead(t, filepath.Join(dir, "l.results.backup.csv"))), "\n"); n != 4 {
		t.Errorf("backup has %d lines, want a header and 3 records", n)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// A run that leaves work names the rows (by number: their messages name
// people) and ends with the command that continues; the three commands say
// it alike.
func TestSummaryNamesRowsAndTheNextStep(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	offAccount(srv)
	srv.Tombstone("gone.person@corp.example.com")
	dir := t.TempDir()
	tests := []struct {
		name, input string
		args        []string
		attention   string
		when        string
	}{
		{"import", "first_name,last_name,email\nNew,Person,new.person@corp.example.com\nGone,Person,gone.person@corp.example.com\n",
			[]string{"import"}, "needs attention: failed row 2 (the results file says why)", ""},
		{"offboard", "email,first_name\narjun@corp.example.com,\nasha@corp.example.com,Smith\nravi@corp.example.com,\nnobody@corp.example.com,\n",
			[]string{"offboard", "--yes"}, "needs attention: ambiguous row 2; protected row 1 (the results file says why)",
			"  (after fixing those rows in the input; protected rows stay so until their reason is gone)"},
		{"update", "email,last_name\nmeera@corp.example.com,Iyer-Rao\nnobody@corp.example.com,X\n",
			[]string{"update"}, "needs attention: not_found row 2 (the results file says why)", "  (after fixing those rows in the input)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			input := offFile(t, dir, tc.name+".csv", tc.input)
			res := filepath.Join(dir, tc.name+".out.csv")
			r := offCLI(t, srv, Env{}, append(tc.args, input, "--results", res)...)
			if r.code != ExitRowsNotDone {
				t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			want := tc.attention + "\nnext: exoroster " + tc.name + " " + input + " --results " + res + " --resume" + tc.when + "\n"
			if !strings.HasSuffix(r.stdout, want) {
				t.Errorf("summary ends\n%s\nwant it to end\n%s", r.stdout, want)
			}
		})
	}
	// A run with nothing left says nothing more.
	input := offFile(t, dir, "fine.csv", "email,last_name\nisha@corp.example.com,Bose\n")
	if r := offCLI(t, srv, Env{}, "update", input); r.code != ExitOK || strings.Contains(r.stdout, "next:") {
		t.Errorf("exit %d\n%s", r.code, r.stdout)
	}
}
