package offboard

import (
	"fmt"
	"io"

	"github.com/exoroster/exoroster/confirm"
)

// PromptNames is how many of the users to delete the confirmation lists.
const PromptNames = 10

// Prompt asks a person on a terminal to confirm a deletion: it lists who
// would go on Out and reads the answer from In. Only "yes" confirms.
type Prompt struct {
	In      io.Reader
	Out     io.Writer
	Account string // the account SID, named in the question
}

// Confirm asks. When stop closes first it returns confirm.ErrInterrupted,
// leaving no read of In behind where In can take a deadline (confirm.Ask).
func (p *Prompt) Confirm(rows []*Row, stop <-chan struct{}) (bool, error) {
	w := p.Out
	if w == nil {
		w = io.Discard
	}
	users := plural(len(rows), "user", "users")
	fmt.Fprintf(w, "About to delete %d %s from Exotel account %s. This cannot be undone.\n", len(rows), users, p.Account)
	writeUsers(w, rows, PromptNames, "  ... and %d more (see --dry-run for the full list)\n")
	return confirm.Ask(w, p.In, stop, fmt.Sprintf("Delete %d %s? Type yes to continue: ", len(rows), users))
}

// DryRunNames is how many of the users to delete a dry run lists.
const DryRunNames = 20

// writeWouldDelete lists, for a dry run, the users a real run would
// delete, as the confirmation would: the first DryRunNames, then a count.
func writeWouldDelete(w io.Writer, rows []*Row) {
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "Would delete %d %s (a dry run deletes nothing):\n", len(rows), plural(len(rows), "user", "users"))
	writeUsers(w, rows, DryRunNames, "  … and %d more: see the results file\n")
}

// writeUsers lists the first limit users of rows by name and email or
// phone, then more with the count of the rest.
func writeUsers(w io.Writer, rows []*Row, limit int, more string) {
	for i, r := range rows {
		if i == limit {
			fmt.Fprintf(w, more, len(rows)-limit)
			break
		}
		fmt.Fprintf(w, "  %s\n", r.member().Who())
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
