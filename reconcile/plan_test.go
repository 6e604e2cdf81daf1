package reconcile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func samplePlan(t *testing.T) *Plan {
	t.Helper()
	tg := NewCCM(nil, nil, Account{ID: "sid", BaseURL: "https://ccm"}, Config{})
	r := readRoster(t, tg, "first_name,last_name,email,phone\nRavi,Nayar,ravi@corp.com,+919876500002\nNina,Kapoor,nina@corp.com,\n")
	s := defaults()
	s.Prune, s.MaxDeletePercent = true, 100
	return Decide(r, account(), tg, s, nil, time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
}

func TestPlanSaveLoadRoundTrip(t *testing.T) {
	p := samplePlan(t)
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := p.Save(path); err != nil {
		t.Fatal(err)
	}
	got, sum, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum) != 64 || got.Account != p.Account || got.Roster.SHA256 != p.Roster.SHA256 || len(got.Actions) != len(p.Actions) {
		t.Errorf("round trip: %+v", got)
	}
	for i, a := range got.Actions {
		if a.Kind != p.Actions[i].Kind || (a.Seen != nil && !a.Seen.Intact()) {
			t.Errorf("action %d: %+v", i+1, a)
		}
	}
	if got.ChangesPending() != p.ChangesPending() || got.ChangesPending() == 0 {
		t.Errorf("changes pending %d, want %d", got.ChangesPending(), p.ChangesPending())
	}
}

func TestParseRefusesWhatApplyCouldMisread(t *testing.T) {
	p := samplePlan(t)
	edit := func(f func(*Plan)) []byte {
		var q Plan
		data, _ := json.Marshal(p)
		_ = json.Unmarshal(data, &q)
		f(&q)
		out, _ := json.Marshal(&q)
		return out
	}
	firstUpdate := func(q *Plan) *Action {
		for _, a := range q.Actions {
			if a.Kind == Update {
				return a
			}
		}
		t.Fatal("no update in the sample plan")
		return nil
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not JSON", []byte("first_name,last_name\n"), "is not a plan file"},
		{"another version", edit(func(q *Plan) { q.Version = 2 }), "format version 2"},
		{"no account", edit(func(q *Plan) { q.Account.ID = "" }), "names no account"},
		{"actions out of order", edit(func(q *Plan) { q.Actions[0].N = 5 }), "out of order"},
		{"an unknown action", edit(func(q *Plan) { q.Actions[0].Kind = "purge" }), "unknown action"},
		{"a record edited by hand", edit(func(q *Plan) { firstUpdate(q).Seen.Fields["last_name"] = "X" }), "does not match its fingerprint"},
		{"an update without changes", edit(func(q *Plan) { firstUpdate(q).Changes = nil }), "updates nothing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want %q", err, tc.want)
			}
		})
	}
	// Counts are the actions', whatever the file says.
	q, err := Parse(edit(func(q *Plan) { q.Counts[Delete] = 0 }))
	if err != nil || q.Counts[Delete] != p.Counts[Delete] || p.Counts[Delete] == 0 {
		t.Errorf("counts %v (%v), want %v", q.Counts, err, p.Counts)
	}
}

func FuzzParse(f *testing.F) {
	data, _ := json.Marshal(map[string]any{"version": 1, "account": map[string]string{"target": "ccm", "id": "x"},
		"created_at": "2030-01-01T00:00:00Z", "actions": []map[string]any{{"n": 1, "action": "unchanged"}}})
	f.Add(data)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"actions":[null]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		for i, a := range p.Actions {
			if a == nil || a.N != i+1 {
				t.Fatalf("accepted action %d: %+v", i, a)
			}
			if (a.Kind == Update || a.Kind == Delete) && a.Seen == nil {
				t.Fatalf("accepted a write without a record: %+v", a)
			}
		}
	})
}

func TestAppliedStateRoundTrip(t *testing.T) {
	dir := t.TempDir()
	acct := Account{Target: "webrtc", ID: "cust/../app", BaseURL: "https://x"}
	if a, err := LoadApplied(dir, acct); a != nil || err != nil {
		t.Fatalf("no state yet: %+v %v", a, err)
	}
	want := Applied{Roster: "r.csv", SHA256: "abc", Rows: 12, At: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := SaveApplied(dir, acct, want); err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(StatePath(dir, acct)) != filepath.Join(dir, "sync") {
		t.Errorf("state file %s climbs out of the state directory", StatePath(dir, acct))
	}
	got, err := LoadApplied(dir, acct)
	if err != nil || got == nil || *got != want {
		t.Errorf("%+v %v, want %+v", got, err, want)
	}
	if other, _ := LoadApplied(dir, Account{Target: "ccm", ID: "cust/../app"}); other != nil {
		t.Error("another target's state was read")
	}
	if err := os.WriteFile(StatePath(dir, acct), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadApplied(dir, acct); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Errorf("damaged state: %v", err)
	}
}
