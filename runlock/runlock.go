// Package runlock keeps two exoroster processes from working on the same
// thing at once: one run per account and target (two runs against one
// account would halve each other's rate limit and draw 429s), one writer per
// results file, one deleter of admins per account.
//
// A lock is an flock(2) on a file, so the operating system releases it when
// the process dies, however it dies; nothing is ever stale. The holder writes
// its PID, host and start time into the file so a refused run can say who
// holds it.
package runlock

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// Target is what to lock: the lock file and, for messages, what it guards.
type Target struct {
	Path    string // the lock file
	Purpose string // e.g. "ccm account AC123", said in the refusal
}

// locksDir is the state directory's subdirectory for lock files.
const locksDir = "locks"

// ForAccount is the lock of one run against an account on a target (ccm or
// webrtc). account is what names the account on that target: the account
// SID for ccm, customer id and app id (joined by "-") for webrtc.
func ForAccount(stateDir, target, account string) Target {
	return Target{
		Path:    filepath.Join(stateDir, locksDir, "run-"+fileSafe(target+"-"+account)+".lock"),
		Purpose: target + " account " + account,
	}
}

// Named is a lock for any other purpose, shared by every process that uses
// the same name: Named(dir, "admin-delete", "ccm", sid) guards the deletion
// of an account's admins across processes.
func Named(stateDir string, name string, parts ...string) Target {
	key := strings.Join(append([]string{name}, parts...), "-")
	return Target{
		Path:    filepath.Join(stateDir, locksDir, fileSafe(key)+".lock"),
		Purpose: strings.Join(append([]string{name}, parts...), " "),
	}
}

// ForFile is the lock of a results (or report) file: two runs writing one
// file would interleave or clobber each other's lines. Every path that names
// the same file (relative, absolute, through a symlinked directory) gets the
// same lock, kept in the state directory so no lock file litters the
// results' folder. The file itself need not exist yet.
func ForFile(stateDir, file string) (Target, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return Target{}, fmt.Errorf("lock for %s: %w", file, err)
	}
	dir, base := filepath.Split(abs)
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	full := filepath.Join(dir, base)
	if real, err := filepath.EvalSymlinks(full); err == nil {
		full = real // the file is itself a symlink: lock what it points at
	}
	sum := sha256.Sum256([]byte(full))
	name := "file-" + fileSafe(filepath.Base(full)) + "-" + hex.EncodeToString(sum[:8]) + ".lock"
	return Target{Path: filepath.Join(stateDir, locksDir, name), Purpose: "file " + file}, nil
}

// fileSafe keeps letters, digits, '.', '_' and '-', and replaces the rest;
// when it had to replace something it appends a hash of the original, so
// two keys that differ only in replaced characters stay two locks.
func fileSafe(s string) string {
	var b strings.Builder
	changed := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
			changed = true
		}
	}
	if changed || s == "" {
		sum := sha256.Sum256([]byte(s))
		b.WriteString("-" + hex.EncodeToString(sum[:4]))
	}
	return b.String()
}

// Options say how long to wait for a held lock.
type Options struct {
	// Wait is how long to wait for a holder to finish (--wait-lock); 0
	// refuses at once.
	Wait time.Duration
	// Poll is how often to try again while waiting; 1s when 0.
	Poll time.Duration
	// OnWait, when set, is called once when the lock is found held and
	// Wait > 0, so the caller can say whom it is waiting for.
	OnWait func(holder Holder)
	// Now gives the start time written into the file; time.Now when nil.
	Now func() time.Time
}

// Holder is what a lock file says about the process holding it.
type Holder struct {
	PID   int // 0 when the file does not say (yet)
	Host  string
	Since time.Time
}

func (h Holder) String() string {
	if h.PID == 0 {
		return "another process"
	}
	s := "PID " + strconv.Itoa(h.PID)
	if h.Host != "" {
		s += " on " + h.Host
	}
	if !h.Since.IsZero() {
		s += " since " + h.Since.Format(time.RFC3339)
	}
	return s
}

// HeldError says the lock is held by another process.
type HeldError struct {
	Target Target
	Holder Holder
	Waited time.Duration // how long this run waited before giving up
}

func (e *HeldError) Error() string {
	if e.Waited > 0 {
		return fmt.Sprintf("another run still holds the lock for %s after waiting %v (%s; lock file %s)",
			e.Target.Purpose, e.Waited, e.Holder, e.Target.Path)
	}
	return fmt.Sprintf("another run holds the lock for %s (%s; lock file %s): wait for it to finish, or give --wait-lock 10m to wait",
		e.Target.Purpose, e.Holder, e.Target.Path)
}

// Lock is a held lock. Release it when the work it guards is done; if the
// process dies first, the operating system releases it.
type Lock struct {
	target Target
	fl     *flock.Flock
	owner  *os.File // a second handle on the file, for writing the owner
}

// Acquire takes the lock, or refuses at once with a *HeldError naming the
// holder, or (opts.Wait > 0) tries again every opts.Poll until it is free,
// the wait is over (a *HeldError) or ctx is done (ctx's error).
func Acquire(ctx context.Context, t Target, opts Options) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(t.Path), 0o700); err != nil {
		return nil, fmt.Errorf("lock for %s: %w", t.Purpose, err)
	}
	fl := flock.New(t.Path, flock.SetPermissions(0o600))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock for %s: %w", t.Purpose, err)
	}
	if !ok {
		holder := ReadHolder(t.Path)
		if opts.Wait <= 0 {
			return nil, &HeldError{Target: t, Holder: holder}
		}
		if opts.OnWait != nil {
			opts.OnWait(holder)
		}
		if ok, err = waitFor(ctx, fl, opts); err != nil {
			return nil, fmt.Errorf("waiting for the lock for %s: %w", t.Purpose, err)
		}
		if !ok {
			return nil, &HeldError{Target: t, Holder: ReadHolder(t.Path), Waited: opts.Wait}
		}
	}
	l := &Lock{target: t, fl: fl}
	if err := l.writeOwner(opts.Now); err != nil {
		_ = fl.Unlock()
		return nil, fmt.Errorf("lock for %s: %w", t.Purpose, err)
	}
	return l, nil
}

// waitFor polls until the lock is taken (true), the wait runs out (false)
// or ctx ends (its error).
func waitFor(ctx context.Context, fl *flock.Flock, opts Options) (bool, error) {
	poll := opts.Poll
	if poll <= 0 {
		poll = time.Second
	}
	timer := time.NewTimer(opts.Wait)
	defer timer.Stop()
	ticker := time.NewTicker(poll)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-timer.C:
			return fl.TryLock() // one last try, so a release at the deadline is not missed
		case <-ticker.C:
			if ok, err := fl.TryLock(); ok || err != nil {
				return ok, err
			}
		}
	}
}

// writeOwner records this process in the lock file. It writes before it
// truncates, so a reader never sees an empty file where an old owner was,
// only (for an instant) the new first line over old bytes.
func (l *Lock) writeOwner(now func() time.Time) error {
	if now == nil {
		now = time.Now
	}
	f, err := os.OpenFile(l.target.Path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	text := fmt.Sprintf("%d\n%s\n%s\n", os.Getpid(), host, now().UTC().Format(time.RFC3339))
	if _, err := f.WriteAt([]byte(text), 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Truncate(int64(len(text))); err != nil {
		f.Close()
		return err
	}
	l.owner = f
	return nil
}

// Release clears the owner from the file and frees the lock. The file stays:
// removing it would let a waiter holding the old file and a newcomer
// creating a new one both think they hold the lock.
func (l *Lock) Release() error {
	if l == nil || l.fl == nil {
		return nil
	}
	var errs []error
	if l.owner != nil {
		errs = append(errs, l.owner.Truncate(0), l.owner.Close())
		l.owner = nil
	}
	errs = append(errs, l.fl.Unlock())
	l.fl = nil
	return errors.Join(errs...)
}

// ReadHolder reads who holds the lock at path; a zero Holder when the file
// is missing, empty or unreadable.
func ReadHolder(path string) Holder {
	f, err := os.Open(path)
	if err != nil {
		return Holder{}
	}
	defer f.Close()
	var h Holder
	sc := bufio.NewScanner(f)
	for i := 0; i < 3 && sc.Scan(); i++ {
		line := strings.TrimSpace(sc.Text())
		switch i {
		case 0:
			h.PID, _ = strconv.Atoi(line)
		case 1:
			h.Host = line
		case 2:
			h.Since, _ = time.Parse(time.RFC3339, line)
		}
	}
	if h.PID <= 0 {
		return Holder{}
	}
	return h
}
