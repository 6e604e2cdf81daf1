package roster

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// samePhone fails unless the fast rules and NormalizePhone answer raw alike,
// and reports whether the rules answered without Parse.
func samePhone(t *testing.T, rules *phoneRules, raw, region string) (fast bool) {
	t.Helper()
	want, wantErr := NormalizePhone(raw, region)
	got, gotErr := rules.normalize(raw, region)
	if got != want || errText(gotErr) != errText(wantErr) {
		t.Fatalf("%q in %s: fast rules say %q, %v; Parse says %q, %v", raw, region, got, gotErr, want, wantErr)
	}
	d, r, err := dialDigits(raw, region)
	if err != nil {
		return false
	}
	_, _, fast = rules.fast(d.bytes(), r)
	return fast
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

var exampleTypes = []phonenumbers.PhoneNumberType{
	phonenumbers.FIXED_LINE, phonenumbers.MOBILE, phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE,
	phonenumbers.SHARED_COST, phonenumbers.VOIP, phonenumbers.PERSONAL_NUMBER, phonenumbers.PAGER,
	phonenumbers.UAN, phonenumbers.VOICEMAIL,
}

// examples are phonenumbers' own example numbers of every type for every
// region and non-geographic code: numbers of every shape the metadata knows.
func examples() []*phonenumbers.PhoneNumber {
	var out []*phonenumbers.PhoneNumber
	regions := make([]string, 0, 256)
	for r := range phonenumbers.GetSupportedRegions() {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	for _, r := range regions {
		for _, typ := range exampleTypes {
			if n := phonenumbers.GetExampleNumberForType(r, typ); n != nil {
				out = append(out, n)
			}
		}
	}
	codes := make([]int, 0, 16)
	for cc := range phonenumbers.GetSupportedGlobalNetworkCallingCodes() {
		codes = append(codes, cc)
	}
	slices.Sort(codes)
	for _, cc := range codes {
		if n := phonenumbers.GetExampleNumberForNonGeoEntity(cc); n != nil {
			out = append(out, n)
		}
	}
	return out
}

// writings are the ways a file may hold n: with + or an IDD, nationally
// with and without a trunk prefix, with the country code but no +, and
// near misses a digit off.
func writings(n *phonenumbers.PhoneNumber, rnd *rand.Rand) []string {
	cc := strconv.Itoa(int(n.GetCountryCode()))
	nsn := phonenumbers.GetNationalSignificantNumber(n)
	national := phonenumbers.Format(n, phonenumbers.NATIONAL) // with the trunk prefix where there is one
	out := []string{
		"+" + cc + nsn,
		phonenumbers.Format(n, phonenumbers.INTERNATIONAL),
		"00" + cc + nsn,
		"011" + cc + nsn,
		cc + nsn,
		nsn,
		national,
		"0" + nsn,
		"+" + cc + "0" + nsn,
		"+" + cc + nsn[:len(nsn)-1], // a digit short
		"+" + cc + nsn + strconv.Itoa(rnd.IntN(10)),                                 // a digit long
		"+" + cc + nsn[:len(nsn)-1] + strconv.Itoa((int(nsn[len(nsn)-1]-'0')+1)%10), // last digit changed
		nsn[:1] + strconv.Itoa(rnd.IntN(10)) + nsn[min(2, len(nsn)):],               // second digit changed
	}
	return out
}

// TestPhoneRulesMatchParse runs the fast rules and Parse over every example
// number of every region, written every way, read in several default
// regions, and over random digits: every answer, number or reason, must be
// the same. It also checks the rules answer most of the common shapes
// themselves, or they would be a slower path to the same place.
func TestPhoneRulesMatchParse(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	defaults := []string{"IN", "US", "GB", "AR", "BR", "MX", "IT", "RU", "DE", "AE", "SG", "CA", "ZZ", "001"}
	rules := map[string]*phoneRules{}
	for _, r := range defaults {
		rules[r] = newPhoneRules(r)
	}
	fast, total := 0, 0
	for i, n := range examples() {
		if raceEnabled && i%16 != 0 {
			continue
		}
		own := phonenumbers.GetRegionCodeForNumber(n)
		ownRules := rules[own]
		if ownRules == nil {
			ownRules = newPhoneRules(own)
			rules[own] = ownRules
		}
		for _, w := range writings(n, rnd) {
			// Every writing in IN (the default) and in the number's own region;
			// every fourth in one of the other defaults as well.
			regions := []string{"IN", own}
			if rnd.IntN(4) == 0 {
				regions = append(regions, defaults[rnd.IntN(len(defaults))])
			}
			for _, r := range regions {
				if r == "" {
					continue
				}
				rr := rules[r]
				if rr == nil {
					rr = newPhoneRules(r)
					rules[r] = rr
				}
				total++
				if samePhone(t, rr, w, r) {
					fast++
				}
			}
		}
	}
	// Random digits, with and without + and IDD, of every length allowed.
	randoms := 3000
	if raceEnabled {
		randoms = 200
	}
	for range randoms {
		n := 3 + rnd.IntN(maxPhoneDigits-2)
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rnd.IntN(10))
		}
		s := string(b)
		switch rnd.IntN(4) {
		case 0:
			s = "+" + s
		case 1:
			s = "00" + s
		}
		r := defaults[rnd.IntN(len(defaults))]
		total++
		if samePhone(t, rules[r], s, r) {
			fast++
		}
	}
	t.Logf("%d of %d answered by the fast rules", fast, total)
	if fast < total/3 {
		t.Errorf("only %d of %d numbers took the fast rules", fast, total)
	}
}

// TestPhoneRulesIndianShapes pins which Indian shapes are answered without
// Parse: the point of the rules is that the common ones are.
func TestPhoneRulesIndianShapes(t *testing.T) {
	rules := newPhoneRules("IN")
	tests := []struct {
		name, in string
		fast     bool
	}{
		{"E.164", "+919876543210", true},
		{"plus, spaces", "+91 98765 43210", true},
		{"plus, hyphens", "+91-98765-43210", true},
		{"(+91)", "(+91) 98765-43210", true},
		{"ten digits", "9876543210", true},
		{"trunk prefix", "098765 43210", true},
		{"IDD", "0091 98765 43210", true},
		{"UK from India", "0044 7400 123456", true},
		{"invalid, no prefix", "+91 12345 67890", true},
		{"country code without plus", "919876543210", true},
		{"country code without plus, spaced", "91 98765 43210", true},
		{"ten digits starting 91", "9198765432", true},
		{"trunk prefix, invalid rest", "055555 55555", false},
		{"a leading zero after the code", "+91 0 98765 43210", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := samePhone(t, rules, tc.in, "IN"); got != tc.fast {
				t.Errorf("%q: fast = %v, want %v", tc.in, got, tc.fast)
			}
		})
	}
}

// TestPhoneRulesConcurrent has normalisers share one set of rules, as the
// Checker's do, so -race sees the lazily filled calling-code cache.
func TestPhoneRulesConcurrent(t *testing.T) {
	rules := newPhoneRules("IN")
	numbers := []string{"+44 7400 123456", "+1 415 234 5678", "+971 50 123 4567", "+65 9123 4567", "9876543210"}
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for _, n := range numbers {
				want, wantErr := NormalizePhone(n, "IN")
				if got, err := rules.normalize(n, "IN"); got != want || errText(err) != errText(wantErr) {
					t.Errorf("%q: %q, %v; want %q, %v", n, got, err, want, wantErr)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
}

// FuzzPhoneRules holds the fast rules to NormalizePhone's answers for any
// cell and default region.
func FuzzPhoneRules(f *testing.F) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for i, n := range examples() {
		if i%29 != 0 {
			continue
		}
		for _, w := range writings(n, rnd) {
			f.Add(w, phonenumbers.GetRegionCodeForNumber(n))
		}
	}
	for _, s := range []string{"+919876543210", "098765 43210", "0091 98765 43210", "919876543210", "+0 123", "123", "+999 1234567"} {
		f.Add(s, "IN")
	}
	f.Add("919876543210", "IN")
	f.Add("91 0 98765 43210", "IN")
	f.Add("4420 7946 0958", "GB")
	f.Add("1 415 234 5678", "US")
	f.Add("7 912 345 6789", "RU")
	f.Add("39 06 1234 5678", "IT")
	f.Add("15 4123-4567", "AR")
	f.Add("0 11 15 4123 4567", "AR")
	f.Add("+39 06 1234 5678", "IT")
	// Rules are kept across inputs, as a run keeps them across rows, so
	// the validity cache answers from what earlier inputs taught it.
	rules := map[string]*phoneRules{}
	f.Fuzz(func(t *testing.T, raw, region string) {
		r := upperRegion(region)
		if rules[r] == nil {
			if len(rules) > 64 {
				clear(rules)
			}
			rules[r] = newPhoneRules(r)
		}
		samePhone(t, rules[r], raw, region)
	})
}

// upperRegion is the region dialDigits reads a number in.
func upperRegion(r string) string {
	if r == "" {
		return DefaultRegion
	}
	return strings.ToUpper(r)
}
