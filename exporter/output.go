package exporter

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Format is the report's file format.
type Format string

const (
	// FormatCSV is the re-importable report: Columns as the header, cells
	// made spreadsheet-safe by Record.Cells.
	FormatCSV Format = "csv"
	// FormatJSON is JSON Lines: one object per user with the Record's
	// fields, values as the API gave them, of the types it gave them
	// (booleans, numbers, null; see Record.MarshalJSON), not neutralised:
	// JSON is not opened by spreadsheets.
	FormatJSON Format = "json"
)

// ParseFormat reads a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case FormatCSV, FormatJSON:
		return f, nil
	}
	return "", fmt.Errorf("format %q: use csv or json", s)
}

// Writer writes records in one format. Call Flush at the end.
type Writer struct {
	csv  *csv.Writer
	json *bufio.Writer // JSON Lines: Record.MarshalJSON writes compact JSON
}

// NewWriter returns a Writer of the CCM report to w. A CSV report gets its
// header even when no user follows, so an empty export still re-imports.
func NewWriter(w io.Writer, f Format) *Writer { return NewWriterFor(w, f, Columns()) }

// NewWriterFor returns a Writer of a report whose CSV header is columns:
// another target's.
func NewWriterFor(w io.Writer, f Format, columns []string) *Writer {
	if f == FormatJSON {
		return &Writer{json: bufio.NewWriter(w)}
	}
	cw := csv.NewWriter(w)
	_ = cw.Write(columns) // buffered; a failure shows at the next Write or Flush
	return &Writer{csv: cw}
}

// Write writes one record.
func (w *Writer) Write(r Record) error {
	if w.json != nil {
		return w.writeJSON(r.MarshalJSON())
	}
	return w.writeCSV(r.Cells())
}

// WriteLine writes one line of any target.
func (w *Writer) WriteLine(l Line) error {
	if w.json != nil {
		return w.writeJSON(l.MarshalJSON())
	}
	return w.writeCSV(l.Cells())
}

func (w *Writer) writeJSON(line []byte, err error) error {
	if err != nil {
		return err
	}
	_, err = w.json.Write(append(line, '\n'))
	return err
}

func (w *Writer) writeCSV(cells []string) error {
	if err := w.csv.Write(cells); err != nil {
		return err
	}
	return w.csv.Error()
}

// Flush writes out what is buffered.
func (w *Writer) Flush() error {
	if w.json != nil {
		return w.json.Flush()
	}
	w.csv.Flush()
	return w.csv.Error()
}

// File is a report being written: a hidden temporary file in the
// destination's directory, renamed over the destination by Commit. Until
// then an existing report stays as it was, whatever happens to the run.
type File struct {
	f    *os.File
	path string
	done bool
}

// CreateFile starts a report that will become path. The temporary file is
// created as os.Create would (0644 less the umask); a report that replaces
// another keeps the old one's permissions.
func CreateFile(path string) (*File, error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return nil, fmt.Errorf("%s is a directory, not a file name", path)
	}
	if dir == "" {
		dir = "."
	}
	for range 100 {
		tmp := filepath.Join(dir, "."+base+"."+strconv.FormatUint(rand.Uint64()%1e10, 10)+".tmp")
		f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("cannot write %s: %w", path, unwrapPath(err))
		}
		return &File{f: f, path: path}, nil
	}
	return nil, fmt.Errorf("cannot write %s: no free temporary file name in %s", path, dir)
}

// RemoveStaleTemps removes the temporary files that earlier exports of the
// report path left behind when they were killed (.<name>.NNN.tmp beside
// it), if they were last written before the given time, the start of this
// process: a temporary file of an export still running is newer. Files of
// any other name are never touched. It returns the names removed.
func RemoveStaleTemps(path string, before time.Time) ([]string, error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return nil, nil
	}
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot look for old temporary files in %s: %w", dir, unwrapPath(err))
	}
	var removed []string
	for _, e := range entries {
		if !isTempOf(e.Name(), base) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(before) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return removed, fmt.Errorf("cannot remove the old temporary file %s: %w", name, unwrapPath(err))
		}
		removed = append(removed, name)
	}
	return removed, nil
}

// isTempOf reports whether name is a temporary file CreateFile makes for a
// report called base: "." + base + "." + digits + ".tmp".
func isTempOf(name, base string) bool {
	rest, ok := strings.CutPrefix(name, "."+base+".")
	if !ok {
		return false
	}
	digits, ok := strings.CutSuffix(rest, ".tmp")
	if !ok || digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// unwrapPath drops *PathError's repetition of the temporary file's name.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Name is the temporary file's name.
func (f *File) Name() string { return f.f.Name() }

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }

// Commit makes the report durable and puts it in place.
func (f *File) Commit() error {
	if f.done {
		return errors.New("report already closed")
	}
	f.done = true
	tmp := f.f.Name()
	err := f.f.Sync()
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if st, serr := os.Stat(f.path); err == nil && serr == nil && st.Mode().IsRegular() {
		err = os.Chmod(tmp, st.Mode().Perm())
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cannot write %s: %w", f.path, unwrapPath(err))
	}
	return nil
}

// Abort removes the temporary file, leaving the destination untouched. It
// does nothing after Commit, so it can be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	_ = f.f.Close()
	_ = os.Remove(f.f.Name())
}
