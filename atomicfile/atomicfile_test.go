package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	failed := errors.New("disk full")
	tests := []struct {
		name    string
		write   func(io.Writer) error
		want    string // path's content afterwards
		wantErr error
	}{
		{name: "replaces the old content", write: func(w io.Writer) error { _, err := io.WriteString(w, "new\n"); return err }, want: "new\n"},
		{name: "a failed write leaves the old file", write: func(w io.Writer) error {
			_, _ = io.WriteString(w, "half")
			return failed
		}, want: "old\n", wantErr: failed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.json")
			if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := Write(path, tc.write); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Write: %v, want %v", err, tc.wantErr)
			}
			got, err := os.ReadFile(path)
			if err != nil || string(got) != tc.want {
				t.Errorf("content %q (%v), want %q", got, err, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("%d files in the directory, want only %s: the temporary file was left", len(entries), path)
			}
		})
	}
}

func TestWriteIntoAMissingDirectory(t *testing.T) {
	err := Write(filepath.Join(t.TempDir(), "missing", "f"), func(io.Writer) error { return nil })
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Write = %v, want a not-exist error", err)
	}
}
