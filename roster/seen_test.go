package roster

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/roster/rostertest"
)

// model is what seen must agree with: maps of the values themselves.
type model struct {
	emails, phones map[string]int
}

func (m *model) add(row int, email, phone string) (emailDup, phoneDup dup) {
	if email != "" {
		k := strings.ToLower(email)
		if r, ok := m.emails[k]; ok {
			emailDup = dup{r, true}
		} else {
			m.emails[k] = row
		}
	}
	if phone != "" {
		if r, ok := m.phones[phone]; ok {
			phoneDup = dup{r, true}
		} else {
			m.phones[phone] = row
		}
	}
	return emailDup, phoneDup
}

// Hashes that make collisions certain, to show that the re-comparison
// neither calls different emails duplicates nor misses real ones.
var forcedHashes = map[string]func([]byte) uint64{
	"every email collides": func([]byte) uint64 { return 42 },
	"hash is the length":   func(b []byte) uint64 { return uint64(len(b)) },
	"hash is the first letter": func(b []byte) uint64 {
		if len(b) == 0 {
			return 0
		}
		return uint64(b[0])
	},
	"hash is zero": func([]byte) uint64 { return 0 },
}

// TestSeenMatchesModel feeds seen and a map-based model the same rows —
// emails from a small pool in random case, so many repeat, and phones —
// with the real hash and with forced collisions: every answer must agree.
func TestSeenMatchesModel(t *testing.T) {
	hashes := map[string]func([]byte) uint64{"maphash": nil}
	for name, h := range forcedHashes {
		hashes[name] = h
	}
	for name, h := range hashes {
		t.Run(name, func(t *testing.T) {
			rnd := rand.New(rand.NewPCG(7, 8))
			s := newSeen()
			if h != nil {
				s.forceHash = h
			}
			m := &model{emails: map[string]int{}, phones: map[string]int{}}
			rows := 5000
			switch {
			case h != nil && raceEnabled:
				rows = 600
			case h != nil:
				rows = 2000 // with every email colliding, every lookup walks them all
			}
			row := rnd.IntN(100) - 50 // rows need not start at 1, nor be positive
			for range rows {
				row += rnd.IntN(3) // nor be consecutive, nor differ
				email := ""
				if rnd.IntN(10) > 0 {
					email = fmt.Sprintf("agent%d@Example.com", rnd.IntN(rows/2))
					if rnd.IntN(2) == 0 {
						email = strings.ToUpper(email)
					}
				}
				phone := ""
				if rnd.IntN(10) > 0 {
					phone = fmt.Sprintf("+9198765%05d", rnd.IntN(rows/2))
				}
				ge, gp := s.add(row, email, phone)
				we, wp := m.add(row, email, phone)
				if ge != we || gp != wp {
					t.Fatalf("row %d %q %q: seen says %+v %+v, model %+v %+v", row, email, phone, ge, gp, we, wp)
				}
			}
		})
	}
}

// TestSeenCollisionIsNotADuplicate is the case the re-comparison is for:
// two different emails with one hash.
func TestSeenCollisionIsNotADuplicate(t *testing.T) {
	s := newSeen()
	s.forceHash = forcedHashes["every email collides"]
	steps := []struct {
		row   int
		email string
		want  dup
	}{
		{1, "a@example.com", dup{}},
		{2, "b@example.com", dup{}},        // same hash, other email: not a duplicate
		{3, "B@Example.COM", dup{2, true}}, // a real duplicate among colliding ones: found, row 2
		{4, "a@example.com", dup{1, true}}, // and the first one still
		{5, "c@example.com", dup{}},        //
		{6, "A@EXAMPLE.COM", dup{1, true}}, //
		{7, "b@example.co", dup{}},         // a prefix of an earlier one
		{8, "b@example.comm", dup{}},       // an extension of one
		{9, "b@example.co", dup{7, true}},  //
		{10, strings.Repeat("x", 64) + "@" + strings.Repeat("y", 60) + ".com", dup{}},
		{11, strings.Repeat("X", 64) + "@" + strings.Repeat("Y", 60) + ".COM", dup{10, true}},
	}
	for _, st := range steps {
		if got, _ := s.add(st.row, st.email, ""); got != st.want {
			t.Fatalf("row %d %q: %+v, want %+v", st.row, st.email, got, st.want)
		}
	}
}

// TestSeenLogAcrossChunks reads back every entry of a log long enough to
// fill several chunks, with the longest emails there are, domains numbered
// and written out, and values without an @.
func TestSeenLogAcrossChunks(t *testing.T) {
	var l entryLog
	email := func(i int) []byte {
		switch {
		case i%5 == 0:
			return nil // an entry that added only a phone
		case i%7 == 0:
			return []byte(strings.Repeat("n", 200) + strconv.Itoa(i)) // no @ at all
		}
		// More domains than the log numbers, so later ones are written out.
		local := fmt.Sprintf("%d.%s@", i, strings.Repeat("a", 50))
		domain := fmt.Sprintf("d%d.", i%(maxDomains+500))
		return []byte(local + domain + strings.Repeat("d", maxEmailLen-len(local)-len(domain)-4) + ".com")
	}
	rowOf := func(i int) int { return i*3 - 1000 }
	n := 3*logChunk/maxEmailLen + 100
	for i := range n {
		if e := l.append(rowOf(i), email(i)); int(e) != i {
			t.Fatalf("entry %d numbered %d", i, e)
		}
	}
	if len(l.chunks) < 3 {
		t.Fatalf("%d chunks, want the log to span several", len(l.chunks))
	}
	for i := range n {
		row, got := l.row(uint32(i)), l.email(uint32(i))
		if row != rowOf(i) || string(got) != string(email(i)) {
			t.Fatalf("entry %d: row %d, email %q; want %d, %q", i, row, got, rowOf(i), email(i))
		}
		if e := email(i); e != nil && (!l.sameEmail(uint32(i), e) || l.sameEmail(uint32(i), e[:len(e)-1]) ||
			l.sameEmail(uint32(i), append(e[:len(e):len(e)], 'x'))) {
			t.Fatalf("entry %d: sameEmail wrong for %q or a near miss", i, e)
		}
	}
	if len(l.names) != maxDomains {
		t.Fatalf("%d domains numbered, want %d", len(l.names), maxDomains)
	}
}

func TestPhoneKey(t *testing.T) {
	tests := []struct {
		name, in string
		want     uint64
		ok       bool
	}{
		{"Indian mobile", "+919876543210", 919876543210, true},
		{"shortest", "+1", 1, true},
		{"19 digits", "+9999999999999999999", 9999999999999999999, true},
		{"20 digits that fit", "+18446744073709551615", 18446744073709551615, true},
		{"20 digits that do not", "+18446744073709551616", 0, false},
		{"21 digits", "+123456789012345678901", 0, false},
		{"no plus", "919876543210", 0, false},
		{"empty", "", 0, false},
		{"a letter", "+91987654321O", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := phoneKey(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("phoneKey(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestSeenWidePhones covers phones too long for an integer key: they are
// remembered exactly all the same.
func TestSeenWidePhones(t *testing.T) {
	s := newSeen()
	wide := "+98765432109876543210"
	if _, p := s.add(1, "", wide); p.found {
		t.Fatalf("first sight a duplicate: %+v", p)
	}
	if _, p := s.add(2, "", "+919876543210"); p.found {
		t.Fatalf("narrow phone a duplicate: %+v", p)
	}
	if _, p := s.add(3, "", wide); p != (dup{1, true}) {
		t.Fatalf("second sight: %+v, want row 1", p)
	}
}

// TestValidatorForcedCollisions runs a generated roster, with its repeated
// people and spoiled rows, through a Validator whose email hash always
// collides and one with the real hash: every problem must be the same.
func TestValidatorForcedCollisions(t *testing.T) {
	rows := 3000
	if raceEnabled {
		rows = 800
	}
	h, recs := generated(t, rows, 50)
	real, forced := NewValidator(h, Options{}), NewValidator(h, Options{})
	forced.seen.forceHash = forcedHashes["every email collides"]
	dups := 0
	for _, rec := range recs {
		p1, probs1 := real.Check(rec)
		p2, probs2 := forced.Check(rec)
		if fmt.Sprint(p1, probs1) != fmt.Sprint(p2, probs2) {
			t.Fatalf("row %d: real hash %v %v; colliding hash %v %v", rec.Row, p1, probs1, p2, probs2)
		}
		for _, pr := range probs1 {
			if strings.Contains(pr.Reason, "duplicate of row") {
				dups++
			}
		}
	}
	if dups == 0 {
		t.Fatal("the roster had no duplicates to find")
	}
}

// generated reads a rostertest roster: rows rows, dups per mille of them
// repeating an earlier person, 1 % spoiled.
func generated(t testing.TB, rows, dups int) (*Header, []Record) {
	t.Helper()
	var b bytes.Buffer
	if _, err := rostertest.Write(&b, rostertest.Spec{Rows: rows, Seed: 11, Duplicates: dups}); err != nil {
		t.Fatal(err)
	}
	h, recs, err := readAll(&b)
	if err != nil {
		t.Fatal(err)
	}
	return h, recs
}
