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
	for i, r := range rows {
		if i == PromptNames {
			fmt.Fprintf(w, "  ... and %d more (see --dry-run for the full list)\n", len(rows)-PromptNames)
			break
		}
		fmt.Fprintf(w, "  %s\n", r.member().Who())
	}
	return confirm.Ask(w, p.In, stop, fmt.Sprintf("Delete %d %s? Type yes to continue: ", len(rows), users))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
