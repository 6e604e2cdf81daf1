package resolve

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/roster"
)

// API is what resolving needs from Exotel; *exotel.Client has it.
type API interface {
	ListUsers(ctx context.Context, opts exotel.ListOptions) (*exotel.Page, error)
	GetUser(ctx context.Context, id string, fields ...string) (*exotel.User, error)
}

// Pacer retries requests that are safe to repeat under the shared limiter;
// *ratelimit.Limiter has it.
type Pacer interface {
	Retry(ctx context.Context, maxAttempts int, classify func(error) ratelimit.Verdict, fn func() error) (int, error)
}

// Fields are asked for on every lookup: offboard's snapshot is the whole
// record, as export writes it.
func Fields() []string { return []string{"devices", "last_login", "active_call"} }

// Config tunes a Resolver.
type Config struct {
	Workers     int // concurrent GETs by id; default engine.DefaultWorkers
	MaxAttempts int // per request, 429s included; default engine.DefaultMaxAttempts
	// FilterBytes is the escaped size of one filtered GET's values;
	// default exotel.DefaultFilterBytes.
	FilterBytes int
	Logger      *slog.Logger
}

// Resolver looks users up. It is safe for concurrent use.
type Resolver struct {
	api   API
	pacer Pacer
	cfg   Config
	log   *slog.Logger

	// The filter budget: values and escaped bytes per GET. A server that
	// refuses a URL as too long halves it for the rest of the run.
	mu        sync.Mutex
	maxValues int
	maxBytes  int
}

// New returns a Resolver.
func New(api API, pacer Pacer, cfg Config) *Resolver {
	cfg.Workers = engine.Workers(cfg.Workers)
	cfg.MaxAttempts = engine.MaxAttempts(cfg.MaxAttempts)
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.FilterBytes <= 0 {
		cfg.FilterBytes = exotel.DefaultFilterBytes
	}
	return &Resolver{api: api, pacer: pacer, cfg: cfg, log: log,
		maxValues: exotel.MaxPageSize, maxBytes: cfg.FilterBytes}
}

// Strategy names how a Lookup found users by id, for logs and tests.
type Strategy string

const (
	// ByFilters: no ids to find, or at most one (a GET by id is no dearer
	// than a first page).
	ByFilters Strategy = "filters"
	// ByID: filters for emails and phones, one GET per id they did not
	// already find.
	ByID Strategy = "get-by-id"
	// ByListing: the whole account, page by page, answers everything.
	ByListing Strategy = "listing"
)

// Words says how the users were found, for a person: "by id", "by email
// and phone", "a listing of the account"; strategies joined with "+" (a
// target that used more than one) are joined with "and".
func (s Strategy) Words() string {
	parts := strings.Split(string(s), "+")
	for i, p := range parts {
		switch Strategy(p) {
		case ByFilters:
			parts[i] = "by email and phone"
		case ByID:
			parts[i] = "by id"
		case ByListing:
			parts[i] = "a listing of the account"
		}
	}
	return strings.Join(parts, " and ")
}

// Lookup finds the users that idents name. Every value is looked up, so a
// row's identifiers can be checked against each other. The error is
// run-level only: credentials refused (exotel.KindAuth), the limiter
// stopped, or ctx ended. A lookup that fails otherwise is recorded against
// its values (Index.Users returns it) and the rows that need it fail.
//
// Ids: with two or more to find, the first page of the whole account is
// read (it tells the account's size); then the rest of the account is
// listed if that takes no more requests than the filter batches (which the
// listing makes unnecessary) plus a GET for each id that neither that page
// nor its row's email or phone will find. With at most one id, a GET by id
// never costs more than that first page.
func (r *Resolver) Lookup(ctx context.Context, idents []Ident) (*Index, error) {
	ix := newIndex()
	ids, emails, phones := distinct(idents)
	ix.Strategy = ByFilters

	if len(ids) >= 2 {
		done, err := r.tryListing(ctx, ix, idents, emails, phones)
		if err != nil || done {
			return ix, err
		}
	}

	if err := r.filter(ctx, ix, KeyEmail, emails); err != nil {
		return ix, err
	}
	if err := r.filter(ctx, ix, KeyPhone, phones); err != nil {
		return ix, err
	}
	if len(ids) == 1 && ix.users[ids[0]] == nil {
		ix.Strategy = ByID
	}
	return ix, r.getByID(ctx, ix, ids)
}

// tryListing reads the account's first page and, when that is cheaper,
// the rest of it. done is true when the listing answered everything. A
// page that fails for good leaves the rest to the filters and GETs by id.
func (r *Resolver) tryListing(ctx context.Context, ix *Index, idents []Ident, emails, phones []string) (done bool, err error) {
	ix.Strategy = ByID
	first, err := r.page(ctx, ix, exotel.ListOptions{})
	if err != nil {
		// A run-level error (a stop, a refused token) ends the lookup: the
		// run says why, and nothing is looked up one by one.
		if IsRunLevel(err) {
			return false, err
		}
		r.log.Warn("listing the account failed; looking ids up one by one", "err", err)
		return false, nil
	}
	ix.addAll(first.Users)
	seen := len(first.Users) + len(first.Errors)
	pages := (max(first.Total-seen, 0) + exotel.MaxPageSize - 1) / exotel.MaxPageSize
	// An id given with an email or phone is found by their filters.
	missing := map[string]bool{}
	covered := map[string]bool{}
	for _, id := range idents {
		switch {
		case id.UserID == "":
		case id.Email != "" || id.Phone != "":
			covered[id.UserID] = true
		case ix.users[id.UserID] == nil:
			missing[id.UserID] = true
		}
	}
	for id := range covered {
		delete(missing, id)
	}
	byID := len(missing) + len(r.batches(KeyEmail, emails)) + len(r.batches(KeyPhone, phones))
	r.log.Debug("resolving ids", "missing", len(missing), "account", first.Total,
		"listing_requests", pages, "per_id_requests", byID)
	if pages > byID {
		return false, nil
	}
	ix.Strategy = ByListing
	complete, err := r.listFrom(ctx, ix, seen, first.Total)
	if err != nil {
		if IsRunLevel(err) {
			return false, err
		}
		r.log.Warn("listing the account failed; looking the rest up by filters and ids", "err", err)
		return false, nil
	}
	// Broken records on a page: what the listing did not show is looked
	// up the usual way.
	ix.complete = complete && len(first.Errors) == 0
	return ix.complete, nil
}

// Complete lists the whole account into ix, unless it already holds it;
// offboard needs it to count admins. Any error means the count cannot be
// trusted (IsRunLevel tells which errors must also stop the run); so does
// a nil error with ix.Complete() still false (broken records).
func (r *Resolver) Complete(ctx context.Context, ix *Index) error {
	if ix.complete {
		return nil
	}
	first, err := r.page(ctx, ix, exotel.ListOptions{})
	if err != nil {
		return err
	}
	ix.addAll(first.Users)
	seen := len(first.Users) + len(first.Errors)
	complete, err := r.listFrom(ctx, ix, seen, first.Total)
	if err != nil {
		return err
	}
	ix.complete = complete && len(first.Errors) == 0
	return nil
}

// Account lists the whole account into a new Index, every user read fresh:
// what offboard counts admins from right before deleting one. The error is
// as Complete's; the Index holds the requests spent either way.
func (r *Resolver) Account(ctx context.Context) (*Index, error) {
	ix := newIndex()
	return ix, r.Complete(ctx, ix)
}

// listFrom pages the whole account from offset on. complete is false when
// a page carried broken records, so the listing cannot prove absence.
func (r *Resolver) listFrom(ctx context.Context, ix *Index, offset, total int) (complete bool, err error) {
	complete = true
	for offset < total {
		p, err := r.page(ctx, ix, exotel.ListOptions{Offset: offset})
		if err != nil {
			return false, err
		}
		ix.addAll(p.Users)
		n := len(p.Users) + len(p.Errors)
		if len(p.Errors) > 0 {
			complete = false
		}
		if n == 0 {
			break // past the end: the account shrank meanwhile
		}
		offset += n
		total = p.Total
	}
	return complete, nil
}

// filter looks values up with the bulk GET's comma-list filter, in batches.
// A batch the server refuses as too long is split in half, and so is the
// budget for every later batch.
func (r *Resolver) filter(ctx context.Context, ix *Index, k Key, values []string) error {
	queue := r.batches(k, values)
	for len(queue) > 0 {
		group := queue[0]
		queue = queue[1:]
		opts := exotel.ListOptions{}
		if k == KeyEmail {
			opts.Emails = withLowerCase(group)
		} else {
			opts.ContactURIs = group
		}
		users, err := r.listFiltered(ctx, ix, opts, len(group))
		if err != nil && exotel.IsTooLong(err) && len(group) > 1 {
			r.shrink(slices.Concat(opts.Emails, opts.ContactURIs))
			r.log.Warn("the server refused a lookup as too long; sending smaller batches", "values", len(group))
			queue = append(r.batches(k, group), queue...)
			continue
		}
		if err != nil {
			if IsRunLevel(err) {
				return err
			}
			r.log.Warn("lookup failed", "by", k.String(), "values", len(group), "err", err)
			for _, v := range group {
				ix.fail(k, v, err)
			}
			continue
		}
		ix.addAll(users)
		for _, v := range group {
			ix.asked[lookupKey{k, normal(k, v)}] = true
		}
	}
	return nil
}

// batches splits values for filtered GETs under the current budget. An
// email with capitals is sent with its lower-case form too, and both count
// against the budget's values and bytes.
func (r *Resolver) batches(k Key, values []string) [][]string {
	r.mu.Lock()
	maxValues, maxBytes := r.maxValues, r.maxBytes
	r.mu.Unlock()
	var expand func(string) []string
	if k == KeyEmail {
		expand = emailForms
	}
	return exotel.BatchesOf(values, maxValues, maxBytes, expand)
}

// shrink halves the budget below a request that was refused as too long,
// for the rest of the run.
func (r *Resolver) shrink(sent []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.maxValues = max(1, min(r.maxValues, len(sent)/2))
	r.maxBytes = max(1, min(r.maxBytes, exotel.FilterBytes(sent)/2))
}

// listFiltered pages through a filtered bulk GET. A batch of 50 values fits
// one page, but a server may say otherwise. Emails and numbers are unique,
// so it stops once it holds enough users (one per value asked for, an
// email's lower-case form not counted): a server that ignored the filter
// must not make one lookup page through the whole account.
func (r *Resolver) listFiltered(ctx context.Context, ix *Index, opts exotel.ListOptions, enough int) ([]exotel.User, error) {
	var all []exotel.User
	for {
		p, err := r.page(ctx, ix, opts)
		if err != nil {
			return nil, err
		}
		if len(p.Errors) > 0 {
			// Which value's record broke is unknown: none of the batch
			// can be trusted to be absent.
			return nil, p.Errors[0]
		}
		all = append(all, p.Users...)
		if len(p.Users) == 0 || opts.Offset+len(p.Users) >= p.Total || len(all) >= enough {
			return all, nil
		}
		opts.Offset += len(p.Users)
	}
}

// page fetches one page of 50 with every field, under the limiter.
func (r *Resolver) page(ctx context.Context, ix *Index, opts exotel.ListOptions) (*exotel.Page, error) {
	opts.Limit = exotel.MaxPageSize
	opts.Fields = Fields()
	var p *exotel.Page
	n, err := r.pacer.Retry(ctx, r.cfg.MaxAttempts, exotel.Classifier(r.api, r.cfg.MaxAttempts), func() error {
		var err error
		p, err = r.api.ListUsers(ctx, opts)
		return err
	})
	ix.count(n)
	return p, err
}

// getByID fetches, concurrently, the ids ix does not hold yet.
func (r *Resolver) getByID(ctx context.Context, ix *Index, ids []string) error {
	var todo []string
	for _, id := range ids {
		if ix.users[id] == nil && !ix.complete {
			todo = append(todo, id)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Workers)
	var mu sync.Mutex // guards ix while workers run
	for _, id := range todo {
		g.Go(func() error {
			var u *exotel.User
			n, err := r.pacer.Retry(gctx, r.cfg.MaxAttempts, exotel.Classifier(r.api, r.cfg.MaxAttempts), func() error {
				var err error
				u, err = r.api.GetUser(gctx, id, Fields()...)
				return err
			})
			mu.Lock()
			defer mu.Unlock()
			ix.count(n)
			switch {
			case err == nil:
				ix.addAll([]exotel.User{*u})
				ix.asked[lookupKey{KeyUserID, id}] = true
			case exotel.KindOf(err) == exotel.KindNotFound:
				ix.asked[lookupKey{KeyUserID, id}] = true
			case IsRunLevel(err):
				return err
			default:
				ix.fail(KeyUserID, id, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// IsRunLevel reports whether err must stop the whole run rather than fail
// some rows: refused credentials, a misconfiguration met on the first
// request (exotel.IsMisconfiguration), a stopped limiter, an ended context.
func IsRunLevel(err error) bool {
	return err != nil && (exotel.KindOf(err) == exotel.KindAuth || exotel.IsMisconfiguration(err) || ratelimit.ErrStopped(err) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}

// IsAuth reports whether a Lookup error is a refused credential.
func IsAuth(err error) bool { return exotel.KindOf(err) == exotel.KindAuth }

// distinct returns each id, email and phone once, in first-seen order.
func distinct(idents []Ident) (ids, emails, phones []string) {
	seen := map[lookupKey]bool{}
	for _, id := range idents {
		for _, k := range Keys() {
			v := id.Value(k)
			if v == "" {
				continue
			}
			key := lookupKey{k, normal(k, v)}
			if seen[key] {
				continue
			}
			seen[key] = true
			switch k {
			case KeyUserID:
				ids = append(ids, v)
			case KeyEmail:
				emails = append(emails, v)
			case KeyPhone:
				phones = append(phones, v)
			}
		}
	}
	return ids, emails, phones
}

// emailForms is an email and, when it has capitals, its lower-case form:
// emails compare case-insensitively, but a server's filter may not.
func emailForms(e string) []string {
	if l := roster.EmailKey(e); l != e {
		return []string{e, l}
	}
	return []string{e}
}

// withLowerCase adds the lower-case form of each email that has capitals
// (see emailForms).
func withLowerCase(emails []string) []string {
	out := emails
	for _, e := range emails {
		if l := roster.EmailKey(e); l != e {
			if len(out) == len(emails) {
				out = append([]string(nil), emails...)
			}
			out = append(out, l)
		}
	}
	return out
}

// normal is the form a value is compared in: emails ignore case, as
// Exotel's filter and its "email already exists" do.
func normal(k Key, v string) string {
	if k == KeyEmail {
		return roster.EmailKey(v)
	}
	return v
}
