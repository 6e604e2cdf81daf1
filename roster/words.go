package roster

import (
	"strings"
	"unicode"
)

// Header recognition by words. HR systems and spreadsheets name the same
// column many ways ("Official Email", "Email Address [Required]", "Mobile No.",
// "Phone (Mobile)", "EmpName"), so a header is split into words, annotations
// are dropped, and the words decide the field and how strongly the column is
// preferred when several could fill it.

// Ranks: when several columns could fill one field, the lowest rank wins.
const (
	rankAPI       = 0 // the API's own name, as export writes it: device_contact_uri
	rankPreferred = 1 // work email, mobile phone, preferred name
	rankPlain     = 2 // "Email", "Phone", "First Name"
	rankLesser    = 3 // user name as email, office phone, legal name
	rankLast      = 4 // personal or alternate email, home or alternate phone
)

// colKind says what a header is.
type colKind int

const (
	kindUnknown colKind = iota // matches nothing: listed as ignored
	kindField                  // fills a field
	kindQuiet                  // exoroster's own output columns: expected, never listed
	kindOther                  // another person's contact (manager, emergency) or a fax
)

// colClass is what classify found out about one header.
type colClass struct {
	kind  colKind
	field Field
	rank  int
	// why is a short phrase for messages: "a mobile number", "a work email",
	// "another person's email".
	why string
}

// classify recognises one header cell. It is pure and cheap enough to call on
// every header cell of a hostile file.
func classify(name string) colClass {
	// Every header the exact table knows keeps its field; the words only add
	// a rank, so "Mobile" still beats "Phone".
	if k := headerKey(name); k == "" {
		return colClass{}
	} else if isQuietKey(k) {
		return colClass{kind: kindQuiet}
	} else if f, ok := fieldForKey(k); ok {
		return rankExact(f, headerWords(name))
	}
	w := headerWords(name)
	if len(w) == 0 {
		return colClass{}
	}
	k := strings.Join(w, " ")
	if isQuietKey(k) {
		return colClass{kind: kindQuiet}
	}
	if f, ok := fieldForKey(k); ok {
		return rankExact(f, w)
	}
	return classifyWords(w)
}

// rankExact ranks a header the exact table recognised.
func rankExact(f Field, w []string) colClass {
	c := classifyWords(w)
	if c.kind == kindField && c.field == f {
		return c
	}
	if f == FieldPhone || f == FieldNewPhone {
		if len(w) >= 3 && w[len(w)-3] == "device" && w[len(w)-2] == "contact" && w[len(w)-1] == "uri" {
			// The API's own name, as export writes it: what the user meant.
			return colClass{kind: kindField, field: f, rank: rankAPI, why: "the API's device_contact_uri"}
		}
		return colClass{kind: kindField, field: f, rank: rankPlain, why: "a phone number"}
	}
	return colClass{kind: kindField, field: f, rank: rankPlain, why: "a " + strings.ReplaceAll(f.String(), "_", " ")}
}

// wordSet is the features of a header's words.
type wordSet struct {
	email, phone, mobile, fax              bool
	name, first, last, middle, full        bool
	preferred, legal, display              bool
	work, personal, lesser, upn, user, new bool
	official, workPlace                    bool   // "official" is also said of names; "company" is not
	other                                  string // the other person, when the column is theirs
	leftover                               bool   // a word that is not about a field
}

func features(w []string) wordSet {
	var s wordSet
	for i, word := range w {
		switch word {
		case "email":
			s.email = true
		case "phone":
			s.phone = true
		case "mobile":
			s.mobile = true
		case "fax":
			s.fax = true
		case "name":
			s.name = true
		case "first", "given", "forename", "fname":
			s.first = true
		case "last", "surname", "lname", "family":
			s.last = true
		case "middle":
			s.middle = true
		case "full":
			s.full = true
		case "preferred", "nick", "nickname", "known", "chosen":
			s.preferred = true
		case "as":
			// "Known As", "Name as per Aadhaar"
		case "legal", "registered":
			s.legal = true
		case "display":
			s.display = true
		case "official":
			s.work, s.official = true, true
		case "work", "office", "company", "corporate", "business", "professional",
			"organisation", "organization", "org", "desk", "direct":
			s.work, s.workPlace = true, true
		case "personal", "private":
			s.personal = true
		case "home", "alternate", "alternative", "alt", "secondary", "other", "additional",
			"backup", "recovery", "second", "2", "landline", "residence", "residential", "fixed":
			s.lesser = true
		case "principal", "upn":
			s.upn = true
		case "user", "username":
			s.user = true
		case "new":
			s.new = i == 0
			s.leftover = s.leftover || i != 0
		case "number", "address", "id", "primary", "main", "default", "employee", "staff",
			"agent", "associate", "member", "worker", "person", "candidate", "of", "the", "for",
			"contact":
			// carry no meaning of their own; "contact" is decided below
		default:
			if isOtherPerson(word) {
				if s.other == "" {
					s.other = word
				}
				continue
			}
			s.leftover = true
		}
	}
	return s
}

// isOtherPerson reports words that make a contact column someone else's.
func isOtherPerson(w string) bool {
	switch w {
	case "manager", "mgr", "reporting", "supervisor", "lead", "head", "hod", "hr", "hrbp",
		"emergency", "father", "mother", "parent", "parents", "spouse", "husband", "wife",
		"guardian", "nominee", "kin", "relative", "reference", "referee", "referrer",
		"referral", "mentor", "buddy", "approver", "sponsor", "assistant":
		return true
	}
	return false
}

// classifyWords decides a header from its words alone.
func classifyWords(w []string) colClass {
	s := features(w)
	contact := has(w, "contact")
	phoneish := s.phone || s.mobile || (contact && !s.email && !s.name)
	nameish := s.name || s.first || s.last || s.middle || s.full
	if s.leftover {
		return colClass{}
	}
	switch {
	case s.fax && !s.email && !nameish:
		return colClass{kind: kindOther, why: "a fax number"}
	case s.email && !s.phone && !s.mobile && !nameish:
		if s.other != "" {
			return colClass{kind: kindOther, why: "another person's email"}
		}
		return emailClass(s)
	case phoneish && !s.email && !nameish:
		if s.other != "" {
			return colClass{kind: kindOther, why: "another person's phone"}
		}
		return phoneClass(s)
	case s.new || s.fax || s.email || phoneish:
		return colClass{} // "Email or Phone", "New Name": not one field
	case s.user && s.name && !s.first && !s.last && !s.full && !s.display, s.upn:
		// Microsoft 365's "User Name" (and "User principal name") is the
		// sign-in address: an email.
		if s.other != "" {
			return colClass{}
		}
		return colClass{kind: kindField, field: FieldEmail, rank: rankLesser, why: "a sign-in name"}
	case s.other != "" || s.middle || (s.first && s.last) || s.workPlace:
		// "Manager Name", "Middle Name", "Company Name": listed as ignored
		return colClass{}
	case s.first:
		return nameClass(FieldFirstName, s, "first name")
	case s.last:
		return nameClass(FieldLastName, s, "last name")
	case s.preferred && !s.full && !s.display:
		// BambooHR and Zoho: "Preferred Name" / "Nick Name" is the first name a
		// person goes by; it is often blank, so the first name column backs it.
		return colClass{kind: kindField, field: FieldFirstName, rank: rankPreferred, why: "a preferred name"}
	case s.name || s.full:
		return nameClass(FieldName, s, "name")
	}
	return colClass{}
}

func emailClass(s wordSet) colClass {
	c := colClass{kind: kindField, field: FieldEmail, rank: rankPlain, why: "an email"}
	switch {
	case s.lesser || s.personal:
		c.rank, c.why = rankLast, "a personal or alternate email"
	case s.work:
		c.rank, c.why = rankPreferred, "a work email"
	}
	if s.new {
		c.field = FieldNewEmail
	}
	return c
}

func phoneClass(s wordSet) colClass {
	c := colClass{kind: kindField, field: FieldPhone, rank: rankPlain, why: "a phone number"}
	switch {
	case s.lesser:
		c.rank, c.why = rankLast, "a home or alternate phone"
	case s.mobile:
		c.rank, c.why = rankPreferred, "a mobile number"
	case s.work:
		c.rank, c.why = rankLesser, "a work or office phone"
	}
	if s.new {
		c.field = FieldNewPhone
	}
	return c
}

func nameClass(f Field, s wordSet, what string) colClass {
	c := colClass{kind: kindField, field: f, rank: rankPlain, why: "a " + what}
	switch {
	case s.preferred || (s.display && f == FieldName):
		c.rank, c.why = rankPreferred, "a preferred "+what
	case s.legal || s.official: // "Official Name" is the legal one in Indian HR files
		c.rank, c.why = rankLesser, "a legal "+what
	}
	return c
}

func has(w []string, word string) bool {
	for _, x := range w {
		if x == word {
			return true
		}
	}
	return false
}

// maxHeaderWords bounds the work spent on one header cell: no real header has
// more words, and a hostile one must stay cheap.
const maxHeaderWords = 12

// headerWords splits a header into lower-case words: annotations such as
// "[Required]", "(optional)" and "*" removed, camelCase and run-together words
// ("EmpName", "mobileno") split, and spellings made one ("E-mail" → email,
// "No." → number, "Mob" → mobile).
func headerWords(name string) []string {
	s := stripAnnotations(trimCell(name))
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) == 0 {
			return
		}
		words = append(words, splitCompound(strings.ToLower(string(cur)))...)
		cur = cur[:0]
	}
	prev := rune(0)
	for _, r := range s {
		if len(words) > maxHeaderWords {
			return nil
		}
		switch {
		case r == '#':
			flush()
			words = append(words, "number")
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			// A new word at a lower→upper change (camelCase) and between
			// letters and digits ("Email2").
			if len(cur) > 0 && ((unicode.IsLower(prev) && unicode.IsUpper(r)) ||
				unicode.IsDigit(prev) != unicode.IsDigit(r)) {
				flush()
			}
			cur = append(cur, r)
		default:
			flush()
		}
		prev = r
	}
	flush()
	return normaliseWords(words)
}

// stripAnnotations removes what exports add to a header to instruct a human:
// bracketed text ("[Required]", "[MUST BE IN THE E.164 FORMAT]"), asterisks,
// and parenthesised text unless it names a field ("Phone (Mobile)" keeps
// "Mobile", "Mobile (with country code)" drops the rest).
func stripAnnotations(s string) string {
	if !strings.ContainsAny(s, "[(*") {
		return s
	}
	var b strings.Builder
	for len(s) > 0 {
		i := strings.IndexAny(s, "[(*")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		open := s[i]
		s = s[i+1:]
		if open == '*' {
			b.WriteByte(' ')
			continue
		}
		closer := byte(']')
		if open == '(' {
			closer = ')'
		}
		j := strings.IndexByte(s, closer)
		if j < 0 {
			j = len(s)
		}
		inner := s[:j]
		s = s[min(j+1, len(s)):]
		b.WriteByte(' ')
		if open == '(' && namesAField(inner) {
			b.WriteString(inner)
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// namesAField reports whether parenthesised text says something about the
// column's field, such as "(Mobile)" or "(Work)", rather than how to fill it.
func namesAField(inner string) bool {
	for _, w := range normaliseWords(strings.FieldsFunc(strings.ToLower(inner), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})) {
		switch w {
		case "email", "phone", "mobile", "name", "first", "last", "surname", "work", "official",
			"office", "personal", "home", "preferred", "legal", "primary", "alternate", "secondary":
			return true
		}
	}
	return false
}

// normaliseWords spells the words one way and drops annotation words.
func normaliseWords(in []string) []string {
	out := in[:0]
	for i := 0; i < len(in); i++ {
		w := in[i]
		switch w {
		case "e":
			if i+1 < len(in) && (in[i+1] == "mail" || in[i+1] == "email") { // "E-mail", "E Mail"
				continue
			}
		case "whats":
			if i+1 < len(in) && in[i+1] == "app" { // "WhatsApp" split at its capital
				i++
				w = "mobile"
			}
		case "s", "required", "optional", "mandatory", "compulsory", "req", "opt":
			continue // "Employee's Name" and annotations
		case "mail", "emailid", "mailid":
			w = "email"
		case "no", "num", "nbr", "nos", "numbers", "nr":
			w = "number"
		case "mob", "cell", "cellphone", "cellular", "whatsapp", "msisdn", "mobiles", "handphone":
			w = "mobile"
		case "ph", "tel", "telephone", "phones", "telno":
			w = "phone"
		case "emp", "employees":
			w = "employee"
		case "addr":
			w = "address"
		}
		out = append(out, w)
	}
	return out
}

// vocabulary is what splitCompound may split a run-together word into.
func inVocabulary(w string) bool {
	switch w {
	case "first", "last", "given", "family", "full", "middle", "name",
		"email", "mail", "address", "id", "mobile", "mob", "phone", "number", "no", "num",
		"contact", "cell", "work", "official", "office", "company", "personal", "home",
		"primary", "alternate", "alt", "secondary", "emp", "employee", "user", "display",
		"preferred", "legal", "nick", "new", "device", "role", "tel", "business", "corporate":
		return true
	}
	return false
}

// splitCompound splits a run-together word such as "mobileno" or
// "officialemailid" into vocabulary words, or returns it whole when it is
// already a word or cannot be split entirely.
func splitCompound(w string) []string {
	switch w {
	case "surname", "forename", "username", "nickname", "firstname", "lastname", "fullname",
		"givenname", "familyname", "userid", "emailid", "mailid", "telno", "cellphone":
		// whole words, or compounds the exact table knows as written
		switch w {
		case "firstname":
			return []string{"first", "name"}
		case "lastname":
			return []string{"last", "name"}
		case "fullname":
			return []string{"full", "name"}
		case "givenname":
			return []string{"given", "name"}
		case "familyname":
			return []string{"family", "name"}
		case "userid":
			return []string{"user", "id"}
		case "username":
			return []string{"user", "name"}
		}
		return []string{w}
	}
	if inVocabulary(w) || len(w) < 4 || len(w) > 32 {
		return []string{w}
	}
	// Try every split into two or three vocabulary words, shortest first
	// word first; rosters have few such headers, so brute force is fine.
	for i := 2; i <= len(w)-2; i++ {
		if !inVocabulary(w[:i]) {
			continue
		}
		rest := w[i:]
		if inVocabulary(rest) {
			return []string{w[:i], rest}
		}
		for j := 2; j <= len(rest)-2; j++ {
			if inVocabulary(rest[:j]) && inVocabulary(rest[j:]) {
				return []string{w[:i], rest[:j], rest[j:]}
			}
		}
	}
	return []string{w}
}
