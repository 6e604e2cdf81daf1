package main

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/config"
)

func TestWorseExit(t *testing.T) {
	tests := []struct {
		name       string
		a, b, want ExitCode
	}{
		{"ok and rows", ExitOK, ExitRowsNotDone, ExitRowsNotDone},
		{"rows and stopped", ExitRowsNotDone, ExitAborted, ExitAborted},
		{"stopped and interrupted", ExitAborted, ExitInterrupted, ExitInterrupted},
		{"findings and rows", 5, ExitRowsNotDone, ExitRowsNotDone},
		{"pending and findings", 4, 5, 5},
		{"unknown counts as stopped", ExitRowsNotDone, 42, 42},
		{"order does not matter", ExitAborted, ExitOK, ExitAborted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := worseExit(tc.a, tc.b); got != tc.want {
				t.Errorf("worseExit(%d, %d) = %d, want %d", tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestRunEachProfileConcurrentAndIsolated(t *testing.T) {
	var all []*config.Settings
	for _, name := range []string{"acme", "globex", "initech"} {
		all = append(all, &config.Settings{Profile: config.Value[string]{V: name, From: config.Source{Kind: config.FromFlag}}})
	}
	// Every run waits until all three have started: run one after another,
	// they would never get past the barrier.
	var started sync.WaitGroup
	started.Add(len(all))
	codes := map[string]ExitCode{"acme": ExitOK, "globex": ExitAborted, "initech": ExitRowsNotDone}
	outcomes, code := runEachProfile(context.Background(), all, func(ctx context.Context, s *config.Settings) (ExitCode, string) {
		started.Done()
		done := make(chan struct{})
		go func() { started.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Minute):
			return ExitAborted, "the profiles did not run concurrently"
		}
		return codes[s.Profile.V], s.Profile.V + " finished"
	})
	if code != ExitAborted {
		t.Errorf("worst exit %d, want %d", code, ExitAborted)
	}
	var out bytes.Buffer
	printProfileOutcomes(&out, outcomes)
	want := "acme     exit 0    acme finished\n" +
		"globex   exit 1    globex finished\n" +
		"initech  exit 3    initech finished\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
