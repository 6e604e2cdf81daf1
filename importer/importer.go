// Package importer creates Exotel users from a roster CSV, in the CCM
// Users API (New) or another target (NewFor, with a Target).
//
// Rows stream from the file through offline validation; invalid rows are
// recorded and never reach the API. Valid rows go to a pool of workers that
// share one rate limiter, and every row ends as exactly one line of the
// results file, whatever happens: created, exists, invalid, failed or skipped.
package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// API is what the importer needs from Exotel; *exotel.Client has it.
type API interface {
	CreateUser(ctx context.Context, req exotel.CreateUserRequest) (*exotel.User, error)
	resolve.API // lookups by email or phone
}

// Pacer is what the importer needs from the shared limiter
// (*ratelimit.Limiter): a backoff between retries of a create and a retry
// loop for lookups. The run's halt.Switch stops the limiter itself.
type Pacer interface {
	Backoff(ctx context.Context, attempt int) error
	Retry(ctx context.Context, maxAttempts int, classify func(error) ratelimit.Verdict, fn func() error) (int, error)
}

// EmailTaken says what to do when an email was used by a deleted user.
type EmailTaken string

const (
	// EmailTakenFail fails the row with an explanation (the default).
	EmailTakenFail EmailTaken = "fail"
	// EmailTakenPlus retries with local+1@domain, +2 and so on, as
	// Exotel's dashboard guide suggests.
	EmailTakenPlus EmailTaken = "plus"
)

// DefaultPlusLimit bounds the +N addresses tried for one row.
const DefaultPlusLimit = 9

// importAdvice is import's advice for an email a deleted user held.
func importAdvice(plus string) string {
	return "rerun with --on-email-taken=plus to use " + plus
}

// Config tunes a run.
type Config struct {
	Workers     int // concurrent requests; default engine.DefaultWorkers
	MaxAttempts int // POSTs per row, 429s included; default engine.DefaultMaxAttempts
	DryRun      bool
	Roster      roster.Options
	// OnEmailTaken: what to do on 409 1022 for an email no current user
	// holds (a deleted user's).
	OnEmailTaken EmailTaken
	PlusLimit    int
	// EmailTakenAdvice says what the user can do about a row that failed
	// because its email belonged to a deleted user (OnEmailTaken fail),
	// given the first free-looking +N address; the default names import's
	// --on-email-taken=plus. A caller without that flag (sync's apply)
	// gives its own.
	EmailTakenAdvice func(plus string) string
	// RetryUnverifiable allows re-sending a create whose answer was lost
	// for a row with neither email nor phone, which cannot be looked up.
	RetryUnverifiable bool
	// CheckExisting looks rows up in batches before creating them, so a
	// rerun without --resume spends one GET per 50 rows instead of a
	// POST and a GET per row. Resuming always does it.
	CheckExisting bool
	Logger        *slog.Logger
	Progress      engine.Progress
	// PhoneRequired, when set, is called once, from a worker, when Exotel
	// refuses a row for want of a phone (400 1402): rows without a phone
	// after it are skipped, not sent. The caller can say so at the end.
	PhoneRequired func(row int)
}

// Importer runs imports. Create one with New or NewFor.
type Importer struct {
	target Target
	pacer  Pacer
	cfg    Config
	log    *slog.Logger
	// oneByOne is CreateOne's phone gate, shared by every row created one
	// at a time (sync's apply, which runs its own engine): what one
	// phone-less create learns of the account holds for the rest.
	oneByOne *phoneGate
}

// New returns an Importer into Exotel's CCM Users API. api and pacer may
// be nil for a dry run.
func New(api API, pacer Pacer, cfg Config) *Importer {
	cfg = cfg.withDefaults()
	return &Importer{target: newCCM(api, pacer, cfg), pacer: pacer, cfg: cfg, log: cfg.Logger, oneByOne: newPhoneGate()}
}

// NewFor returns an Importer into target, another API than CCM's.
// OnEmailTaken and PlusLimit are CCM's; pacer may be nil for a dry run.
func NewFor(target Target, pacer Pacer, cfg Config) *Importer {
	cfg = cfg.withDefaults()
	return &Importer{target: target, pacer: pacer, cfg: cfg, log: cfg.Logger, oneByOne: newPhoneGate()}
}

func (cfg Config) withDefaults() Config {
	cfg.Workers = engine.Workers(cfg.Workers)
	cfg.MaxAttempts = engine.MaxAttempts(cfg.MaxAttempts)
	if cfg.OnEmailTaken == "" {
		cfg.OnEmailTaken = EmailTakenFail
	}
	if cfg.PlusLimit < 1 {
		cfg.PlusLimit = DefaultPlusLimit
	}
	if cfg.EmailTakenAdvice == nil {
		cfg.EmailTakenAdvice = importAdvice
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Input is a roster file, CSV or .xlsx. Open is called more than once: to
// check the header, to count and hash the file, to stream it to the
// workers, and to check a resume.
type Input struct {
	Name string
	Open func() (io.ReadCloser, error)
	// Read says how to read it (--map, --encoding, --sheet…); every pass
	// reads it the same way.
	Read roster.ReadOptions
}

// Plan is what a first pass over the input found.
type Plan struct {
	Input  Input
	Header *roster.Header
	// Describe says how the file was read and which column fills which
	// field (roster.Reader.Describe), for the run to print first.
	Describe string
	Rows     int
	// LastRow is the last row's number. In CSV it is Rows; in a workbook
	// rows are the sheet's own numbers, which skip empty rows.
	LastRow int
	SHA256  string // of the input bytes, to match a results file on resume
}

// Prepare reads a roster for the CCM target; see PrepareFor.
func Prepare(in Input, opts roster.Options) (*Plan, error) {
	return PrepareFor(CCMRows(), in, opts)
}

// PrepareFor reads the whole input: checks the header and columns as rows
// needs them, counts rows and fingerprints the file. It does not validate
// the rows: the run does, once, as it streams them. Its errors are
// run-level: an unreadable file, one without the columns the target needs,
// or what roster.NewReaderWith refuses (a *roster.UsageError for a bad
// --map, a *roster.ColumnError for columns that need --map or
// --ignore-column).
//
// The count comes from roster.CountRows, a scan of the bytes as they are
// hashed, where it can tell; otherwise from reading every record, which
// also finds a file that cannot be read to its end.
func PrepareFor(rows Rows, in Input, _ roster.Options) (*Plan, error) {
	rc, err := in.Open()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", in.Name, err)
	}
	defer rc.Close()
	r, err := roster.NewReaderWith(rc, in.Read)
	if err != nil {
		return nil, openError(in.Name, err)
	}
	defer r.Close()
	h := r.Header()
	if err := rows.CheckHeader(h); err != nil {
		return nil, fmt.Errorf("%s: %w", in.Name, err)
	}
	plan := &Plan{Input: in, Header: h, Describe: r.Describe()}
	counted, err := plan.countAndHash()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", in.Name, err)
	}
	if counted {
		return plan, nil
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", in.Name, err)
		}
		plan.Rows++
		plan.LastRow = rec.Row
	}
	return plan, nil
}

// countAndHash sets the plan's SHA256 from every byte of the input and,
// where roster.CountRows can tell, its Rows and LastRow (a CSV row's number
// is its count); counted is false when the rows are left to the Reader.
func (p *Plan) countAndHash() (counted bool, err error) {
	rc, err := p.Input.Open()
	if err != nil {
		return false, err
	}
	defer rc.Close()
	sum := sha256.New()
	n, counted, err := roster.CountRows(io.TeeReader(rc, sum), p.Input.Read)
	if err != nil {
		return false, err
	}
	// The hash must cover every byte, including any the counter did not
	// need.
	if _, err := io.Copy(io.Discard, io.TeeReader(rc, sum)); err != nil {
		return false, err
	}
	p.SHA256 = hex.EncodeToString(sum.Sum(nil))
	if counted {
		p.Rows, p.LastRow = n, n
	}
	return counted, nil
}

// openError says why a roster could not be opened: a problem with its
// columns names the file, anything else cannot read it. Both wrap err, so
// callers can tell a *roster.UsageError.
func openError(name string, err error) error {
	var ue *roster.UsageError
	var ce *roster.ColumnError
	if errors.As(err, &ue) || errors.As(err, &ce) {
		return fmt.Errorf("%s: %w", name, err)
	}
	return fmt.Errorf("cannot read %s: %w", name, err)
}

// Layout is the results file's layout for this input.
func (p *Plan) Layout() results.Layout { return results.Layout{Input: p.Header.Names} }

// OKStatuses are the statuses of rows that need no attention.
func OKStatuses() []results.Status {
	return []results.Status{results.Created, results.Exists, results.WouldCreate}
}

// Resume carries what an earlier run's results file said.
type Resume struct {
	Prior *results.Prior
}

// done reports whether the earlier run settled the row for good.
func doneStatus(s results.Status) bool { return s == results.Created || s == results.Exists }

// KeepOnResume says which earlier lines a resumed run keeps: rows created or
// found existing. Everything else is done again.
func KeepOnResume(_ int, p results.PriorRow) bool { return doneStatus(p.Status) }

// job is one valid row on its way to a worker.
type job struct {
	rec    roster.Record
	person Person
	// checked: a lookup before the create already ran; found is its
	// answer (nil: nobody matched, safe to create).
	checked bool
	found   User
	// mayExist: an earlier run may have created this row's user (its
	// answer was lost, or the run died with the row in flight), so the
	// create must not be sent blind.
	mayExist bool
}

// run holds one Run's shared state.
type run struct {
	im     *Importer
	plan   *Plan
	resume *Resume
	// halt stops the run: its context ends waits between requests, while
	// requests themselves use the caller's ctx so they can finish.
	halt *halt.Switch
	// phones learns whether the account needs a phone for every user,
	// so that rows without one are not each refused (400 1402).
	phones *phoneGate
}

// Run imports plan's rows and writes one line per row to out. sw is the
// run's stop switch: once it flips no new row or request starts, requests
// in flight finish (ctx ends them: a second Ctrl-C), and the rest are
// recorded as skipped. The returned error is for run-level failures only
// (the input became unreadable or changed, the results file cannot be
// written); an authentication failure is reported in Summary.Aborted.
func (im *Importer) Run(ctx context.Context, sw *halt.Switch, plan *Plan, out engine.Sink, resume *Resume) (*engine.Summary, error) {
	r := &run{im: im, plan: plan, resume: resume, halt: sw, phones: newPhoneGate()}
	settled := map[results.Status]int{}
	total := plan.Rows
	if resume != nil {
		for row, p := range resume.Prior.Rows {
			if row <= plan.LastRow && doneStatus(p.Status) {
				total--
				settled[p.Status]++
			}
		}
	}
	return engine.Run(ctx, sw, out, engine.Spec[job]{
		Workers:  im.cfg.Workers,
		Total:    total,
		Settled:  settled,
		OK:       OKStatuses(),
		Progress: im.cfg.Progress,
		Produce:  r.feed,
		Work:     r.process,
		Skip:     func(j job) results.Line { return skippedLine(j, 0, "") },
	})
}

// feed streams the input, records invalid rows, and hands valid ones to the
// workers (after a batched lookup when resuming or checking existing users).
func (r *run) feed(_ context.Context, feed *engine.Feed[job]) (err error) {
	rc, err := r.plan.Input.Open()
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", r.plan.Input.Name, err)
	}
	defer rc.Close()
	rd, err := roster.NewReaderWith(rc, r.plan.Input.Read)
	if err != nil {
		return openError(r.plan.Input.Name, err)
	}
	defer rd.Close()
	rows := CheckAll(rd, r.im.target.NewChecker(rd.Header(), r.im.cfg.Roster))
	defer rows.Close()
	lookupFirst := r.resume != nil || r.im.cfg.CheckExisting
	batch := make([]job, 0, exotel.MaxPageSize)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if !r.halt.Stopping() {
			r.lookupBatch(batch)
		}
		for _, j := range batch {
			feed.Send(j)
		}
		batch = batch[:0]
	}
	defer func() {
		if err != nil {
			// A failing run sends nothing more: the rows batched for
			// lookup are neither looked up nor created, only skipped.
			r.halt.Stop()
		}
		flush()
	}()

	for {
		row, err := rows.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", r.plan.Input.Name, err)
		}
		rec, person, problems := row.Rec, row.Person, row.Problems
		prior, seen := r.priorRow(rec.Row)
		if seen {
			if prior.InputHash != results.InputHash(rec.Raw) {
				return fmt.Errorf("the results file's row %d was written for different input: %s changed since that run; use a new --results file", rec.Row, r.plan.Input.Name)
			}
			if doneStatus(prior.Status) {
				continue // settled by the earlier run; its line was kept
			}
		}
		if len(problems) > 0 {
			feed.Line(invalidLine(rec, problems))
			continue
		}
		j := job{rec: rec, person: person}
		if r.resume != nil {
			// A row the results do not mention may have been in flight
			// when the earlier run died; one whose last answer was lost
			// may have been created.
			j.mayExist = !seen || (prior.Attempts > 0 && prior.HTTPStatus == 0)
		}
		if r.im.cfg.DryRun {
			feed.Line(results.Line{Row: rec.Row, Status: results.WouldCreate, Input: rec.Raw,
				Message: person.Describe()})
			continue
		}
		if !lookupFirst || !person.CanLookUp() {
			feed.Send(j)
			continue
		}
		batch = append(batch, j)
		if len(batch) == cap(batch) {
			flush()
		}
	}
}

func (r *run) priorRow(row int) (results.PriorRow, bool) {
	if r.resume == nil {
		return results.PriorRow{}, false
	}
	p, ok := r.resume.Prior.Rows[row]
	return p, ok
}

func invalidLine(rec roster.Record, problems []roster.Problem) results.Line {
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.String()
	}
	return results.Line{Row: rec.Row, Status: results.Invalid, Message: strings.Join(msgs, "; "), Input: rec.Raw}
}

func skippedLine(j job, attempts int, why string) results.Line {
	msg := "not attempted: the run stopped first"
	if attempts > 0 {
		msg = "stopped before the row finished"
	}
	if why != "" {
		msg += "; " + why
	}
	return results.Line{Row: j.rec.Row, Status: results.Skipped, Attempts: attempts, Message: msg, Input: j.rec.Raw}
}

// lookupBatch looks up the users of up to 50 rows at once and marks each
// job checked when the lookup could tell. Lookups are GETs, so they run
// under the run's stop context and a Ctrl-C abandons them. A lookup that
// failed leaves the rows to their workers, which look them up alone when
// they must; one that met what waiting cannot fix stops the run.
func (r *run) lookupBatch(batch []job) {
	persons := make([]Person, len(batch))
	for i, j := range batch {
		persons[i] = j.person
	}
	users, checked, err := r.im.target.FindAll(r.halt.Context(), persons)
	switch {
	case exotel.IsMisconfiguration(err):
		r.halt.Abort(exotel.ExplainMisconfiguration(err))
		return
	case err != nil && r.halt.Stopping():
		// A stop is not a failure: the run's end says it was interrupted.
		return
	case err != nil:
		r.im.log.Warn("batched lookup failed; rows will be checked one by one", "err", err)
		return
	}
	for i := range batch {
		batch[i].found, batch[i].checked = users[i], checked[i]
	}
}

// CheckResume makes sure an earlier run's results belong to this input: each
// row they mention must exist and hold the same cells it held then. It reads
// the input once more and sends nothing.
func (p *Plan) CheckResume(prior *results.Prior) error {
	rc, err := p.Input.Open()
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", p.Input.Name, err)
	}
	defer rc.Close()
	rd, err := roster.NewReaderWith(rc, p.Input.Read)
	if err != nil {
		return openError(p.Input.Name, err)
	}
	defer rd.Close()
	// Tick off the rows the results mention rather than compare their
	// numbers with the row count: a workbook's rows are the sheet's own
	// numbers, which skip empty rows.
	matched := make(map[int]bool, len(prior.Rows))
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", p.Input.Name, err)
		}
		pr, ok := prior.Rows[rec.Row]
		if !ok {
			continue
		}
		if pr.InputHash != results.InputHash(rec.Raw) {
			return fmt.Errorf("the results file was written for a different input: its row %d does not match row %d of %s", rec.Row, rec.Row, p.Input.Name)
		}
		matched[rec.Row] = true
	}
	if len(matched) == len(prior.Rows) {
		return nil
	}
	missing := 0
	for row := range prior.Rows {
		if !matched[row] && (missing == 0 || row < missing) {
			missing = row
		}
	}
	return fmt.Errorf("the results file was written for a different input: it has row %d, which %s does not have", missing, p.Input.Name)
}
