package reconcile

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/halt"
	"github.com/exoroster/exoroster/results"
)

// stubTarget is a Writer over an in-memory account, recording the writes.
type stubTarget struct {
	*CCM      // the planning half, for Target
	mu        sync.Mutex
	fresh     map[string]*Member
	refreshed int
	backups   [][]string
	backupErr error
	writes    []string
}

func (s *stubTarget) Refresh(_ context.Context, _ *halt.Switch, actions []*Action, _ int) (map[string]*Member, map[string]error, int, error) {
	s.refreshed += len(actions)
	out := map[string]*Member{}
	for _, a := range actions {
		if m := s.fresh[a.UserID]; m != nil {
			out[a.UserID] = m
		}
	}
	return out, nil, 1, nil
}

func (s *stubTarget) write(w string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes = append(s.writes, w)
}

func (s *stubTarget) Create(_ context.Context, _ *halt.Switch, a *Action, mayExist bool) results.Line {
	s.write("create " + a.New.Email)
	return results.Line{Status: results.Created}
}

func (s *stubTarget) Update(_ context.Context, _ *halt.Switch, a *Action, _ *Member, changes []Change) results.Line {
	s.write("update " + a.UserID + " " + changeList(changes))
	return results.Line{Status: results.Updated}
}

func (s *stubTarget) Delete(_ context.Context, _ *halt.Switch, a *Action, m *Member) results.Line {
	s.write("delete " + m.ID)
	return results.Line{Status: results.Deleted, Extra: s.Snapshot(m)}
}

func (s *stubTarget) Backup(_ string, ms []*Member) error {
	if s.backupErr != nil {
		return s.backupErr
	}
	var ids []string
	for _, m := range ms {
		ids = append(ids, m.ID)
	}
	s.backups = append(s.backups, ids)
	return nil
}

func (s *stubTarget) SnapshotColumns() []string { return []string{"email"} }
func (s *stubTarget) Snapshot(m *Member) []string {
	return []string{m.Email}
}

var testNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// memSink keeps the lines by row.
type memSink struct {
	mu    sync.Mutex
	lines map[int]results.Line
}

func (m *memSink) Write(l results.Line) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lines == nil {
		m.lines = map[int]results.Line{}
	}
	m.lines[l.Row] = l
	return nil
}

// stubApply plans a roster against account() with --prune, then changes
// the account as change says before applying.
func stubApply(t *testing.T, change func(fresh map[string]*Member), cfg ApplyConfig, backupErr error) (*stubTarget, *memSink, *Plan) {
	t.Helper()
	tg := NewCCM(nil, nil, Account{ID: "sid"}, Config{})
	l := account()
	r := readRoster(t, tg, "first_name,last_name,email,phone\n"+
		"Asha,Rao,asha@corp.com,+919876500001\n"+
		"Ravi,Nayar,ravi@corp.com,+919876500002\n"+
		"Nina,Kapoor,nina@corp.com,\n")
	s := defaults()
	s.Prune, s.MaxDeletePercent, s.AllowAdmins = true, 100, true
	p := Decide(r, l, tg, s, nil, testNow)
	fresh := map[string]*Member{}
	for _, m := range l.Members {
		fresh[m.ID] = m
	}
	if change != nil {
		change(fresh)
	}
	st := &stubTarget{CCM: tg, fresh: fresh, backupErr: backupErr}
	sw := halt.New(context.Background(), nil, nil)
	t.Cleanup(sw.Close)
	out := &memSink{}
	if _, err := Apply(context.Background(), sw, st, p, out, cfg); err != nil {
		t.Fatal(err)
	}
	kept := 0 // lines an earlier apply settled stay as they were
	if cfg.Prior != nil {
		for _, pr := range cfg.Prior.Rows {
			if doneStatus(pr.Status) {
				kept++
			}
		}
	}
	if len(out.lines)+kept != len(p.Actions) {
		t.Errorf("%d lines (and %d kept) for %d actions", len(out.lines), kept, len(p.Actions))
	}
	return st, out, p
}

// lineOf finds the line of the action about userID (or roster row).
func lineOf(t *testing.T, p *Plan, out *memSink, userID string) results.Line {
	t.Helper()
	for _, a := range p.Actions {
		if a.UserID == userID {
			return out.lines[a.N]
		}
	}
	t.Fatalf("no action for %s", userID)
	return results.Line{}
}

func TestApplyDoesThePlanAndBacksUpFirst(t *testing.T) {
	st, out, p := stubApply(t, nil, ApplyConfig{Backup: "b.csv"}, nil)
	want := []string{"create nina@corp.com", "update u2 last_name Nair → Nayar", "delete u3", "delete a1"}
	got := strings.Join(st.writes, "\n")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("writes %q lack %q", got, w)
		}
	}
	if len(st.writes) != 4 {
		t.Errorf("writes: %v", st.writes)
	}
	if len(st.backups) != 1 || strings.Join(st.backups[0], ",") != "u3,a1" {
		t.Errorf("backups %v, want one of u3 and a1", st.backups)
	}
	if l := lineOf(t, p, out, "u3"); l.Status != results.Deleted || l.Extra[0] != "delete" || l.Extra[2] != "" {
		t.Errorf("deletion line %+v", l)
	}
	if l := lineOf(t, p, out, "a2"); l.Status != results.Protected {
		t.Errorf("the last admin: %+v", l)
	}
}

func TestApplyChecksEveryUserBeforeWriting(t *testing.T) {
	st, out, p := stubApply(t, func(fresh map[string]*Member) {
		renamed := *fresh["u2"].User.(*exotel.User)
		renamed.FirstName, renamed.DateUpdated = "Ravindra", "later"
		fresh["u2"] = ccmMember(&renamed)
		onCall := *fresh["u3"]
		onCall.OnCall = "CA9"
		fresh["u3"] = &onCall
		delete(fresh, "a1") // gone meanwhile
	}, ApplyConfig{Backup: "b.csv"}, nil)
	if len(st.writes) != 1 || st.writes[0] != "create nina@corp.com" {
		t.Errorf("writes %v, want the create alone", st.writes)
	}
	if l := lineOf(t, p, out, "u2"); l.Status != Stale || !strings.Contains(l.Message, "first_name Ravi → Ravindra") {
		t.Errorf("renamed: %+v", l)
	}
	if l := lineOf(t, p, out, "u3"); l.Status != results.Protected || !strings.Contains(l.Message, "on a call now (CA9)") {
		t.Errorf("on a call: %+v", l)
	}
	if l := lineOf(t, p, out, "a1"); l.Status != results.NotFound {
		t.Errorf("gone: %+v", l)
	}
	if st.refreshed != 3 {
		t.Errorf("%d users re-read, want 3", st.refreshed)
	}
}

func TestApplyDeletesNothingWithoutItsBackup(t *testing.T) {
	st, out, p := stubApply(t, nil, ApplyConfig{Backup: "b.csv"}, errors.New("disk full"))
	if len(st.writes) != 0 {
		t.Errorf("writes without a backup: %v", st.writes)
	}
	if l := lineOf(t, p, out, "u3"); l.Status != results.Skipped {
		t.Errorf("deletion: %+v", l)
	}
}

func TestApplyResumeKeepsWhatIsDone(t *testing.T) {
	// The earlier apply created Nina, renamed Ravi (answer lost) and sent
	// u3's DELETE without an answer.
	st, out, p := stubApply(t, func(fresh map[string]*Member) {
		renamed := *fresh["u2"].User.(*exotel.User)
		renamed.LastName, renamed.DateUpdated = "Nayar", "later"
		fresh["u2"] = ccmMember(&renamed)
		delete(fresh, "u3")
	}, ApplyConfig{Backup: "b.csv", Prior: &results.Prior{Rows: map[int]results.PriorRow{
		3: {Status: results.Created, InputHash: results.InputHash([]string{"Nina", "Kapoor", "nina@corp.com", ""})},
		2: {Status: results.Skipped, Attempts: 1, InputHash: results.InputHash([]string{"Ravi", "Nayar", "ravi@corp.com", "+919876500002"})},
		4: {Status: results.Skipped, Attempts: 1, InputHash: results.InputHash(nil)}, // u3
	}}}, nil)
	if strings.Join(st.writes, ",") != "delete a1" {
		t.Errorf("writes %v, want only a1's deletion", st.writes)
	}
	if l := lineOf(t, p, out, "u2"); l.Status != results.Updated || !strings.Contains(l.Message, "already in place") {
		t.Errorf("Ravi: %+v", l)
	}
	if l := lineOf(t, p, out, "u3"); l.Status != results.Deleted || !strings.Contains(l.Message, "earlier apply") {
		t.Errorf("u3: %+v", l)
	}
	if _, ok := out.lines[3]; ok {
		t.Error("the create the earlier apply settled was written again")
	}
}
