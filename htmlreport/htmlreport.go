// Package htmlreport renders an audit as one self-contained HTML page: no
// network, no scripts, no external fonts; inline CSS and SVG charts. It
// reads on a phone, prints on paper, and survives being mailed around.
package htmlreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/exoroster/exoroster/audit"
	"github.com/exoroster/exoroster/exporter"
)

// Input is what the page shows.
type Input struct {
	// Account names the account audited: the CCM account SID, or the
	// WebRTC customer and app. Optional (a diff of two files has none).
	Account string
	// Generator is what made the page, e.g. "exoroster v1.4.0".
	Generator string
	Result    *audit.Result
}

//go:embed report.html.tmpl
var pageTemplate string

// Write renders the page to w.
func Write(w io.Writer, in Input) error {
	if in.Result == nil {
		return fmt.Errorf("htmlreport: no audit result to show")
	}
	tmpl, err := template.New("report").Parse(pageTemplate)
	if err != nil {
		return fmt.Errorf("htmlreport: %w", err)
	}
	return tmpl.Execute(w, newPage(in))
}

// WriteFile renders the page to a temporary file beside path and renames it
// over path, so a reader never sees half a page and a failed run leaves an
// older page as it was.
func WriteFile(path string, in Input) error {
	f, err := exporter.CreateFile(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := Write(f, in); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return f.Commit()
}

// page is the template's view of an Input.
type page struct {
	Account, Generator string
	When               string
	Report             audit.Source
	ReportTime         string
	Options            audit.Options
	Cards              []card
	Breakdown          *chart
	Logins             *chart
	LoginsMissing      bool
	Findings           []audit.Finding
	NotChecked         []audit.Skipped
	Diff               *diffView
}

// card is one headline count; Alert marks a count that deserves a look.
type card struct {
	ID, Label string
	Count     int
	Alert     bool
}

type diffView struct {
	*audit.Diff
	OldTime, NewTime string
	Counts           string
	Transitions      []transitionGroup
}

type transitionGroup struct {
	Kind   audit.Transition
	Title  string
	Events []audit.Event
}

func newPage(in Input) *page {
	res := in.Result
	s := res.Stats
	p := &page{
		Account: in.Account, Generator: in.Generator,
		When:   stamp(res.Options.Now),
		Report: res.Report, ReportTime: stamp(res.Report.Taken),
		Options: res.Options, Findings: res.Findings, NotChecked: res.NotChecked,
	}
	p.Cards = append(p.Cards, card{ID: "users", Label: "users", Count: s.Users})
	if s.ByRole != nil {
		p.Cards = append(p.Cards, card{ID: "admins", Label: "admins", Count: s.Admins, Alert: s.Admins > res.Options.MaxAdmins})
	}
	if s.LastLogin != nil {
		p.Cards = append(p.Cards,
			card{ID: "inactive", Label: fmt.Sprintf("inactive %d+ days or never logged in", res.Options.InactiveDays), Count: s.Inactive, Alert: s.Inactive > 0},
			card{ID: "never", Label: "never logged in", Count: s.NeverLoggedIn, Alert: s.NeverLoggedIn > 0})
	}
	if !skipped(res, audit.RuleUnverifiedDevice) {
		p.Cards = append(p.Cards, card{ID: "unverified", Label: "unverified devices", Count: s.UnverifiedDevice, Alert: s.UnverifiedDevice > 0})
	}
	if !skipped(res, audit.RuleNoDevice) {
		p.Cards = append(p.Cards, card{ID: "no-device", Label: "without a device", Count: s.NoDevice, Alert: s.NoDevice > 0})
	}
	p.Cards = append(p.Cards, card{ID: "findings", Label: "findings", Count: len(res.Findings), Alert: len(res.Findings) > 0})
	if d := res.Diff; d != nil {
		p.Cards = append(p.Cards,
			card{ID: "added", Label: "added", Count: len(d.Added)},
			card{ID: "removed", Label: "removed", Count: len(d.Removed)},
			card{ID: "changed", Label: "changed", Count: len(d.Changed)})
		p.Diff = newDiffView(d)
	}

	switch {
	case s.ByRole != nil:
		p.Breakdown = roleChart(s.ByRole)
	case s.ByStatus != nil:
		p.Breakdown = statusChart(s.ByStatus)
	}
	if s.LastLogin != nil {
		p.Logins = loginChart(s.LastLogin)
	} else {
		p.LoginsMissing = true
	}
	return p
}

func skipped(res *audit.Result, r audit.Rule) bool {
	return slices.ContainsFunc(res.NotChecked, func(s audit.Skipped) bool { return s.Rule == r })
}

func newDiffView(d *audit.Diff) *diffView {
	v := &diffView{Diff: d, OldTime: stamp(d.Old.Taken), NewTime: stamp(d.New.Taken), Counts: d.CountsLine()}
	titles := map[audit.Transition]string{
		audit.RoleEscalation:   "Role escalations: became admin or supervisor",
		audit.DeviceUnverified: "Devices that became unverified",
		audit.NewlyInactive:    "Newly inactive",
		audit.FirstLogin:       "First logins",
	}
	for _, k := range audit.Transitions() {
		g := transitionGroup{Kind: k, Title: titles[k]}
		for _, e := range d.Events {
			if e.Kind == k {
				g.Events = append(g.Events, e)
			}
		}
		if len(g.Events) > 0 {
			v.Transitions = append(v.Transitions, g)
		}
	}
	return v
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 MST")
}

// chart is a horizontal bar chart drawn as inline SVG. Geometry is in
// viewBox units; the SVG scales to the width it is given.
type chart struct {
	ID, Title, Caption string
	Width, Height      int
	LabelX, BarX       int // labels end at LabelX; bars start at BarX
	BarHeight          int
	Bars               []bar
}

type bar struct {
	Label, Color string
	Count        int
	Y, TextY     int // the bar's top, and its text's baseline
	Width        int // the bar's length
	CountX       int // where the count is written
	Percent      string
}

// Chart geometry: a label column, then bars up to barMax long, then room
// for "1234 100%" after the longest bar.
const (
	chartWidth = 360
	labelEnd   = 104
	barX       = 112
	barMax     = 170
	rowHeight  = 30
	barHeight  = 20
	chartTop   = 4
)

func newChart(id, title, caption string, labels []string, counts []int, colors []string) *chart {
	c := &chart{ID: id, Title: title, Caption: caption, Width: chartWidth, Height: chartTop*2 + rowHeight*len(labels),
		LabelX: labelEnd, BarX: barX, BarHeight: barHeight}
	total, most := 0, 1
	for _, n := range counts {
		total += n
		most = max(most, n)
	}
	for i, l := range labels {
		y := chartTop + i*rowHeight
		w := counts[i] * barMax / most
		if counts[i] > 0 {
			w = max(w, 2) // a count of one among thousands still shows
		}
		pct := "0%"
		if total > 0 {
			pct = fmt.Sprintf("%.0f%%", 100*float64(counts[i])/float64(total))
		}
		c.Bars = append(c.Bars, bar{Label: l, Color: colors[i], Count: counts[i], Y: y, TextY: y + 15,
			Width: w, CountX: barX + w + 6, Percent: pct})
	}
	return c
}

const otherColor = "#6b7280"

// roleColor is a role's bar colour: the API's three roles their own,
// anything else grey.
func roleColor(role string) string {
	switch role {
	case "admin":
		return "#b91c1c"
	case "supervisor":
		return "#d97706"
	case "user":
		return "#2563eb"
	}
	return otherColor
}

func roleChart(byRole map[string]int) *chart {
	roles := []string{"admin", "supervisor", "user"}
	var other []string
	for r := range byRole {
		if !slices.Contains(roles, r) {
			other = append(other, r)
		}
	}
	slices.Sort(other)
	roles = append(roles, other...)
	var labels, colors []string
	var counts []int
	for _, r := range roles {
		label := r
		switch r {
		case "user":
			label = "user (agent)"
		case "":
			label = "(no role)"
		}
		labels, counts, colors = append(labels, label), append(counts, byRole[r]), append(colors, roleColor(r))
	}
	return newChart("roles-chart", "Users by role", "How many users hold each role.", labels, counts, colors)
}

func statusChart(byStatus map[string]int) *chart {
	statuses := slices.Sorted(maps.Keys(byStatus))
	var labels, colors []string
	var counts []int
	for _, s := range statuses {
		label, color := s, otherColor
		switch {
		case s == "":
			label = "(no status)"
		case strings.EqualFold(s, "active"):
			color = "#2563eb"
		}
		labels, counts, colors = append(labels, label), append(counts, byStatus[s]), append(colors, color)
	}
	return newChart("roles-chart", "Users by status", "How many users are in each status.", labels, counts, colors)
}

// loginColor is a last-login bucket's bar colour, green to red as logins
// age; "" for a bucket audit does not name.
func loginColor(bucket string) string {
	switch bucket {
	case audit.Login0To7:
		return "#15803d"
	case audit.Login8To30:
		return "#65a30d"
	case audit.Login31To90:
		return "#ca8a04"
	case audit.Login91To180:
		return "#ea580c"
	case audit.LoginOver180:
		return "#dc2626"
	case audit.LoginNever:
		return "#6b7280"
	case audit.LoginUnknown:
		return "#9ca3af"
	}
	return ""
}

func loginChart(buckets []audit.Bucket) *chart {
	var labels, colors []string
	var counts []int
	for _, b := range buckets {
		labels, counts, colors = append(labels, b.Label), append(counts, b.Count), append(colors, loginColor(b.Label))
	}
	return newChart("logins-chart", "Last login", "Days since each user last logged in.", labels, counts, colors)
}
