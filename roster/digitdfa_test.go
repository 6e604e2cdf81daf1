package roster

import (
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// metadataPattern is one pattern phonenumbers matches national numbers
// against, and how it matches: whole (^(?:p)$) or at the start (^(?:p)).
type metadataPattern struct {
	where   string
	pattern string
	prefix  bool
}

func allMetadataPatterns(t *testing.T) []metadataPattern {
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		t.Fatal(err)
	}
	var out []metadataPattern
	for _, m := range coll.GetMetadata() {
		where := m.GetId() + "/" + strconv.Itoa(int(m.GetCountryCode()))
		if ld := m.GetLeadingDigits(); ld != "" {
			out = append(out, metadataPattern{where + " leading digits", ld, true})
		}
		for i, desc := range []*phonenumbers.PhoneNumberDesc{
			m.GetGeneralDesc(), m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(), m.GetVoip(),
			m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail(), m.GetFixedLine(), m.GetMobile(),
		} {
			if p := desc.GetNationalNumberPattern(); p != "" {
				out = append(out, metadataPattern{where + " pattern " + strconv.Itoa(i), p, false})
			}
		}
	}
	return out
}

// compile builds the pattern's automaton as phoneRules does, and the
// regular expression phonenumbers matches with.
func (mp metadataPattern) compile(t *testing.T) (*digitDFA, *regexp.Regexp) {
	t.Helper()
	pattern, re := mp.pattern, "^(?:"+mp.pattern+")$"
	if mp.prefix {
		pattern, re = "(?:"+mp.pattern+")[0-9]*", "^(?:"+mp.pattern+")"
	}
	d, ok := compileDigitDFA(pattern, maxPatternStates)
	if !ok {
		t.Fatalf("%s: %q did not compile to an automaton", mp.where, mp.pattern)
	}
	return d, regexp.MustCompile(re)
}

// digitStrings are strings to match patterns against: national numbers of
// phonenumbers' examples, near misses of them, and random digits of every
// length a national number can have.
func digitStrings(rnd *rand.Rand, n int) []string {
	var out []string
	for _, ex := range examples() {
		nsn := phonenumbers.GetNationalSignificantNumber(ex)
		out = append(out, nsn, nsn[:len(nsn)-1], nsn+"5", nsn[:len(nsn)/2])
	}
	for range n {
		b := make([]byte, 1+rnd.IntN(phonenumbers.MAX_LENGTH_FOR_NSN))
		for i := range b {
			b[i] = byte('0' + rnd.IntN(10))
		}
		out = append(out, string(b))
	}
	return out
}

// TestDigitDFAMatchesRegexp holds every automaton built from phonenumbers'
// metadata to Go's regexp on the same pattern, over real and random
// numbers: the automaton must accept exactly what the library matches.
func TestDigitDFAMatchesRegexp(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	strs := digitStrings(rnd, 2000)
	patterns := allMetadataPatterns(t)
	for i, mp := range patterns {
		if raceEnabled && i%10 != 0 {
			continue
		}
		d, re := mp.compile(t)
		for j, s := range strs {
			if raceEnabled && j%10 != 0 {
				continue
			}
			if got, want := d.matches([]byte(s)), re.MatchString(s); got != want {
				t.Fatalf("%s: %q: automaton %v, regexp %v", mp.where, s, got, want)
			}
		}
	}
}

// TestDigitDFASettled checks the property the validity cache rests on:
// two numbers of one length that agree up to where the automaton settles
// are matched alike, by the automaton and by the regexp.
func TestDigitDFASettled(t *testing.T) {
	rnd := rand.New(rand.NewPCG(9, 10))
	strs := digitStrings(rnd, 300)
	settledEarly := 0
	for i, mp := range allMetadataPatterns(t) {
		if raceEnabled && i%10 != 0 {
			continue
		}
		d, re := mp.compile(t)
		for j, s := range strs {
			if j%3 != i%3 || raceEnabled && j%10 != 0 {
				continue // each pattern against a third of the strings
			}
			k := d.settled([]byte(s))
			if k < len(s) {
				settledEarly++
			}
			b := []byte(s)
			for i := k; i < len(b); i++ {
				b[i] = byte('0' + rnd.IntN(10))
			}
			if d.matches(b) != d.matches([]byte(s)) || re.MatchString(string(b)) != re.MatchString(s) {
				t.Fatalf("%s: %q settles after %d digits, but %q is matched differently", mp.where, s, k, b)
			}
		}
	}
	if settledEarly == 0 {
		t.Fatal("no number settled before its end: the cache would never be used")
	}
}

func TestDigitDFARefuses(t *testing.T) {
	tests := []struct{ name, pattern string }{
		{"word boundary", `\b12`},
		{"anchor inside", `1(?:^2)`},
		{"not a pattern", `(12`},
		{"too many states", `[0-9]{40}(?:1|2)[0-9]{400}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, ok := compileDigitDFA(tc.pattern, 256); ok {
				t.Errorf("%q compiled", tc.pattern)
			}
		})
	}
}

// TestVerdictKeysAreSound is the cache's premise checked against the
// library itself: for every calling code, numbers that share a verdict key
// get the same answer from IsValidNumber.
func TestVerdictKeysAreSound(t *testing.T) {
	rnd := rand.New(rand.NewPCG(11, 12))
	rules := newPhoneRules("IN")
	codes := make([]int, 0, 256)
	for cc := range phonenumbers.GetSupportedCallingCodes() {
		codes = append(codes, cc)
	}
	slices.Sort(codes)
	nsns := map[int][]string{}
	for _, ex := range examples() {
		cc := int(ex.GetCountryCode())
		nsns[cc] = append(nsns[cc], phonenumbers.GetNationalSignificantNumber(ex))
	}
	checked, cached := 0, 0
	for i, cc := range codes {
		if raceEnabled && i%8 != 0 {
			continue
		}
		c := rules.country(cc)
		if c == nil || c.patterns == nil {
			t.Errorf("+%d: no validity patterns", cc)
			continue
		}
		for _, nsn := range nsns[cc] {
			if nsn[0] == '0' {
				continue // leading zeros never reach the cache (phoneRules.national)
			}
			for range 4 {
				key, ok := c.verdictKey([]byte(nsn))
				checked++
				if !ok {
					continue
				}
				cached++
				k := int(key>>15) & 15
				other := []byte(nsn)
				for i := k; i < len(other); i++ {
					other[i] = byte('0' + rnd.IntN(10))
				}
				if other[0] == '0' {
					continue // a leading zero is another number's shape; never cached
				}
				if key2, _ := c.verdictKey(other); key2 != key {
					t.Fatalf("+%d %s and %s: keys differ", cc, nsn, other)
				}
				if a, b := isValidNSN(cc, nsn), isValidNSN(cc, string(other)); a != b {
					t.Fatalf("+%d: %s valid %v, %s valid %v, one verdict key", cc, nsn, a, other, b)
				}
			}
		}
	}
	t.Logf("%d of %d numbers cacheable", cached, checked)
	if cached < checked/2 {
		t.Errorf("only %d of %d numbers have a verdict key", cached, checked)
	}
}

func isValidNSN(cc int, nsn string) bool {
	national, err := strconv.ParseUint(nsn, 10, 64)
	if err != nil {
		panic(err)
	}
	code := int32(cc)
	return phonenumbers.IsValidNumber(&phonenumbers.PhoneNumber{CountryCode: &code, NationalNumber: &national})
}
