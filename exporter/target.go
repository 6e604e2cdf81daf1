package exporter

import (
	"context"
	"errors"
	"fmt"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/ratelimit"
)

// Page is one answer of a target's list of users.
type Page[U any] struct {
	Users []U
	// Errors are the entries the answer held but could not give as users
	// (marked as failed, or unreadable): they take a place in the list, so
	// the next page starts after them, and they are missing from the
	// report.
	Errors []error
	// Total is the list's size as the answer states it; 0 when it does
	// not say.
	Total int
	// Limit is the page size the answer says it used; 0 when it does not
	// say.
	Limit int
}

// Lister is the user list of a target other than CCM's, as an export
// pages through it. The webrtc package has one.
type Lister[U any] interface {
	// ListPage fetches the users from offset, as many as the target
	// pages by (at most 50).
	ListPage(ctx context.Context, offset int) (*Page[U], error)
	// ID tells users apart; "" for a user without one.
	ID(u *U) string
	// Line is u's report line.
	Line(u *U) Line
	// ExplainAuth is the one sentence a run stops with when the API
	// refuses its credentials (an exotel.KindAuth error).
	ExplainAuth(err error) error
}

// Line is one user of any target as a report line: spreadsheet-safe CSV
// cells in its target's column order, and a JSON object with the values'
// API types. Record is the CCM target's.
type Line interface {
	Cells() []string
	MarshalJSON() ([]byte, error)
}

// LineSink receives a report's lines in list order; *Writer is one.
type LineSink interface {
	WriteLine(Line) error
}

// RunList exports every user l lists to out, in list order, by the rules
// of (*Exporter).Run: after the first page, the pages its total promises
// are fetched concurrently and taken in order; paging stops at the total
// the list states (or, without one, at a short page) and at a page that
// brings no user not already seen; a user listed twice is written once;
// and the Summary counts what came back against the total, so that
// Summary.Incomplete tells a report that must not be kept. The Summary's
// audit counts users only: the CCM columns it audits (roles, logins,
// devices) are not a list's in general. cfg's filters are CCM's and must
// be unset.
func RunList[U any](sw *halt.Switch, l Lister[U], pacer Pacer, cfg Config, out LineSink) (*Summary, error) {
	cfg = cfg.withDefaults()
	if cfg.filtered() || len(cfg.Roles) > 0 || cfg.InactiveDays > 0 {
		return nil, errors.New("exporter: the email, phone, role and inactivity filters are the CCM target's")
	}
	var r *run[U]
	r = newRun(cfg, pacer, sw, source[U]{
		list: func(ctx context.Context, _ *query, offset int) (*Page[U], error) {
			return l.ListPage(ctx, offset)
		},
		// A target that reports retries says so once per attempt number.
		classify:    func() func(error) ratelimit.Verdict { return exotel.Classifier(l, cfg.MaxAttempts) },
		explainAuth: l.ExplainAuth,
		id:          l.ID,
		user: func(u *U) error {
			r.sum.Fetched.Users++
			if err := out.WriteLine(l.Line(u)); err != nil {
				return fmt.Errorf("writing the report: %w", err)
			}
			r.sum.Report.Users++
			cfg.Progress.Row(Exported)
			return nil
		},
	})
	return r.exec()
}
