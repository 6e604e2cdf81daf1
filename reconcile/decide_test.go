package reconcile

import (
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/roster"
	"github.com/exoroster/exoroster/webrtc"
)

// user is a CCM user for the listing; phone becomes its first tel device.
func user(id, first, last, email, phone, role string) *exotel.User {
	u := &exotel.User{ID: id, FirstName: first, LastName: last, Email: email, Role: role, DateUpdated: "2030-01-01T00:00:00+05:30"}
	if phone != "" {
		u.Devices = []exotel.Device{{ID: int64(len(id)*1000 + int(id[0])), ContactURI: phone, Type: "tel"}}
	}
	return u
}

func listing(users ...*exotel.User) *Listing {
	l := &Listing{}
	for _, u := range users {
		l.Members = append(l.Members, ccmMember(u))
	}
	return l
}

func readRoster(t testing.TB, tg Planner, csv string) *Roster {
	t.Helper()
	r, err := ReadRoster("roster.csv", func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(csv)), nil },
		tg, roster.Options{}, roster.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func defaults() Settings {
	return Settings{Match: MatchEmailPhone, MaxDelete: DefaultMaxDelete, MaxDeletePercent: DefaultMaxDeletePercent}
}

// kinds is each action's kind, keyed "row N" or the user's id.
func kinds(p *Plan) map[string]Kind {
	out := map[string]Kind{}
	for _, a := range p.Actions {
		if a.Row > 0 {
			out["row "+strconv.Itoa(a.Row)] = a.Kind
		} else {
			out[a.UserID] = a.Kind
		}
	}
	return out
}

func reasonOf(p *Plan, key string) string {
	for _, a := range p.Actions {
		if (a.Row > 0 && "row "+strconv.Itoa(a.Row) == key) || (a.Row == 0 && a.UserID == key) {
			return a.Reason
		}
	}
	return ""
}

// account is the listing most cases use.
func account() *Listing {
	return listing(
		user("u1", "Asha", "Rao", "asha@corp.com", "+919876500001", "user"),
		user("u2", "Ravi", "Nair", "ravi@corp.com", "+919876500002", "user"),
		user("u3", "Meera", "Iyer", "", "+919876500003", "supervisor"),
		user("a1", "Isha", "Bose", "isha@corp.com", "+919876500007", "admin"),
		user("a2", "Dev", "Shah", "dev@other.com", "+919876500008", "admin"),
	)
}

func TestDecide(t *testing.T) {
	const head = "user_id,first_name,last_name,email,phone,role\n"
	tests := []struct {
		name   string
		roster string
		list   *Listing
		set    func(*Settings)
		want   map[string]Kind
		reason map[string]string // substrings of Reason
	}{
		{
			name:   "email then phone: found by phone, unset email set",
			roster: head + ",Meera,Iyer,meera@corp.com,+919876500003,supervisor\n",
			want:   map[string]Kind{"row 1": Update, "u1": Unmanaged, "a1": Unmanaged},
		},
		{
			name:   "email names one user, phone another: conflict, and neither is deleted",
			roster: head + ",Asha,Rao,asha@corp.com,+919876500002,user\n",
			set:    func(s *Settings) { s.Prune, s.MaxDeletePercent = true, 100 },
			want:   map[string]Kind{"row 1": Conflict, "u1": "", "u2": "", "u3": Delete},
			reason: map[string]string{"row 1": "email asha@corp.com is Asha Rao <asha@corp.com> (user) [u1] but phone +919876500002 is Ravi Nair"},
		},
		{
			name:   "found by phone but its email is set to another: conflict",
			roster: head + ",Ravi,Nair,ravi.nair@corp.com,+919876500002,user\n",
			want:   map[string]Kind{"row 1": Conflict},
			reason: map[string]string{"row 1": "Exotel never changes an email once set"},
		},
		{
			name:   "two rows naming one user are both invalid, and it is kept",
			roster: head + ",Asha,Rao,asha@corp.com,,user\n,Asha,R,,+919876500001,user\n",
			set:    func(s *Settings) { s.Prune, s.MaxDeletePercent = true, 100 },
			want:   map[string]Kind{"row 1": Invalid, "row 2": Invalid, "u1": ""},
			reason: map[string]string{"row 2": "rows 1, 2 name the same user Asha Rao"},
		},
		{
			name:   "an invalid row still keeps the user it names from deletion",
			roster: head + ",Asha,,asha@corp.com,,user\n",
			set:    func(s *Settings) { s.Prune, s.MaxDeletePercent = true, 100 },
			want:   map[string]Kind{"row 1": Invalid, "u1": "", "u2": Delete},
		},
		{
			name:   "a row without email or phone cannot be matched again",
			roster: head + ",Nina,Kapoor,,,user\n",
			want:   map[string]Kind{"row 1": Invalid},
			reason: map[string]string{"row 1": "could never be found again"},
		},
		{
			name:   "--match email: the phone only identifies, and must agree",
			roster: head + ",Nina,Kapoor,nina@corp.com,+919876500001,user\n,Ravi,Nair,ravi@corp.com,+919876500099,user\n,Tara,Sen,,+919876500011,user\n",
			set:    func(s *Settings) { s.Match = MatchEmail },
			want:   map[string]Kind{"row 1": Conflict, "row 2": Update, "row 3": Invalid},
			reason: map[string]string{"row 1": "phone +919876500001 is Asha Rao", "row 3": "no email, and --match email"},
		},
		{
			name:   "--match phone",
			roster: head + ",Asha,Rao,asha@corp.com,+919876500001,user\n,Ravi,Nair,,,user\n",
			set:    func(s *Settings) { s.Match = MatchPhone },
			want:   map[string]Kind{"row 1": Unchanged, "row 2": Invalid},
		},
		{
			name:   "--match user_id: an unknown id and a row without one that names a user are conflicts",
			roster: head + "u2,Ravi,Nayar,ravi@corp.com,,user\nzz,Nina,Kapoor,nina@corp.com,,user\n,Asha,Rao,asha@corp.com,,user\n,Tara,Sen,tara@corp.com,,user\n",
			set:    func(s *Settings) { s.Match = MatchUserID },
			want:   map[string]Kind{"row 1": Update, "row 2": Conflict, "row 3": Conflict, "row 4": Create},
			reason: map[string]string{"row 2": "no user has user_id zz", "row 3": "the row has no user_id"},
		},
		{
			name:   "an account with two users of one email: conflict",
			roster: head + ",Asha,Rao,asha@corp.com,,user\n",
			list:   listing(user("u1", "Asha", "Rao", "asha@corp.com", "", "user"), user("u9", "Asha", "R", "ASHA@corp.com", "", "user")),
			want:   map[string]Kind{"row 1": Conflict},
			reason: map[string]string{"row 1": "matches 2 users"},
		},
		{
			name:   "an email naming two users is a conflict, and the user its phone names is kept too",
			roster: head + ",Asha,Rao,asha@corp.com,+919876500002,user\n",
			list: listing(user("u1", "Asha", "Rao", "asha@corp.com", "", "user"), user("u9", "Asha", "R", "ASHA@corp.com", "", "user"),
				user("u2", "Ravi", "Nair", "ravi@corp.com", "+919876500002", "user"), user("u3", "Meera", "Iyer", "", "+919876500003", "user")),
			set:    func(s *Settings) { s.Prune, s.MaxDeletePercent = true, 100 },
			want:   map[string]Kind{"row 1": Conflict, "u1": "", "u9": "", "u2": "", "u3": Delete},
			reason: map[string]string{"row 1": "email asha@corp.com matches 2 users"},
		},
		{
			name:   "roles cannot change: differs; an admin's is protected",
			roster: head + ",Meera,Iyer,,+919876500003,user\n,Isha,Bose,isha@corp.com,+919876500007,user\n,Dev,Shah-Roy,dev@other.com,+919876500008,supervisor\n",
			want:   map[string]Kind{"row 1": Differs, "row 2": Protected, "row 3": Protected},
			reason: map[string]string{"row 1": "role supervisor → user", "row 2": "without --allow-admins"},
		},
		{
			name:   "with --allow-admins an admin's name changes and its role differs",
			roster: head + ",Dev,Shah-Roy,dev@other.com,+919876500008,supervisor\n",
			set:    func(s *Settings) { s.AllowAdmins = true },
			want:   map[string]Kind{"row 1": Update},
		},
		{
			name:   "prune: admins protected, users on a call protected",
			roster: head + ",Asha,Rao,asha@corp.com,,user\n",
			list: func() *Listing {
				l := account()
				l.Members[1].OnCall = "CA1"
				return l
			}(),
			set:    func(s *Settings) { s.Prune, s.MaxDeletePercent = true, 100 },
			want:   map[string]Kind{"row 1": Unchanged, "u2": Protected, "u3": Delete, "a1": Protected, "a2": Protected},
			reason: map[string]string{"u2": "on a call (CA1)", "a1": "not deleted without --allow-admins"},
		},
		{
			name:   "--allow-admins never deletes the last admin",
			roster: head + ",Asha,Rao,asha@corp.com,,user\n,Ravi,Nair,ravi@corp.com,,user\n,Meera,Iyer,,+919876500003,supervisor\n",
			set:    func(s *Settings) { s.Prune, s.AllowAdmins, s.MaxDeletePercent = true, true, 100 },
			want:   map[string]Kind{"a1": Delete, "a2": Protected},
			reason: map[string]string{"a2": "last admin (it has 2)"},
		},
		{
			name:   "scope: outside users are left out, rows on them protected",
			roster: head + ",Asha,Rao,asha@corp.com,,user\n,Isha,Bose,isha@corp.com,,admin\n,Nina,Kapoor,nina@other.com,,user\n",
			set: func(s *Settings) {
				s.Prune, s.MaxDeletePercent = true, 100
				s.Scope = Scope{Roles: []string{"user"}, Domains: []string{"corp.com"}}
			},
			want:   map[string]Kind{"row 1": Unchanged, "row 2": Protected, "row 3": Protected, "u2": Delete, "u3": "", "a2": ""},
			reason: map[string]string{"row 2": "outside --scope", "row 3": "would be created outside --scope"},
		},
		{
			name:   "a SIP contact and a user without a phone device differ",
			roster: head + ",Ravi,Nair,ravi@corp.com,sip:ravi@corp.com,user\n,Nina,Kapoor,nina@corp.com,+919876500055,user\n",
			list: listing(user("u2", "Ravi", "Nair", "ravi@corp.com", "+919876500002", "user"),
				user("u4", "Nina", "Kapoor", "nina@corp.com", "", "user")),
			want: map[string]Kind{"row 1": Differs, "row 2": Differs},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := defaults()
			if tc.set != nil {
				tc.set(&s)
			}
			l := tc.list
			if l == nil {
				l = account()
			}
			tg := NewCCM(nil, nil, Account{ID: "sid"}, Config{})
			p := Decide(readRoster(t, tg, tc.roster), l, tg, s, nil, time.Now())
			got := kinds(p)
			for k, want := range tc.want {
				if got[k] != want {
					t.Errorf("%s: %q, want %q (reason %q)", k, got[k], want, reasonOf(p, k))
				}
			}
			for k, sub := range tc.reason {
				if r := reasonOf(p, k); !strings.Contains(r, sub) {
					t.Errorf("%s: reason %q does not say %q", k, r, sub)
				}
			}
			n := 0
			for _, c := range p.Counts {
				n += c
			}
			if n != len(p.Actions) {
				t.Errorf("counts %v do not add up to %d actions", p.Counts, len(p.Actions))
			}
		})
	}
}

func TestDecideUpdateSaysOldAndNew(t *testing.T) {
	tg := NewCCM(nil, nil, Account{ID: "sid"}, Config{})
	r := readRoster(t, tg, "first_name,last_name,email,phone\nRavi,Nayar,ravi@corp.com,+919876500099\n")
	p := Decide(r, account(), tg, defaults(), nil, time.Now())
	a := p.Actions[0]
	if a.Kind != Update || len(a.Changes) != 2 {
		t.Fatalf("%s %+v", a.Kind, a.Changes)
	}
	if c := a.Changes[0]; c.Field != "last_name" || c.Old != "Nair" || c.New != "Nayar" {
		t.Errorf("names: %+v", c)
	}
	if c := a.Changes[1]; c.Field != "phone" || c.Old != "+919876500002" || c.New != "+919876500099" || c.DeviceID == 0 {
		t.Errorf("phone: %+v", c)
	}
	if a.UserID != "u2" || !a.Seen.Intact() || a.Seen.Fields["date_updated"] == "" || a.Seen.Fields["phone_device"] == "" {
		t.Errorf("user and record: %s %+v", a.UserID, a.Seen)
	}
}

func TestDecideWebRTC(t *testing.T) {
	tg := NewWebRTC(nil, nil, Account{ID: "c-a"}, Config{})
	on := true
	l := &Listing{Members: []*Member{
		webrtcMember(&webrtc.User{UserID: "a1", Name: "Asha Rao", Phone: "+919876500001", SIPEnabled: &on}),
		webrtcMember(&webrtc.User{UserID: "a2", Name: "Ravi Nair", Phone: "+919876500002", SIPEnabled: &on}),
		webrtcMember(&webrtc.User{UserID: "a3", Name: "Meera Iyer", SIPEnabled: &on}),
	}}
	r := readRoster(t, tg, "user_id,name,phone,sip_enabled\n"+
		"a1,Asha Rao,+919876500001,true\n"+
		"a2,Ravi Nair,+919876500099,false\n"+
		"a9,Nina Kapoor,,true\n"+
		"a9,Nina K,,true\n")
	s := defaults()
	s.Match, s.Prune, s.MaxDeletePercent = MatchUserID, true, 100
	p := Decide(r, l, tg, s, nil, time.Now())
	got := kinds(p)
	want := map[string]Kind{"row 1": Unchanged, "row 2": Differs, "row 3": Create, "row 4": Invalid, "a3": Delete}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s, want %s (%s)", k, got[k], v, reasonOf(p, k))
		}
	}
	if r := reasonOf(p, "row 2"); !strings.Contains(r, "phone +919876500002 → +919876500099") || !strings.Contains(r, "sip_enabled true → false") {
		t.Errorf("differs reason %q", r)
	}
	if p.Counts[Update] != 0 {
		t.Error("a webrtc plan updates")
	}
}

func TestGuards(t *testing.T) {
	last := &Applied{Roster: "old.csv", Rows: 10, At: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	tests := []struct {
		name    string
		s       Settings
		g       GuardReport
		rows    int
		tripped []string
	}{
		{"nothing to delete", defaults(), GuardReport{InScope: 10}, 10, nil},
		{"20 % of 10 is 2: passes", defaults(), GuardReport{InScope: 10, Deletes: 2}, 10, nil},
		{"3 of 10 is over 20 %", defaults(), GuardReport{InScope: 10, Deletes: 3}, 10, []string{"30.0 % of the 10 users in scope, more than --max-delete-percent 20", "(to 30 or more)"}},
		{"over --max-delete", Settings{MaxDelete: 2, MaxDeletePercent: 100}, GuardReport{InScope: 10, Deletes: 3}, 10, []string{"more than --max-delete 2", "(to 3 or more)"}},
		{"--max-delete 0 forbids any", Settings{MaxDelete: 0, MaxDeletePercent: 100}, GuardReport{InScope: 10, Deletes: 1}, 10, []string{"more than --max-delete 0"}},
		{"8 of 10 rows passes", defaults(), GuardReport{InScope: 10, LastApplied: last}, 8, nil},
		{"7 of 10 rows is a truncated file", defaults(), GuardReport{InScope: 10, LastApplied: last}, 7, []string{"7 rows, under 80 % of the 10 rows", "old.csv", "--allow-shrink"}},
		{"--allow-shrink", Settings{MaxDelete: 50, MaxDeletePercent: 20, AllowShrink: true}, GuardReport{InScope: 10, LastApplied: last}, 1, nil},
		{"no state: no shrinkage guard", defaults(), GuardReport{InScope: 10}, 1, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(trips(tc.s, tc.g, tc.rows), "\n")
			if len(tc.tripped) == 0 && got != "" {
				t.Errorf("tripped: %s", got)
			}
			for _, want := range tc.tripped {
				if !strings.Contains(got, want) {
					t.Errorf("%q does not say %q", got, want)
				}
			}
		})
	}
}

func TestCheckApply(t *testing.T) {
	acct := Account{Target: "ccm", ID: "sid", BaseURL: "https://x"}
	now := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
	p := &Plan{Account: acct, CreatedAt: now.Add(-time.Hour), Settings: defaults(), Roster: RosterInfo{Rows: 5},
		Counts: map[Kind]int{}}
	if err := p.CheckApply(acct, now, 24*time.Hour, nil); err != nil {
		t.Fatal(err)
	}
	other := acct
	other.ID = "sid2"
	if err := p.CheckApply(other, now, 24*time.Hour, nil); err == nil || !strings.Contains(err.Error(), "not ccm account sid2") {
		t.Errorf("another account: %v", err)
	}
	if err := p.CheckApply(acct, now, 30*time.Minute, nil); err == nil || !strings.Contains(err.Error(), "older than --max-plan-age 30m0s") {
		t.Errorf("old plan: %v", err)
	}
	// Another roster was applied since the plan: its shrinkage is judged
	// again.
	if err := p.CheckApply(acct, now, 24*time.Hour, &Applied{Rows: 100}); err == nil || !strings.Contains(err.Error(), "--allow-shrink") {
		t.Errorf("shrinkage since the plan: %v", err)
	}
	p.Guards.Tripped = []string{"too many"}
	if err := p.CheckApply(acct, now, 24*time.Hour, nil); err == nil || !strings.Contains(err.Error(), "nothing was applied: too many") {
		t.Errorf("tripped plan: %v", err)
	}
}

func TestCompareSeen(t *testing.T) {
	seen := map[string]string{"date_updated": "d1", "first_name": "Ravi", "last_name": "Nair", "email": "", "phone": "+1", "phone_device": "7"}
	a := &Action{Kind: Update, Seen: NewSeen(seen), Changes: []Change{
		{Field: "last_name", Old: "Nair", New: "Nayar"}, {Field: "phone", Old: "+1", New: "+2", DeviceID: 7}}}
	with := func(kv ...string) *Member {
		f := map[string]string{}
		for k, v := range seen {
			f[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			f[kv[i]] = kv[i+1]
		}
		return &Member{Seen: NewSeen(f)}
	}
	tests := []struct {
		name      string
		now       *Member
		stale     string
		remaining int
	}{
		{"as planned", with(), "", 2},
		{"someone renamed it", with("first_name", "Ravindra", "date_updated", "d2"), "first_name Ravi → Ravindra", 0},
		{"only its date moved", with("date_updated", "d2"), "date_updated d1 → d2", 0},
		{"half done by an earlier apply", with("last_name", "Nayar", "date_updated", "d2"), "", 1},
		{"all done by an earlier apply", with("last_name", "Nayar", "phone", "+2", "date_updated", "d3"), "", 0},
		{"ours and someone else's", with("last_name", "Nayar", "email", "x@y.com", "date_updated", "d3"), "email (none) → x@y.com", 1},
		{"a new first phone device", with("phone_device", "8"), "phone_device 7 → 8", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := compareSeen(a, tc.now)
			got := strings.Join(d.stale, "; ")
			if got != tc.stale {
				t.Errorf("stale %q, want %q", got, tc.stale)
			}
			if tc.stale == "" && len(d.remaining) != tc.remaining {
				t.Errorf("remaining %v, want %d", d.remaining, tc.remaining)
			}
		})
	}
}

func TestParseScopeAndMatch(t *testing.T) {
	s, err := ParseScope([]string{"role=agent,Supervisor", "domain=@Corp.com", "role=user"})
	if err != nil || strings.Join(s.Roles, ",") != "user,supervisor" || strings.Join(s.Domains, ",") != "corp.com" {
		t.Errorf("%+v %v", s, err)
	}
	if in, _ := s.Contains("user", "a@CORP.com"); !in {
		t.Error("a user of corp.com is outside")
	}
	if in, why := s.Contains("admin", "a@corp.com"); in || !strings.Contains(why, "role admin") {
		t.Errorf("an admin: %v %q", in, why)
	}
	if in, why := s.Contains("user", ""); in || why != "the user has no email, so --scope domain=corp.com cannot place them" {
		t.Errorf("no email: %v %q", in, why)
	}
	if in, why := s.Contains("user", "a@other.com"); in || why != "email a@other.com is outside --scope domain=corp.com" {
		t.Errorf("another domain: %v %q", in, why)
	}
	for _, bad := range []string{"role", "role=boss", "domain=nodot", "team=x", "domain=a@b.com"} {
		if _, err := ParseScope([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for in, want := range map[string]Match{"email": MatchEmail, " Phone ": MatchPhone, "user_id": MatchUserID, "email,phone": MatchEmailPhone} {
		if m, err := ParseMatch(in); err != nil || m != want {
			t.Errorf("%q: %q %v", in, m, err)
		}
	}
	if _, err := ParseMatch("name"); err == nil {
		t.Error("--match name accepted")
	}
}

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"role=user,supervisor", "domain=corp.com", "role=", "=", "domain=@a.b,,c.d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		s, err := ParseScope([]string{v})
		if err != nil {
			return
		}
		for _, r := range s.Roles {
			if r != "user" && r != "supervisor" && r != "admin" {
				t.Errorf("role %q", r)
			}
		}
		_, _ = s.Contains("user", "x@y.z")
	})
}
