package confirm_test

import (
	"errors"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/exoroster/exoroster/confirm"
)

func TestAsk(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want bool
	}{
		{name: "yes", in: "yes\n", want: true},
		{name: "yes with spaces", in: "  yes \n", want: true},
		{name: "yes without newline", in: "yes", want: true},
		{name: "y is not yes", in: "y\n", want: false},
		{name: "YES is not yes", in: "YES\n", want: false},
		{name: "empty", in: "", want: false},
		{name: "only the first line", in: "no\nyes\n", want: false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			got, err := confirm.Ask(&out, strings.NewReader(tc.in), make(chan struct{}), "Go? ")
			if err != nil || got != tc.want {
				t.Errorf("Ask(%q) = %v, %v; want %v, nil", tc.in, got, err, tc.want)
			}
			if out.String() != "Go? " {
				t.Errorf("question written as %q", out.String())
			}
		})
	}
}

func TestAskNilReaderAnswersNo(t *testing.T) {
	if ok, err := confirm.Ask(nil, nil, make(chan struct{}), "Go? "); ok || err != nil {
		t.Errorf("Ask with no input = %v, %v; want false, nil", ok, err)
	}
}

// countedReader counts the reads in progress on a pipe.
type countedReader struct {
	*os.File
	reading atomic.Int32
	started chan struct{}
}

func (c *countedReader) Read(p []byte) (int, error) {
	if c.reading.Add(1) == 1 {
		select {
		case c.started <- struct{}{}:
		default:
		}
	}
	defer c.reading.Add(-1)
	return c.File.Read(p)
}

// An interrupted question leaves no read of a terminal behind: what is
// typed next is there for whoever reads next.
func TestAskInterruptedLeavesNoReader(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	in := &countedReader{File: pr, started: make(chan struct{}, 1)}
	stop := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := confirm.Ask(nil, in, stop, "Go? ")
		done <- err
	}()
	<-in.started // the question is waiting on the pipe
	close(stop)
	if err := <-done; !errors.Is(err, confirm.ErrInterrupted) {
		t.Fatalf("Ask = %v, want ErrInterrupted", err)
	}
	if n := in.reading.Load(); n != 0 {
		t.Fatalf("%d reads still waiting after the question was interrupted", n)
	}
	pw.WriteString("yes\n")
	got := make([]byte, 4)
	if _, err := pr.Read(got); err != nil || string(got) != "yes\n" {
		t.Errorf("next read = %q, %v; the interrupted question must not take it", got, err)
	}
}
