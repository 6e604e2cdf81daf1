package roster

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// reason is a short, human explanation of why a value was refused. A constant
// reason becomes an error without allocating, which keeps bad rows cheap too.
type reason string

func (r reason) Error() string { return string(r) }

const (
	maxPhoneDigits = 19  // E.164 allows 15; leave room for an IDD such as 0091
	maxNameRunes   = 64  // what the Exotel dashboard accepts for names
	maxEmailLen    = 254 // RFC 5321 path limit, less the angle brackets
	maxLocalLen    = 64
	maxLabelLen    = 63
)

// DefaultRegion is the region numbers without a country code are read in when
// Options.DefaultRegion or NormalizePhone's defaultRegion is empty.
const DefaultRegion = "IN"

// CheckRegion reports whether region is a two-letter region phonenumbers knows,
// such as IN or GB, so that a bad --region flag fails the run once, not every row.
func CheckRegion(region string) error {
	if phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region)) == 0 {
		return reason("unknown region " + strconv.Quote(region) + ": use a two-letter country code such as IN")
	}
	return nil
}

// NormalizePhone returns raw in E.164 form (+919876543210). Numbers without a
// leading + are read in defaultRegion (IN when empty), so 09876543210,
// 0091 98765 43210 and 919876543210 all work. Callers pass non-empty values;
// a sip: URI is not a phone number (see IsSIPURI).
//
// NormalizePhone asks phonenumbers to parse every number; a Validator
// answers the common shapes faster with the same results (see phoneRules).
func NormalizePhone(raw, defaultRegion string) (string, error) {
	d, region, err := dialDigits(raw, defaultRegion)
	if err != nil {
		return "", err
	}
	return parsePhone(d.String(), region)
}

// dialable is a phone cell reduced to an optional leading '+' and its ASCII
// digits: what phonenumbers is given to parse.
type dialable struct {
	buf [maxPhoneDigits + 1]byte
	n   int
}

func (d *dialable) bytes() []byte  { return d.buf[:d.n] }
func (d *dialable) String() string { return string(d.buf[:d.n]) }
func (d *dialable) plus() bool     { return d.n > 0 && d.buf[0] == '+' }

// dialDigits checks a phone cell's characters and returns its digits, and
// the region (upper case, DefaultRegion when empty) to read it in.
func dialDigits(raw, defaultRegion string) (dialable, string, error) {
	var d dialable
	s := trimCell(raw)
	if s == "" {
		return d, "", reason("is empty")
	}
	// Check the characters ourselves: phonenumbers maps letters to digits
	// (+91-98765-ABCDE would pass) and reads x123 as an extension, and neither can
	// be dialled as a device.
	digits := 0
	letters, misplacedPlus := false, false
	bad := rune(-1)
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
			if d.n < len(d.buf) {
				d.buf[d.n] = byte(r)
				d.n++
			}
		case r == '+':
			if d.n == 0 { // before any digit: "+91 …" and "(+91) …" alike
				d.buf[0] = '+'
				d.n = 1
			} else {
				misplacedPlus = true
			}
		case r == '-' || r == '.' || r == '(' || r == ')' || r == '/' || unicode.IsSpace(r):
			// separators
		case unicode.IsLetter(r):
			letters = true
		default:
			if bad < 0 {
				bad = r
			}
		}
	}
	plus := d.plus()
	switch {
	case isDecimalNumber(s):
		return d, "", reason("ends in a decimal point (such as .0), so a spreadsheet has stored it as a number: format the column as text and export again")
	case letters && isScientific(s):
		return d, "", reason("is in scientific notation, so a spreadsheet has rounded it and lost digits: format the column as text and export again")
	case letters:
		return d, "", reason("letters are not allowed in a phone number")
	case bad >= 0:
		return d, "", reason("the character " + strconv.QuoteRune(bad) + " is not allowed in a phone number")
	case misplacedPlus:
		return d, "", reason("+ is only allowed at the start of a phone number")
	case digits == 0:
		return d, "", reason("has no digits")
	case digits > maxPhoneDigits:
		return d, "", reason("too long to be a phone number")
	case plus && digits > 0 && d.buf[1] == '0':
		return d, "", reason("country codes do not start with 0")
	case digits < 3:
		return d, "", reason("too short to be a phone number")
	}

	region := strings.ToUpper(defaultRegion)
	if region == "" {
		region = DefaultRegion
	}
	if !plus && phonenumbers.GetCountryCodeForRegion(region) == 0 {
		return d, "", reason("has no country code, and the default region " + strconv.Quote(defaultRegion) + " is unknown: write it as +<country code> <number>")
	}
	return d, region, nil
}

// parsePhone has phonenumbers parse digits (dialDigits' result) in region
// and judges the number. The library strips punctuation itself; handing it
// only the digits skips that work and cannot change the result.
func parsePhone(digits, region string) (string, error) {
	num, err := phonenumbers.Parse(digits, region)
	switch err {
	case nil:
	case phonenumbers.ErrInvalidCountryCode:
		return "", reason("the country code is not valid")
	case phonenumbers.ErrNumTooLong:
		return "", reason("too long to be a phone number")
	case phonenumbers.ErrTooShortNSN, phonenumbers.ErrTooShortAfterIDD, phonenumbers.ErrNotANumber:
		return "", reason("too short to be a phone number")
	default:
		return "", reason("not a phone number")
	}
	if phonenumbers.IsValidNumber(num) {
		return phonenumbers.Format(num, phonenumbers.E164), nil
	}
	return "", invalidPhone(num)
}

// invalidPhone says why phonenumbers found num not valid. Only then is it
// asked: a valid number is always a possible one, so the happy path skips
// this second pass over the metadata.
func invalidPhone(num *phonenumbers.PhoneNumber) error {
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.TOO_SHORT:
		return reason("too short to be a phone number")
	case phonenumbers.TOO_LONG:
		return reason("too long to be a phone number")
	case phonenumbers.INVALID_COUNTRY_CODE:
		return reason("the country code is not valid")
	case phonenumbers.INVALID_LENGTH:
		return reason("has the wrong number of digits for " + regionName(num))
	}
	return reason("not a valid phone number for " + regionName(num))
}

// regionName names the country of a number for messages: its region, or its
// country code when that is not one region (+800 and the like).
func regionName(num *phonenumbers.PhoneNumber) string {
	cc := int(num.GetCountryCode())
	if r := phonenumbers.GetRegionCodeForCountryCode(cc); r != "ZZ" && r != "001" {
		return r
	}
	return "+" + strconv.Itoa(cc)
}

// isScientific recognises a number a spreadsheet has rewritten in scientific
// notation, such as 9.87654E+09 or 9,87654E+09: its digits are lost for good.
func isScientific(s string) bool {
	i := strings.IndexAny(s, "eE")
	if i <= 0 {
		return false
	}
	mant, exp := s[:i], s[i+1:]
	if exp != "" && (exp[0] == '+' || exp[0] == '-') {
		exp = exp[1:]
	}
	if exp == "" || strings.Trim(exp, "0123456789") != "" {
		return false
	}
	sep := false
	for j := 0; j < len(mant); j++ {
		switch c := mant[j]; {
		case c >= '0' && c <= '9':
		case (c == '.' || c == ',') && !sep && j > 0:
			sep = true
		default:
			return false
		}
	}
	return true
}

// isDecimalNumber recognises a phone number a spreadsheet has turned into a
// decimal: 9845012345.0, +919845012345.00. Only a run of digits with a dot
// and zeros after it: "98765.43210" is a number written with dots, not this.
func isDecimalNumber(s string) bool {
	i := strings.LastIndexByte(s, '.')
	if i < 0 || i == len(s)-1 || strings.Trim(s[i+1:], "0") != "" {
		return false
	}
	digits := strings.TrimPrefix(s[:i], "+")
	return len(digits) >= 6 && strings.Trim(digits, "0123456789") == ""
}

// IsSIPURI reports whether a phone cell holds a SIP address (sip:agent42) rather
// than a number. The API creates SIP devices by itself, so such a cell means
// "no phone to send".
func IsSIPURI(s string) bool {
	s = trimCell(s)
	return len(s) >= 4 && strings.EqualFold(s[:4], "sip:")
}

// CheckSIP checks a cell that IsSIPURI accepted: sip: followed by printable
// ASCII without spaces.
func CheckSIP(s string) error { return checkSIP(trimCell(s)) }

// checkSIP accepts sip: followed by printable ASCII without spaces.
func checkSIP(s string) error {
	rest := s[min(4, len(s)):]
	if rest == "" {
		return reason("not a valid SIP address: nothing after sip:")
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c <= ' ' || c >= 0x7f {
			return reason("not a valid SIP address: use sip:name with no spaces")
		}
	}
	return nil
}

// NormalizeEmail checks that raw is one plain address and returns it trimmed but
// otherwise as written: plus-addressing (name+tag@corp.com) is how the dashboard
// guide adds people without a mailbox, and the case is the user's to choose. It
// accepts the dot-atom form only; quoted local parts and IP domains are refused.
func NormalizeEmail(raw string) (string, error) {
	s := trimCell(raw)
	if s == "" {
		return "", reason("is empty")
	}
	at, ats := -1, 0
	var angle, space, ctrl, nonASCII bool
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '@':
			ats++
			at = i
		case c == '<' || c == '>':
			angle = true
		case c == ' ' || c == '\t':
			space = true
		case c < ' ' || c == 0x7f:
			ctrl = true
		case c >= utf8.RuneSelf:
			nonASCII = true
		}
	}
	switch {
	case angle:
		return "", reason("write the address alone, without a display name or < >")
	case space || (nonASCII && strings.IndexFunc(s, unicode.IsSpace) >= 0):
		return "", reason("spaces are not allowed in an email address")
	case ctrl:
		return "", reason("control characters are not allowed in an email address")
	case nonASCII:
		return "", reason("non-ASCII characters are not allowed in an email address")
	case len(s) > maxEmailLen:
		return "", reason("is longer than 254 characters")
	case ats == 0:
		return "", reason("has no @")
	case ats > 1:
		return "", reason("has more than one @ (one address per row)")
	}
	if err := checkLocal(s[:at]); err != nil {
		return "", err
	}
	if err := checkDomain(s[at+1:]); err != nil {
		return "", err
	}
	return s, nil
}

func checkLocal(local string) error {
	switch {
	case local == "":
		return reason("nothing before the @")
	case len(local) > maxLocalLen:
		return reason("the part before the @ is longer than 64 characters")
	case local[0] == '.' || local[len(local)-1] == '.':
		return reason("the part before the @ cannot start or end with a dot")
	case strings.Contains(local, ".."):
		return reason("the part before the @ has two dots in a row")
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; !isAtext(c) && c != '.' {
			return reason("the character " + strconv.QuoteRune(rune(c)) + " is not allowed before the @")
		}
	}
	return nil
}

// isAtext is RFC 5322 atext: what an unquoted local part may hold besides dots.
func isAtext(c byte) bool {
	if isAlnum(c) {
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '/', '=', '?', '^', '_', '`', '{', '|', '}', '~', '-':
		return true
	}
	return false
}

func checkDomain(domain string) error {
	if domain == "" {
		return reason("nothing after the @")
	}
	if strings.IndexByte(domain, '.') < 0 {
		return reason("the domain has no dot (like example.com)")
	}
	for label := range strings.SplitSeq(domain, ".") {
		switch {
		case label == "":
			return reason("the domain has an empty part (a dot at the start or end, or two dots in a row)")
		case len(label) > maxLabelLen:
			return reason("a part of the domain is longer than 63 characters")
		case label[0] == '-' || label[len(label)-1] == '-':
			return reason("a part of the domain cannot start or end with a hyphen")
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' {
				return reason("the character " + strconv.QuoteRune(rune(c)) + " is not allowed in the domain")
			}
		}
	}
	tld := domain[strings.LastIndexByte(domain, '.')+1:]
	if len(tld) < 2 || strings.IndexFunc(tld, func(r rune) bool { return !isAlpha(byte(r)) }) >= 0 {
		return reason("the domain must end in a name of two or more letters (like .com)")
	}
	return nil
}

func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isAlnum(c byte) bool { return isAlpha(c) || (c >= '0' && c <= '9') }

// EmailKey is the form of an email used to compare addresses: mail systems treat
// them case-insensitively, and so does Exotel's "email already exists".
func EmailKey(email string) string { return strings.ToLower(email) }

// NormalizeRole maps a role cell to the API's role: admin, supervisor or user.
// Empty means user (the API default), and "agent", the guides' name for the
// lowest role, is user too.
func NormalizeRole(raw string) (string, error) {
	s := trimCell(raw)
	switch {
	case s == "", strings.EqualFold(s, "user"), strings.EqualFold(s, "agent"):
		return "user", nil
	case strings.EqualFold(s, "admin"):
		return "admin", nil
	case strings.EqualFold(s, "supervisor"):
		return "supervisor", nil
	}
	return "", reason("not a role: use admin, supervisor, user (or agent)")
}

// SplitName splits a full name into first and last name. "Last, First" (one
// comma) is read as written; otherwise the last word is the last name and the rest
// the first name ("Mary Ann Smith" → "Mary Ann", "Smith"). One word is a first
// name only. Runs of whitespace become one space.
func SplitName(full string) (first, last string) {
	s := collapseSpaces(full)
	if i := strings.IndexByte(s, ','); i >= 0 && strings.IndexByte(s[i+1:], ',') < 0 {
		return strings.TrimSpace(s[i+1:]), strings.TrimSpace(s[:i])
	}
	if i := strings.LastIndexByte(s, ' '); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// collapseSpaces trims s and reduces each run of whitespace to one space. Names
// are usually clean already, so that case returns s without allocating.
func collapseSpaces(s string) string {
	s = trimCell(s)
	prev := false
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (r != ' ' || prev) {
			return strings.Join(strings.FieldsFunc(s, unicode.IsSpace), " ")
		}
		prev = sp
	}
	return s
}

// CheckName checks a first or last name that is already trimmed. Any script is
// fine, and so are apostrophes, hyphens, dots and digits after the first letter;
// what is refused is what shows a wrong column or an unsafe cell: no letter at all,
// an email, markup, control characters, or a leading formula character.
func CheckName(s string) error {
	if s == "" {
		return reason("is required")
	}
	if !utf8.ValidString(s) {
		return reason("is not valid UTF-8 text: save the file as \"CSV UTF-8\"")
	}
	if err := checkFormula(s); err != nil {
		return err
	}
	runes, letter := 0, false
	var prev rune
	for _, r := range s {
		runes++
		switch {
		case r == '\n' || r == '\r':
			return reason("contains a line break (is a quote left open?)")
		case unicode.IsControl(r):
			return reason("contains a control character")
		case r == utf8.RuneError:
			return reason("contains \uFFFD, a character that could not be read: check the file's encoding (--encoding)")
		case isInvisible(r, prev):
			return invisibleReason(r)
		case r == '@':
			return reason("contains @: this looks like an email address, not a name")
		case r == '<' || r == '>':
			return reason("cannot contain < or >")
		case !letter && unicode.IsLetter(r):
			letter = true
		}
		prev = r
	}
	if runes > maxNameRunes {
		return reason("is longer than 64 characters")
	}
	if !letter {
		return reason("must contain a letter")
	}
	return nil
}

// CheckDeviceName checks the optional, friendly device name: the same
// formula, control and invisible-character checks as names, as it is shown
// beside them.
func CheckDeviceName(s string) error {
	if !utf8.ValidString(s) {
		return reason("is not valid UTF-8 text: save the file as \"CSV UTF-8\"")
	}
	if err := checkFormula(s); err != nil {
		return err
	}
	runes := 0
	var prev rune
	for _, r := range s {
		runes++
		switch {
		case unicode.IsControl(r):
			return reason("contains a control character")
		case r == utf8.RuneError:
			return reason("contains \uFFFD, a character that could not be read: check the file's encoding (--encoding)")
		case isInvisible(r, prev):
			return invisibleReason(r)
		}
		prev = r
	}
	if runes > maxNameRunes {
		return reason("is longer than 64 characters")
	}
	return nil
}

// checkFormula refuses a cell a spreadsheet would run as a formula.
func checkFormula(s string) error {
	if s == "" {
		return nil
	}
	switch s[0] {
	case '=', '+', '-', '@':
		return reason("cannot start with =, +, - or @ (a spreadsheet formula)")
	}
	return nil
}

// isInvisible reports a format character that shows nothing but changes how
// text reads: the bidirectional overrides and isolates (U+202A–U+202E,
// U+2066–U+2069) that can make a name display as another, marks, zero-width
// spaces, the soft hyphen. The zero-width joiner and non-joiner are part of
// how Indic and Arabic names are written (Malayalam's chillu ends a word
// with one), so they pass after a letter or mark of such a script.
func isInvisible(r, prev rune) bool {
	if r < 0x80 || !unicode.Is(unicode.Cf, r) {
		return false
	}
	if r == '\u200c' || r == '\u200d' {
		return !joins(prev)
	}
	return true
}

// joins is a letter or mark of a script that uses the zero-width (non-)joiner.
func joins(r rune) bool {
	return r >= 0x0300 && (unicode.IsLetter(r) || unicode.IsMark(r)) && !unicode.Is(unicode.Latin, r)
}

func invisibleReason(r rune) error {
	what := "an invisible formatting character"
	switch {
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		what = "a hidden text-direction character"
	case r == 0x200b || r == 0x200c || r == 0x200d || r == 0x2060 || r == 0xfeff:
		what = "a zero-width character"
	}
	return reason("contains " + what + " (" + fmt.Sprintf("U+%04X", r) + "), which can disguise the text: remove it")
}

// spreadsheetError reports whether a cell is a spreadsheet's error value
// (#N/A, #REF!, …): a formula that failed, so the cell holds no value. In a
// CSV it arrives as that text, in an .xlsx as the error's cached value.
func spreadsheetError(s string) bool {
	if len(s) < 4 || s[0] != '#' {
		return false
	}
	switch strings.ToUpper(s) {
	case "#N/A", "#N/A!", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!",
		"#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!", "#ERROR!":
		return true
	}
	return false
}

// IsSpreadsheetError reports whether a cell holds a spreadsheet error value
// such as #N/A, which makes the field it is in invalid.
func IsSpreadsheetError(s string) bool { return spreadsheetError(trimCell(s)) }
