// Package audit reads exoroster's export reports back, compares two of them
// (who was added, removed or changed, and the transitions an auditor looks
// for), and evaluates audit rules on a report, so that a scheduled export can
// say what changed and alert on what matters without another request.
package audit

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// Format is how a report file is written.
type Format string

const (
	FormatCSV       Format = "csv"   // export's default: a header, cells formula-neutralised
	FormatJSONLines Format = "jsonl" // export --format json: one object per user
)

// Target is the API a report was exported from, told by its columns.
type Target string

const (
	TargetCCM     Target = "ccm"
	TargetWebRTC  Target = "webrtc"
	TargetUnknown Target = "unknown" // has user_id, but neither target's columns
)

// The columns the audit reads. CCM reports have every column of
// exporter.Columns; WebRTC reports user_id, name, phone, sip_enabled, status,
// phone_device, sip_device, created_at, updated_at.
const (
	colUserID           = "user_id"
	colFirstName        = "first_name"
	colLastName         = "last_name"
	colEmail            = "email"
	colEmailVerified    = "email_verified"
	colRole             = "role"
	colDeviceContactURI = "device_contact_uri"
	colDeviceName       = "device_name"
	colDeviceID         = "device_id"
	colDeviceType       = "device_type"
	colDeviceVerified   = "device_verified"
	colDeviceAvailable  = "device_available"
	colDeviceStatus     = "device_status"
	colExtraDevices     = "extra_devices"
	colLastLogin        = "last_login"
	colActiveCall       = "active_call"
	colDateCreated      = "date_created"
	colDateUpdated      = "date_updated"

	colName        = "name"
	colPhone       = "phone"
	colSIPEnabled  = "sip_enabled"
	colStatus      = "status"
	colPhoneDevice = "phone_device"
	colSIPDevice   = "sip_device"
	colCreatedAt   = "created_at"
	colUpdatedAt   = "updated_at"
)

var (
	ccmColumns = []string{colUserID, colFirstName, colLastName, colEmail, colEmailVerified, colRole,
		colDeviceContactURI, colDeviceName, colDeviceID, colDeviceType, colDeviceVerified,
		colDeviceAvailable, colDeviceStatus, colExtraDevices, colLastLogin, colActiveCall,
		colDateCreated, colDateUpdated}
	webrtcColumns = []string{colUserID, colName, colPhone, colSIPEnabled, colStatus,
		colPhoneDevice, colSIPDevice, colCreatedAt, colUpdatedAt}
)

// Report is one export report: its users keyed by user_id, in file order.
// Values are as export was given them (the CSV's formula quote undone; JSON
// booleans, numbers and null as text: true, 42, empty).
type Report struct {
	Name   string // the file's path, or a label
	Format Format
	Target Target
	// Taken is when the export was made, zero when unknown; TakenFrom says
	// how it was learnt ("summary" from <report>.summary.json's
	// generated_at, or "file time").
	Taken     time.Time
	TakenFrom string

	columns []string
	col     map[string]int
	rows    [][]string // cells in columns order; a JSON row may be shorter
	lines   []int      // where each row starts in the file, for messages
	byID    map[string]int
}

// User is one row of a report.
type User struct {
	rep *Report
	i   int
}

// NewReport starts an empty report with these columns, to be filled by Add
// or AddRecord: the report export has just fetched, say.
func NewReport(name string, columns []string) (*Report, error) {
	r := &Report{Name: name, Format: FormatCSV, col: map[string]int{}, byID: map[string]int{}}
	for _, c := range columns {
		if err := r.addColumn(normalizeColumn(c)); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	if err := r.checkIsExport(); err != nil {
		return nil, err
	}
	return r, nil
}

// ReadFile reads the export report at path. Its time is the generated_at of
// <path>.summary.json when that file was written with it (within a minute),
// else the report's modification time.
func ReadFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, pathErr(err))
	}
	defer f.Close()
	r, err := Read(f, path)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil {
		r.Taken, r.TakenFrom = st.ModTime(), "file time"
		if t, ok := summaryTime(path+".summary.json", st.ModTime()); ok {
			r.Taken, r.TakenFrom = t, "summary"
		}
	}
	return r, nil
}

// summaryTime reads generated_at from an export's summary JSON, if that
// file was written at the same time as the report (export commits both
// together), so a summary left from an older run is not believed.
func summaryTime(path string, reportTime time.Time) (time.Time, bool) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() > 1<<20 {
		return time.Time{}, false
	}
	if d := st.ModTime().Sub(reportTime); d > time.Minute || d < -time.Minute {
		return time.Time{}, false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, false
	}
	var s struct {
		GeneratedAt time.Time `json:"generated_at"`
	}
	if json.Unmarshal(b, &s) != nil || s.GeneratedAt.IsZero() {
		return time.Time{}, false
	}
	return s.GeneratedAt, true
}

func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Read reads an export report from in: JSON Lines when its first character
// (after a byte-order mark and blank space) is {, else CSV. name is used in
// messages. A file without a user_id column is refused: it is not an export.
func Read(in io.Reader, name string) (*Report, error) {
	br := bufio.NewReaderSize(in, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	first, err := firstByte(br)
	if err == io.EOF {
		return nil, fmt.Errorf("%s is empty: not an exoroster export report", name)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", name, err)
	}
	r := &Report{Name: name, col: map[string]int{}, byID: map[string]int{}}
	if first == '{' {
		r.Format = FormatJSONLines
		err = r.readJSONLines(br)
	} else {
		r.Format = FormatCSV
		err = r.readCSV(br)
	}
	if err != nil {
		return nil, err
	}
	return r, nil
}

// firstByte peeks at the first byte that is not blank space.
func firstByte(br *bufio.Reader) (byte, error) {
	for n := 1; ; n++ {
		b, err := br.Peek(n)
		if len(b) < n {
			if err == nil {
				err = io.EOF
			}
			if errors.Is(err, bufio.ErrBufferFull) {
				return 0, fmt.Errorf("the first %d bytes are blank", n-1)
			}
			return 0, err
		}
		switch c := b[n-1]; c {
		case ' ', '\t', '\r', '\n':
		default:
			return c, nil
		}
	}
}

func (r *Report) readCSV(in io.Reader) error {
	cr := csv.NewReader(in)
	header, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%s is not a CSV export report: %w", r.Name, err)
	}
	for _, h := range header {
		if err := r.addColumn(normalizeColumn(h)); err != nil {
			return fmt.Errorf("%s: %w", r.Name, err)
		}
	}
	if err := r.checkIsExport(); err != nil {
		return err
	}
	for {
		cells, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s is not a CSV export report: %w", r.Name, err)
		}
		line, _ := cr.FieldPos(0)
		for i, c := range cells {
			cells[i] = Unneutralize(c)
		}
		if err := r.addRow(cells, line); err != nil {
			return err
		}
	}
}

func (r *Report) readJSONLines(br *bufio.Reader) error {
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(bytes.TrimSpace(b)) > 0 {
			if aerr := r.addJSON(b, line); aerr != nil {
				return aerr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("cannot read %s: %w", r.Name, err)
		}
	}
	return r.checkIsExport()
}

// addJSON adds one JSON object as a row; its keys that are new become
// columns.
func (r *Report) addJSON(b []byte, line int) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("%s line %d is not a JSON object: %v", r.Name, line, jsonErr(err))
	}
	cells := make([]string, len(r.columns), len(r.columns)+len(obj))
	seen := make([]bool, len(r.columns), len(r.columns)+len(obj))
	var fresh []string // keys that are not columns yet
	for k, v := range obj {
		name := normalizeColumn(k)
		i, ok := r.col[name]
		if !ok {
			fresh = append(fresh, k)
			continue
		}
		if seen[i] {
			return fmt.Errorf("%s line %d: key %q is given twice", r.Name, line, name)
		}
		seen[i] = true
		cells[i] = jsonText(v)
	}
	// New columns are added in export's order, whatever the object's.
	slices.SortFunc(fresh, func(a, b string) int { return compareColumns(normalizeColumn(a), normalizeColumn(b)) })
	for _, k := range fresh {
		name := normalizeColumn(k)
		if _, dup := r.col[name]; dup {
			return fmt.Errorf("%s line %d: key %q is given twice", r.Name, line, name)
		}
		if err := r.addColumn(name); err != nil {
			return fmt.Errorf("%s line %d: %w", r.Name, line, err)
		}
		cells = append(cells, jsonText(obj[k]))
	}
	if _, ok := r.col[colUserID]; !ok {
		return notExport(r.Name, fmt.Sprintf("line %d has no user_id", line))
	}
	return r.addRow(cells, line)
}

// jsonErr drops encoding/json's Go type names from a message about input.
func jsonErr(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "it is " + te.Value
	}
	return err.Error()
}

// jsonText is a JSON value as report text: a string as it is, null as
// empty, anything else (true, 42, an object) as its compact JSON.
func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ""
	case raw[0] == '"':
		if bytes.IndexByte(raw, '\\') < 0 {
			return string(raw[1 : len(raw)-1]) // valid JSON already: no escapes to undo
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case raw[0] == '{' || raw[0] == '[':
		var buf bytes.Buffer
		if json.Compact(&buf, raw) == nil {
			return buf.String()
		}
	}
	return string(raw)
}

// AddRecord adds one record of the export being made: any value that
// marshals to a JSON object with a user_id (exporter.Record, the WebRTC
// target's record). A report built this way has the values as the API gave
// them, like a JSON Lines report.
func (r *Report) AddRecord(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("%s: cannot read record: %w", r.Name, err)
	}
	return r.addJSON(b, len(r.rows)+1)
}

// Add adds one user given as column → value. Columns the report does not
// have are added.
func (r *Report) Add(values map[string]string) error {
	cells := make([]string, len(r.columns))
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareColumns)
	for _, k := range keys {
		name := normalizeColumn(k)
		i, ok := r.col[name]
		if !ok {
			if err := r.addColumn(name); err != nil {
				return fmt.Errorf("%s: %w", r.Name, err)
			}
			i = len(r.columns) - 1
			cells = append(cells, "")
		}
		cells[i] = values[k]
	}
	return r.addRow(cells, len(r.rows)+1)
}

// Tee returns a sink for an export's records that passes each to next (the
// report writer) and adds it to rep, so the audit sees exactly what was
// written with no second pass. With R = exporter.Record the result is an
// exporter.Sink.
func Tee[R any](next interface{ Write(R) error }, rep *Report) interface{ Write(R) error } {
	return &tee[R]{next: next, rep: rep}
}

type tee[R any] struct {
	next interface{ Write(R) error }
	rep  *Report
}

func (t *tee[R]) Write(rec R) error {
	if err := t.next.Write(rec); err != nil {
		return err
	}
	return t.rep.AddRecord(rec)
}

// TeeLines is Tee for a sink whose method is WriteLine: the report writer
// of a target other than CCM's, which takes any target's line (with
// L = exporter.Line the result is an exporter.LineSink). Each line is added
// by its JSON, as AddRecord does.
func TeeLines[L any](next interface{ WriteLine(L) error }, rep *Report) interface{ WriteLine(L) error } {
	return &lineTee[L]{next: next, rep: rep}
}

type lineTee[L any] struct {
	next interface{ WriteLine(L) error }
	rep  *Report
}

func (t *lineTee[L]) WriteLine(line L) error {
	if err := t.next.WriteLine(line); err != nil {
		return err
	}
	return t.rep.AddRecord(line)
}

func (r *Report) addColumn(name string) error {
	if name == "" {
		return errors.New("a column has no name")
	}
	if _, dup := r.col[name]; dup {
		return fmt.Errorf("column %q appears twice", name)
	}
	r.col[name] = len(r.columns)
	r.columns = append(r.columns, name)
	r.Target = targetOf(r.columns)
	return nil
}

func (r *Report) checkIsExport() error {
	if _, ok := r.col[colUserID]; ok {
		return nil
	}
	if len(r.columns) == 0 {
		return notExport(r.Name, "it has no columns")
	}
	cols := r.columns
	more := ""
	if len(cols) > 8 {
		cols, more = cols[:8], ", …"
	}
	return notExport(r.Name, "it has no user_id column (its columns: "+strings.Join(cols, ", ")+more+")")
}

func notExport(name, why string) error {
	return fmt.Errorf("%s is not an exoroster export report: %s; compare the files export --out writes", name, why)
}

func (r *Report) addRow(cells []string, line int) error {
	id := cells[r.col[colUserID]]
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("%s line %d has no user_id: every user in an export report has one", r.Name, line)
	}
	if prev, dup := r.byID[id]; dup {
		return fmt.Errorf("%s lists user_id %s twice (lines %d and %d): an export report lists each user once", r.Name, id, r.lines[prev], line)
	}
	r.byID[id] = len(r.rows)
	r.rows = append(r.rows, cells)
	r.lines = append(r.lines, line)
	return nil
}

// Unneutralize undoes export's formula guard: a CSV cell that export
// started with ' because it began with =, +, -, @, a tab or a carriage
// return is given back without the quote.
func Unneutralize(cell string) string {
	if len(cell) >= 2 && cell[0] == '\'' {
		switch cell[1] {
		case '=', '+', '-', '@', '\t', '\r':
			return cell[1:]
		}
	}
	return cell
}

func normalizeColumn(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
}

// targetOf tells a report's target by which target's columns it has more of.
func targetOf(cols []string) Target {
	ccm, webrtc := 0, 0
	for _, c := range cols {
		if c == colUserID {
			continue
		}
		if slices.Contains(ccmColumns, c) {
			ccm++
		}
		if slices.Contains(webrtcColumns, c) {
			webrtc++
		}
	}
	switch {
	case ccm > webrtc:
		return TargetCCM
	case webrtc > ccm:
		return TargetWebRTC
	}
	return TargetUnknown
}

// compareColumns orders columns as export writes them (CCM, then WebRTC),
// then any others by name.
func compareColumns(a, b string) int {
	rank := func(c string) int {
		if i := slices.Index(ccmColumns, c); i >= 0 {
			return i
		}
		if i := slices.Index(webrtcColumns, c); i >= 0 {
			return len(ccmColumns) + i
		}
		return len(ccmColumns) + len(webrtcColumns)
	}
	if d := rank(a) - rank(b); d != 0 {
		return d
	}
	return strings.Compare(a, b)
}

// Columns returns the report's columns: a CSV's in header order, a JSON
// report's in export's order.
func (r *Report) Columns() []string { return slices.Clone(r.columns) }

// Has reports whether the report has the column.
func (r *Report) Has(col string) bool {
	_, ok := r.col[col]
	return ok
}

// Len is the number of users.
func (r *Report) Len() int { return len(r.rows) }

// Users returns the users in file order.
func (r *Report) Users() []User {
	out := make([]User, len(r.rows))
	for i := range r.rows {
		out[i] = User{r, i}
	}
	return out
}

// Lookup finds a user by user_id.
func (r *Report) Lookup(id string) (User, bool) {
	i, ok := r.byID[id]
	return User{r, i}, ok
}

// Get returns the user's value in a column, empty when the report lacks it.
func (u User) Get(col string) string {
	i, ok := u.rep.col[col]
	if !ok || i >= len(u.rep.rows[u.i]) {
		return ""
	}
	return u.rep.rows[u.i][i]
}

// ID is the user's user_id.
func (u User) ID() string { return u.Get(colUserID) }

// Line is where the user's row starts in the file.
func (u User) Line() int { return u.rep.lines[u.i] }

// Name is first and last name (CCM) or name (WebRTC).
func (u User) Name() string {
	if n := u.Get(colName); n != "" {
		return n
	}
	return strings.TrimSpace(u.Get(colFirstName) + " " + u.Get(colLastName))
}

// Phone is the device number (CCM) or phone (WebRTC).
func (u User) Phone() string {
	if p := u.Get(colDeviceContactURI); p != "" {
		return p
	}
	return u.Get(colPhone)
}

// Role is the API role in lower case, with the guides' "agent" read as the
// API's "user".
func (u User) Role() string { return normalizeRole(u.Get(colRole)) }

func normalizeRole(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "agent" {
		return "user"
	}
	return s
}
