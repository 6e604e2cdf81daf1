package audit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/exoroster/exoroster/results"
)

// OutputFormat is how a diff is written.
type OutputFormat string

const (
	OutputText OutputFormat = "text" // for people: counts, tables, findings
	OutputCSV  OutputFormat = "csv"  // one line per change, for spreadsheets
	OutputJSON OutputFormat = "json" // the whole Result, for scripts
)

// ParseOutputFormat reads a --format value.
func ParseOutputFormat(s string) (OutputFormat, error) {
	switch f := OutputFormat(strings.ToLower(strings.TrimSpace(s))); f {
	case OutputText, OutputCSV, OutputJSON:
		return f, nil
	}
	return "", fmt.Errorf("format %q: use text, csv or json", s)
}

// Write writes res in format f: text is WriteText, csv WriteCSV (the diff
// only), json WriteJSON.
func Write(w io.Writer, res *Result, f OutputFormat) error {
	switch f {
	case OutputCSV:
		return WriteCSV(w, res)
	case OutputJSON:
		return WriteJSON(w, res)
	}
	return WriteText(w, res)
}

// WriteJSON writes the whole result as indented JSON.
func WriteJSON(w io.Writer, res *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(res)
}

// CSVColumns is the diff CSV's header.
func CSVColumns() []string {
	return []string{"change", "user_id", "name", "email", "phone", "column", "old", "new", "detail"}
}

// WriteCSV writes the diff as one line per change: an added or removed
// user, each changed column of a changed user, each transition (change is
// role_escalation, device_became_unverified, newly_inactive or
// first_login, with its column's values and a detail for people). Cells are made spreadsheet-safe as export's are. A result
// without a diff writes the header only.
func WriteCSV(w io.Writer, res *Result) error {
	cw := csv.NewWriter(w)
	write := func(change string, u UserRef, column, old, new, detail string) {
		cells := []string{change, u.ID, u.Name, u.Email, u.Phone, column, old, new, detail}
		for i, c := range cells {
			cells[i] = results.SafeCell(c, true) // any column may hold a phone: old and new do
		}
		_ = cw.Write(cells) // buffered; an error shows at Flush
	}
	_ = cw.Write(CSVColumns())
	if d := res.Diff; d != nil {
		for _, u := range d.Added {
			write("added", u, "", "", "", "")
		}
		for _, u := range d.Removed {
			write("removed", u, "", "", "", "")
		}
		for _, c := range d.Changed {
			for _, f := range c.Fields {
				write("changed", c.User, f.Column, f.Old, f.New, "")
			}
		}
		for _, e := range d.Events {
			write(string(e.Kind), e.User, eventColumn(e.Kind), e.Old, e.New, e.Detail)
		}
	}
	cw.Flush()
	return cw.Error()
}

// eventColumn is the column a transition is read from.
func eventColumn(k Transition) string {
	switch k {
	case RoleEscalation:
		return colRole
	case DeviceUnverified:
		return colDeviceVerified
	}
	return colLastLogin
}

// eventLabel names a transition for people.
func eventLabel(k Transition, n int) string {
	switch k {
	case RoleEscalation:
		return plural(n, "role escalation", "role escalations")
	case DeviceUnverified:
		return plural(n, "device became unverified", "devices became unverified")
	case NewlyInactive:
		return plural(n, "newly inactive", "newly inactive")
	case FirstLogin:
		return plural(n, "first login", "first logins")
	}
	return string(k)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// CountsLine is the diff in one line: "3 added, 1 removed, 2 changed; 1
// role escalation, …".
func (d *Diff) CountsLine() string {
	s := fmt.Sprintf("%d added, %d removed, %d changed", len(d.Added), len(d.Removed), len(d.Changed))
	var ev []string
	for _, k := range Transitions() {
		if n := d.Count(k); n > 0 {
			ev = append(ev, eventLabel(k, n))
		}
	}
	if len(ev) > 0 {
		s += "; " + strings.Join(ev, ", ")
	}
	return s
}

// WriteText writes the result for people: where the reports came from,
// the diff's counts and tables, then the findings with the users they
// name, and the rules that could not be checked.
func WriteText(w io.Writer, res *Result) error {
	var b strings.Builder
	if d := res.Diff; d != nil {
		writeSources(&b, d)
		b.WriteString("\n" + d.CountsLine() + "\n")
		writeDiffTables(&b, d)
	} else {
		fmt.Fprintf(&b, "report: %s\n", describe(res.Report))
	}
	b.WriteByte('\n')
	writeFindings(&b, res, 0)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteSummary writes the short form: the diff's counts and one line per
// finding naming its first few users; for when the tables went to a file.
func WriteSummary(w io.Writer, res *Result) error {
	var b strings.Builder
	if d := res.Diff; d != nil {
		fmt.Fprintf(&b, "diff %s → %s: %s\n", printable(d.Old.Name), printable(d.New.Name), d.CountsLine())
	}
	writeFindings(&b, res, 5)
	_, err := io.WriteString(w, b.String())
	return err
}

func describe(s Source) string {
	out := fmt.Sprintf("%s (%s, %s, %s", printable(s.Name), s.Format, s.Target, count(s.Users, "user"))
	if !s.Taken.IsZero() {
		out += ", as of " + timeOf(s.Taken)
		switch s.TakenFrom {
		case "summary":
			out += " from its summary JSON"
		case "file time":
			out += " from its file time"
		}
	}
	return out + ")"
}

func writeSources(b *strings.Builder, d *Diff) {
	fmt.Fprintf(b, "old: %s\nnew: %s\n", describe(d.Old), describe(d.New))
	fmt.Fprintf(b, "compared: %s\n", listOrNone(d.Compared))
	if len(d.OnlyOld) > 0 {
		fmt.Fprintf(b, "ignored, only in the old report: %s\n", strings.Join(d.OnlyOld, ", "))
	}
	if len(d.OnlyNew) > 0 {
		fmt.Fprintf(b, "ignored, only in the new report: %s\n", strings.Join(d.OnlyNew, ", "))
	}
	for _, n := range d.NotTracked {
		fmt.Fprintf(b, "not tracked: %s\n", n)
	}
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "(no column both reports have)"
	}
	return strings.Join(s, ", ")
}

func writeDiffTables(b *strings.Builder, d *Diff) {
	users := func(title string, us []UserRef) {
		if len(us) == 0 {
			return
		}
		fmt.Fprintf(b, "\n%s (%d)\n", title, len(us))
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  USER_ID\tNAME\tEMAIL\tPHONE\tROLE")
		for _, u := range us {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", cell(u.ID), cell(u.Name), cell(u.Email), cell(u.Phone), cell(u.Role))
		}
		tw.Flush()
	}
	users("added", d.Added)
	users("removed", d.Removed)
	if len(d.Changed) > 0 {
		fmt.Fprintf(b, "\nchanged (%d)\n", len(d.Changed))
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  USER_ID\tNAME\tCOLUMN\tOLD → NEW")
		for _, c := range d.Changed {
			for i, f := range c.Fields {
				id, name := cell(c.User.ID), cell(c.User.Name)
				if i > 0 {
					id, name = "", ""
				}
				fmt.Fprintf(tw, "  %s\t%s\t%s\t%s → %s\n", id, name, f.Column, cell(f.Old), cell(f.New))
			}
		}
		tw.Flush()
	}
	if len(d.Events) > 0 {
		fmt.Fprintf(b, "\ntransitions (%d)\n", len(d.Events))
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  TRANSITION\tUSER_ID\tNAME\tDETAIL")
		for _, e := range d.Events {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", e.Kind, cell(e.User.ID), cell(e.User.Name), cell(e.Detail))
		}
		tw.Flush()
	}
}

// writeFindings lists the findings; names > 0 names only that many users
// of each, on one line.
func writeFindings(b *strings.Builder, res *Result, names int) {
	if len(res.Findings) == 0 {
		b.WriteString("findings: none\n")
	} else {
		fmt.Fprintf(b, "findings: %d\n", len(res.Findings))
	}
	for _, f := range res.Findings {
		if names > 0 {
			fmt.Fprintf(b, "  %s: %s: %s\n", f.Rule, f.Message, nameList(f.Users, names))
			continue
		}
		fmt.Fprintf(b, "\n%s: %s\n", f.Rule, f.Message)
		tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  USER_ID\tNAME\tEMAIL\tPHONE\tROLE")
		for _, u := range f.Users {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", cell(u.ID), cell(u.Name), cell(u.Email), cell(u.Phone), cell(u.Role))
		}
		tw.Flush()
	}
	if len(res.NotChecked) > 0 && names == 0 {
		b.WriteString("\n")
	}
	for _, s := range res.NotChecked {
		fmt.Fprintf(b, "not checked: %s (%s)\n", s.Rule, s.Reason)
	}
}

func nameList(us []UserRef, n int) string {
	var parts []string
	for i, u := range us {
		if i == n {
			parts[len(parts)-1] += fmt.Sprintf(" and %d more", len(us)-n)
			break
		}
		name := printable(u.Name)
		if name == "" {
			name = printable(u.ID)
		}
		parts = append(parts, name)
	}
	return strings.Join(parts, ", ")
}

// cell makes a value safe for a terminal table: control characters (a tab
// would break the columns, an escape sequence the terminal) are shown
// escaped, and an empty value as -.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return printable(s)
}

func printable(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// timeOf formats a time for people, UTC.
func timeOf(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 MST") }
