package webrtc

import (
	"context"
	"fmt"
)

// PageFunc fetches the page at offset: Client.ListPage, usually inside the
// run's retry loop (ratelimit.Limiter.Retry with Client.Retrying).
type PageFunc func(ctx context.Context, offset int) (*Page, error)

// RepeatedPageError is a page, not the last, that brought no user_id not
// seen before: a server that ignores offset would otherwise be asked again
// forever.
type RepeatedPageError struct {
	Offset, Seen int
}

func (e *RepeatedPageError) Error() string {
	return fmt.Sprintf("the WebRTC API answered offset %d only with users it had already listed "+
		"(%d so far): stopping rather than paging forever", e.Offset, e.Seen)
}

// Walk pages through the whole list from offset 0 and calls visit with each
// page that held entries (for its Total and Unreadable), its Users cut down to those not seen before (by user_id; users
// without one are passed on every time). It moves on by the number of
// entries each answer held, so a server that sends fewer than asked loses
// nothing, and stops at the first of:
//   - an empty page;
//   - offset+count ≥ total, by the latest total (a user deleted meanwhile
//     shrinks it);
//   - without a total, a page shorter than the one asked for;
//   - any other page that brought no new user_id (*RepeatedPageError);
//   - an error from fetch or visit, which Walk returns.
//
// Every page either ends the walk or adds a user_id, so it ends.
func Walk(ctx context.Context, fetch PageFunc, visit func(*Page) error) error {
	seen := map[string]bool{}
	offset := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		p, err := fetch(ctx, offset)
		if err != nil {
			return err
		}
		if p.Count == 0 {
			return nil
		}
		page := *p
		page.Users = make([]User, 0, len(p.Users))
		added := 0
		for _, u := range p.Users {
			if u.UserID != "" {
				if seen[u.UserID] {
					continue
				}
				seen[u.UserID] = true
				added++
			}
			page.Users = append(page.Users, u)
		}
		if err := visit(&page); err != nil {
			return err
		}
		at := offset
		offset += p.Count
		switch {
		case p.HasTotal && offset >= p.Total:
			return nil
		case !p.HasTotal && p.Asked > 0 && p.Count < p.Asked:
			return nil
		case added == 0:
			return &RepeatedPageError{Offset: at, Seen: len(seen)}
		}
	}
}
