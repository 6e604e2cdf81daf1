package importer

import (
	"context"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/roster"
)

// lookupBatch finds the users of up to 50 rows with one bulk GET by email
// (and one by phone for rows without an email) and marks each job checked.
// If a lookup fails the jobs stay unchecked: their workers look them up one
// by one when they must.
func (r *run) lookupBatch(ctx context.Context, batch []job) {
	var emails, phones []string
	for _, j := range batch {
		switch {
		case j.person.Email != "":
			emails = append(emails, j.person.Email)
		case j.person.Phone != "":
			phones = append(phones, j.person.Phone)
		}
	}
	byEmail := map[string]*exotel.User{}
	byPhone := map[string]*exotel.User{}
	for _, group := range exotel.Batches(withLowerCase(emails), 0) {
		users, err := r.listAll(ctx, exotel.ListOptions{Emails: group})
		if err != nil {
			r.im.log.Warn("batched lookup failed; rows will be checked one by one", "err", err)
			return
		}
		for i := range users {
			byEmail[roster.EmailKey(users[i].Email)] = &users[i]
		}
	}
	for _, group := range exotel.Batches(phones, 0) {
		users, err := r.listAll(ctx, exotel.ListOptions{ContactURIs: group})
		if err != nil {
			r.im.log.Warn("batched lookup failed; rows will be checked one by one", "err", err)
			return
		}
		for i := range users {
			for _, d := range users[i].Devices {
				byPhone[d.ContactURI] = &users[i]
			}
		}
	}
	for i := range batch {
		p := batch[i].person
		switch {
		case p.Email != "":
			batch[i].found = byEmail[roster.EmailKey(p.Email)]
		case p.Phone != "":
			batch[i].found = byPhone[p.Phone]
		}
		batch[i].checked = true
	}
}

// withLowerCase adds the lower-case form of each email that has capitals:
// emails compare case-insensitively, but a server's filter may not.
func withLowerCase(emails []string) []string {
	out := emails
	for _, e := range emails {
		if l := roster.EmailKey(e); l != e {
			if len(out) == len(emails) {
				out = append([]string(nil), emails...)
			}
			out = append(out, l)
		}
	}
	return out
}

// listAll pages through a filtered bulk GET. Emails and numbers are unique,
// so it stops once it holds as many users as the filter named: a server that
// ignored the filter must not make one lookup page through the account.
func (r *run) listAll(ctx context.Context, opts exotel.ListOptions) ([]exotel.User, error) {
	opts.Limit = exotel.MaxPageSize
	opts.Fields = []string{"devices"}
	enough := len(opts.Emails) + len(opts.ContactURIs)
	var all []exotel.User
	for {
		var page *exotel.Page
		_, err := r.retry(ctx, func() error {
			var err error
			page, err = r.im.api.ListUsers(ctx, opts)
			return err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, page.Users...)
		if len(page.Users) == 0 || opts.Offset+len(page.Users) >= page.Total || len(all) >= enough {
			return all, nil
		}
		opts.Offset += len(page.Users)
	}
}
