package reconcile

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// QuietLines is how many unmanaged users the table lists before it counts
// the rest: they change nothing, and an account of hundreds would bury the
// changes under them.
const QuietLines = 5

// WriteTable writes the plan for people: what was compared, the count of
// each action, then every action but unchanged with its roster row and
// fields (the first QuietLines unmanaged users, then a count), then the
// guards and what to do next. saved is the file the whole plan is written
// to, "" for none.
func (p *Plan) WriteTable(w io.Writer, saved string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "plan for %s %s: roster %s (%d rows), %d users in the account",
		p.Account.Target, p.Account.ID, p.Roster.Path, p.Roster.Rows, p.AccountUsers)
	if !p.Settings.Scope.Empty() {
		fmt.Fprintf(&b, ", %d in --scope %s", p.Guards.InScope, p.Settings.Scope)
	}
	fmt.Fprintf(&b, "\nmatch by %s", p.Settings.Match)
	if p.Settings.Prune {
		b.WriteString(", --prune")
	}
	if p.Settings.AllowAdmins {
		b.WriteString(", --allow-admins")
	}
	b.WriteString("\n\n")
	for _, k := range Kinds() {
		fmt.Fprintf(&b, "  %-10s %6d\n", k, p.Counts[k])
	}

	width := 0
	for _, a := range p.Actions {
		if a.Kind != Unchanged {
			width = max(width, len(rowLabel(a)))
		}
	}
	listed := false
	for _, k := range Kinds() {
		if k == Unchanged {
			continue
		}
		shown, limit := 0, len(p.Actions)
		if k == Unmanaged && p.Counts[k] > QuietLines+1 { // never "and 1 more"
			limit = QuietLines
		}
		for _, a := range p.Actions {
			if a.Kind != k || shown == limit {
				continue
			}
			if !listed {
				b.WriteByte('\n')
				listed = true
			}
			fmt.Fprintf(&b, "%-9s  %-*s  %s\n", a.Kind, width, rowLabel(a), describe(a))
			shown++
		}
		if more := p.Counts[k] - shown; more > 0 {
			where := "see --out plan.json"
			if saved != "" {
				where = "see " + saved
			}
			fmt.Fprintf(&b, "%-9s  %-*s  … and %d more (%s)\n", k, width, "", more, where)
		}
	}

	b.WriteByte('\n')
	g := p.Guards
	fmt.Fprintf(&b, "guards: %d to delete (--max-delete %d, --max-delete-percent %d of %d in scope); roster %d rows",
		g.Deletes, p.Settings.MaxDelete, p.Settings.MaxDeletePercent, g.InScope, p.Roster.Rows)
	if g.LastApplied != nil {
		fmt.Fprintf(&b, ", last applied %d", g.LastApplied.Rows)
	} else {
		b.WriteString(", none applied before")
	}
	b.WriteByte('\n')
	for _, t := range g.Tripped {
		fmt.Fprintf(&b, "REFUSED: %s\n", t)
	}
	switch n := p.ChangesPending(); {
	case len(g.Tripped) > 0:
		b.WriteString("nothing can be applied until the plan passes its guards\n")
	case n == 0:
		b.WriteString("no changes: the account matches the roster\n")
	default:
		fmt.Fprintf(&b, "%d %s pending\n", n, plural(n, "change", "changes"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// rowLabel is "row 12", or "-" for a user no row names.
func rowLabel(a *Action) string {
	if a.Row == 0 {
		return "-"
	}
	return "row " + strconv.Itoa(a.Row)
}

// describe says what an action does, in one line.
func describe(a *Action) string {
	who := a.Who
	switch a.Kind {
	case Create:
		return "+ " + describeNew(a.New)
	case Update:
		parts := make([]string, 0, len(a.Changes)+len(a.Differs))
		for _, c := range a.Changes {
			parts = append(parts, c.String())
		}
		for _, d := range a.Differs {
			parts = append(parts, d.String()+" not applied: "+d.Why)
		}
		return who + ": " + strings.Join(parts, "; ")
	case Delete:
		if strings.Contains(who, a.UserID) {
			return "- " + who
		}
		return "- " + who + " [" + a.UserID + "]"
	}
	if who == "" {
		return a.Reason
	}
	return who + ": " + a.Reason
}

func describeNew(n *NewUser) string {
	if n == nil {
		return ""
	}
	var parts []string
	name := strings.TrimSpace(n.FirstName + " " + n.LastName)
	if n.Name != "" {
		name = n.Name
	}
	if n.UserID != "" {
		name += " [" + n.UserID + "]"
	}
	parts = append(parts, name)
	if n.Email != "" {
		parts = append(parts, n.Email)
	}
	if n.Phone != "" {
		parts = append(parts, n.Phone)
	}
	if n.Role != "" {
		parts = append(parts, "role "+n.Role)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
