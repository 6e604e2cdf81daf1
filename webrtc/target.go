package webrtc

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/resolve"
)

// Retrier is the shared limiter's retry loop (*ratelimit.Limiter).
type Retrier interface {
	Retry(ctx context.Context, maxAttempts int, classify func(error) ratelimit.Verdict, fn func() error) (int, error)
}

// TargetConfig tunes a Target's lookups.
type TargetConfig struct {
	Workers     int // concurrent GETs by user_id; default engine.DefaultWorkers
	MaxAttempts int // per request, 429s included; default engine.DefaultMaxAttempts
	Logger      *slog.Logger
}

// Target is this API as the target of exoroster's commands: it is an
// importer.Target, an offboard.Target and an exporter.Lister[User]. The
// commands own their runs; a Target only says how a row of this API reads,
// and sends the requests they decide on. It is safe for concurrent use.
type Target struct {
	c     *Client
	pacer Retrier
	cfg   TargetConfig
	log   *slog.Logger
	size  appSize // the app's users at its latest listing, for Reread
}

// The commands a Target serves.
var (
	_ importer.Target       = (*Target)(nil)
	_ offboard.Target       = (*Target)(nil)
	_ exporter.Lister[User] = (*Target)(nil)
)

// NewTarget returns the Target of c's app. c and pacer may be nil for a run
// that sends nothing (a dry run of import, validate).
func NewTarget(c *Client, pacer Retrier, cfg TargetConfig) *Target {
	cfg.Workers = engine.Workers(cfg.Workers)
	cfg.MaxAttempts = engine.MaxAttempts(cfg.MaxAttempts)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Target{c: c, pacer: pacer, cfg: cfg, log: cfg.Logger}
}

// ExplainAuth says why the API refused the run, naming this API's
// credentials.
func (t *Target) ExplainAuth(err error) error { return ExplainAuth(err) }

// Retrying returns the classify function for one retry loop of up to
// maxAttempts: the client's (Client.Retrying), so that importer, offboard
// and exotel.Classifier treat this target as they treat CCM's, a request
// that got no answer and will be tried again said on the log; for a Target
// that sends nothing, exotel.RetryVerdict.
func (t *Target) Retrying(maxAttempts int) func(error) ratelimit.Verdict {
	if t.c == nil {
		return exotel.RetryVerdict
	}
	return t.c.Retrying(maxAttempts)
}

// get fetches one user through the limiter, retrying what is safe to
// retry. It returns nil when no user has id, and the requests sent.
func (t *Target) get(ctx context.Context, id string) (*User, int, error) {
	var u *User
	n, err := t.pacer.Retry(ctx, t.cfg.MaxAttempts, t.Retrying(t.cfg.MaxAttempts), func() error {
		var err error
		u, err = t.c.GetUser(ctx, id)
		return err
	})
	switch {
	case exotel.KindOf(err) == exotel.KindNotFound:
		return nil, n, nil
	case err != nil:
		return nil, n, err
	}
	return u, n, nil
}

// lookup is what getAll found: a user_id present with a nil user is one no
// user has; one in errs could not be looked up.
type lookup struct {
	users    map[string]*User
	errs     map[string]error
	requests int
}

// getAll fetches the users with these ids, Workers at a time: the API
// finds users by user_id one at a time. The error is run-level only
// (resolve.IsRunLevel); any other failure is noted against its id.
func (t *Target) getAll(ctx context.Context, ids []string) (*lookup, error) {
	l := &lookup{users: map[string]*User{}, errs: map[string]error{}}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(t.cfg.Workers)
	var mu sync.Mutex // guards l while the GETs run
	for _, id := range ids {
		g.Go(func() error {
			u, n, err := t.get(gctx, id)
			mu.Lock()
			defer mu.Unlock()
			l.requests += n
			switch {
			case err == nil:
				l.users[id] = u
			case resolve.IsRunLevel(err):
				return err
			default:
				l.errs[id] = err
			}
			return nil
		})
	}
	return l, g.Wait()
}

// fetchPage is a PageFunc that fetches each page under the limiter's retry
// loop and adds the requests it sent to requests.
func (t *Target) fetchPage(requests *int) PageFunc {
	return func(ctx context.Context, offset int) (*Page, error) {
		var p *Page
		n, err := t.pacer.Retry(ctx, t.cfg.MaxAttempts, t.Retrying(t.cfg.MaxAttempts), func() error {
			var err error
			p, err = t.c.ListPage(ctx, offset)
			return err
		})
		*requests += n
		return p, err
	}
}

// errUnreadable stands for an entry of a list answer that is not a user.
var errUnreadable = errors.New("an entry of the users list is not a user object")

// ListPage is the page at offset for an export, in the page size the
// client has settled on (see Client.ListPage).
func (t *Target) ListPage(ctx context.Context, offset int) (*exporter.Page[User], error) {
	p, err := t.c.ListPage(ctx, offset)
	if err != nil {
		return nil, err
	}
	t.size.note(p)
	page := &exporter.Page[User]{Users: p.Users, Limit: p.Limit}
	if p.HasTotal {
		page.Total = p.Total
	}
	for range p.Unreadable {
		page.Errors = append(page.Errors, errUnreadable)
	}
	return page, nil
}

// ID tells users apart in an export.
func (t *Target) ID(u *User) string { return u.UserID }

// Line is u's export line.
func (t *Target) Line(u *User) exporter.Line { return NewRecord(*u) }
