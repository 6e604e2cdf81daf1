// Package confirm asks a person at a terminal to confirm a change that
// cannot be undone (offboard's deletions, sync's apply), and stops waiting
// for the answer when the run is interrupted.
package confirm

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// ErrInterrupted is Ask's error when stop closed before an answer came.
var ErrInterrupted = errors.New("interrupted while waiting for the answer")

// deadliner is a reader whose blocked Read can be ended: an *os.File the
// runtime polls (a terminal opened by main, a pipe), a network connection.
type deadliner interface {
	SetReadDeadline(time.Time) error
}

// Ask writes question to w and reads one line from in; only "yes" (spaces
// aside) confirms, and a nil in answers nothing. When stop closes first it
// returns ErrInterrupted; if in can take a deadline, the read still waiting
// for a line is ended first, so no goroutine is left reading, and taking,
// what is typed next.
func Ask(w io.Writer, in io.Reader, stop <-chan struct{}, question string) (bool, error) {
	if w == nil {
		w = io.Discard
	}
	if in == nil {
		in = strings.NewReader("")
	}
	fmt.Fprint(w, question)
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
