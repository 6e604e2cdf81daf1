package runlock

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The helper process: when RUNLOCK_HELPER_PATH is set, this test binary
// takes that lock, prints "locked", and holds it until its stdin closes (or
// it is killed).
const helperEnv = "RUNLOCK_HELPER_PATH"

func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("only run as a helper process")
	}
	l, err := Acquire(context.Background(), Target{Path: path, Purpose: "helper"}, Options{})
	if err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("locked\n")
	_, _ = io.Copy(io.Discard, os.Stdin)
	if err := l.Release(); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// holder is a helper process that holds the lock at path.
type holder struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

func startHolder(t *testing.T, path string) *holder {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &holder{cmd: cmd, stdin: stdin}
	t.Cleanup(func() {
		_ = h.stdin.Close()
		_ = h.cmd.Process.Kill()
		_ = h.cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper process: %q, %v", line, err)
	}
	return h
}

func TestSecondProcessIsRefusedWithHolderPID(t *testing.T) {
	target := ForAccount(t.TempDir(), "ccm", "AC123")
	h := startHolder(t, target.Path)

	l, err := Acquire(context.Background(), target, Options{})
	var held *HeldError
	if !errors.As(err, &held) {
		l.Release()
		t.Fatalf("got %v, want a *HeldError", err)
	}
	if held.Holder.PID != h.cmd.Process.Pid {
		t.Errorf("holder PID %d, want the helper's %d", held.Holder.PID, h.cmd.Process.Pid)
	}
	msg := err.Error()
	for _, want := range []string{"PID " + strconv.Itoa(h.cmd.Process.Pid), "ccm account AC123", "--wait-lock"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q does not say %q", msg, want)
		}
	}
}

func TestDeadHoldersLockIsReclaimed(t *testing.T) {
	target := ForAccount(t.TempDir(), "ccm", "AC123")
	h := startHolder(t, target.Path)
	if err := h.cmd.Process.Kill(); err != nil { // like kill -9: no Release
		t.Fatal(err)
	}
	_ = h.cmd.Wait()
	if got := ReadHolder(target.Path).PID; got != h.cmd.Process.Pid {
		t.Fatalf("the dead holder's file says PID %d, want %d (the test must start from a stale file)", got, h.cmd.Process.Pid)
	}

	l, err := Acquire(context.Background(), target, Options{})
	if err != nil {
		t.Fatalf("a dead holder's lock was not reclaimed: %v", err)
	}
	defer l.Release()
	if got := ReadHolder(target.Path).PID; got != os.Getpid() {
		t.Errorf("lock file names PID %d, want this process's %d", got, os.Getpid())
	}
}

func TestWaitSucceedsWhenHolderReleases(t *testing.T) {
	target := Named(t.TempDir(), "results", "x")
	h := startHolder(t, target.Path)

	waiting := make(chan Holder, 1)
	go func() {
		got := <-waiting
		if got.PID == h.cmd.Process.Pid {
			_ = h.stdin.Close() // the holder releases and exits
		}
	}()
	l, err := Acquire(context.Background(), target, Options{
		Wait:   time.Minute,
		Poll:   5 * time.Millisecond,
		OnWait: func(hd Holder) { waiting <- hd },
	})
	if err != nil {
		t.Fatalf("waiting for a released lock: %v", err)
	}
	defer l.Release()
	if err := h.cmd.Wait(); err != nil {
		t.Errorf("helper: %v", err)
	}
}

func TestWaitGivesUp(t *testing.T) {
	target := Named(t.TempDir(), "x")
	first, err := Acquire(context.Background(), target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()

	_, err = Acquire(context.Background(), target, Options{Wait: 20 * time.Millisecond, Poll: time.Millisecond})
	var held *HeldError
	if !errors.As(err, &held) || held.Waited != 20*time.Millisecond {
		t.Fatalf("got %v, want a *HeldError after waiting", err)
	}
	if held.Holder.PID != os.Getpid() {
		t.Errorf("holder PID %d, want %d", held.Holder.PID, os.Getpid())
	}
}

func TestWaitHonoursContext(t *testing.T) {
	target := Named(t.TempDir(), "x")
	first, err := Acquire(context.Background(), target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Release()

	ctx, cancel := context.WithCancel(context.Background())
	_, err = Acquire(ctx, target, Options{
		Wait:   time.Hour,
		Poll:   time.Millisecond,
		OnWait: func(Holder) { cancel() },
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestReleaseFreesAndClearsOwner(t *testing.T) {
	target := ForAccount(t.TempDir(), "webrtc", "cust-app")
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l, err := Acquire(context.Background(), target, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	h := ReadHolder(target.Path)
	if h.PID != os.Getpid() || !h.Since.Equal(now) || h.Host == "" {
		t.Errorf("holder %+v, want this PID, a host and %v", h, now)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Errorf("second Release: %v", err)
	}
	if h := ReadHolder(target.Path); h.PID != 0 {
		t.Errorf("a released lock file still names %v", h)
	}
	again, err := Acquire(context.Background(), target, Options{})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
}

func TestStaleOwnerWithoutLockIsTaken(t *testing.T) {
	target := Named(t.TempDir(), "x")
	if err := os.MkdirAll(filepath.Dir(target.Path), 0o700); err != nil {
		t.Fatal(err)
	}
	// A long stale line: the new owner must replace it entirely.
	if err := os.WriteFile(target.Path, []byte("99999999\nold-host-with-a-long-name\n2001-01-01T00:00:00Z\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(context.Background(), target, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	b, _ := os.ReadFile(target.Path)
	if strings.Contains(string(b), "old-host") || ReadHolder(target.Path).PID != os.Getpid() {
		t.Errorf("lock file %q still holds the old owner", b)
	}
}

func TestPaths(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name   string
		a, b   Target
		sameAs bool
	}{
		{"accounts differ", ForAccount(dir, "ccm", "A"), ForAccount(dir, "ccm", "B"), false},
		{"targets differ", ForAccount(dir, "ccm", "A"), ForAccount(dir, "webrtc", "A"), false},
		{"run and admin locks differ", ForAccount(dir, "ccm", "A"), Named(dir, "admin-delete", "ccm", "A"), false},
		{"unsafe characters do not collide", ForAccount(dir, "ccm", "a/b"), ForAccount(dir, "ccm", "a:b"), false},
		{"same account same lock", ForAccount(dir, "ccm", "A"), ForAccount(dir, "ccm", "A"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.a.Path == tc.b.Path) != tc.sameAs {
				t.Errorf("%s vs %s: same=%v, want %v", tc.a.Path, tc.b.Path, tc.a.Path == tc.b.Path, tc.sameAs)
			}
			for _, p := range []string{tc.a.Path, tc.b.Path} {
				if filepath.Dir(p) != filepath.Join(dir, "locks") {
					t.Errorf("%s is not in the state directory's locks/", p)
				}
			}
		})
	}
}

func TestForFileSameFileSameLock(t *testing.T) {
	state, work := t.TempDir(), t.TempDir()
	real := filepath.Join(work, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(work, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Skip("no symlinks here:", err)
	}
	a, err := ForFile(state, filepath.Join(real, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ForFile(state, filepath.Join(link, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ForFile(state, filepath.Join(real, "other.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Path != b.Path {
		t.Errorf("one file through a symlinked directory got two locks: %s, %s", a.Path, b.Path)
	}
	if a.Path == c.Path {
		t.Errorf("two files share the lock %s", a.Path)
	}
}
