package reconcile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/exoroster/exoroster/statedir"
)

// Applied is the roster last applied to an account, kept in a small state
// file per account and target under the state directory, whatever results
// file a run used: the shrinkage guard compares the next roster with it.
type Applied struct {
	Roster string    `json:"roster"`
	SHA256 string    `json:"roster_sha256"`
	Rows   int       `json:"roster_rows"`
	At     time.Time `json:"applied_at"`
}

// stateFile is the versioned file's shape.
type stateFile struct {
	Version int     `json:"version"`
	Target  string  `json:"target"`
	Account string  `json:"account"`
	Last    Applied `json:"last_applied"`
}

// StatePath is the state file of acct under dir: sync/<target>-<id>.json.
func StatePath(dir string, acct Account) string {
	return filepath.Join(dir, "sync", safeName(acct.Target+"-"+acct.ID)+".json")
}

// safeName keeps letters, digits, '.', '-' and '_': an id cannot climb out
// of the directory.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// LoadApplied reads the last roster applied to acct; nil when none was.
// A damaged state file is an error: the guard must not pass by accident.
func LoadApplied(dir string, acct Account) (*Applied, error) {
	path := StatePath(dir, acct)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the sync state: %w", err)
	}
	var f stateFile
	if err := json.Unmarshal(data, &f); err != nil || f.Version != 1 {
		return nil, fmt.Errorf("the sync state %s is damaged (remove it to start the shrinkage guard afresh)", path)
	}
	return &f.Last, nil
}

// SaveApplied records a as the last roster applied to acct, atomically.
func SaveApplied(dir string, acct Account, a Applied) error {
	path := StatePath(dir, acct)
	if err := statedir.Ensure(filepath.Dir(path)); err != nil {
		return err
	}
	data, err := json.MarshalIndent(stateFile{Version: 1, Target: acct.Target, Account: acct.ID, Last: a}, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomically(path, "the sync state", func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}
