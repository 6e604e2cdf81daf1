package webrtc

import (
	"bytes"
	"encoding/csv"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/roster"
)

// readRows reads a CSV through roster's reader and checks every row.
func readRows(t *testing.T, file string) (*roster.Header, []Person, [][]string) {
	t.Helper()
	rd, err := roster.NewReader(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	v := NewValidator(rd.Header(), roster.Options{})
	var people []Person
	var problems [][]string
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p, probs := v.Check(rec)
		people = append(people, p)
		var ps []string
		for _, pr := range probs {
			ps = append(ps, pr.String())
		}
		problems = append(problems, ps)
	}
	return rd.Header(), people, problems
}

func TestCheckRow(t *testing.T) {
	const header = "user_id,name,phone,sip_enabled\n"
	for _, tc := range []struct {
		name     string
		file     string // a header and one row
		want     Person
		problems []string
	}{
		{name: "document's user", file: header + "agent_001,John Agent,+919876543210,true",
			want: Person{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210", SIPEnabled: true}},
		{name: "trimmed and normalised", file: header + "  agent_001 ,  John   Agent , 098765 43210 , No ",
			want: Person{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210"}},
		{name: "blank sip_enabled is true", file: header + "a,A,,",
			want: Person{UserID: "a", Name: "A", SIPEnabled: true}},
		{name: "no sip_enabled column", file: "user_id,name\na,A",
			want: Person{UserID: "a", Name: "A", SIPEnabled: true}},
		{name: "sip_enabled yes", file: header + "a,A,,YES", want: Person{UserID: "a", Name: "A", SIPEnabled: true}},
		{name: "sip_enabled 1", file: header + "a,A,,1", want: Person{UserID: "a", Name: "A", SIPEnabled: true}},
		{name: "sip_enabled FALSE", file: header + "a,A,,FALSE", want: Person{UserID: "a", Name: "A"}},
		{name: "sip_enabled 0", file: header + "a,A,,0", want: Person{UserID: "a", Name: "A"}},
		{name: "sip_enabled header spelt otherwise", file: "User ID,Name,SIP-Enabled\na,A,no",
			want: Person{UserID: "a", Name: "A"}},
		{name: "sip_enabled other", file: header + "a,A,,maybe", want: Person{UserID: "a", Name: "A"},
			problems: []string{`sip_enabled "maybe": must be true or false (yes/no, 1/0; blank means true)`}},
		{name: "sip_enabled refused under its own header", file: "user_id,name,Enable SIP\na,A,2",
			want:     Person{UserID: "a", Name: "A"},
			problems: []string{`Enable SIP "2": must be true or false (yes/no, 1/0; blank means true)`}},
		{name: "first and last joined", file: "user_id,first_name,last_name\na, Asha ,Rao",
			want: Person{UserID: "a", Name: "Asha Rao", SIPEnabled: true}},
		{name: "first name alone", file: "user_id,first_name,last_name\na,Asha,",
			want: Person{UserID: "a", Name: "Asha", SIPEnabled: true}},
		{name: "name column wins", file: "user_id,name,first_name,last_name\na,Asha R,Asha,Rao",
			want: Person{UserID: "a", Name: "Asha R", SIPEnabled: true}},
		{name: "empty name falls back to first and last", file: "user_id,name,first_name,last_name\na,,Asha,Rao",
			want: Person{UserID: "a", Name: "Asha Rao", SIPEnabled: true}},
		{name: "export re-imported", file: strings.Join(Columns(), ",") + "\n" +
			"'=x,'@Bob,+919876543210,false,active,true,false,2024-06-15T10:30:00.000Z,",
			want:     Person{UserID: "=x", Phone: "+919876543210"},
			problems: []string{`name "@Bob": cannot start with =, +, - or @ (a spreadsheet formula)`}},
		{name: "no user_id", file: header + ",A,,", want: Person{Name: "A", SIPEnabled: true},
			problems: []string{"user_id: is required for the webrtc target"}},
		{name: "no user_id column", file: "name,phone\nA,", want: Person{Name: "A", SIPEnabled: true},
			problems: []string{"user_id: is required for the webrtc target (the file has no user_id column)"}},
		{name: "user_id under an alias", file: "ID,Name\n,A", want: Person{Name: "A", SIPEnabled: true},
			problems: []string{"ID: is required for the webrtc target"}},
		{name: "user_id with a slash", file: header + "team/a,A,,",
			want:     Person{Name: "A", SIPEnabled: true},
			problems: []string{`user_id "team/a": cannot contain /: the API finds users by user_id in the URL path`}},
		{name: "user_id with a control character", file: header + "a\x01b,A,,",
			want:     Person{Name: "A", SIPEnabled: true},
			problems: []string{`user_id "a\x01b": contains a control character`}},
		{name: "no name", file: header + "a,,,", want: Person{UserID: "a", SIPEnabled: true},
			problems: []string{"name: is required"}},
		{name: "no first or last name", file: "user_id,first_name,last_name\na,,",
			want: Person{UserID: "a", SIPEnabled: true}, problems: []string{"first_name: is required"}},
		{name: "email for a name", file: header + "a,asha@example.com,,",
			want:     Person{UserID: "a", SIPEnabled: true},
			problems: []string{`name "asha@example.com": contains @: this looks like an email address, not a name`}},
		{name: "bad phone", file: header + "a,A,12345,",
			want: Person{UserID: "a", Name: "A", SIPEnabled: true}, problems: []string{`phone "12345": `}},
		{name: "sip uri as phone", file: header + "a,A,sip:a@example.com,",
			want: Person{UserID: "a", Name: "A", SIPEnabled: true},
			problems: []string{`phone "sip:a@example.com": is a SIP address: phone is the PSTN number calls fall back to ` +
				`(the app gives SIP credentials itself)`}},
		{name: "every problem at once", file: header + ",,12345,x",
			problems: []string{"user_id: is required for the webrtc target", "name: is required",
				`phone "12345": `, `sip_enabled "x": must be true or false (yes/no, 1/0; blank means true)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, people, problems := readRows(t, tc.file)
			if len(people) != 1 {
				t.Fatalf("%d rows", len(people))
			}
			if people[0] != tc.want {
				t.Errorf("person %+v, want %+v", people[0], tc.want)
			}
			got := problems[0]
			if !prefixesMatch(got, tc.problems) {
				t.Errorf("problems %q\nwant       %q", got, tc.problems)
			}
		})
	}
}

// prefixesMatch compares problems exactly, except that a wanted text
// ending in ": " only has to start the problem (a phone's reason is
// roster's to word).
func prefixesMatch(got, want []string) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] && !(strings.HasSuffix(want[i], ": ") && strings.HasPrefix(got[i], want[i])) {
			return false
		}
	}
	return true
}

// FuzzCheckRow: any row of any header is checked without panicking, and a
// row without problems is one the API can take.
func FuzzCheckRow(f *testing.F) {
	f.Add("user_id,name,phone,sip_enabled\nagent_001,John Agent,+919876543210,true\n")
	f.Add("ID,first_name,last_name,SIP Enabled\n a ,Asha,Rao,no\na,,,maybe\n")
	f.Add(strings.Join(Columns(), ",") + "\n'=x,'@y,+1,false,active,,,,\n")
	f.Fuzz(func(t *testing.T, file string) {
		rd, err := roster.NewReader(strings.NewReader(file))
		if err != nil {
			return
		}
		v := NewValidator(rd.Header(), roster.Options{})
		for {
			rec, err := rd.Next()
			if err != nil {
				return
			}
			p, probs := v.Check(rec)
			if len(probs) > 0 {
				continue
			}
			if p.UserID == "" || p.Name == "" || checkUserID(p.UserID) != "" ||
				(p.Phone != "" && !strings.HasPrefix(p.Phone, "+")) {
				t.Fatalf("row %d passed as %+v", rec.Row, p)
			}
		}
	})
}

func TestDuplicateRows(t *testing.T) {
	_, people, problems := readRows(t, "user_id,name,phone\n"+
		"a,Asha Rao,+919800000001\n"+
		"b,Bala Iyer,09800000001\n"+ // the same number, written otherwise
		"a,Asha Again,+919800000002\n"+
		"A,Case Differs,\n")
	want := [][]string{
		nil,
		{`phone "09800000001": duplicate of row 1 (same phone)`},
		{`user_id "a": duplicate of row 1 (same user_id)`},
		nil,
	}
	for i := range want {
		if !slices.Equal(problems[i], want[i]) {
			t.Errorf("row %d: %q, want %q", i+1, problems[i], want[i])
		}
	}
	if people[3].UserID != "A" {
		t.Errorf("user_ids are compared exactly; row 4 got %+v", people[3])
	}
}

func TestHeaderChecks(t *testing.T) {
	for _, tc := range []struct {
		header  string
		ok      bool
		unknown []string
	}{
		{header: "user_id,name,phone,sip_enabled", ok: true},
		{header: strings.Join(Columns(), ","), ok: true},
		{header: "user_id,first_name", ok: true},
		{header: "user_id,surname,Team", ok: true, unknown: []string{"Team"}},
		{header: "user_id,phone,sip_enabled", ok: false},
	} {
		rd, err := roster.NewReader(strings.NewReader(tc.header + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		h := rd.Header()
		if err := CheckHeader(h); (err == nil) != tc.ok {
			t.Errorf("%s: CheckHeader = %v", tc.header, err)
		}
		if got := h.Unknown; !slices.Equal(got, tc.unknown) {
			t.Errorf("%s: Unknown = %q, want %q", tc.header, got, tc.unknown)
		}
	}
}

func TestExportReimports(t *testing.T) {
	tru, fals := true, false
	users := []User{
		{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210", SIPEnabled: &tru, Status: "active",
			DeviceStatus: &DeviceStatus{Phone: &tru, SIP: &fals}, CreatedAt: "2024-06-15T10:30:00.000Z"},
		{UserID: "=agent", Name: "Jane, \"JJ\" Support", SIPEnabled: &fals, Status: "inactive"},
		{UserID: "agent_003", Name: "No Answer"}, // sip_enabled unknown: re-imports as the default
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(Columns())
	for _, u := range users {
		_ = w.Write(NewRecord(u).Cells())
	}
	w.Flush()
	h, people, problems := readRows(t, buf.String())
	if len(h.Unknown) != 0 || CheckHeader(h) != nil {
		t.Errorf("header: unknown %q, check %v", h.Unknown, CheckHeader(h))
	}
	want := []Person{
		{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210", SIPEnabled: true},
		{UserID: "=agent", Name: "Jane, \"JJ\" Support"},
		{UserID: "agent_003", Name: "No Answer", SIPEnabled: true},
	}
	for i := range want {
		if people[i] != want[i] || len(problems[i]) != 0 {
			t.Errorf("row %d: %+v %q, want %+v", i+1, people[i], problems[i], want[i])
		}
		if d := Differences(people[i], users[i]); len(d) != 0 {
			t.Errorf("row %d differs from its user: %q", i+1, d)
		}
	}
}

func TestDifferences(t *testing.T) {
	p := Person{UserID: "a", Name: "John Agent", Phone: "+919876543210", SIPEnabled: true}
	for _, tc := range []struct {
		name string
		user User
		want []string
	}{
		{name: "same", user: User{UserID: "a", Name: "John  Agent ", Phone: "+919876543210"}},
		{name: "phone written otherwise", user: User{Name: "John Agent", Phone: "919876543210"}},
		{name: "sip_enabled is not compared", user: User{Name: "John Agent", Phone: "+919876543210", SIPEnabled: new(bool)}},
		{name: "name", user: User{Name: "Jon Agent", Phone: "+919876543210"},
			want: []string{`name: app has "Jon Agent", file has "John Agent"`}},
		{name: "no phone", user: User{Name: "John Agent"},
			want: []string{`phone: app has none, file has "+919876543210"`}},
		{name: "both", user: User{Name: "X", Phone: "+919800000000"},
			want: []string{`name: app has "X", file has "John Agent"`, `phone: app has "+919800000000", file has "+919876543210"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Differences(p, tc.user); !slices.Equal(got, tc.want) {
				t.Errorf("Differences = %q, want %q", got, tc.want)
			}
		})
	}
	for in, want := range map[string]string{"": "", " +91 98765 43210 ": "+919876543210", "09876543210": "+919876543210",
		"not a number": "not a number"} {
		if got := (User{Phone: in}).E164(); got != want {
			t.Errorf("E164(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (Person{UserID: "a", Name: "A"}).Request(); got.SIPEnabled == nil || *got.SIPEnabled {
		t.Errorf("Request sends sip_enabled as the row said: %+v", got)
	}
}
