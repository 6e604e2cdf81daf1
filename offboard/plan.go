// Package offboard deletes the Exotel users a list names, carefully.
//
// A run has two phases. Decide reads every row, resolves them all with
// batched GETs and decides each row's fate (would_delete, not_found,
// ambiguous, protected, invalid, failed) without deleting anything, so the
// guards — a dry run, --max-delete, a confirmation, the backup — apply to
// the whole list. Then either Record writes the decisions as they are, or
// Delete sends the DELETEs concurrently under the shared limiter. Run does
// both phases with the guards between them, in the order that makes the
// wrong deletion hard.
//
// Every results line of a user carries that user's full record, as export
// writes it, taken before any DELETE; WriteBackup keeps the same records in
// a file that is synced before the first DELETE goes out.
package offboard

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"unicode"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// API is what offboarding needs from Exotel; *exotel.Client has it.
type API interface {
	resolve.API
	DeleteUser(ctx context.Context, id string) error
}

// Pacer is the shared limiter's retry loop; *ratelimit.Limiter has it.
type Pacer = resolve.Pacer

// Config tunes a run.
type Config struct {
	Workers     int // concurrent requests; default engine.DefaultWorkers
	MaxAttempts int // per request, 429s included; default engine.DefaultMaxAttempts
	// AllowAdmins lets admins be deleted; the account's last admin never is.
	AllowAdmins bool
	// IncludeOnCall lets users be deleted while they are on a call
	// (active_call set); without it they are protected.
	IncludeOnCall bool
	Logger        *slog.Logger
	Progress      engine.Progress
}

// Offboarder runs offboards. Create one with New or NewFor.
type Offboarder struct {
	target Target
	pacer  Pacer
	cfg    Config
	log    *slog.Logger
	// columns are the target's export columns.
	columns []string
}

// New returns an Offboarder of Exotel's CCM Users API.
func New(api API, pacer Pacer, cfg Config) *Offboarder {
	cfg = cfg.withDefaults()
	res := resolve.New(api, pacer, resolve.Config{Workers: cfg.Workers, MaxAttempts: cfg.MaxAttempts, Logger: cfg.Logger})
	return NewFor(&ccm{api: api, res: res}, pacer, cfg)
}

// NewFor returns an Offboarder of target, another API than CCM's.
func NewFor(target Target, pacer Pacer, cfg Config) *Offboarder {
	cfg = cfg.withDefaults()
	return &Offboarder{target: target, pacer: pacer, cfg: cfg, log: cfg.Logger, columns: target.Columns()}
}

func (cfg Config) withDefaults() Config {
	cfg.Workers = engine.Workers(cfg.Workers)
	cfg.MaxAttempts = engine.MaxAttempts(cfg.MaxAttempts)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Row is one input row and what was decided for it.
type Row struct {
	Rec roster.Record
	// Status is final for every row except those to delete, which are
	// WouldDelete until Delete or Record settles them. It is empty for a
	// row the run stopped before deciding.
	Status results.Status
	// Member is the user the row names, when there is one, as its
	// target describes it; User is its CCM record in a CCM run.
	Member  Member
	User    *exotel.User
	Message string
	Err     error // a failed lookup's error, for http_status and error_code
	// why marks the rows a person should see by name before anything is
	// deleted (Plan.WriteNotes).
	why rowNote
	// columns are the target's export columns, for the line's copy of
	// the user; nil for a CCM row made outside Decide.
	columns []string
}

// member is the user the row names: Member, or a CCM User given alone.
func (r *Row) member() Member {
	if r.Member == nil && r.User != nil {
		return ccmUser{r.User}
	}
	return r.Member
}

// setMember makes m the row's user.
func (r *Row) setMember(m Member) {
	r.Member, r.User = m, nil
	if c, ok := m.(ccmUser); ok {
		r.User = c.u
	}
}

// rowNote says why a row is listed before anything is deleted.
type rowNote int

const (
	noteNone        rowNote = iota
	noteOnCall              // protected: on a call
	noteAdminKept           // protected: an admin
	notePartialName         // ambiguous: the names match only in part
)

// Plan is every row's fate, decided before anything is deleted.
type Plan struct {
	List *resolve.List
	// columns are the target's export columns.
	columns []string
	Rows    []*Row // in input order
	// Admins is how many admins the account has, counted only when an
	// admin's deletion was planned; -1 when not counted.
	Admins int
	// Requests counts the GETs spent deciding.
	Requests int
	// Settled counts, by status, the rows an earlier run settled for good
	// (a resume keeps their lines); they are not in Rows.
	Settled  map[results.Status]int
	Strategy resolve.Strategy
	// Aborted: Exotel refused the credentials; Interrupted: the user
	// stopped the run. Either way undecided rows have no Status.
	Aborted     error
	Interrupted bool
}

// ToDelete returns the rows whose users would be deleted, in input order.
func (p *Plan) ToDelete() []*Row {
	var out []*Row
	for _, r := range p.Rows {
		if r.Status == results.WouldDelete {
			out = append(out, r)
		}
	}
	return out
}

// Decide resolves every row of list and decides its fate. It sends only
// GETs, under sw's context: once sw flips (an interrupt) the lookups are
// abandoned and the plan comes back with Interrupted set. Refused
// credentials abort sw and come back in Aborted.
func (o *Offboarder) Decide(sw *halt.Switch, list *resolve.List) *Plan {
	plan := &Plan{List: list, Admins: -1, columns: o.columns}
	ctx := sw.Context() // lookups are safe to abandon mid-flight
	// stop records why the lookups ended early.
	stop := func(err error) *Plan {
		switch {
		case sw.Cause() == nil && ctx.Err() != nil: // flipped, or flipping: ctx ends first
			plan.Interrupted = true
		case resolve.IsAuth(err):
			sw.Abort(o.target.ExplainAuth(err))
			plan.Aborted = sw.Cause()
		case exotel.IsMisconfiguration(err):
			sw.Abort(exotel.ExplainMisconfiguration(err))
			plan.Aborted = sw.Cause()
		default:
			sw.Abort(err)
			plan.Aborted = sw.Cause()
		}
		return plan
	}

	var idents []resolve.Ident
	for _, lr := range list.Rows {
		r := &Row{Rec: lr.Rec, columns: o.columns}
		if len(lr.Problems) > 0 {
			r.Status, r.Message = results.Invalid, lr.Message()
		} else {
			idents = append(idents, lr.Ident)
		}
		plan.Rows = append(plan.Rows, r)
	}
	found, err := o.target.Find(ctx, idents)
	plan.Requests, plan.Strategy = found.Requests(), found.Strategy()
	if err != nil {
		return stop(err)
	}

	claims := resolve.Claims{}
	var admins []*Row
	for i, lr := range list.Rows {
		r := plan.Rows[i]
		if r.Status != "" {
			continue
		}
		m := found.Match(lr.Ident)
		if m.User == nil {
			r.Status, r.Message, r.Err = m.Status, m.Message, m.Err
			continue
		}
		u := m.User
		r.setMember(u)
		if why, partial := namesDisagree(list.Header, lr.Rec, u, o.target.Identifiers()); why != "" {
			r.Status, r.Message = results.Ambiguous, why
			if partial {
				r.why = notePartialName
			}
			continue
		}
		if first, dup := claims.Claim(u.ID(), lr.Rec.Row); dup {
			r.Status, r.Message = results.Invalid, resolve.SameUserMessage(first)
			continue
		}
		if u.Admin() && !o.cfg.AllowAdmins {
			r.Status, r.Message, r.why = results.Protected, "admin: not deleted without --allow-admins", noteAdminKept
			continue
		}
		if u.OnCall() != "" && !o.cfg.IncludeOnCall {
			r.Status, r.Message, r.why = results.Protected, onCallMessage(u.OnCall()), noteOnCall
			continue
		}
		r.Status = results.WouldDelete
		if u.Admin() {
			admins = append(admins, r)
		}
	}
	if len(admins) > 0 {
		if err := o.keepLastAdmin(ctx, plan, found, admins); err != nil {
			return stop(err)
		}
		plan.Requests = found.Requests()
	}
	for _, r := range plan.Rows {
		if r.Status == results.WouldDelete {
			r.Message = "would delete " + r.Member.Who()
		}
	}
	plan.Interrupted = sw.Interrupted()
	return plan
}

// keepLastAdmin makes sure the account keeps at least one admin: it lists
// the whole account (only now that an admin's deletion is planned), counts
// its admins and protects the rows that would remove the last one. If the
// count cannot be made, every admin row is protected. The error is
// run-level only.
func (o *Offboarder) keepLastAdmin(ctx context.Context, plan *Plan, found Found, rows []*Row) error {
	current, listed, err := found.Admins(ctx)
	if resolve.IsRunLevel(err) {
		return err
	}
	if err != nil || !listed {
		why := "could not list the whole account to count its admins"
		if err != nil {
			why += " (" + err.Error() + ")"
		}
		for _, r := range rows {
			r.Status, r.Message = results.Protected, "admin: "+why+", so no admin is deleted"
		}
		return nil
	}
	plan.Admins = len(current)
	left := len(current)
	for _, r := range rows {
		if !current[r.Member.ID()] {
			continue // gone or no longer an admin since it was looked up; the DELETE will tell
		}
		if left <= 1 {
			r.Status = results.Protected
			r.Message = fmt.Sprintf("would remove the last remaining admin of the account (it has %d); "+
				"an account must keep one admin, so this row is kept even with --allow-admins", plan.Admins)
			continue
		}
		left--
	}
	return nil
}

// namesDisagree guards against an identifier that is mistyped into someone
// else's. When the row gives names they must be the user's, ignoring case
// and spaces: a first and a last name must both match (or together match
// the user's whole name, however it is split); a full name must match the
// user's whole name; a lone first or last name must match that name. A row
// with no name columns is not checked. partial is true when the names
// share a word with the user's but do not match: the likeliest sign of
// the wrong person ("Seed21 Smith" for Seed21 User21).
func namesDisagree(h *roster.Header, rec roster.Record, u Member, identifiers string) (why string, partial bool) {
	first, last := rec.Get(h, roster.FieldFirstName), rec.Get(h, roster.FieldLastName)
	full := rec.Get(h, roster.FieldName)
	uFirst, uLast := u.Names()
	whole := nameKey(uFirst + uLast)
	var given string
	var match bool
	switch {
	case first != "" && last != "":
		given = first + " " + last
		match = (nameKey(first) == nameKey(uFirst) && nameKey(last) == nameKey(uLast)) ||
			nameKey(first+last) == whole
	case first != "":
		given, match = first, nameKey(first) == nameKey(uFirst)
	case last != "":
		given, match = last, nameKey(last) == nameKey(uLast)
	case full != "":
		f, l := roster.SplitName(full)
		given = full
		match = nameKey(f+l) == whole || nameKey(l+f) == whole ||
			(l == "" && (nameKey(f) == nameKey(uFirst) || nameKey(f) == nameKey(uLast)))
	default:
		return "", false
	}
	if match {
		return "", false
	}
	partial = shareAWord(given, uFirst+" "+uLast)
	what := "does not match"
	if partial {
		what = "matches only in part"
	}
	return fmt.Sprintf("the row names %q but it matches user %s, whose name %s; check the row, or leave the name columns out "+
		"to match by %s alone", given, u.IDAndName(), what, identifiers), partial
}

// nameKey is a name compared ignoring case and spaces.
func nameKey(s string) string {
	return strings.ToLower(strings.Join(strings.FieldsFunc(s, unicode.IsSpace), ""))
}

// shareAWord reports whether two names have a word of two or more letters
// in common.
func shareAWord(a, b string) bool {
	have := map[string]bool{}
	for _, w := range nameWords(b) {
		have[w] = true
	}
	for _, w := range nameWords(a) {
		if have[w] {
			return true
		}
	}
	return false
}

// nameWords splits a name into lower-case words of two or more letters.
func nameWords(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if len([]rune(w)) >= 2 {
			out = append(out, w)
		}
	}
	return out
}

// onCallMessage is the message of a user kept because of a call.
func onCallMessage(call string) string {
	return "on a call: rerun later (active_call " + call + "; --include-on-call deletes users on a call)"
}

// WriteNotes lists by name, before anything is deleted, the rows a person
// should look at: users kept because they are on a call (or to be deleted
// although they are, with IncludeOnCall), admins to delete and admins kept,
// and rows whose names match their user only in part. It writes nothing
// when there are none.
func (p *Plan) WriteNotes(w io.Writer) {
	var onCall, onCallDeleted, adminsGo, adminsKept, partial []*Row
	for _, r := range p.Rows {
		switch {
		case r.why == noteOnCall:
			onCall = append(onCall, r)
		case r.why == noteAdminKept || (r.Status == results.Protected && r.member() != nil && r.member().Admin()):
			adminsKept = append(adminsKept, r)
		case r.why == notePartialName:
			partial = append(partial, r)
		case r.Status == results.WouldDelete && r.member().Admin():
			adminsGo = append(adminsGo, r)
		}
		if r.Status == results.WouldDelete && r.member().OnCall() != "" {
			onCallDeleted = append(onCallDeleted, r)
		}
	}
	list := func(title string, rows []*Row, detail func(*Row) string) {
		if len(rows) == 0 {
			return
		}
		fmt.Fprintf(w, "%s\n", title)
		for i, r := range rows {
			if i == PromptNames {
				fmt.Fprintf(w, "  ... and %d more (see the results file)\n", len(rows)-PromptNames)
				break
			}
			fmt.Fprintf(w, "  row %d: %s\n", r.Rec.Row, detail(r))
		}
	}
	who := func(r *Row) string { return r.member().Who() }
	list("On a call, so not deleted (rerun later, or give --include-on-call):", onCall,
		func(r *Row) string { return who(r) + ", call " + r.member().OnCall() })
	list("On a call, and deleted anyway (--include-on-call):", onCallDeleted,
		func(r *Row) string { return who(r) + ", call " + r.member().OnCall() })
	list("Admins to delete (--allow-admins):", adminsGo, who)
	list("Admins kept:", adminsKept, func(r *Row) string { return who(r) + ": " + r.Message })
	list("Names that match only in part, so not deleted (ambiguous):", partial, func(r *Row) string { return r.Message })
}

// Layout is the results file's layout for the plan's list.
func (p *Plan) Layout() results.Layout { return layout(p.List, p.columns) }

// Layout is the results file's layout for list in a run of o's target.
func (o *Offboarder) Layout(list *resolve.List) results.Layout { return layout(list, o.columns) }

// Layout is the results file's layout for list in a CCM run: the snapshot
// columns after the leading ones, then the input's columns. Input columns
// that import would read are renamed input_<name>, so importing the
// results file re-creates people from the snapshot alone and never from a
// row that deleted nobody.
func Layout(list *resolve.List) results.Layout { return layout(list, exporter.Columns()) }

// layout is Layout for a target whose export has these columns.
func layout(list *resolve.List, columns []string) results.Layout {
	in := make([]string, len(list.Header.Names))
	for i, name := range list.Header.Names {
		in[i] = name
		if _, ok := roster.FieldForHeader(name); ok {
			in[i] = "input_" + strings.TrimSpace(name)
		}
	}
	return results.Layout{Extra: snapshotColumns(columns), Input: in}
}

// line is a row's results line before the DELETE (or without one), with
// the user's cells for the target's export columns.
func (r *Row) line() results.Line {
	l := results.Line{Row: r.Rec.Row, Status: r.Status, Message: r.Message, Input: r.Rec.Raw}
	if m := r.member(); m != nil {
		columns := r.columns
		if columns == nil {
			columns = exporter.Columns()
		}
		l.UserID = m.ID()
		l.DeviceID = m.DeviceID()
		l.Extra = snapshot(columns, m)
	}
	if ae := exotel.AsAPIError(r.Err); ae != nil {
		l.HTTPStatus, l.ErrorCode = ae.HTTPStatus, ae.Code
	}
	return l
}

// lineAs is the row's line settled with st and msg.
func (r *Row) lineAs(st results.Status, msg string) results.Line {
	l := r.line()
	l.Status, l.Message = st, msg
	return l
}

// KeepOnResume says which of an earlier run's lines a resumed run keeps:
// rows whose user was deleted. Every other row is looked up and decided
// again, so a row fixed in the list since is judged as it is now.
func KeepOnResume(_ int, p results.PriorRow) bool { return p.Status == results.Deleted }

// OKStatuses are the statuses of rows that need no attention: what a
// rerun of a finished list gives, or a dry run.
func OKStatuses() []results.Status {
	return []results.Status{results.Deleted, results.WouldDelete, results.NotFound}
}
