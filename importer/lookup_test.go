package importer

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// filterIgnoringAPI answers every bulk GET with the first page of a large
// account, whatever the filter, and refuses every create with 409 1022.
type filterIgnoringAPI struct{ lists atomic.Int32 }

func (a *filterIgnoringAPI) CreateUser(context.Context, exotel.CreateUserRequest) (*exotel.User, error) {
	return nil, &exotel.APIError{Kind: exotel.KindConflict, HTTPStatus: 409, Code: exotel.CodeEmailExists, Message: "Email already exists"}
}

func (a *filterIgnoringAPI) GetUser(context.Context, string, ...string) (*exotel.User, error) {
	return nil, &exotel.APIError{Kind: exotel.KindNotFound, HTTPStatus: 404}
}

func (a *filterIgnoringAPI) ListUsers(_ context.Context, o exotel.ListOptions) (*exotel.Page, error) {
	a.lists.Add(1)
	p := &exotel.Page{Total: 5000, Offset: o.Offset, Limit: o.Limit}
	for i := range o.Limit {
		p.Users = append(p.Users, exotel.User{ID: fmt.Sprint(o.Offset + i), Email: fmt.Sprintf("other%d@x.com", o.Offset+i)})
	}
	p.Count = len(p.Users)
	return p, nil
}

func TestLookupStopsWhenTheServerIgnoresTheFilter(t *testing.T) {
	api := &filterIgnoringAPI{}
	limiter, _ := ratelimit.New(ratelimit.Config{Rate: 10000})
	csv := "first_name,last_name,email\nAsha,Rao,asha@corp.example.com\n"
	in := Input{Name: "r.csv", Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(csv)), nil }}
	plan, err := Prepare(in, roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := results.Create(t.TempDir()+"/out.csv", plan.Layout())
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	sum, err := New(api, limiter, Config{}).Run(context.Background(), halt.New(context.Background(), nil, limiter.Stop), plan, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := api.lists.Load(); n != 1 {
		t.Errorf("one email lookup made %d bulk GETs, want 1", n)
	}
	if sum.Counts[results.Failed] != 1 {
		t.Errorf("counts = %v, want the row failed", sum.Counts)
	}
}
