package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/exoroster/exoroster/config"
)

// profileOutcome is one account's part of a multi-profile run.
type profileOutcome struct {
	profile string
	code    ExitCode
	summary string // one line: what the run did for this account
}

// runEachProfile runs fn for every profile at once: Exotel's limit is per
// account, so each runs under its own limiter and none waits for another.
// An account that fails does not stop the others; ctx's cancellation (a
// second Ctrl-C) reaches them all. Outcomes are in the order of all, and
// code is the worst of theirs (see worseExit).
func runEachProfile(ctx context.Context, all []*config.Settings,
	fn func(ctx context.Context, s *config.Settings) (ExitCode, string)) (outcomes []profileOutcome, code ExitCode) {
	outcomes = make([]profileOutcome, len(all))
	var wg sync.WaitGroup
	for i, s := range all {
		wg.Go(func() {
			c, line := fn(ctx, s)
			outcomes[i] = profileOutcome{profile: s.Profile.V, code: c, summary: line}
		})
	}
	wg.Wait()
	for _, o := range outcomes {
		code = worseExit(code, o.code)
	}
	return outcomes, code
}

// printProfileOutcomes writes one line per account, in the order given.
func printProfileOutcomes(w io.Writer, outcomes []profileOutcome) {
	width := 0
	for _, o := range outcomes {
		width = max(width, len(o.profile))
	}
	for _, o := range outcomes {
		fmt.Fprintf(w, "%-*s  exit %-3d  %s\n", width, o.profile, o.code, o.summary)
	}
}

// exitSeverity orders exit codes from "nothing to say" to "stop
// everything": an interruption outranks a stopped run, which outranks rows
// not done, which outrank the informational audit findings (5) and changes
// pending (4). An unknown code counts as a stopped run.
func exitSeverity(c ExitCode) int {
	switch c {
	case ExitOK:
		return 0
	case ExitChangesPending:
		return 1
	case ExitFindings:
		return 2
	case ExitRowsNotDone:
		return 3
	case ExitUsage:
		return 4
	case ExitInterrupted:
		return 6
	}
	return 5 // ExitAborted, and any code not named here
}

// worseExit returns the more severe of a and b.
func worseExit(a, b ExitCode) ExitCode {
	if exitSeverity(b) > exitSeverity(a) {
		return b
	}
	return a
}

// prefixWriters are one account's stdout and stderr in a multi-profile run:
// each whole line goes out at once with the prefix, so accounts running at
// the same time never split each other's lines.
type prefixWriters struct {
	stdout, stderr *prefixWriter
}

func newPrefixWriters(stdout, stderr io.Writer, prefix string) *prefixWriters {
	return &prefixWriters{stdout: &prefixWriter{w: stdout, prefix: prefix}, stderr: &prefixWriter{w: stderr, prefix: prefix}}
}

// flush writes out a last line left without its newline.
func (p *prefixWriters) flush() {
	p.stdout.flush()
	p.stderr.flush()
}

type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte // a line not yet ended
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		line := append([]byte(p.prefix), p.buf[:i+1]...)
		p.buf = p.buf[i+1:]
		if _, err := p.w.Write(line); err != nil {
			return len(b), err
		}
	}
}

func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		_, _ = p.w.Write(append(append([]byte(p.prefix), p.buf...), '\n'))
		p.buf = nil
	}
}
