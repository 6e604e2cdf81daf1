package offboard

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/results"
)

// run holds one Delete's shared state.
type run struct {
	o *Offboarder
	// halt stops the run: its context ends backoffs between attempts,
	// while requests use the caller's ctx so one already sent can finish.
	halt *halt.Switch
	// checks, for Run's deletions, re-read each batch before its DELETEs
	// and re-count admins before each admin's; nil for Delete and Record.
	checks *checks
}

// Delete deletes the users of the plan's rows to delete, concurrently under
// the shared limiter, and writes one line per row to out: first the rows
// decided without a DELETE, in input order, then each deletion as it ends.
// Once sw flips nothing new is sent, requests in flight finish (ctx ends
// them: a second Ctrl-C), and the rest are skipped; a switch already flipped
// sends no DELETE at all. The error is for the results file only.
//
// Delete acts on the plan as decided: Run, the safe sequence, also reads
// each batch of users again right before their DELETEs and re-counts the
// account's admins before each admin's.
func (o *Offboarder) Delete(ctx context.Context, sw *halt.Switch, plan *Plan, out engine.Sink) (*engine.Summary, error) {
	return o.finish(ctx, sw, plan, out, finishing{deleting: true})
}

// Record writes every row's line without deleting anyone. Rows to delete
// get status (would_delete for a dry run, skipped when a guard refused) and
// why, when given, as their message.
func (o *Offboarder) Record(ctx context.Context, sw *halt.Switch, plan *Plan, out engine.Sink, status results.Status, why string) (*engine.Summary, error) {
	return o.finish(ctx, sw, plan, out, finishing{status: status, why: why})
}

// finishing says how finish treats the rows to delete.
type finishing struct {
	deleting bool
	checks   *checks        // deleting with Run's checks; nil: as decided
	status   results.Status // not deleting: the rows' status
	why      string         // and the reason, when given
}

// finish writes every row's line; rows to delete are deleted, or recorded
// with status and why. Rows the run never decided are skipped.
func (o *Offboarder) finish(ctx context.Context, sw *halt.Switch, plan *Plan, out engine.Sink, how finishing) (*engine.Summary, error) {
	r := &run{o: o, halt: sw, checks: how.checks}
	deleting, status, why := how.deleting, how.status, how.why
	var prog engine.Progress
	if deleting {
		prog = o.cfg.Progress // recording alone takes no time worth a bar
	}
	sum, err := engine.Run(ctx, sw, out, engine.Spec[*Row]{
		Workers:  o.cfg.Workers,
		Total:    len(plan.Rows),
		Settled:  plan.Settled,
		OK:       OKStatuses(),
		Progress: prog,
		Produce: func(pctx context.Context, feed *engine.Feed[*Row]) error {
			var todo []*Row
			for _, row := range plan.Rows {
				if row.Status == results.WouldDelete && deleting {
					todo = append(todo, row)
					continue
				}
				l := row.line()
				switch row.Status {
				case "":
					l.Status, l.Message = results.Skipped, "not looked up: the run stopped first"
				case results.WouldDelete:
					l.Status = status
					if why != "" {
						l.Message = why + ": " + row.member().Who()
					}
				}
				feed.Line(l)
			}
			if r.checks != nil {
				r.feedChecked(pctx, feed, todo)
				return nil
			}
			for _, row := range todo {
				feed.Send(row)
			}
			return nil
		},
		Work: func(ctx context.Context, row *Row) results.Line {
			if r.checks != nil && row.member().Admin() {
				return r.deleteAdmin(ctx, row)
			}
			return r.deleteOne(ctx, row)
		},
		Skip: func(row *Row) results.Line { return skipped(row, 0, false) },
	})
	sum.Lookups = plan.Requests
	return sum, err
}

// deleteOne deletes one row's user. DELETE is safe to repeat: a repeat
// that answers 404 means the user is gone, deleted by an earlier attempt of
// ours if one may have been carried out (a 5xx, or no answer after the
// request was sent).
func (r *run) deleteOne(ctx context.Context, row *Row) results.Line {
	var mayHave bool
	verdict := exotel.Classifier(r.o.target, r.o.cfg.MaxAttempts)
	m := row.member()
	classify := func(err error) ratelimit.Verdict {
		if exotel.KindOf(err) == exotel.KindNotFound {
			return ratelimit.Stop
		}
		return verdict(err)
	}
	attempts, err := r.o.pacer.Retry(r.halt.Context(), r.o.cfg.MaxAttempts, classify, func() error {
		err := r.o.target.Delete(ctx, m.ID())
		mayHave = mayHave || exotel.MayHaveApplied(err)
		return err
	})
	l := row.line()
	l.Attempts = attempts
	ae := exotel.AsAPIError(err)
	if ae != nil {
		l.HTTPStatus, l.ErrorCode = ae.HTTPStatus, ae.Code
	}
	who := m.Who()
	switch {
	case err == nil:
		l.Status, l.HTTPStatus, l.Message = results.Deleted, 200, "deleted "+who
		if call := m.OnCall(); call != "" {
			l.Message += "; was on a call (" + call + ") when looked up"
		}
	case exotel.KindOf(err) == exotel.KindNotFound && mayHave:
		l.Status = results.Deleted
		l.Message = "deleted " + who + ": an earlier attempt's answer was lost and the repeat answered 404, so the user is gone"
	case exotel.KindOf(err) == exotel.KindNotFound:
		l.Status = results.NotFound
		l.Message = "already gone: DELETE answered 404 (deleted since it was looked up)"
	case exotel.KindOf(err) == exotel.KindAuth:
		r.halt.Abort(r.o.target.ExplainAuth(err))
		l.Status, l.Message = results.Failed, "credentials refused; run stopped: "+err.Error()
	case exotel.IsMisconfiguration(err):
		r.halt.Abort(exotel.ExplainMisconfiguration(err))
		return skipped(row, attempts, mayHave)
	case exotel.StoppedBeforeDone(err, r.halt.Stopping()):
		return skipped(row, attempts, mayHave)
	default:
		l.Status = results.Failed
		msg := err.Error()
		if ae != nil {
			msg = ae.Message
		}
		if attempts > 1 {
			msg = fmt.Sprintf("gave up after %d attempts: %s", attempts, msg)
		}
		if mayHave {
			l.HTTPStatus = 0 // the outcome is unknown
			msg += "; the user may have been deleted anyway: a rerun reports not_found if so"
		}
		l.Message = msg
	}
	return l
}

// skipped is the line of a row the run stopped before (or while) deleting.
func skipped(row *Row, attempts int, mayHave bool) results.Line {
	l := row.line()
	l.Status, l.Attempts = results.Skipped, attempts
	who := row.member().Who()
	l.Message = "not deleted: the run stopped first: " + who
	if attempts > 0 {
		l.Message = "stopped while retrying the DELETE of " + who
	}
	if mayHave {
		l.Message += "; the user may have been deleted: a rerun reports not_found if so"
	}
	return l
}

// WriteBackup appends the full records of the users about to be deleted to
// path, in export's format (import reads it as is), and syncs the file, so
// the records are on disk before the first DELETE is sent. An existing
// backup is appended to, never truncated: a rerun must not wipe the record
// of an earlier run's deletions. A record the backup already holds (the
// same user, unchanged but for logins, calls and availability) is not
// written again, so a rerun of an offboard adds no duplicates.
func WriteBackup(path string, rows []*Row) error {
	return writeBackup(path, exporter.Columns(), rows)
}

// writeBackup is WriteBackup for a target whose export has these columns.
func writeBackup(path string, columns []string, rows []*Row) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("cannot write the backup: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot write the backup: %w", err)
	}
	var buf strings.Builder
	w := csv.NewWriter(&buf)
	held := map[string]bool{}
	if info.Size() == 0 {
		w.Write(columns)
	} else if held, err = backupRecords(f, columns); err != nil {
		return fmt.Errorf("%s exists and is not an offboard backup (%v): choose another --backup", path, err)
	}
	for _, row := range rows {
		cells := row.member().Record()
		if k := backupKey(columns, cells); !held[k] {
			held[k] = true
			w.Write(cells)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("cannot write the backup: %w", err)
	}
	if _, err := f.WriteString(buf.String()); err != nil {
		return fmt.Errorf("cannot write the backup: %w", err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("cannot write the backup: %w", err)
	}
	return f.Close()
}

// backupRecords checks that f is an offboard backup and returns the keys of
// the records it holds.
func backupRecords(f *os.File, columns []string) (map[string]bool, error) {
	cr := csv.NewReader(bufio.NewReader(io.NewSectionReader(f, 0, 1<<62)))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, err
	}
	if !slices.Equal(header, columns) {
		return nil, errors.New("its header is not export's")
	}
	held := map[string]bool{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return held, nil
		}
		if err != nil {
			// A torn last record (a killed run) is not one to match.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				continue
			}
			return nil, err
		}
		if len(rec) == len(header) {
			held[backupKey(columns, rec)] = true
		}
	}
}

// backupKey is a backup record without the cells that change all day
// (last_login, active_call, device_available, device_status; a WebRTC
// app's phone_device and sip_device).
func backupKey(columns, cells []string) string {
	var b strings.Builder
	for i, c := range columns {
		switch c {
		case "last_login", "active_call", "device_available", "device_status", "phone_device", "sip_device":
			continue
		}
		if i >= len(cells) {
			break
		}
		b.WriteString(cells[i])
		b.WriteByte(0)
	}
	return b.String()
}
