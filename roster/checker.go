package roster

import (
	"errors"
	"runtime"
	"sync"
)

// RecordSource yields records in input order, io.EOF after the last; a
// *Reader is one.
type RecordSource interface {
	Next() (Record, error)
}

// Checker validates a source's records on several goroutines and hands
// them back in input order, each with exactly what Validator.Check would
// have said called on the records one by one: one goroutine reads, several
// check each row on its own (names, email, the phone number, which is most
// of the work), and Next looks duplicates up in order, so "duplicate of
// row N" always names the first row.
//
// Next and Close are for one goroutine; the Checker owns the Validator and
// the source until Close returns.
type Checker struct {
	v   *Validator
	src RecordSource

	// The pipeline; nil order means rows are checked inline by Next.
	order chan *checkBatch // batches in input order, as the reader made them
	quit  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once

	cur *checkBatch
	i   int
	err error // sticky: once Next fails it keeps failing
}

// checkBatch is a run of records on its way through the normalisers.
type checkBatch struct {
	recs []Record
	out  []Checked
	err  error         // what reading returned after recs: io.EOF at the end
	done chan struct{} // closed when out is filled
}

// checkBatchSize amortises the channel operations over many rows while
// keeping what is in flight small: (3 × workers + 2) batches.
const checkBatchSize = 256

// ErrCheckerClosed is what Next returns after Close.
var ErrCheckerClosed = errors.New("roster: checker closed")

// NewChecker starts checking src's records with v on workers normalisers
// (runtime.GOMAXPROCS when workers ≤ 0). With one worker, or one CPU,
// there are no goroutines: Next reads and checks each row itself.
func NewChecker(src RecordSource, v *Validator, workers int) *Checker {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	c := &Checker{v: v, src: src}
	if workers == 1 {
		return c
	}
	c.order = make(chan *checkBatch, 2*workers)
	c.quit = make(chan struct{})
	work := make(chan *checkBatch, workers)
	c.wg.Add(1 + workers)
	go c.read(work)
	for range workers {
		go c.normalise(work)
	}
	return c
}

// read batches the source's records and sends each batch twice: to the
// normalisers, to be filled, and to Next, in order, to wait for.
func (c *Checker) read(work chan<- *checkBatch) {
	defer c.wg.Done()
	defer close(work)
	defer close(c.order)
	for {
		b := &checkBatch{recs: make([]Record, 0, checkBatchSize), done: make(chan struct{})}
		for len(b.recs) < checkBatchSize {
			rec, err := c.src.Next()
			if err != nil {
				b.err = err
				break
			}
			b.recs = append(b.recs, rec)
		}
		select {
		case c.order <- b:
		case <-c.quit:
			return
		}
		select {
		case work <- b:
		case <-c.quit:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// normalise fills batches: everything about a row that needs no other row.
func (c *Checker) normalise(work <-chan *checkBatch) {
	defer c.wg.Done()
	for b := range work {
		b.out = make([]Checked, len(b.recs))
		for i, rec := range b.recs {
			b.out[i] = c.v.inspect(rec)
		}
		b.recs = nil
		close(b.done)
	}
}

// Next returns the next record and what Check says of it; io.EOF after the
// last record; or the error reading the source failed with, after the
// records before it.
func (c *Checker) Next() (Checked, error) {
	if c.err != nil {
		return Checked{}, c.err
	}
	if c.order == nil {
		rec, err := c.src.Next()
		if err != nil {
			c.err = err
			return Checked{}, err
		}
		out := c.v.inspect(rec)
		c.v.settle(&out)
		return out, nil
	}
	for c.cur == nil || c.i == len(c.cur.out) {
		if c.cur != nil && c.cur.err != nil {
			c.err = c.cur.err
			c.cur = nil
			return Checked{}, c.err
		}
		b, ok := <-c.order
		if !ok {
			c.err = ErrCheckerClosed
			return Checked{}, c.err
		}
		<-b.done
		c.cur, c.i = b, 0
	}
	out := c.cur.out[c.i]
	c.cur.out[c.i] = Checked{} // let the row go once handed out
	c.i++
	c.v.settle(&out)
	return out, nil
}

// Close stops the pipeline and waits for its goroutines, including a read
// from the source in progress. It may be called more than once, and after
// Next has returned an error; Next returns ErrCheckerClosed afterwards.
func (c *Checker) Close() {
	c.once.Do(func() {
		if c.quit != nil {
			close(c.quit)
			c.wg.Wait()
		}
		c.cur = nil
		c.err = ErrCheckerClosed
	})
}
