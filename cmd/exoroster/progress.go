package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/runlog"
)

// newProgress draws a bar when stderr is a terminal, and otherwise (cron,
// CI) prints a plain line every interval; interval 0 prints nothing.
func (a *app) newProgress(verb string, interval time.Duration) engine.Progress {
	unit := "rows"
	switch verb {
	case "export":
		unit = "users"
	case "apply", "sync":
		unit = "actions"
	}
	if a.env.IsTerminal {
		return &barProgress{w: a.env.Stderr, verb: verb, unit: unit}
	}
	p := &lineProgress{w: a.env.Stderr, verb: verb, every: interval, t: tally{unit: unit}}
	if a.info.format == runlog.FormatJSON {
		p.log = a.log // a collector reads only JSON lines: progress is one too
	}
	return p
}

// tally counts finished rows by status.
type tally struct {
	unit   string // what is counted: rows, users, actions
	mu     sync.Mutex
	total  int
	done   int
	counts map[results.Status]int
	start  time.Time
}

func (t *tally) reset(total int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total, t.done, t.counts, t.start = total, 0, map[results.Status]int{}, time.Now()
}

func (t *tally) add(s results.Status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.done++
	t.counts[s]++
}

// line describes progress so far: "120/500 rows (24%), created 100, failed 2,
// 48.0 rows/min, about 7m55s left".
func (t *tally) line() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d %s", t.done, t.total, t.unit)
	if t.total > 0 {
		fmt.Fprintf(&b, " (%d%%)", t.done*100/t.total)
	}
	b.WriteString(formatCounts(t.counts, ", "))
	elapsed := time.Since(t.start)
	if t.done > 0 && elapsed > 0 {
		perMin := float64(t.done) / elapsed.Minutes()
		fmt.Fprintf(&b, ", %.1f %s/min", perMin, t.unit)
		if left := t.total - t.done; left > 0 {
			eta := time.Duration(float64(left) / perMin * float64(time.Minute))
			fmt.Fprintf(&b, ", about %v left", eta.Round(time.Second))
		}
	}
	return b.String()
}

// attrs are the progress so far as log attributes: rows done, of total,
// and the count of each status.
func (t *tally) attrs() []slog.Attr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return []slog.Attr{slog.Int("done", t.done), slog.Int("total", t.total), countsAttr("counts", t.counts)}
}

// statusOrder lists statuses successes first, for summaries.
func statusOrder(counts map[results.Status]int) []results.Status {
	rank := map[results.Status]int{
		results.Created: 1, results.Exists: 2, results.Updated: 3, results.Deleted: 4,
		results.Unchanged: 5, results.WouldCreate: 6, results.WouldUpdate: 7, results.WouldDelete: 8,
		results.NotFound: 9, results.Protected: 10, results.Ambiguous: 11,
		results.Invalid: 12, results.Failed: 13, results.Skipped: 14,
	}
	keys := make([]results.Status, 0, len(counts))
	for s, n := range counts {
		if n > 0 {
			keys = append(keys, s)
		}
	}
	slices.SortFunc(keys, func(a, b results.Status) int {
		if ra, rb := rank[a], rank[b]; ra != rb {
			return ra - rb
		}
		return strings.Compare(string(a), string(b))
	})
	return keys
}

// formatCounts lists non-zero counts, each prefixed by sep.
func formatCounts(counts map[results.Status]int, sep string) string {
	var b strings.Builder
	for _, s := range statusOrder(counts) {
		fmt.Fprintf(&b, "%s%s %d", sep, s, counts[s])
	}
	return b.String()
}

// writeCounts writes one "  status   n" line per non-zero count.
func writeCounts(w io.Writer, counts map[results.Status]int) {
	for _, s := range statusOrder(counts) {
		fmt.Fprintf(w, "  %-13s %6d\n", s, counts[s])
	}
}

// lineProgress prints a plain line every so often: readable in a log file.
type lineProgress struct {
	w     io.Writer
	log   *slog.Logger // when set, each line is a log record (info) instead
	verb  string
	every time.Duration
	t     tally
	stop  chan struct{}
	wg    sync.WaitGroup
}

func (p *lineProgress) Start(total int) {
	p.t.reset(total)
	if p.every <= 0 {
		return
	}
	p.stop = make(chan struct{})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(p.every)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				if p.log != nil {
					p.log.LogAttrs(context.Background(), slog.LevelInfo, "progress", p.t.attrs()...)
					continue
				}
				fmt.Fprintf(p.w, "%s: %s\n", p.verb, p.t.line())
			case <-p.stop:
				return
			}
		}
	}()
}

func (p *lineProgress) Row(s results.Status) { p.t.add(s) }

func (p *lineProgress) Finish() {
	if p.stop != nil {
		close(p.stop)
		p.wg.Wait()
		p.stop = nil
	}
}

// barProgress draws progressbar/v3's bar with rate and ETA. Rows skipped
// (never sent: the run was interrupted or stopped) do not move it, so an
// interrupted run's bar stops where the work stopped instead of jumping
// to 100%.
type barProgress struct {
	w    io.Writer
	verb string
	unit string
	bar  *progressbar.ProgressBar
}

func (p *barProgress) Start(total int) {
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(p.verb),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(p.unit),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(150*time.Millisecond),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(p.w) }),
	)
}

func (p *barProgress) Row(s results.Status) {
	if s != results.Skipped {
		_ = p.bar.Add(1)
	}
}

func (p *barProgress) Finish() {
	if p.bar != nil && !p.bar.IsFinished() {
		_ = p.bar.Exit()
		fmt.Fprintln(p.w)
	}
}
