package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/exoroster/exoroster/config"
	"github.com/exoroster/exoroster/runlock"
)

// lockFlags are --state-dir, --wait-lock and --no-lock, for every command
// that changes or reads a whole account (not dry runs, validate or diff).
// The one state directory holds the account's run lock and the results
// file's lock alike.
type lockFlags struct {
	stateDir string
	wait     time.Duration
	noLock   bool
}

// State directory help: the row commands keep only locks there; plan,
// apply and sync also keep the last roster applied to each account.
const (
	stateDirHelpLocks = "directory for run locks (default $XDG_STATE_HOME/exoroster, else ~/.local/state/exoroster)"
	stateDirHelpState = "directory for run locks and per-account state (default $XDG_STATE_HOME/exoroster, else ~/.local/state/exoroster)"
)

// register adds the flags with plan, apply and sync's --state-dir help.
func (f *lockFlags) register(fs *pflag.FlagSet) { f.registerAs(fs, stateDirHelpState) }

// registerAs adds the flags, --state-dir with its help text.
func (f *lockFlags) registerAs(fs *pflag.FlagSet, stateDirHelp string) {
	fs.StringVar(&f.stateDir, "state-dir", "", stateDirHelp)
	fs.DurationVar(&f.wait, "wait-lock", 0, "when another run holds this account, wait up to this long (e.g. 10m) instead of stopping at once")
	fs.BoolVar(&f.noLock, "no-lock", false, "do not take the account's run lock (two runs against one account share its rate limit)")
}

// check refuses a --wait-lock that cannot be waited (exit 2).
func (f lockFlags) check() error {
	if f.wait < 0 {
		return usageErr("--wait-lock %v: use a duration like 10m, or 0 to refuse at once", f.wait)
	}
	return nil
}

// lockPoll is how often a waiting run looks at the lock again.
const lockPoll = time.Second

// lockAccount takes the run lock of s's account and target, or refuses with
// exit 1 naming the PID that holds it, or waits for it (--wait-lock). The
// first Ctrl-C ends the wait (exit 130). The returned release is safe to
// call whatever happened; call it when the run is over.
func (a *app) lockAccount(ctx context.Context, s *config.Settings, f lockFlags) (release func(), err error) {
	noop := func() {}
	if f.noLock {
		return noop, nil
	}
	if err := f.check(); err != nil {
		return noop, err
	}
	key := s.AccountKey()
	if key == "" {
		return noop, nil // no account: the credentials check says so next
	}
	dir, err := a.stateDir(f.stateDir)
	if err != nil {
		return noop, abortErr(fmt.Errorf("no place for the account's run lock: %w", err))
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-a.env.Interrupt:
			cancel()
		case <-ctx.Done():
		}
	}()
	target := runlock.ForAccount(dir, s.Target.V, key)
	if s.Profile.Set() {
		target.Purpose += " (profile " + s.Profile.V + ")"
	}
	lock, err := runlock.Acquire(ctx, target, runlock.Options{
		Wait: f.wait,
		Poll: lockPoll,
		OnWait: func(h runlock.Holder) {
			fmt.Fprintf(a.env.Stderr, "exoroster: another run (%s) is working on %s; waiting up to %v for it to finish.\n", h, target.Purpose, f.wait)
		},
	})
	var held *runlock.HeldError
	switch {
	case err == nil:
		return func() { _ = lock.Release() }, nil
	case errors.Is(err, context.Canceled):
		return noop, &exitError{code: ExitInterrupted, err: errors.New("interrupted while waiting for the account's lock; nothing was done")}
	case errors.As(err, &held) && held.Waited > 0:
		return noop, abortErr(fmt.Errorf("after waiting %v, another run (%s) is still working on %s; nothing was done (lock file %s)",
			held.Waited, held.Holder, target.Purpose, target.Path))
	case errors.As(err, &held):
		return noop, abortErr(fmt.Errorf("another run (%s) is working on %s: wait for it to finish, or give --wait-lock 10m to wait (lock file %s)",
			held.Holder, target.Purpose, target.Path))
	}
	return noop, abortErr(err)
}
