package roster

import (
	"regexp"
	"strconv"
	"sync/atomic"

	"github.com/nyaruka/phonenumbers"
)

// phoneRules answers NormalizePhone for the shapes HR files hold —
// +<country code><number>, 00<country code><number>, and a number of the
// default region with or without its trunk prefix — without
// phonenumbers.Parse, which is half the cost of a row. phonenumbers stays
// the authority: IsValidNumber decides every number, on the same
// PhoneNumber that Parse would have built.
//
// Parse, for digits with no extension or RFC 3966 parts, does four things:
// strips a + or the region's international prefix (IDD), takes the first
// one to three digits that are a calling code, strips the national prefix
// that metadata gives for that code, and records leading zeros. normalize
// repeats the first two exactly (the same regular expression for the IDD,
// the same table of calling codes), and takes the last two only where their
// outcome is certain:
//
//   - no national prefix matches: the number stays as written;
//   - a prefix matches, with no transform rule in play, and the rest is a
//     valid number: Parse strips it, because it keeps the prefix only when
//     the rest fails the general pattern or has an impossible length, and a
//     valid number passes both (validity checks the general pattern and its
//     lengths first);
//   - the number does not start with 0, so there are no leading zeros.
//
// A national number that starts with the region's own calling code
// (919876543210 in IN) may be that code written without +: Parse decides
// by the region's general pattern and its lengths, and ownCode repeats the
// decision with the same pattern (as an automaton) and the library's own
// length test. Everything else — a transform rule, a prefix whose rest is
// not valid, a leading zero — goes to Parse. TestPhoneRulesMatchParse and
// FuzzPhoneRules hold the two paths to the same answers.
//
// IsValidNumber, the other half of the cost, tests a national number
// against the patterns of its calling code's metadata (a dozen per region,
// and for a code several regions share, each region's leading digits too),
// and its answer depends on nothing else. Each pattern, as an automaton
// (digitDFA), says how many leading digits of a number it looks at before
// only the length matters; two numbers of one length that agree on the
// most any pattern looks at get the same answer. verdicts remembers
// IsValidNumber's answers by those leading digits, so +91 98765 43210 and
// +91 98123 45678 cost one call between them. TestDigitDFAMatchesRegexp
// and TestDigitDFASettled hold the automata to Go's regexp on every
// pattern; TestVerdictKeysAreSound holds the keys to the library.
//
// A phoneRules is safe for concurrent use: normalisers share one.
type phoneRules struct {
	region *regionRules // the default region's; nil when it is unknown
	// countries caches each calling code's rules as first met; a slot
	// holds a zero countryRules when the code is not one.
	countries [1000]atomic.Pointer[countryRules]
	meta      metadataIndex
	// verdicts is a direct-mapped cache of IsValidNumber's answers: a slot
	// holds a whole key and its answer in one word, so racing writers can
	// only lose an answer, never mix two.
	verdicts [1 << 16]atomic.Uint64
}

// regionRules are what reading a number without + in a region needs.
type regionRules struct {
	code     string // the region, such as IN
	ccDigits string
	idd      *regexp.Regexp // its international prefix, as Parse compiles it
	country  *countryRules  // its own metadata's national prefix rules (no patterns: see isValid)
	// general is the region's general number pattern, when the region is
	// its code's main one: what ownCode needs to read a number that starts
	// with the code. nil sends such numbers to Parse.
	general *digitDFA
}

// countryRules are a calling code's national prefix rules, from the
// metadata Parse uses for numbers under that code, and the patterns
// IsValidNumber tests its numbers against.
type countryRules struct {
	cc        int
	ccDigits  string
	prefix    *regexp.Regexp // ^(?:national prefix for parsing); nil when none
	transform bool           // a national prefix transform rule exists
	// patterns are the automata of the number patterns IsValidNumber reads
	// for the code; nil when validity is not cached for it (a pattern would
	// not compile to a small automaton).
	patterns []*digitDFA
}

// metadataIndex finds the metadata phonenumbers holds for a region or a
// non-geographic calling code.
type metadataIndex struct {
	regions map[string]*phonenumbers.PhoneMetadata
	nonGeo  map[int]*phonenumbers.PhoneMetadata
}

// newPhoneRules prepares the rules for reading numbers in region (upper
// case, as dialDigits returns it).
func newPhoneRules(region string) *phoneRules {
	p := &phoneRules{meta: loadMetadataIndex()}
	cc := phonenumbers.GetCountryCodeForRegion(region)
	if cc == 0 {
		return p
	}
	m := p.meta.regions[region]
	if m == nil {
		return p
	}
	idd, err := regexp.Compile(m.GetInternationalPrefix())
	if err != nil {
		return p
	}
	own, ok := newCountryRules(cc, m)
	if !ok {
		return p
	}
	p.region = &regionRules{code: region, ccDigits: strconv.Itoa(cc), idd: idd, country: own}
	if g := m.GetGeneralDesc().GetNationalNumberPattern(); g != "" && phonenumbers.GetRegionCodeForCountryCode(cc) == region {
		if d, ok := compileDigitDFA(g, maxPatternStates); ok {
			p.region.general = d
		}
	}
	return p
}

// of returns the metadata of region, one of cc's: the non-geographic
// entity's for "001" (codes such as +800). nil when there is none.
func (idx metadataIndex) of(region string, cc int) *phonenumbers.PhoneMetadata {
	if region == "001" {
		return idx.nonGeo[cc]
	}
	return idx.regions[region]
}

func loadMetadataIndex() metadataIndex {
	idx := metadataIndex{regions: map[string]*phonenumbers.PhoneMetadata{}, nonGeo: map[int]*phonenumbers.PhoneMetadata{}}
	coll, err := phonenumbers.MetadataCollection()
	if err != nil {
		return idx // every number then goes to Parse
	}
	for _, m := range coll.GetMetadata() {
		if m.GetId() == "001" {
			idx.nonGeo[int(m.GetCountryCode())] = m
		} else {
			idx.regions[m.GetId()] = m
		}
	}
	return idx
}

func newCountryRules(cc int, m *phonenumbers.PhoneMetadata) (*countryRules, bool) {
	c := &countryRules{cc: cc, ccDigits: strconv.Itoa(cc), transform: m.GetNationalPrefixTransformRule() != ""}
	if np := m.GetNationalPrefixForParsing(); np != "" {
		re, err := regexp.Compile("^(?:" + np + ")") // as Parse compiles it
		if err != nil {
			return nil, false
		}
		c.prefix = re
	}
	return c, true
}

// country returns cc's rules, or nil when cc is not a calling code (or its
// metadata cannot be read, which sends its numbers to Parse).
func (p *phoneRules) country(cc int) *countryRules {
	if cc <= 0 || cc >= len(p.countries) {
		return nil
	}
	if c := p.countries[cc].Load(); c != nil {
		if c.cc == 0 {
			return nil
		}
		return c
	}
	c := p.loadCountry(cc)
	if c == nil {
		p.countries[cc].Store(&countryRules{}) // remembered as "not a code"
		return nil
	}
	p.countries[cc].Store(c)
	return c
}

func (p *phoneRules) loadCountry(cc int) *countryRules {
	// The same test Parse's country-code extraction makes.
	if len(phonenumbers.GetRegionCodesForCountryCode(cc)) == 0 {
		return nil
	}
	// The metadata Parse strips the national prefix with: the main region's,
	// or the non-geographic entity's for codes such as +800.
	m := p.meta.of(phonenumbers.GetRegionCodeForCountryCode(cc), cc)
	if m == nil {
		return nil
	}
	c, ok := newCountryRules(cc, m)
	if !ok {
		return nil
	}
	c.patterns = p.validityPatterns(cc)
	return c
}

// maxPatternStates bounds an automaton: phone patterns are trees of
// leading digits with a fixed-length tail, a few thousand states at most.
const maxPatternStates = 1 << 13

// validityPatterns compiles every pattern IsValidNumber may test a number
// under cc against, or returns nil. With one region that is its general
// pattern and each number type's. With several (+1, +44, +7…), it first
// picks the region: the first whose leading-digits pattern matches the
// start of the number or, when it has none, for which the number is
// valid; so every region's patterns count, and its leading digits as a
// pattern for a number that starts with them.
func (p *phoneRules) validityPatterns(cc int) []*digitDFA {
	var out []*digitDFA
	for _, region := range phonenumbers.GetRegionCodesForCountryCode(cc) {
		m := p.meta.of(region, cc)
		if m == nil {
			return nil
		}
		if ld := m.GetLeadingDigits(); ld != "" {
			d, ok := compileDigitDFA("(?:"+ld+")[0-9]*", maxPatternStates)
			if !ok {
				return nil
			}
			out = append(out, d)
		}
		patterns, ok := metadataPatterns(m)
		if !ok {
			return nil
		}
		out = append(out, patterns...)
	}
	return out
}

// metadataPatterns compiles the patterns getNumberTypeHelper reads: the
// general one and each number type's.
func metadataPatterns(m *phonenumbers.PhoneMetadata) ([]*digitDFA, bool) {
	var out []*digitDFA
	for _, desc := range []*phonenumbers.PhoneNumberDesc{
		m.GetGeneralDesc(), m.GetPremiumRate(), m.GetTollFree(), m.GetSharedCost(), m.GetVoip(),
		m.GetPersonalNumber(), m.GetPager(), m.GetUan(), m.GetVoicemail(), m.GetFixedLine(), m.GetMobile(),
	} {
		pattern := desc.GetNationalNumberPattern()
		if pattern == "" {
			continue // ^(?:)$ matches no number
		}
		d, ok := compileDigitDFA(pattern, maxPatternStates)
		if !ok {
			return nil, false
		}
		out = append(out, d)
	}
	return out, true
}

// Verdict keys: a calling code, a length, and the leading digits that
// decide, packed with the answer into one word.
const (
	maxVerdictDigits = 12 // 10^12 < 2^40
	verdictValid     = 1 << 62
	verdictPresent   = 1 << 63
)

// verdictKey is the key under which IsValidNumber's answer for nsn (under
// c's code) is kept; ok is false when it is not kept.
func (c *countryRules) verdictKey(nsn []byte) (key uint64, ok bool) {
	if c.patterns == nil {
		return 0, false
	}
	k := 0
	for _, d := range c.patterns {
		k = max(k, d.settled(nsn))
	}
	if k > maxVerdictDigits {
		return 0, false
	}
	var prefix uint64
	for _, b := range nsn[:k] {
		prefix = prefix*10 + uint64(b-'0')
	}
	// cc: 10 bits, length: 5, digits that decide: 4, their value: 40.
	return uint64(c.cc) | uint64(len(nsn))<<10 | uint64(k)<<15 | prefix<<19, true
}

// isValid is IsValidNumber(num), nsn being num's national number, answered
// from verdicts when an earlier number settled it. c may be a region's own
// rules (numbers written without +): the patterns are always the code's.
func (p *phoneRules) isValid(c *countryRules, nsn []byte, num *phonenumbers.PhoneNumber) bool {
	if c.patterns == nil {
		if code := p.country(c.cc); code != nil {
			c = code
		}
	}
	key, ok := c.verdictKey(nsn)
	if !ok {
		return phonenumbers.IsValidNumber(num)
	}
	slot := &p.verdicts[mix(key)>>48]
	if v := slot.Load(); v&verdictPresent != 0 && v&(verdictValid-1) == key {
		return v&verdictValid != 0
	}
	valid := phonenumbers.IsValidNumber(num)
	v := key | verdictPresent
	if valid {
		v |= verdictValid
	}
	slot.Store(v)
	return valid
}

// normalize is NormalizePhone, with its answers for the common shapes
// found without Parse. region is the one the rules were made for.
func (p *phoneRules) normalize(raw, defaultRegion string) (string, error) {
	d, region, err := dialDigits(raw, defaultRegion)
	if err != nil {
		return "", err
	}
	if e164, err, ok := p.fast(d.bytes(), region); ok {
		return e164, err
	}
	return parsePhone(d.String(), region)
}

// fast reads digits (a + or a digit first, at least three digits) the way
// Parse would, and judges the number with IsValidNumber. ok is false when
// it cannot be sure of Parse's reading: the caller must then parse.
func (p *phoneRules) fast(digits []byte, region string) (e164 string, err error, ok bool) {
	if digits[0] == '+' {
		if len(digits)-1 <= phonenumbers.MIN_LENGTH_FOR_NSN {
			return "", nil, false
		}
		c, nsn := p.splitCallingCode(digits[1:])
		if c == nil {
			return "", nil, false
		}
		return p.national(c, nsn)
	}
	r := p.region
	if r == nil || r.code != region {
		return "", nil, false
	}
	// Parse looks for the region's IDD at the start, and strips it unless
	// a 0 follows (country codes do not start with 0).
	if loc := r.idd.FindIndex(digits); loc != nil && loc[0] == 0 {
		rest := digits[loc[1]:]
		if len(rest) <= phonenumbers.MIN_LENGTH_FOR_NSN || rest[0] == '0' {
			return "", nil, false
		}
		c, nsn := p.splitCallingCode(rest)
		if c == nil {
			return "", nil, false
		}
		return p.national(c, nsn)
	}
	if len(digits) >= len(r.ccDigits) && string(digits[:len(r.ccDigits)]) == r.ccDigits {
		return p.ownCode(r, digits)
	}
	return p.national(r.country, digits)
}

// ownCode reads a number without + that starts with the region's own
// calling code as Parse does: as the code written without + when the
// number, not valid by the general pattern as it stands, is valid without
// the code (and its national prefix), or when it is too long to be a
// national number; otherwise as a national number.
func (p *phoneRules) ownCode(r *regionRules, digits []byte) (string, error, bool) {
	g := r.general
	if g == nil {
		return "", nil, false
	}
	without, ok := r.country.stripForCode(digits[len(r.ccDigits):], g)
	if !ok {
		return "", nil, false
	}
	whole, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil {
		return "", nil, false
	}
	cc := int32(r.country.cc)
	// The library's length test for the whole number, under the region's
	// metadata (it is the code's main region).
	tooLong := phonenumbers.IsPossibleNumberWithReason(&phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &whole}) == phonenumbers.TOO_LONG
	if !g.matches(digits) && g.matches(without) || tooLong {
		return p.national(r.country, without)
	}
	return p.national(r.country, digits)
}

// stripForCode strips the national prefix from n as Parse does while
// deciding whether a number starts with the country code: whenever the
// prefix matches, unless n matches the general pattern g and the rest does
// not. ok is false when a transform rule would apply.
func (c *countryRules) stripForCode(n []byte, g *digitDFA) ([]byte, bool) {
	if c.prefix == nil {
		return n, true
	}
	loc := c.prefix.FindSubmatchIndex(n)
	if loc == nil {
		return n, true
	}
	if c.transform && loc[len(loc)-2] >= 0 {
		return nil, false
	}
	if rest := n[loc[1]:]; !g.matches(n) || g.matches(rest) {
		return rest, true
	}
	return n, true
}

// splitCallingCode finds the calling code at the start of digits as Parse
// does: the first of its one-, two- and three-digit prefixes that is one.
func (p *phoneRules) splitCallingCode(digits []byte) (*countryRules, []byte) {
	if len(digits) == 0 || digits[0] == '0' {
		return nil, nil
	}
	cc := 0
	for i := 0; i < phonenumbers.MAX_LENGTH_COUNTRY_CODE && i < len(digits); i++ {
		cc = cc*10 + int(digits[i]-'0')
		if c := p.country(cc); c != nil {
			return c, digits[i+1:]
		}
	}
	return nil, nil
}

// national finishes the reading once the calling code is known: nsn is the
// number after it, national prefix not yet stripped.
func (p *phoneRules) national(c *countryRules, nsn []byte) (string, error, bool) {
	if len(nsn) < phonenumbers.MIN_LENGTH_FOR_NSN || len(nsn) > phonenumbers.MAX_LENGTH_FOR_NSN {
		return "", nil, false
	}
	strip := 0
	if c.prefix != nil {
		if loc := c.prefix.FindSubmatchIndex(nsn); loc != nil {
			// Parse applies the transform rule when there is one and the
			// prefix's last group took part (with no groups, always).
			if c.transform && loc[len(loc)-2] >= 0 {
				return "", nil, false
			}
			strip = loc[1]
		}
	}
	rest := nsn[strip:]
	if len(rest) < phonenumbers.MIN_LENGTH_FOR_NSN || rest[0] == '0' {
		return "", nil, false // leading zeros, or too short: Parse's business
	}
	national, err := strconv.ParseUint(string(rest), 10, 64)
	if err != nil {
		return "", nil, false
	}
	cc := int32(c.cc)
	num := &phonenumbers.PhoneNumber{CountryCode: &cc, NationalNumber: &national}
	if p.isValid(c, rest, num) {
		b := make([]byte, 0, 1+len(c.ccDigits)+len(rest))
		b = append(append(append(b, '+'), c.ccDigits...), rest...)
		return string(b), nil, true
	}
	if strip > 0 {
		// Not valid with the prefix stripped: Parse might have kept it.
		return "", nil, false
	}
	return "", invalidPhone(num), true
}
