package offboard

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// PromptNames is how many of the users to delete the confirmation lists.
const PromptNames = 10

// ErrInterrupted is the error of a prompt that was stopped before an
// answer came.
var ErrInterrupted = errors.New("interrupted while waiting for the answer")

// Prompt asks a person on a terminal to confirm a deletion: it lists who
// would go on Out and reads the answer from In. Only "yes" confirms.
type Prompt struct {
	In      io.Reader
	Out     io.Writer
	Account string // the account SID, named in the question
}

// deadliner is a reader whose blocked Read can be ended: an *os.File the
// runtime polls (a terminal opened by main, a pipe), a network connection.
type deadliner interface {
	SetReadDeadline(time.Time) error
}

// Confirm asks. When stop closes first it returns ErrInterrupted; if In can
// take a deadline, the read still waiting for a line is ended first, so no
// goroutine is left reading, and taking, what is typed next.
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
	fmt.Fprintf(w, "Delete %d %s? Type yes to continue: ", len(rows), users)

	in := p.In
	if in == nil {
		in = strings.NewReader("")
	}
	answer := make(chan string, 1)
	go func() { answer <- readLine(in) }()
	select {
	case line := <-answer:
		return strings.TrimSpace(line) == "yes", nil
	case <-stop:
		if d, ok := in.(deadliner); ok && d.SetReadDeadline(time.Now()) == nil {
			<-answer // the read has ended: nothing is left behind
			_ = d.SetReadDeadline(time.Time{})
		}
		return false, ErrInterrupted
	}
}

// readLine reads up to a newline, a byte at a time so that nothing after
// the answer is taken from the terminal.
func readLine(r io.Reader) string {
	var b strings.Builder
	buf := make([]byte, 1)
	for b.Len() < 1024 {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			break
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
