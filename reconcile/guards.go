package reconcile

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// evaluateGuards counts what the guards look at and says which trip.
func evaluateGuards(p *Plan, all []*Member, last *Applied) GuardReport {
	g := GuardReport{Deletes: p.Counts[Delete], LastApplied: last}
	for _, m := range all {
		if in, _ := p.Settings.Scope.Contains(m.Role, m.Email); in {
			g.InScope++
		}
	}
	g.Tripped = trips(p.Settings, g, p.Roster.Rows)
	return g
}

// trips returns one sentence per guard that refuses a plan with these
// counts.
func trips(s Settings, g GuardReport, rows int) []string {
	var out []string
	if g.Deletes > s.MaxDelete {
		out = append(out, fmt.Sprintf("%d users would be deleted, more than --max-delete %d; "+
			"raise --max-delete (to %d or more) if that many is right", g.Deletes, s.MaxDelete, g.Deletes))
	}
	if g.Deletes > 0 && g.Deletes*100 > s.MaxDeletePercent*g.InScope {
		need := (g.Deletes*100 + g.InScope - 1) / max(g.InScope, 1)
		out = append(out, fmt.Sprintf("%d users would be deleted, %s of the %d users in scope, more than --max-delete-percent %d; "+
			"raise --max-delete-percent (to %d or more) if that many is right",
			g.Deletes, percent(g.Deletes, g.InScope), g.InScope, s.MaxDeletePercent, min(need, 100)))
	}
	if l := g.LastApplied; l != nil && !s.AllowShrink && rows*100 < ShrinkPercent*l.Rows {
		out = append(out, fmt.Sprintf("the roster has %d rows, under %d %% of the %d rows of the roster last applied to this account (%s, %s): "+
			"it may be a truncated file; pass --allow-shrink if the roster really shrank",
			rows, ShrinkPercent, l.Rows, l.Roster, l.At.Format(time.RFC3339)))
	}
	return out
}

func percent(n, of int) string {
	if of == 0 {
		return "100 %"
	}
	return fmt.Sprintf("%.1f %%", float64(n)*100/float64(of))
}

// CheckApply refuses a plan apply must not carry out: one made for another
// account, one older than maxAge, one whose guards tripped, or one whose
// shrinkage guard trips now that last (the roster last applied, read
// again) is known. The error is one sentence.
func (p *Plan) CheckApply(acct Account, now time.Time, maxAge time.Duration, last *Applied) error {
	if p.Account != acct {
		return fmt.Errorf("the plan was made for %s, not %s: plan again against this account", p.Account, acct)
	}
	if age := now.Sub(p.CreatedAt); maxAge > 0 && age > maxAge {
		return fmt.Errorf("the plan is %v old, older than --max-plan-age %v: the account may have moved on; plan again (or raise --max-plan-age)",
			age.Round(time.Minute), maxAge)
	}
	if err := p.Refused(); err != nil {
		return err
	}
	// The state may have moved since the plan (another apply): look again.
	if t := trips(p.Settings, GuardReport{Deletes: p.Counts[Delete], InScope: p.Guards.InScope, LastApplied: last}, p.Roster.Rows); len(t) > 0 {
		return refusal(t)
	}
	return nil
}

// Refused is the error of a plan whose guards tripped, or nil.
func (p *Plan) Refused() error {
	if len(p.Guards.Tripped) == 0 {
		return nil
	}
	return refusal(p.Guards.Tripped)
}

func refusal(tripped []string) error {
	return errors.New("nothing was applied: " + strings.Join(tripped, "; and "))
}
