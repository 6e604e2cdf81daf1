package exporter

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/exoroster/exoroster/exotel"
)

// fields are the blocks every page asks for: the report's device and login
// columns come from them.
func fields() []string { return []string{"devices", "active_call", "last_login"} }

// query is one bulk GET to page through: the whole account, or one batch of
// a filter.
type query struct {
	index  int
	emails []string
	uris   []string

	// Set from the first page.
	total int // metadata.total of the first page
	limit int // page size the server honours, at most exotel.MaxPageSize

	// Set by the consumer as pages are taken, in order.
	lastTotal   int  // metadata.total of the latest page
	lastOffset  int  // offset of the latest page
	lastRecords int  // records the latest page held
	lastFull    bool // the latest page held limit records
	lastNew     int  // users the latest page added
	distinct    int  // users this query returned, each once
	// ended: no later page can hold a user, because one came back empty
	// or brought only users already seen (a server that does not move
	// on with the offset).
	ended atomic.Bool
}

// more reports whether a page after the latest may hold users: the latest
// was full and brought new users, and its offset plus its count is short of
// the total it stated (a user created during the export may have pushed
// the account past the first page's total). Without a total (no metadata)
// only a short or repeated page ends the query.
func (q *query) more() bool {
	switch {
	case q.ended.Load() || !q.lastFull || q.lastNew == 0:
		return false
	case q.lastTotal > 0 && q.lastOffset+q.lastRecords >= q.lastTotal:
		return false
	case q.maxMatches() > 0 && q.distinct >= q.maxMatches():
		return false // every value of the batch matched: no user is left to find
	}
	return true
}

// maxMatches bounds what a filter batch can match: emails and contact URIs
// are unique per account, so each value matches at most one user. Zero
// means no bound (the whole account).
func (q *query) maxMatches() int { return len(q.emails) + len(q.uris) }

func (q *query) opts(offset int) exotel.ListOptions {
	limit := q.limit
	if limit == 0 {
		limit = exotel.MaxPageSize
	}
	return exotel.ListOptions{Offset: offset, Limit: limit, Fields: fields(), Emails: q.emails, ContactURIs: q.uris}
}

// pageJob is one page of one query.
type pageJob struct {
	q      *query
	offset int
}

// queries splits the filters into batches short enough for a URL; without
// filters there is one query, the whole account.
func (r *run[U]) queries() []*query {
	cfg := r.cfg
	if !cfg.filtered() {
		return []*query{{}}
	}
	var qs []*query
	for _, b := range exotel.Batches(cfg.Emails, cfg.FilterBytes) {
		qs = append(qs, &query{index: len(qs), emails: b})
	}
	for _, b := range exotel.Batches(cfg.Phones, cfg.FilterBytes) {
		qs = append(qs, &query{index: len(qs), uris: b})
	}
	return qs
}

// export fetches every page: the first page of each query (which tells its
// total), then the pages the totals promise, concurrently and taken in
// order, then one page at a time for as long as the last page came back
// full and the latest total says there is more (a user created meanwhile
// may have pushed one more page). It never asks for the empty page past
// the end, and stops a query whose server repeats itself.
func (r *run[U]) export() error {
	qs := r.queries()
	if r.cfg.filtered() {
		r.startProgress(len(r.cfg.Emails) + len(r.cfg.Phones))
	}
	firsts := func(yield func(pageJob) bool) {
		for _, q := range qs {
			if !yield(pageJob{q: q}) {
				return
			}
		}
	}
	if err := r.fetchInOrder(firsts, r.takeFirst); err != nil {
		return err
	}
	for _, q := range qs {
		if err := r.pageRest(q); err != nil {
			return err
		}
	}
	r.sum.setTotalAtEnd(qs)
	return nil
}

// takeFirst learns a query's total and page size from its first page.
func (r *run[U]) takeFirst(j pageJob, p *Page[U]) error {
	q := j.q
	q.total, q.limit = p.Total, exotel.MaxPageSize
	if p.Limit > 0 && p.Limit < q.limit {
		// The server pages by fewer than asked: step by what it gives.
		q.limit = p.Limit
	}
	if n := len(p.Users) + len(p.Errors); n > 0 && n < q.limit && p.Total > n {
		// A short first page of a longer list: the server caps pages
		// without saying so in metadata.limit.
		q.limit = n
	}
	r.sum.APITotal += p.Total
	if !r.cfg.filtered() {
		r.startProgress(p.Total)
		r.log.Info("exporting", "users", p.Total, "pages", (p.Total+q.limit-1)/q.limit, "page_size", q.limit)
	}
	return r.take(j, p)
}

// pageRest fetches the pages after a query's first.
func (r *run[U]) pageRest(q *query) error {
	planned := func(yield func(pageJob) bool) {
		for off := q.limit; off < q.total && !q.ended.Load(); off += q.limit {
			if !yield(pageJob{q: q, offset: off}) {
				return
			}
		}
	}
	if err := r.fetchInOrder(planned, r.take); err != nil {
		return err
	}
	for q.more() {
		off := q.lastOffset + q.limit
		p, err := r.fetch(r.halt.Context(), pageJob{q: q, offset: off})
		if err != nil {
			return err
		}
		if err := r.take(pageJob{q: q, offset: off}, p); err != nil {
			return err
		}
	}
	return nil
}

// take writes a page's new users, in order, and notes where the query
// stands.
func (r *run[U]) take(j pageJob, p *Page[U]) error {
	q := j.q
	records := len(p.Users) + len(p.Errors)
	q.lastTotal, q.lastOffset, q.lastRecords, q.lastFull, q.lastNew = p.Total, j.offset, records, records >= q.limit, 0
	if records == 0 {
		q.ended.Store(true) // past the last user: later offsets are empty too
	}
	for _, e := range p.Errors {
		r.sum.RecordErrors++
		r.log.Warn("the API returned a user record it could not read", "offset", j.offset, "err", e)
	}
	for i := range p.Users {
		u := &p.Users[i]
		if id := r.src.id(u); id != "" {
			if first, dup := r.seen[id]; dup {
				if first == q.index {
					r.sum.DuplicatesDropped++ // paging shifted under us
				} else {
					r.sum.MatchedTwice++ // by an email and by a phone
				}
				continue
			}
			r.seen[id] = q.index
		}
		q.distinct++
		q.lastNew++
		r.sum.Seen++
		if err := r.src.user(u); err != nil {
			return err
		}
	}
	if len(p.Users) > 0 && q.lastNew == 0 && !q.ended.Swap(true) {
		// Only users already seen: the server is not moving on with the
		// offset (or the account changed past all recognition). Asking
		// further would loop; the summary's count tells what is missing.
		r.sum.RepeatedPages++
		r.log.Warn("a page brought no user not already seen; no further pages are asked for", "offset", j.offset)
	}
	return nil
}

// fetched is a page or the reason there is none.
type fetched[U any] struct {
	page *Page[U]
	err  error
}

// fetchInOrder fetches the pages of jobs with at most Workers requests in
// flight and hands them to take in job order. A page that arrives early
// waits in a buffer of Workers slots until the pages before it are taken, so
// memory holds about Workers pages however large the account.
func (r *run[U]) fetchInOrder(jobs iter.Seq[pageJob], take func(pageJob, *Page[U]) error) error {
	ctx, cancel := context.WithCancel(r.halt.Context())
	defer cancel()
	type slot struct {
		job  pageJob
		done chan fetched[U]
	}
	// Workers-1 slots wait here; the consumer waits on one more.
	queue := make(chan slot, r.cfg.Workers-1)
	quit := make(chan struct{})
	var inFlight sync.WaitGroup
	go func() {
		defer close(queue)
		for j := range jobs {
			s := slot{job: j, done: make(chan fetched[U], 1)}
			select {
			case queue <- s:
			case <-quit:
				return
			}
			inFlight.Go(func() {
				p, err := r.fetch(ctx, j)
				s.done <- fetched[U]{p, err}
			})
		}
	}()

	var err error
	for s := range queue {
		if err != nil {
			continue // draining after a failure
		}
		f := <-s.done
		err = f.err
		if err == nil {
			err = take(s.job, f.page)
		}
		if err != nil {
			close(quit)
			cancel() // the pages after this one are of no use now
		}
	}
	// The queue is closed only once the producer is done adding, so Wait
	// cannot race an Add.
	inFlight.Wait()
	return err
}

// fetch gets one page through the shared limiter, retrying what is safe to
// retry.
func (r *run[U]) fetch(ctx context.Context, j pageJob) (*Page[U], error) {
	var page *Page[U]
	n, err := r.pacer.Retry(ctx, r.cfg.MaxAttempts, r.src.classify(), func() error {
		p, err := r.src.list(ctx, j.q, j.offset)
		page = p
		return err
	})
	r.requests.Add(int64(n))
	switch {
	case err == nil:
		return page, nil
	case exotel.KindOf(err) == exotel.KindAuth:
		return nil, r.src.explainAuth(err)
	case exotel.IsMisconfiguration(err):
		return nil, exotel.ExplainMisconfiguration(err)
	}
	return nil, fmt.Errorf("fetching users at offset %d failed after %d attempts: %w", j.offset, n, err)
}
