// Package atomicfile replaces a file whole or not at all: the new content
// goes to a temporary file in the same directory, is synced, and is renamed
// over the old one, so a reader never sees half a file and a crash leaves
// the previous version in place.
package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
)

// Write replaces path with what write writes. On any error the temporary
// file is removed and path is left as it was; the error is returned as the
// file system gave it, for the caller to say what could not be written.
func Write(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	werr := write(tmp)
	if err := errors.Join(werr, tmp.Sync(), tmp.Close()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
