package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/config"
)

func lockApp(t *testing.T, interrupt chan struct{}) (*app, *syncWriter) {
	t.Helper()
	errb := &syncWriter{w: &bytes.Buffer{}}
	state := t.TempDir()
	return &app{env: Env{
		Stderr:    errb,
		Getenv:    func(k string) string { return map[string]string{"XDG_STATE_HOME": state}[k] },
		Interrupt: interrupt,
	}}, errb
}

// syncString reads what was written to w so far.
func syncString(w *syncWriter) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.(*bytes.Buffer).String()
}

func lockSettings(sid string) *config.Settings {
	return &config.Settings{
		Target:     config.Value[string]{V: config.TargetCCM},
		AccountSID: config.Value[string]{V: sid},
	}
}

func exitOf(err error) ExitCode {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return -1
}

func TestLockAccount(t *testing.T) {
	a, errb := lockApp(t, make(chan struct{}))
	ctx := context.Background()
	release, err := a.lockAccount(ctx, lockSettings("AC1"), lockFlags{})
	if err != nil {
		t.Fatal(err)
	}

	_, err = a.lockAccount(ctx, lockSettings("AC1"), lockFlags{})
	if exitOf(err) != ExitAborted || !strings.Contains(err.Error(), "PID "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second run: exit %d, %v", exitOf(err), err)
	}

	other, err := a.lockAccount(ctx, lockSettings("AC2"), lockFlags{})
	if err != nil {
		t.Errorf("another account is not blocked: %v", err)
	}
	other()

	skip, err := a.lockAccount(ctx, lockSettings("AC1"), lockFlags{noLock: true})
	if err != nil {
		t.Errorf("--no-lock: %v", err)
	}
	skip()

	release()
	again, err := a.lockAccount(ctx, lockSettings("AC1"), lockFlags{})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again()
	if s := syncString(errb); s != "" {
		t.Errorf("stderr %q", s)
	}
}

func TestLockAccountWaitEndsOnInterrupt(t *testing.T) {
	interrupt := make(chan struct{})
	a, errb := lockApp(t, interrupt)
	release, err := a.lockAccount(context.Background(), lockSettings("AC1"), lockFlags{})
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	done := make(chan error, 1)
	go func() {
		_, err := a.lockAccount(context.Background(), lockSettings("AC1"), lockFlags{wait: time.Hour})
		done <- err
	}()
	// Interrupt once the second run says it is waiting.
	for !strings.Contains(syncString(errb), "waiting up to 1h0m0s for it to finish") {
		time.Sleep(time.Millisecond)
	}
	close(interrupt)
	if err := <-done; exitOf(err) != ExitInterrupted {
		t.Errorf("interrupted wait: exit %d, %v", exitOf(err), err)
	}
}
