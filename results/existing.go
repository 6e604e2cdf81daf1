package results

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// ExistsError refuses to start a run over a results file that already holds
// an earlier run's lines: replacing it would lose what that run recorded
// (the ids it created, the records it deleted, the values it changed).
type ExistsError struct {
	Path string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("%s already holds the results of an earlier run; to continue that run give --resume, "+
		"or to start afresh give --overwrite (the old file is then kept as %s.<timestamp>.bak)", e.Path, e.Path)
}

// HasLines reports whether the file at path holds at least one line after
// its header: the results of some row. A missing file, an empty one, or one
// with only a header (a run killed before its first row) holds none.
func HasLines(path string) (bool, error) {
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot read results file %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		// /dev/stdout, a pipe: nothing an earlier run left, and reading a
		// terminal or /dev/zero would never end.
		return false, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("cannot read results file %s: %w", path, err)
	}
	defer f.Close()
	// Lines, not CSV records: a quoted header cell with a newline is not
	// something exoroster writes, and a stray blank line still counts as
	// content that someone may want to keep.
	br := bufio.NewReader(f)
	if _, err := br.ReadString('\n'); err != nil {
		if err == io.EOF {
			return false, nil // a header alone, or nothing
		}
		return false, fmt.Errorf("cannot read results file %s: %w", path, err)
	}
	_, err = br.Peek(1)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot read results file %s: %w", path, err)
	}
	return true, nil
}

// BackupSuffix is the timestamp layout of a results file moved aside.
const BackupSuffix = "20060102T150405Z"

// MoveAside renames the results file at path (and its state file) to
// <path>.<timestamp>.bak (and <path>.<timestamp>.bak.state.json), so a run
// started afresh with --overwrite keeps the earlier one's record. It returns
// the new name. A name already taken (two runs in one second) gets a
// counter.
func MoveAside(path string, now time.Time) (string, error) {
	stamp := now.UTC().Format(BackupSuffix)
	bak := path + "." + stamp + ".bak"
	for n := 2; ; n++ {
		if _, err := os.Lstat(bak); errors.Is(err, os.ErrNotExist) {
			break
		}
		bak = fmt.Sprintf("%s.%s-%d.bak", path, stamp, n)
	}
	if err := os.Rename(path, bak); err != nil {
		return "", fmt.Errorf("cannot keep the old results file: %w", err)
	}
	if err := os.Rename(StatePath(path), StatePath(bak)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return bak, fmt.Errorf("cannot keep the old results file's state: %w", err)
	}
	return bak, nil
}
