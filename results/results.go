// Package results writes and reads exoroster's results files: one CSV line
// per input data row saying what happened to it.
//
// The leading columns are a contract that users' scripts rely on:
//
//	row, status, user_id, device_id, http_status, error_code, message, attempts
//
// then any columns the command adds (offboard keeps a snapshot of each deleted
// user), then the input row's cells as read, each made safe to open in a
// spreadsheet (Neutralize; Load reads them back with Restore). Lines are
// appended as rows finish,
// each with a single write so a killed process can tear at most the line being
// written, and the file is fsynced at a regular interval and on Close.
package results

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Status is what happened to a row.
type Status string

// The statuses of every command. Scripts match on these words.
const (
	Created     Status = "created"
	Exists      Status = "exists"
	Invalid     Status = "invalid"
	Failed      Status = "failed"
	Skipped     Status = "skipped"
	WouldCreate Status = "would_create"

	Deleted     Status = "deleted"
	WouldDelete Status = "would_delete"
	NotFound    Status = "not_found"
	Ambiguous   Status = "ambiguous"
	Protected   Status = "protected"
	// Stale: the user's record changed between the lookup and the moment
	// of deletion, so the decision made on the old record does not hold.
	Stale Status = "stale"

	Updated     Status = "updated"
	Unchanged   Status = "unchanged"
	WouldUpdate Status = "would_update"
)

// Columns returns the leading columns of every results file.
func Columns() []string {
	return []string{"row", "status", "user_id", "device_id", "http_status", "error_code", "message", "attempts"}
}

// inputPrefix marks an input column whose name collides with one of ours,
// e.g. a user_id column in an offboard list.
const inputPrefix = "input_"

// Line is one row's outcome.
type Line struct {
	Row        int
	Status     Status
	UserID     string
	DeviceID   string
	HTTPStatus int // 0: no answer (or none needed)
	ErrorCode  string
	Message    string
	Attempts   int
	Extra      []string // the command's own columns, in Layout.Extra order
	Input      []string // the input row's cells as read
}

// Layout names the columns after the leading ones.
type Layout struct {
	Extra []string // command-specific columns
	Input []string // the input file's header as read
}

// Header returns the full header line: leading columns, extra columns, then
// the input columns, renamed input_<name> where they would collide.
func (l Layout) Header() []string {
	h := append(Columns(), l.Extra...)
	taken := make(map[string]bool, len(h))
	for _, c := range h {
		taken[strings.ToLower(c)] = true
	}
	for _, c := range l.Input {
		name := c
		for taken[strings.ToLower(name)] {
			name = inputPrefix + name
		}
		taken[strings.ToLower(name)] = true
		h = append(h, name)
	}
	return h
}

// DefaultSyncInterval is how often lines are forced to disk.
const DefaultSyncInterval = time.Second

// Writer appends lines to a results file. It is safe for concurrent use.
type Writer struct {
	mu sync.Mutex
	f  *os.File
	// buf holds lines not yet written to f, encoded as encoding/csv
	// writes them (appendRecord).
	buf        []byte
	layout     Layout
	lastSync   time.Time
	lastFlush  time.Time // when buffered lines last reached the OS
	syncEvery  time.Duration
	extraWidth int
	inputWidth int
	err        error
}

// Create makes (or truncates) path and writes the header line.
func Create(path string, layout Layout) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot create results file: %w", err)
	}
	w := newWriter(f, layout)
	w.buf = appendRecord(w.buf, layout.Header())
	if err := w.flushLocked(true); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Append opens an existing results file, whose header is already written,
// for more lines.
func Append(path string, layout Layout) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("cannot open results file: %w", err)
	}
	return newWriter(f, layout), nil
}

func newWriter(f *os.File, layout Layout) *Writer {
	return &Writer{f: f, layout: layout, lastSync: time.Now(), lastFlush: time.Now(), syncEvery: DefaultSyncInterval,
		extraWidth: len(layout.Extra), inputWidth: len(layout.Input)}
}

// Path returns the file's name.
func (w *Writer) Path() string { return w.f.Name() }

// Write appends one line. A line that records a request (anything the API
// was asked) reaches the operating system before Write returns, together
// with any lines held before it, so a killed process loses nothing the API
// did. A line decided without a request (invalid, or a dry run's would_*)
// may wait in memory for up to localHold bytes or syncEvery: a rerun
// decides such a row again the same way, and a dry run of a large roster
// must not cost a system call per row.
func (w *Writer) Write(l Line) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf = w.appendLine(w.buf, l)
	if decidedLocally(l) && len(w.buf) < localHold && time.Since(w.lastFlush) < w.syncEvery {
		return nil
	}
	return w.flushLocked(time.Since(w.lastSync) >= w.syncEvery)
}

// localHold bounds the lines decided without a request that wait in memory.
const localHold = 64 << 10

// decidedLocally reports whether l was decided without asking the API.
func decidedLocally(l Line) bool {
	if l.Attempts != 0 || l.HTTPStatus != 0 {
		return false
	}
	switch l.Status {
	case Invalid, WouldCreate, WouldDelete, WouldUpdate:
		return true
	}
	return false
}

// appendLine appends l's line to b: the leading columns, the layout's
// extra columns, then the input's cells, padded to the header's width. It
// builds no record: a dry run writes a line for every row.
func (w *Writer) appendLine(b []byte, l Line) []byte {
	b = strconv.AppendInt(b, int64(l.Row), 10)
	b = append(b, ',')
	b = appendCell(b, string(l.Status))
	b = append(b, ',')
	b = appendCell(b, l.UserID)
	b = append(b, ',')
	b = appendCell(b, l.DeviceID)
	b = append(b, ',')
	if l.HTTPStatus != 0 {
		b = strconv.AppendInt(b, int64(l.HTTPStatus), 10)
	}
	b = append(b, ',')
	b = appendCell(b, l.ErrorCode)
	b = append(b, ',')
	b = appendCell(b, oneLine(l.Message))
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(l.Attempts), 10)
	for i := range w.extraWidth {
		b = append(b, ',')
		if i < len(l.Extra) {
			b = appendCell(b, l.Extra[i])
		}
	}
	// The input's cells are echoed as export writes its cells (SafeCell):
	// a results file is opened in a spreadsheet, and a roster's "=cmd|…"
	// must not run there, while an E.164 number, which runs nothing, stays
	// as given in whichever column holds it. Load restores them.
	for _, c := range l.Input {
		b = append(b, ',')
		if len(c) > 0 && mayRunAsFormula(c[0]) {
			c = SafeCell(c, true)
		}
		b = appendCell(b, c)
	}
	for i := len(l.Input); i < w.inputWidth; i++ {
		b = append(b, ',')
	}
	return append(b, '\n')
}

// appendRecord appends cells as one CSV line, as encoding/csv's Writer
// writes it (comma-separated, LF line end).
func appendRecord(b []byte, cells []string) []byte {
	for i, c := range cells {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCell(b, c)
	}
	return append(b, '\n')
}

// appendCell appends one cell as encoding/csv's Writer writes it: quoted
// when it holds a comma, quote, CR or LF, starts with a space, or is \.;
// quotes in it doubled, line ends kept.
func appendCell(b []byte, cell string) []byte {
	if !cellNeedsQuotes(cell) {
		return append(b, cell...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(cell, '"')
		if i < 0 {
			break
		}
		b = append(b, cell[:i+1]...)
		b = append(b, '"')
		cell = cell[i+1:]
	}
	b = append(b, cell...)
	return append(b, '"')
}

// cellNeedsQuotes is encoding/csv's Writer.fieldNeedsQuotes for a comma.
func cellNeedsQuotes(cell string) bool {
	if cell == "" {
		return false
	}
	if cell == `\.` {
		return true
	}
	for i := 0; i < len(cell); i++ {
		switch c := cell[i]; {
		case c > ',': // letters, digits, @ and . pass here
		case c == '\n', c == '\r', c == '"', c == ',':
			return true
		}
	}
	if c := cell[0]; c < utf8.RuneSelf {
		return c == ' ' || c == '\t' || c == '\v' || c == '\f' // \n and \r were quoted above
	}
	r, _ := utf8.DecodeRuneInString(cell)
	return unicode.IsSpace(r)
}

// flushLocked writes the buffered line(s) in one write call and fsyncs when
// asked to.
func (w *Writer) flushLocked(sync bool) error {
	if len(w.buf) > 0 {
		if _, err := w.f.Write(w.buf); err != nil {
			w.err = fmt.Errorf("writing results: %w", err)
			return w.err
		}
		w.buf = w.buf[:0]
	}
	w.lastFlush = time.Now()
	if sync {
		if err := w.f.Sync(); err != nil {
			w.err = fmt.Errorf("syncing results: %w", err)
			return w.err
		}
		w.lastSync = time.Now()
	}
	return nil
}

// Sync forces written lines to disk.
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	return w.flushLocked(true)
}

// Close syncs and closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	if err == nil {
		err = w.flushLocked(true)
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if w.err == nil {
		w.err = os.ErrClosed
	}
	return err
}

// oneLine keeps messages on one line so the file stays easy to grep.
func oneLine(s string) string {
	if strings.IndexByte(s, '\n') < 0 && strings.IndexByte(s, '\r') < 0 {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// Only reports whether every row counted in counts has one of the statuses
// in ok: how a command decides that a run needs no attention.
func Only(counts map[Status]int, ok ...Status) bool {
	for st, n := range counts {
		if n > 0 && !slices.Contains(ok, st) {
			return false
		}
	}
	return true
}
