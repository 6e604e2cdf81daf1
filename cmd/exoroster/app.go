package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

// ExitCode is the process's exit status. Scripts rely on these numbers.
type ExitCode int

const (
	ExitOK          ExitCode = 0   // every row created or already there
	ExitAborted     ExitCode = 1   // run stopped: credentials, unreadable input, bad config
	ExitUsage       ExitCode = 2   // wrong flags or arguments
	ExitRowsNotDone ExitCode = 3   // finished, but some rows are invalid, failed or skipped
	ExitInterrupted ExitCode = 130 // stopped by Ctrl-C
)

// Env is everything the program takes from its surroundings, so tests can
// run it with buffers and a map for the environment.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Interrupt is closed on the first Ctrl-C.
	Interrupt <-chan struct{}
	// IsTerminal: stderr is a terminal, so a progress bar can be drawn.
	IsTerminal bool
	// Interactive: stdin is a terminal too, so a confirmation can be asked.
	Interactive bool
}

// exitError carries an exit code with the one-sentence reason.
type exitError struct {
	code ExitCode
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

func abortErr(err error) error { return &exitError{code: ExitAborted, err: err} }

// exitCodeOnly is returned by a command that has already said everything
// and only needs the process to end with code.
func exitCodeOnly(code ExitCode) error { return &exitError{code: code} }

// run is the whole program: parse args, run the command, map the outcome to
// an exit code. Nothing here touches os directly.
func run(ctx context.Context, args []string, env Env) ExitCode {
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	if env.Interrupt == nil {
		env.Interrupt = make(chan struct{})
	}
	// Progress, logs and summaries write from several goroutines; the
	// writers we are given need not be safe for that.
	env.Stdout = &syncWriter{w: env.Stdout}
	env.Stderr = &syncWriter{w: env.Stderr}
	app := &app{env: env, started: time.Now()}
	root := app.rootCommand()
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := app.explainCredentials(root.ExecuteContext(ctx))
	code := reportExit(env.Stderr, err)
	app.logEnd(code, err)
	return code
}

// reportExit says why a command failed, in one sentence on stderr, and
// returns its exit code.
func reportExit(stderr io.Writer, err error) ExitCode {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "exoroster: %s\n", sentence(ee.err))
		}
		return ee.code
	}
	// Errors cobra makes itself: unknown commands, flags and arguments.
	fmt.Fprintf(stderr, "exoroster: %s\nRun 'exoroster --help' for usage.\n", sentence(err))
	return ExitUsage
}

// syncWriter serialises writes to w.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// sentence ends an error's text with a full stop.
func sentence(err error) string {
	s := strings.TrimSpace(err.Error())
	if s == "" || strings.HasSuffix(s, ".") {
		return s
	}
	return s + "."
}

// app holds what every command shares.
type app struct {
	// profile picks the config file and named account (root flags);
	// logFormat and info shape the run's log lines (settings.go).
	profile   profileFlags
	logFormat string
	info      runInfo

	env      Env
	logLevel string
	log      *slog.Logger
	started  time.Time // when the command began: its run's duration in the metrics
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "exoroster",
		Short: "Bulk-manage Exotel contact-center users from CSV files",
		Long: `exoroster imports, exports, offboards and updates Exotel CCM users in bulk,
makes an account match an HR roster (plan, apply, sync), and audits exports
(diff). 'exoroster sandbox' serves a fake API to try it on, with no account.

Every command respects Exotel's limit of about 50 user-management requests a
minute, retries what is safe to retry, and writes one results line per input
row, so a run can be checked row by row and resumed.

Credentials come from the environment: EXOTEL_API_KEY, EXOTEL_API_TOKEN and
EXOTEL_ACCOUNT_SID (EXOTEL_BASE_URL overrides the region's host).

--target webrtc (or EXOTEL_TARGET=webrtc) works on the users of a WebRTC
integrations app instead, with its own credentials: EXOTEL_WEBRTC_TOKEN,
EXOTEL_CUSTOMER_ID and EXOTEL_APP_ID. validate, import, export, offboard,
plan, apply, sync and sandbox take it; update refuses it (the API documents
no update), and diff reads either target's reports.

The token may come from a file instead (EXOTEL_API_TOKEN_FILE,
EXOTEL_WEBRTC_TOKEN_FILE: a mounted Secret). Named accounts live in a config
file (--config, EXOROSTER_CONFIG; default $XDG_CONFIG_HOME/exoroster/config.toml)
and --profile NAME (EXOTEL_PROFILE) picks one: flags beat the environment,
which beats the profile, which beats the defaults. 'exoroster config show'
prints what a run would use and where each value came from.

One run per account and target at a time: import, export, offboard, update,
apply and sync take the account's lock and refuse (exit 1, naming the PID
that holds it) while another run has it; --wait-lock 10m waits instead.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.setupLogging(cmd)
		},
	}
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "warn", "log detail on stderr: debug, info, warn or error")
	a.registerRootFlags(root.PersistentFlags())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })
	root.AddCommand(
		a.importCommand(),
		a.exportCommand(),
		a.offboardCommand(),
		a.updateCommand(),
		a.diffCommand(),
		a.planCommand(),
		a.applyCommand(),
		a.syncCommand(),
		a.validateCommand(),
		a.sandboxCommand(),
		a.versionCommand(),
		a.configCommand(),
	)
	return root
}

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "exoroster", version)
			return nil
		},
	}
}

func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("unexpected argument %q", args[0])
	}
	return nil
}

func oneFileArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageErr("want exactly one CSV file (or .xlsx workbook), got %d arguments", len(args))
	}
	return nil
}

// onePlanArg is apply's: its one argument is a plan file, not a roster.
func onePlanArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usageErr("want exactly one plan file (what exoroster plan --out wrote), got %d arguments", len(args))
	}
	return nil
}

// roundDuration makes durations readable in summaries.
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d > time.Minute:
		return d.Round(time.Second)
	case d > time.Second:
		return d.Round(100 * time.Millisecond)
	}
	return d.Round(time.Millisecond)
}
