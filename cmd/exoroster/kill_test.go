package main

import (
	"bytes"
	"fmt"
	"github.com/exoroster/exoroster/results/resultstest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
)

// buildBinary compiles exoroster into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "exoroster")
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// A process killed with SIGKILL in the middle of an import, then resumed,
// leaves every person on the server exactly once and one results line per
// row. The fake accepts duplicates, so a blind re-send would show.
func TestKilledImportResumesWithoutDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a real process")
	}
	const rows = 400
	srv := fakeServer(t, exoteltest.Options{AllowDuplicates: true, Latency: 30 * time.Millisecond,
		LatencyJitter: 20 * time.Millisecond})
	bin := buildBinary(t)
	dir := t.TempDir()
	input := writeFile(t, dir, "big.csv", rosterOf(rows))
	results := filepath.Join(dir, "big.results.csv")

	cmd := exec.Command(bin, "import", input, "--results", results, "--rate", "60/s", "--workers", "8", "--progress-every", "0")
	cmd.Env = append(os.Environ(), "EXOTEL_BASE_URL="+srv.URL(), "EXOTEL_API_KEY=test-key",
		"EXOTEL_API_TOKEN="+testToken, "EXOTEL_ACCOUNT_SID=test-sid")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.Users()) < rows/3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no cleanup at all
		t.Fatal(err)
	}
	cmd.Wait()
	killedAt := len(srv.Users())
	if killedAt == 0 || killedAt >= rows {
		t.Fatalf("killed with %d of %d users created; the test needs a run cut in the middle\n%s", killedAt, rows, stderr.String())
	}

	c := newCLI(t, srv)
	if code := c.run(nil, "import", input, "--results", results, "--resume", "--rate", "1000/s", "--progress-every", "0"); code != ExitOK {
		t.Fatalf("resume exit code = %d\nstdout %s\nstderr %s", code, c.stdout.String(), c.stderr.String())
	}
	if got := len(srv.Users()); got != rows {
		t.Errorf("server holds %d users, want %d", got, rows)
	}
	for i := range rows {
		email := fmt.Sprintf("agent%d@corp.example.com", i)
		if n := srv.CreatesByEmail()[email]; n != 1 {
			t.Errorf("%s created %d times", email, n)
		}
	}
	lines := resultstest.ByRow(t, results)
	if len(lines) != rows {
		t.Errorf("results have %d lines, want %d", len(lines), rows)
	}
	confirmed := 0
	for row, l := range lines {
		if l["status"] != "created" || l["user_id"] == "" {
			t.Errorf("row %d = %s %q", row, l["status"], l["message"])
		}
		if bytes.Contains([]byte(l["message"]), []byte("confirmed by lookup")) {
			confirmed++
		}
	}
	t.Logf("killed after %d users; resume found %d created but unrecorded and finished the other %d",
		killedAt, confirmed, rows-killedAt)
}
