package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/results"
)

// API is what the exporter needs from Exotel; *exotel.Client has it.
type API interface {
	ListUsers(ctx context.Context, opts exotel.ListOptions) (*exotel.Page, error)
}

// Pacer is what the exporter needs from the shared limiter
// (*ratelimit.Limiter): a retry loop for pages (a 429 waits for the shared
// hold, a 5xx or a lost connection backs off). The run's halt.Switch stops
// the limiter itself.
type Pacer interface {
	Retry(ctx context.Context, maxAttempts int, classify func(error) ratelimit.Verdict, fn func() error) (int, error)
}

// Statuses reported to Progress.
const (
	Exported    results.Status = "exported"     // written to the report
	FilteredOut results.Status = "filtered_out" // fetched, but not the --role or --inactive-days asked for
)

// DefaultAuditDays is the summary's inactivity threshold when none is set:
// the team-management guide's quarterly review.
const DefaultAuditDays = 90

// Sink receives the report's records, in account order.
type Sink interface {
	Write(Record) error
}

// Config tunes an export.
type Config struct {
	Workers     int // pages fetched at once; default engine.DefaultWorkers
	MaxAttempts int // requests per page, 429s included; default engine.DefaultMaxAttempts

	// Emails and Phones ask the API for these users only (its email= and
	// devices.contact_uri= filters), in batches; a user matching either is
	// exported. Pass them through CleanEmails and CleanPhones first.
	Emails []string
	Phones []string
	// FilterBytes bounds a batch's escaped values; default
	// exotel.DefaultFilterBytes.
	FilterBytes int

	// Roles and InactiveDays are applied here, after fetching: the API has
	// no filter for them. Roles are API roles (admin, supervisor, user);
	// empty keeps every role. InactiveDays > 0 keeps users who never
	// logged in or whose last login is at least that many days (of 24
	// hours) before Now.
	Roles        []string
	InactiveDays int
	// AuditDays is the summary's inactivity threshold; default
	// InactiveDays when set, else DefaultAuditDays.
	AuditDays int

	Now func() time.Time
	// Progress hears about each distinct user fetched. The total is the
	// API's count for a full export, or the number of filter values (an
	// upper bound) for a filtered one.
	Progress engine.Progress
	Logger   *slog.Logger
}

func (c Config) filtered() bool { return len(c.Emails) > 0 || len(c.Phones) > 0 }

// Exporter runs exports. Create one with New.
type Exporter struct {
	api   API
	pacer Pacer
	cfg   Config
	log   *slog.Logger
}

// New returns an Exporter of Exotel's CCM Users API.
func New(api API, pacer Pacer, cfg Config) *Exporter {
	cfg = cfg.withDefaults()
	return &Exporter{api: api, pacer: pacer, cfg: cfg, log: cfg.Logger}
}

func (cfg Config) withDefaults() Config {
	cfg.Workers = engine.Workers(cfg.Workers)
	cfg.MaxAttempts = engine.MaxAttempts(cfg.MaxAttempts)
	if cfg.AuditDays < 1 {
		cfg.AuditDays = DefaultAuditDays
		if cfg.InactiveDays > 0 {
			cfg.AuditDays = cfg.InactiveDays
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Progress == nil {
		cfg.Progress = engine.NoProgress{}
	}
	return cfg
}

// run holds one export's state, over users of type U. Pages are fetched by
// several goroutines; the atomics are theirs to share, and everything from
// seen on is touched by the one goroutine that takes the pages, in order.
type run[U any] struct {
	cfg   Config
	pacer Pacer
	log   *slog.Logger
	src   source[U]
	now   time.Time

	// halt stops the run; every request and wait uses its context: pages
	// are GETs, so abandoning one in flight changes nothing.
	halt     *halt.Switch
	requests atomic.Int64

	seen    map[string]int // user id → index of the query that first returned it
	sum     *Summary
	started bool // Progress.Start called
}

// source is what a run pages through: a target's list, and what becomes of
// each user it lists.
type source[U any] struct {
	// list fetches the page of q at offset.
	list func(ctx context.Context, q *query, offset int) (*Page[U], error)
	// classify returns, for each page, what says whether a failed
	// request for it is sent again.
	classify func() func(error) ratelimit.Verdict
	// explainAuth is the sentence a refused credential stops the run with.
	explainAuth func(error) error
	// id tells users apart; "" for a user without one.
	id func(*U) string
	// user takes in one distinct user, in list order.
	user func(*U) error
}

func newRun[U any](cfg Config, pacer Pacer, sw *halt.Switch, src source[U]) *run[U] {
	now := cfg.Now()
	return &run[U]{cfg: cfg, pacer: pacer, log: cfg.Logger, src: src, now: now, halt: sw,
		seen: map[string]int{}, sum: newSummary(now, cfg)}
}

// Run fetches the users, writes those the filters keep to out in account
// order, and returns the audit summary. Every request runs under sw's
// context, since pages are GETs: when sw flips (a Ctrl-C, or its parent
// context ending) the run stops at once and the summary says Interrupted
// (the report is then incomplete and must not be kept). The returned error
// is a run-level failure: credentials refused, a page that kept failing, or
// out refusing a write. Such a failure is returned even when sw flipped
// meanwhile: only what the stop itself caused reads as an interruption.
//
// Export does not run on the engine: its unit is a page of users that must
// reach the report in account order, not a row that ends in a results line,
// so its pool (fetchInOrder) fetches ahead and hands pages over in order,
// and it writes a report, not one line per input row.
func (ex *Exporter) Run(sw *halt.Switch, out Sink) (*Summary, error) {
	roles := map[string]bool{}
	for _, role := range ex.cfg.Roles {
		roles[strings.ToLower(role)] = true
	}
	classify := func() func(error) ratelimit.Verdict { return exotel.Classifier(ex.api, ex.cfg.MaxAttempts) }
	var r *run[exotel.User]
	r = newRun(ex.cfg, ex.pacer, sw, source[exotel.User]{
		list: func(ctx context.Context, q *query, offset int) (*Page[exotel.User], error) {
			p, err := ex.api.ListUsers(ctx, q.opts(offset))
			if err != nil {
				return nil, err
			}
			page := &Page[exotel.User]{Users: p.Users, Total: p.Total, Limit: p.Limit}
			for _, e := range p.Errors {
				page.Errors = append(page.Errors, e)
			}
			return page, nil
		},
		classify:    classify,
		explainAuth: exotel.ExplainAuth,
		id:          func(u *exotel.User) string { return u.ID },
		// A user counts towards the summary, and is written when the
		// filters keep it.
		user: func(u *exotel.User) error {
			days := ex.cfg.AuditDays
			r.sum.odd(u.OddFields())
			r.sum.Fetched.add(u, r.now, days)
			if !keep(u, roles, ex.cfg.InactiveDays, r.now) {
				ex.cfg.Progress.Row(FilteredOut)
				return nil
			}
			if err := out.Write(NewRecord(*u)); err != nil {
				return fmt.Errorf("writing the report: %w", err)
			}
			r.sum.Report.add(u, r.now, days)
			ex.cfg.Progress.Row(Exported)
			return nil
		},
	})
	return r.exec()
}

// exec runs the export and settles its summary.
func (r *run[U]) exec() (*Summary, error) {
	start := time.Now()
	err := r.export()
	if r.started {
		r.cfg.Progress.Finish()
	}
	r.sum.finish()
	r.sum.Requests = int(r.requests.Load())
	r.sum.Elapsed = time.Since(start)
	if err != nil && !r.causedByStop(err) {
		return r.sum, err
	}
	// Stopped by the user, or by ctx.
	r.sum.Interrupted = err != nil || r.halt.Stopping()
	return r.sum, nil
}

// causedByStop reports whether err is what the switch flipping does to a
// request: refused by the stopped limiter, or cut short by the ended
// context.
func (r *run[U]) causedByStop(err error) bool {
	return r.halt.Context().Err() != nil &&
		(ratelimit.WasNotSent(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

func (r *run[U]) startProgress(total int) {
	if !r.started {
		r.started = true
		r.cfg.Progress.Start(total)
	}
}

// keep applies the client-side filters: roles (lower case; empty keeps
// every role) and inactiveDays (0 keeps everyone).
func keep(u *exotel.User, roles map[string]bool, inactiveDays int, now time.Time) bool {
	if len(roles) > 0 && !roles[strings.ToLower(u.Role)] {
		return false
	}
	if d := inactiveDays; d > 0 {
		never, inactive := loginState(u.LastLogin, now, d)
		return never || inactive
	}
	return true
}
