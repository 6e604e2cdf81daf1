package importer

import (
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/resolve"
)

// ident is what a row is looked up by: its email, else its phone. One
// filter per row is enough, and the phone filter costs a second GET per
// batch only for rows without an email.
func ident(email, phone string) (resolve.Ident, resolve.Key, string) {
	if email != "" {
		return resolve.Ident{Email: email}, resolve.KeyEmail, email
	}
	return resolve.Ident{Phone: phone}, resolve.KeyPhone, phone
}

// lookupBatch finds the users of up to 50 rows with one bulk GET by email
// (and one by phone for rows without an email) and marks each job checked.
// A row whose lookup failed stays unchecked: its worker looks it up alone
// when it must. Lookups are GETs, so they run under the run's stop context
// and a Ctrl-C abandons them.
func (r *run) lookupBatch(batch []job) {
	idents := make([]resolve.Ident, len(batch))
	for i, j := range batch {
		idents[i], _, _ = ident(j.person.Email, j.person.Phone)
	}
	ix, err := r.im.res.Lookup(r.halt.Context(), idents)
	if exotel.IsMisconfiguration(err) {
		r.halt.Abort(exotel.ExplainMisconfiguration(err))
		return
	}
	if err != nil {
		r.im.log.Warn("batched lookup failed; rows will be checked one by one", "err", err)
		return
	}
	for i := range batch {
		_, key, value := ident(batch[i].person.Email, batch[i].person.Phone)
		users, err := ix.Users(key, value)
		if err != nil {
			continue
		}
		if len(users) > 0 {
			batch[i].found = users[0]
		}
		batch[i].checked = true
	}
}

// findOne looks a user up by email, else by phone, with the bulk GET's
// filters. It returns nil when nobody matches.
func (r *run) findOne(email, phone string) (*exotel.User, error) {
	if email == "" && phone == "" {
		return nil, nil
	}
	id, key, value := ident(email, phone)
	ix, err := r.im.res.Lookup(r.halt.Context(), []resolve.Ident{id})
	if err != nil {
		return nil, err
	}
	users, err := ix.Users(key, value)
	if err != nil || len(users) == 0 {
		return nil, err
	}
	return users[0], nil
}
