package webrtc

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/exoroster/exoroster/engine"
	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/exporter"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/offboard"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/results/resultstest"
	"github.com/exoroster/exoroster/roster"
)

// The commands through this target, against the fake with its faults.

type targetEnv struct {
	t   *testing.T
	srv *exoteltest.Server
	lim *ratelimit.Limiter
	tg  *Target
	dir string
}

func newTargetEnv(t *testing.T, opts exoteltest.Options) *targetEnv {
	t.Helper()
	srv := startFake(t, opts)
	lim := fastLimiter(t)
	c, _ := fakeClient(t, srv, lim, "")
	return &targetEnv{t: t, srv: srv, lim: lim, dir: t.TempDir(),
		tg: NewTarget(c, lim, TargetConfig{Workers: 4, MaxAttempts: 8})}
}

func (e *targetEnv) halt() *halt.Switch {
	sw := halt.New(context.Background(), nil, e.lim.Stop)
	e.t.Cleanup(sw.Close)
	return sw
}

func (e *targetEnv) file(name, content string) string {
	e.t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

// importFile imports path through the target and returns its results
// lines by row.
func (e *targetEnv) importFile(path string, cfg importer.Config) (*engine.Summary, map[int]map[string]string) {
	e.t.Helper()
	in := importer.Input{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
	plan, err := importer.PrepareFor(e.tg, in, roster.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	out, err := results.Create(path+".results.csv", plan.Layout())
	if err != nil {
		e.t.Fatal(err)
	}
	sum, err := importer.NewFor(e.tg, e.lim, cfg).Run(context.Background(), e.halt(), plan, out, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		e.t.Fatal(err)
	}
	return sum, resultstest.Complete(e.t, path+".results.csv", plan.Rows)
}

// appRoster is n rows of this target's roster.
func appRoster(n int) string {
	var b strings.Builder
	b.WriteString("user_id,name,phone,sip_enabled\n")
	for i := range n {
		sip := "yes"
		if i%3 == 0 {
			sip = "no"
		}
		fmt.Fprintf(&b, "agent_%03d,Agent Number%d,98%08d,%s\n", i+1, i+1, 10000000+i, sip)
	}
	return b.String()
}

// assertCreatedOnce checks that the app holds the n users of appRoster(n)
// as the file says, each created by exactly one POST.
func (e *targetEnv) assertCreatedOnce(n int) {
	e.t.Helper()
	creates := e.srv.WebRTCCreates()
	for i := range n {
		id := fmt.Sprintf("agent_%03d", i+1)
		u, ok := e.srv.WebRTCUser(id)
		switch {
		case !ok:
			e.t.Errorf("%s was not created", id)
		case creates[id] != 1:
			e.t.Errorf("%s was created %d times", id, creates[id])
		case u.Name != fmt.Sprintf("Agent Number%d", i+1) || u.Phone != fmt.Sprintf("+9198%08d", 10000000+i) || u.SIPEnabled != (i%3 != 0):
			e.t.Errorf("%s holds %+v", id, u)
		}
	}
}

func TestImportThroughTheTargetSurvivesFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults exoteltest.Options
		// confirmed: every row's create was carried out but its answer
		// lost, so each is created and confirmed by a GET.
		confirmed bool
	}{
		{"5xx", exoteltest.Options{ServerErrorRate: 0.4, Seed: 3}, false},
		{"5xx as html", exoteltest.Options{ServerErrorRate: 0.4, HTMLErrors: true, Seed: 4}, false},
		{"every create's answer lost", exoteltest.Options{DropAfterRate: 1, FaultMethods: []string{"POST"}}, true},
		{"lost answers and drops", exoteltest.Options{DropAfterRate: 0.3, DropBeforeRate: 0.2, Seed: 5}, false},
		// The limiter runs at 1000/s; the app answers 429 past 100/s.
		{"429s", exoteltest.Options{Limit: exoteltest.Limit{Rate: 100, Window: time.Second, Body: exoteltest.ThrottleEnvelope}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const n = 24
			e := newTargetEnv(t, tc.faults)
			// One worker: the fake's faults are drawn in the order its
			// seed replays.
			sum, lines := e.importFile(e.file("app.csv", appRoster(n)), importer.Config{Workers: 1, MaxAttempts: 12})
			if faultsMet(e.srv, http.MethodPost) == 0 && e.srv.Throttled() == 0 {
				t.Fatalf("no create met a fault or a 429")
			}
			if got, want := e.lim.Stats().Throttled, e.srv.Throttled(); got != want {
				t.Errorf("the limiter saw %d 429s, the app sent %d", got, want)
			}
			if sum.Counts[results.Created] != n || !sum.OK() {
				t.Errorf("counts = %v, want %d created", sum.Counts, n)
			}
			for row, l := range lines {
				resultstest.Status(t, row, l, "created")
				if l["user_id"] != fmt.Sprintf("agent_%03d", row) || l["http_status"] != "200" {
					t.Errorf("row %d: %v", row, l)
				}
				if tc.confirmed && !strings.Contains(l["message"], "confirmed by lookup after an answer was lost") {
					t.Errorf("row %d: message %q, want the lookup that confirmed it", row, l["message"])
				}
			}
			e.assertCreatedOnce(n)
		})
	}
}

func TestImportThroughTheTargetSettlesDuplicates(t *testing.T) {
	// However the API words (or does not word) its 400, a taken user_id is
	// settled by GET /users/{user_id}.
	for _, body := range []struct {
		name string
		b    exoteltest.WebRTCErrorBody
	}{{"json", exoteltest.WebRTCErrorJSON}, {"text", exoteltest.WebRTCErrorText},
		{"bare", exoteltest.WebRTCErrorBare}, {"empty", exoteltest.WebRTCErrorEmpty}} {
		t.Run(body.name, func(t *testing.T) {
			e := newTargetEnv(t, exoteltest.Options{WebRTC: exoteltest.WebRTCOptions{ErrorBody: body.b}})
			e.srv.SeedWebRTC(
				exoteltest.WebRTCUser{UserID: "same", Name: "Asha  Rao", Phone: "+919876543210", SIPEnabled: false},
				exoteltest.WebRTCUser{UserID: "renamed", Name: "Ravi Kumar", Phone: "+919876543211", SIPEnabled: true},
				exoteltest.WebRTCUser{UserID: "rephoned", Name: "Meera Das", Phone: "+919876543299", SIPEnabled: true},
			)
			sum, lines := e.importFile(e.file("dup.csv", "user_id,name,phone,sip_enabled\n"+
				"same,Asha Rao,09876543210,true\n"+
				"renamed,Ravi K,9876543211,\n"+
				"rephoned,Meera Das,9876543212,\n"+
				"fresh,Nina Shah,,no\n"), importer.Config{})
			resultstest.Status(t, 1, lines[1], "exists", "sip_enabled is false on the app, true in the roster")
			resultstest.Status(t, 2, lines[2], "failed", `user_id renamed already belongs to another user (Ravi Kumar): name: app has "Ravi Kumar", file has "Ravi K"`)
			resultstest.Status(t, 3, lines[3], "failed", `phone: app has "+919876543299", file has "+919876543212"`)
			resultstest.Status(t, 4, lines[4], "created")
			if lines[2]["http_status"] != "400" {
				t.Errorf("a failed duplicate keeps the 400: %v", lines[2])
			}
			if sum.Counts[results.Exists] != 1 || sum.Counts[results.Failed] != 2 || sum.Counts[results.Created] != 1 {
				t.Errorf("counts = %v", sum.Counts)
			}
			if creates := e.srv.WebRTCCreates(); len(creates) != 1 || creates["fresh"] != 1 {
				t.Errorf("creates = %v, want only fresh", creates)
			}
		})
	}
}

func TestImportThroughTheTargetRefusedTokenStopsTheRun(t *testing.T) {
	srv := startFake(t, exoteltest.Options{})
	lim := fastLimiter(t)
	c, _ := fakeClient(t, srv, lim, "wrong")
	e := &targetEnv{t: t, srv: srv, lim: lim, dir: t.TempDir(), tg: NewTarget(c, lim, TargetConfig{Workers: 1})}
	sum, lines := e.importFile(e.file("app.csv", appRoster(5)), importer.Config{Workers: 1})
	if sum.Aborted == nil || !strings.Contains(sum.Aborted.Error(), EnvToken) {
		t.Fatalf("aborted = %v, want the run stopped naming %s", sum.Aborted, EnvToken)
	}
	if srv.CountRequests("POST") != 1 || sum.Counts[results.Skipped] != 4 {
		t.Errorf("POSTs %d, counts %v: want one refused and the rest skipped", srv.CountRequests("POST"), sum.Counts)
	}
	resultstest.Status(t, 1, lines[1], "failed", "credentials refused")
}

func TestImportThroughTheTargetChecksExistingFirst(t *testing.T) {
	e := newTargetEnv(t, exoteltest.Options{})
	path := e.file("app.csv", appRoster(6))
	e.importFile(path, importer.Config{})
	before := e.srv.CountRequests("POST")
	sum, lines := e.importFile(path, importer.Config{CheckExisting: true})
	if n := e.srv.CountRequests("POST") - before; n != 0 {
		t.Errorf("a rerun with --check-existing sent %d creates, want none", n)
	}
	if sum.Counts[results.Exists] != 6 {
		t.Errorf("counts = %v", sum.Counts)
	}
	resultstest.Status(t, 3, lines[3], "exists")
}

// faultsMet counts the requests with this method that met a fault.
func faultsMet(srv *exoteltest.Server, method string) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == method && r.Fault != "" {
			n++
		}
	}
	return n
}

// seedApp puts n users agent_001… in the app, with phones +9198…
func seedApp(e *targetEnv, n int) {
	var users []exoteltest.WebRTCUser
	for i := range n {
		users = append(users, exoteltest.WebRTCUser{UserID: fmt.Sprintf("agent_%03d", i+1),
			Name: fmt.Sprintf("Agent Number%d", i+1), Phone: fmt.Sprintf("+9198%08d", 10000000+i), SIPEnabled: i%3 != 0})
	}
	e.srv.SeedWebRTC(users...)
}

func (e *targetEnv) offboard(list string, g offboard.Guards, workers int) (*offboard.Result, map[int]map[string]string) {
	e.t.Helper()
	rd, err := roster.NewReader(strings.NewReader(list))
	if err != nil {
		e.t.Fatal(err)
	}
	l, err := ReadRows("leavers.csv", rd, roster.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	o := offboard.NewFor(e.tg, e.lim, offboard.Config{Workers: workers, MaxAttempts: 8})
	path := filepath.Join(e.dir, "leavers.results.csv")
	out, err := results.Create(path, o.Layout(l))
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := o.Run(context.Background(), e.halt(), l, out, g)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		e.t.Fatal(err)
	}
	return res, resultstest.Complete(e.t, path, len(l.Rows))
}

func TestOffboardThroughTheTarget(t *testing.T) {
	const list = "user_id,phone,name\n" +
		"agent_001,,\n" + // by user_id
		",9810000001,Number2\n" + // by phone alone: one pass over the list
		"agent_004,+919810000003,\n" + // both, naming one user
		"agent_005,+919810000099,\n" + // both, naming two
		"nobody,,\n" +
		",+919000000000,\n" +
		"agent_006,,Someone Else\n" + // names disagree
		",+919810000000,\n" // the same user as row 1
	tests := []struct {
		name   string
		faults exoteltest.Options
		lost   bool // the first DELETE of each user is carried out, its answer lost
	}{
		{"no faults", exoteltest.Options{}, false},
		{"5xx and drops", exoteltest.Options{ServerErrorRate: 0.3, DropBeforeRate: 0.2, Seed: 7}, false},
		{"every first delete's answer lost", exoteltest.Options{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTargetEnv(t, tc.faults)
			seedApp(e, 10)
			workers := 3
			if tc.lost {
				// One DELETE at a time, so the faults the hook sets are the
				// ones its request meets.
				workers = 1
				seen := map[string]bool{}
				e.srv.SetOnRequest(func(r *http.Request) {
					first := r.Method == http.MethodDelete && !seen[r.URL.Path]
					if r.Method == http.MethodDelete {
						seen[r.URL.Path] = true
					}
					if first {
						e.srv.SetFaults(exoteltest.Faults{DropAfterRate: 1})
					} else {
						e.srv.SetFaults(exoteltest.Faults{})
					}
				})
			}
			backup := filepath.Join(e.dir, "backup.csv")
			res, lines := e.offboard(list, offboard.Guards{Backup: backup}, workers)
			e.srv.SetOnRequest(nil)
			if faulty := tc.lost || tc.faults.ServerErrorRate > 0; faulty && faultsMet(e.srv, http.MethodDelete)+faultsMet(e.srv, http.MethodGet) == 0 {
				t.Fatalf("no lookup or delete met a fault")
			}
			if !res.Deleting {
				t.Fatalf("the DELETEs never began: %v", res.Summary.Aborted)
			}
			for _, row := range []int{1, 2, 3} {
				l := resultstest.Status(t, row, lines[row], "deleted")
				if tc.lost && !strings.Contains(l["message"], "the repeat answered 404") {
					t.Errorf("row %d: %q, want the lost answer explained", row, l["message"])
				}
			}
			resultstest.Status(t, 4, lines[4], "ambiguous", "user_id agent_005 is user agent_005 (Agent Number5), who has phone +919810000004, not +919810000099")
			resultstest.Status(t, 5, lines[5], "not_found", "no user has user_id nobody")
			resultstest.Status(t, 6, lines[6], "not_found", "no user has phone +919000000000")
			resultstest.Status(t, 7, lines[7], "ambiguous", "leave the name columns out to match by user_id and phone alone")
			resultstest.Status(t, 8, lines[8], "invalid", "same user as row 1")
			if lines[2]["user_id"] != "agent_002" || lines[2]["name"] != "Agent Number2" || lines[2]["user_status"] != "active" {
				t.Errorf("row 2 lacks the user's record: %v", lines[2])
			}
			var gone []string
			for _, u := range e.srv.WebRTCDeleted() {
				gone = append(gone, u.UserID)
			}
			slices.Sort(gone)
			if !slices.Equal(gone, []string{"agent_001", "agent_002", "agent_004"}) {
				t.Errorf("deleted %v", gone)
			}

			// The backup, in export's format, brings them back as they were.
			sum, back := e.importFile(backup, importer.Config{})
			if sum.Counts[results.Created] != 3 {
				t.Errorf("re-import of the backup: %v", sum.Counts)
			}
			for _, l := range back {
				u, ok := e.srv.WebRTCUser(l["user_id"])
				if !ok || u.Phone == "" || !strings.HasPrefix(u.Name, "Agent Number") {
					t.Errorf("re-created %+v from %v", u, l)
				}
			}
		})
	}
}

func TestOffboardThroughTheTargetKeepsTheGuards(t *testing.T) {
	e := newTargetEnv(t, exoteltest.Options{})
	seedApp(e, 4)
	list := "user_id\nagent_001\nagent_002\nagent_003\n"
	res, lines := e.offboard(list, offboard.Guards{DryRun: true, Backup: filepath.Join(e.dir, "b.csv")}, 2)
	resultstest.Status(t, 2, lines[2], "would_delete", "would delete Agent Number2 <+919810000001> (user_id agent_002)")
	if res.Deleting || e.srv.CountRequests("DELETE") != 0 {
		t.Errorf("a dry run deleted")
	}
	res, lines = e.offboard(list, offboard.Guards{MaxDelete: 2, Backup: filepath.Join(e.dir, "b.csv")}, 2)
	resultstest.Status(t, 1, lines[1], "skipped", "more than --max-delete 2")
	if res.Deleting || e.srv.CountRequests("DELETE") != 0 || res.Summary.Aborted == nil {
		t.Errorf("--max-delete 2 let 3 deletions through")
	}
	if _, err := os.Stat(filepath.Join(e.dir, "b.csv")); err == nil {
		t.Errorf("a refused run wrote a backup")
	}
}

// export runs an export of the app to a buffer in format f.
func (e *targetEnv) export(f exporter.Format) (*exporter.Summary, []byte) {
	e.t.Helper()
	var buf bytes.Buffer
	w := exporter.NewWriterFor(&buf, f, Columns())
	sum, err := exporter.RunList(e.halt(), e.tg, e.lim, exporter.Config{Workers: 4, MaxAttempts: 10}, w)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		e.t.Fatal(err)
	}
	return sum, buf.Bytes()
}

func TestExportThroughTheTarget(t *testing.T) {
	tests := []struct {
		name string
		opts exoteltest.Options
	}{
		{"no faults", exoteltest.Options{}},
		{"5xx and drops, pages of at most 25", exoteltest.Options{ServerErrorRate: 0.2, DropBeforeRate: 0.1, DropAfterRate: 0.1,
			Seed: 9, WebRTC: exoteltest.WebRTCOptions{MaxPageSize: 25}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newTargetEnv(t, tc.opts)
			e.srv.SeedWebRTC(exoteltest.SampleWebRTCUsers(123, 1, time.Now())...)
			sum, out := e.export(exporter.FormatCSV)
			if tc.opts.ServerErrorRate > 0 && faultsMet(e.srv, http.MethodGet) == 0 {
				t.Fatalf("no page met a fault")
			}
			recs, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(recs[0], Columns()) || len(recs) != 124 {
				t.Fatalf("header %v, %d lines", recs[0], len(recs))
			}
			for i, r := range recs[1:] {
				if want := fmt.Sprintf("agent_%03d", i+1); r[0] != want {
					t.Fatalf("line %d is %s, want %s: the report keeps the list's order, each user once", i+1, r[0], want)
				}
			}
			if sum.Seen != 123 || sum.APITotal != 123 || sum.Report.Users != 123 || sum.Incomplete() {
				t.Errorf("summary %+v", sum)
			}

			// The export re-imports as it is: every row exists.
			e.file("app.csv", string(out))
			isum, _ := e.importFile(filepath.Join(e.dir, "app.csv"), importer.Config{CheckExisting: true})
			if isum.Counts[results.Exists] != 123 {
				t.Errorf("re-import of the export: %v", isum.Counts)
			}
		})
	}
}

func TestExportThroughTheTargetKeepsTypesInJSON(t *testing.T) {
	e := newTargetEnv(t, exoteltest.Options{})
	e.srv.SeedWebRTC(exoteltest.WebRTCUser{UserID: "a", Name: "=cmd()", SIPEnabled: false, PhoneDevice: true})
	_, out := e.export(exporter.FormatJSON)
	var m map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(out), &m); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	if m["sip_enabled"] != false || m["phone_device"] != true || m["phone"] != nil || m["name"] != "=cmd()" {
		t.Errorf("JSON line %s", out)
	}
	_, out = e.export(exporter.FormatCSV)
	if !strings.Contains(string(out), "'=cmd()") {
		t.Errorf("CSV cell not defused: %s", out)
	}
}

// TestExportThroughTheTargetDoesNotTrustTheServer serves a list that
// ignores offset: the export stops at the repeated page and its summary
// says the report is incomplete.
func TestExportThroughTheTargetDoesNotTrustTheServer(t *testing.T) {
	var lists atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lists.Add(1)
		var users []string
		for i := range 50 {
			users = append(users, fmt.Sprintf(`{"user_id":"u%d","name":"U %d"}`, i, i))
		}
		fmt.Fprintf(w, `{"success":true,"data":{"users":[%s],"total":500,"limit":50,"offset":0}}`, strings.Join(users, ","))
	}))
	defer srv.Close()
	lim := fastLimiter(t)
	c, err := New(Options{BaseURL: srv.URL, Credentials: testCreds(), HTTPClient: srv.Client(), Pacer: lim})
	if err != nil {
		t.Fatal(err)
	}
	e := &targetEnv{t: t, lim: lim, tg: NewTarget(c, lim, TargetConfig{})}
	sum, _ := e.export(exporter.FormatCSV)
	if sum.Seen != 50 || sum.RepeatedPages != 1 || !sum.Incomplete() {
		t.Errorf("seen %d, repeated pages %d, incomplete %v", sum.Seen, sum.RepeatedPages, sum.Incomplete())
	}
	if n := lists.Load(); n > 10 {
		t.Errorf("%d list requests for a server that repeats itself", n)
	}
}

func TestTargetErrorsNameThisAPI(t *testing.T) {
	err := NewTarget(nil, nil, TargetConfig{}).ExplainAuth(&exotel.APIError{Kind: exotel.KindAuth, HTTPStatus: 401, Message: "Invalid or expired token"})
	if !strings.Contains(err.Error(), EnvToken) {
		t.Errorf("%v", err)
	}
}
