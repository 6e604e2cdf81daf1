package results

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/exoroster/exoroster/atomicfile"
)

// PriorRow is what an earlier run recorded for one row.
type PriorRow struct {
	Status     Status
	Attempts   int
	HTTPStatus int
	UserID     string
	InputHash  uint64 // InputHash of the input cells the line was written for
	// Extra holds the command's own cells (Layout.Extra), as Restore reads
	// them: what the line recorded beside the leading columns.
	Extra []string
}

// Prior is an earlier run's results file.
type Prior struct {
	Rows map[int]PriorRow // the last line written for each row
	// TornLine is true when the file ended in a partial line (the process
	// was killed mid-write); that line was dropped.
	TornLine bool
}

// InputHash fingerprints a row's input cells, ignoring trailing empty cells
// (the writer pads short rows to the header's width).
func InputHash(cells []string) uint64 {
	end := len(cells)
	for end > 0 && cells[end-1] == "" {
		end--
	}
	h := fnv.New64a()
	for _, c := range cells[:end] {
		h.Write([]byte(c))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// Load reads the results file at path without changing it. The file's
// header must be the one layout makes: the same command and the same input
// columns. A torn last line is left out.
func Load(path string, layout Layout) (*Prior, error) {
	prior, _, err := load(path, layout, func(int, PriorRow) bool { return false })
	return prior, err
}

// Reopen rewrites the results file at path with just the lines for which
// keep returns true (atomically, through a temporary file in the same
// directory) and returns it open for appending the rest.
func Reopen(path string, layout Layout, keep func(row int, p PriorRow) bool) (*Writer, error) {
	_, kept, err := load(path, layout, keep)
	if err != nil {
		return nil, err
	}
	err = atomicfile.Write(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(layout.Header())
		for _, rec := range kept {
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return nil, fmt.Errorf("cannot rewrite results file: %w", err)
	}
	return Append(path, layout)
}

// load parses path and returns the prior rows and the records to keep.
func load(path string, layout Layout, keep func(int, PriorRow) bool) (*Prior, [][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot read results file to resume: %w", err)
	}
	defer f.Close()
	src, torn, err := completeLines(f)
	if err != nil {
		return nil, nil, err
	}
	// A results file re-saved by a spreadsheet may start with a UTF-8 BOM
	// and end its lines in CRLF; csv reads CRLF, the BOM is skipped here.
	br := bufio.NewReader(src)
	if bom, _ := br.Peek(len(utf8BOM)); string(bom) == utf8BOM {
		_, _ = br.Discard(len(utf8BOM))
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("results file %s has no header line: %v", path, err)
	}
	want := layout.Header()
	if !slices.Equal(header, want) {
		return nil, nil, fmt.Errorf("results file %s does not match this input: its columns are %q, this run's would be %q",
			path, strings.Join(header, ","), strings.Join(want, ","))
	}
	prior := &Prior{Rows: map[int]PriorRow{}, TornLine: torn}
	latest := map[int][]string{}
	extraAt := len(Columns())
	inputAt := extraAt + len(layout.Extra)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, nil, fmt.Errorf("results file %s is damaged near line %d: %v", path, line, err)
		}
		if len(rec) < inputAt {
			return nil, nil, fmt.Errorf("results file %s is damaged at line %d: %d columns, want at least %d", path, line, len(rec), inputAt)
		}
		row, err := strconv.Atoi(rec[0])
		if err != nil || row < 1 {
			return nil, nil, fmt.Errorf("results file %s is damaged at line %d: row %q is not a row number", path, line, rec[0])
		}
		attempts, _ := strconv.Atoi(rec[7])
		httpStatus, _ := strconv.Atoi(rec[4])
		prior.Rows[row] = PriorRow{
			Status:     Status(rec[1]),
			UserID:     rec[2],
			HTTPStatus: httpStatus,
			Attempts:   attempts,
			InputHash:  InputHash(restored(rec[inputAt:])),
			Extra:      restored(rec[extraAt:inputAt]),
		}
		latest[row] = rec
	}
	var kept [][]string
	for row, rec := range latest {
		if keep(row, prior.Rows[row]) {
			kept = append(kept, rec)
		}
	}
	slices.SortFunc(kept, func(a, b []string) int {
		x, _ := strconv.Atoi(a[0])
		y, _ := strconv.Atoi(b[0])
		return x - y
	})
	return prior, kept, nil
}

const utf8BOM = "\xEF\xBB\xBF"

// restored is cells with Restore applied: the input as it was read.
func restored(cells []string) []string {
	out := make([]string, len(cells))
	for i, c := range cells {
		out[i] = Restore(c)
	}
	return out
}

// completeLines returns a reader over f up to its last newline. Every line
// the writer makes ends in one, so anything after it is a line torn by a
// killed process.
func completeLines(f *os.File) (io.Reader, bool, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	size := info.Size()
	if size == 0 {
		return f, false, nil
	}
	// Look back in chunks for the last newline.
	const chunk = 64 << 10
	end := size
	for end > 0 {
		start := max(0, end-chunk)
		buf := make([]byte, end-start)
		if _, err := f.ReadAt(buf, start); err != nil {
			return nil, false, err
		}
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			complete := start + int64(i) + 1
			return io.NewSectionReader(f, 0, complete), complete < size, nil
		}
		end = start
	}
	return io.NewSectionReader(f, 0, 0), true, nil
}

// State is kept beside a results file (<results>.state.json) so a resume can
// tell that the results belong to the same input.
type State struct {
	Version int    `json:"version"`
	Command string `json:"command"`
	// DryRun: the file is a dry run's preview, which any run may replace.
	DryRun      bool      `json:"dry_run,omitempty"`
	Input       string    `json:"input"`
	InputSHA256 string    `json:"input_sha256"`
	InputRows   int       `json:"input_rows"`
	Updated     time.Time `json:"updated"`
}

// StatePath names the state file of a results file.
func StatePath(resultsPath string) string { return resultsPath + ".state.json" }

// SaveState writes s next to the results file, atomically.
func SaveState(resultsPath string, s State) error {
	s.Version = 1
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	path := StatePath(resultsPath)
	err = atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// LoadState reads the state file of a results file; ok is false when there
// is none.
func LoadState(resultsPath string) (s State, ok bool, err error) {
	data, err := os.ReadFile(StatePath(resultsPath))
	if errors.Is(err, os.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, err
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return State{}, false, fmt.Errorf("%s is damaged: %v", StatePath(resultsPath), err)
	}
	return s, true, nil
}
