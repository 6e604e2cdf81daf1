package main

import (
	"github.com/exoroster/exoroster/results/resultstest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
)

func TestUpdateCommand(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	users := offAccount(srv)
	dir := t.TempDir()
	input := offFile(t, dir, "changes.csv", "email,last_name,new_phone,role\n"+
		"asha@corp.example.com,Rao-Iyer,,user\n"+ // updated
		"ravi@corp.example.com,,+919876500099,\n"+ // updated: a new number
		"meera@corp.example.com,Iyer,,\n") // unchanged

	r := offCLI(t, srv, Env{}, "update", input, "--dry-run")
	if r.code != ExitOK {
		t.Fatalf("dry run exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := offStatuses(t, filepath.Join(dir, "changes.dry-run.csv")); !slices.Equal(got, []string{"would_update", "would_update", "unchanged"}) {
		t.Errorf("dry run statuses %v", got)
	}
	if w := offNonGET(srv); len(w) != 0 {
		t.Errorf("dry run sent %v", w)
	}
	if !strings.Contains(r.stderr, `column "role" is ignored`) {
		t.Errorf("stderr does not explain the role column: %q", r.stderr)
	}

	out := filepath.Join(dir, "out.csv")
	r = offCLI(t, srv, Env{}, "update", input, "--results", out)
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	lines := resultstest.ByRow(t, out)
	if l := lines[2]; l["status"] != "updated" || !strings.Contains(l["message"], "verified again") || l["user_id"] != users[1].ID {
		t.Errorf("row 2 = %v", l)
	}
	if u, _ := srv.User(users[0].ID); u.LastName != "Rao-Iyer" {
		t.Errorf("Asha = %+v", u)
	}
	if !strings.Contains(r.stdout, "updated") || !strings.Contains(r.stdout, "results: "+out) {
		t.Errorf("summary:\n%s", r.stdout)
	}

	// Rerun: nothing left to change, no PUT. (Starting afresh over the
	// first run's results takes --overwrite.)
	puts := srv.CountRequests("PUT")
	r = offCLI(t, srv, Env{}, "update", input, "--results", out, "--overwrite")
	if r.code != ExitOK || srv.CountRequests("PUT") != puts {
		t.Errorf("rerun exit %d, %d PUTs", r.code, srv.CountRequests("PUT")-puts)
	}

	// A row that cannot be done: exit 3.
	bad := offFile(t, dir, "bad.csv", "user_id,email\n"+users[2].ID+",other@corp.example.com\n")
	r = offCLI(t, srv, Env{}, "update", bad)
	if r.code != ExitRowsNotDone {
		t.Errorf("exit %d, want 3", r.code)
	}
	if l := resultstest.ByRow(t, filepath.Join(dir, "bad.results.csv"))[1]; l["status"] != "failed" || !strings.Contains(l["message"], "400 1002") {
		t.Errorf("row = %v", l)
	}

	// Wrong credentials: exit 1.
	other := exoteltest.NewServer(exoteltest.Options{APIToken: "another"})
	defer other.Close()
	if r := offCLI(t, other, Env{}, "update", input); r.code != ExitAborted || !strings.Contains(r.stderr, "EXOTEL_API_TOKEN") {
		t.Errorf("wrong token: exit %d, %q", r.code, r.stderr)
	}
	// Interrupted: exit 130.
	stop := make(chan struct{})
	close(stop)
	// (changes.results.csv holds the refused run's lines: --overwrite.)
	if r := offCLI(t, srv, Env{Interrupt: stop}, "update", input, "--overwrite"); r.code != ExitInterrupted {
		t.Errorf("interrupted: exit %d", r.code)
	}
}
