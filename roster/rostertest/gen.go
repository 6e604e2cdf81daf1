// Package rostertest writes large, realistic roster files for benchmarks and
// for measuring the commands from outside: Indian and other names, corporate
// emails, mobiles in the formats HR spreadsheets use, and a known share of
// people listed twice and of rows that are wrong.
package rostertest

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// Header is the header line Write writes: an HR export's columns, two of
// which (Employee ID, Department) are not roster fields and are ignored.
const Header = "Employee ID,First Name,Last Name,Email,Mobile,Role,Department"

// Spec says what to write.
type Spec struct {
	Rows int
	// Seed makes the file reproducible; two Specs with the same fields write
	// the same bytes.
	Seed uint64
	// Duplicates and Bad are per-mille shares of rows that repeat an earlier
	// person's email or phone (written differently), and of rows with a
	// problem validation reports. Negative means none; zero means the
	// default (5 and 10, half a per cent and one per cent).
	Duplicates, Bad int
}

// Counts are what Write wrote, for checking a run's summary against.
type Counts struct {
	Rows       int
	Duplicates int // rows written as a repeat of an earlier row's email or phone
	Bad        int // rows written with a deliberate problem
}

// Write writes the header and spec.Rows rows of CSV to w.
func Write(w io.Writer, spec Spec) (Counts, error) {
	dupShare, badShare := share(spec.Duplicates, 5), share(spec.Bad, 10)
	bw := bufio.NewWriterSize(w, 1<<16)
	rnd := rand.New(rand.NewPCG(spec.Seed, spec.Seed^0x9e3779b97f4a7c15))
	var c Counts
	bw.WriteString(Header + "\r\n")
	var line []byte
	for i := range spec.Rows {
		p := person(i)
		switch r := rnd.IntN(1000); {
		case i > 0 && r < dupShare:
			// An earlier person again: the same email in other case, or the same
			// phone in another format.
			e := person(rnd.IntN(i))
			if rnd.IntN(2) == 0 {
				p.email = strings.ToUpper(e.email[:1]) + e.email[1:]
			} else {
				p.mobile, p.cc = e.mobile, e.cc
			}
			c.Duplicates++
		case r >= dupShare && r < dupShare+badShare:
			spoil(&p, rnd)
			c.Bad++
		}
		line = p.appendCSV(line[:0], i, rnd)
		bw.Write(line)
		c.Rows++
	}
	return c, bw.Flush()
}

func share(perMille, def int) int {
	switch {
	case perMille < 0:
		return 0
	case perMille == 0:
		return def
	}
	return min(perMille, 1000)
}

var (
	firstNames = [...]string{"Aarav", "Priya", "Rahul", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya",
		"Rohan", "Meera", "Aditya", "Divya", "Karthik", "Lakshmi", "Siddharth", "Pooja", "Mohammed", "Fatima",
		"Gurpreet", "Harpreet", "Joseph", "Mary Ann", "José", "Chen", "Oliver", "Emma", "Ravi Kumar", "Sai",
		"राहुल", "प्रिया", "அருண்", "ಅನಿಲ್"}
	lastNames = [...]string{"Sharma", "Rao", "Chatterjee", "Reddy", "Nair", "Iyer", "Patel", "Shah",
		"Gupta", "Singh", "Khan", "D'Souza", "Fernandes", "Menon", "Pillai", "Das", "Banerjee", "Mukherjee",
		"Verma", "Joshi", "Kulkarni", "Desai", "O'Brien", "Smith", "Tan", "Wong", "शर्मा", "குமார்"}
	emailNames = [...]string{"aarav", "priya", "rahul", "ananya", "vikram", "sneha", "arjun", "kavya",
		"rohan", "meera", "aditya", "divya", "karthik", "lakshmi", "siddharth", "pooja", "mohammed", "fatima",
		"gurpreet", "harpreet", "joseph", "maryann", "jose", "chen", "oliver", "emma", "ravikumar", "sai",
		"rahul.s", "priya.k", "arun", "anil"}
	domains = [...]string{"acme-support.in", "acme-support.in", "acme-support.in", "acmecorp.co.in",
		"acme-bpo.com", "acme.co.uk", "acme-sg.com"}
	roles       = [...]string{"", "agent", "Agent", "AGENT", "user", "supervisor", "Supervisor", "admin"}
	departments = [...]string{"Inbound", "Outbound", "Collections", "Support", "Sales", "Retention", "Escalations"}
	// Indian mobile series that numbering plans have allocated: numbers
	// built on them are valid, so a row is bad only when Write spoils it.
	inSeries = [...]string{"98", "99", "97", "96", "94", "93", "90", "89", "88", "87", "86", "85",
		"84", "83", "82", "81", "80", "79", "78", "77", "76", "75", "74", "73", "72", "70"}
)

// row is one person before formatting.
type row struct {
	first, last string
	email       string // lower case
	cc          string // "91", "44", "1", "971", "65"
	mobile      string // national significant number
	role, dept  string
	bad         string // a replacement cell for a spoiled row, or ""
	badCol      int
}

// person is row i's person: a pure function of i, so a duplicate can name
// an earlier row without the generator remembering it.
func person(i int) row {
	p := row{
		first: firstNames[i%len(firstNames)],
		last:  lastNames[(i/len(firstNames))%len(lastNames)],
		role:  roles[i%len(roles)],
		dept:  departments[i%len(departments)],
	}
	p.email = fmt.Sprintf("%s.%s%d@%s", emailNames[i%len(emailNames)],
		strings.ToLower(asciiOr(lastNames[(i/len(firstNames))%len(lastNames)], "kumar")), i, domains[i%len(domains)])
	// A bijection of i onto eight digits, so no two rows share a number by
	// accident (for fewer than 10^8 rows).
	sub := fmt.Sprintf("%08d", (uint64(i)*7919+12345)%100_000_000)
	switch i % 20 {
	case 0: // UK mobile
		p.cc, p.mobile = "44", "74"+sub
	case 1: // US
		p.cc, p.mobile = "1", "415"+string(rune('2'+i/20%8))+sub[2:]
	case 2: // UAE mobile
		p.cc, p.mobile = "971", "50"+sub[1:]
	case 3: // Singapore mobile
		p.cc, p.mobile = "65", "9"+string(rune('1'+i/20%6))+sub[2:]
	default:
		p.cc, p.mobile = "91", inSeries[i%len(inSeries)]+sub
	}
	return p
}

// asciiOr lowercases an ASCII name for an email, or gives def for a name in
// another script.
func asciiOr(s, def string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return def
		}
	}
	return strings.ReplaceAll(s, "'", "")
}

// spoil gives p one of the mistakes HR files have.
func spoil(p *row, rnd *rand.Rand) {
	mistakes := [...]struct {
		col  int
		cell func(p *row) string
	}{
		{4, func(p *row) string { return p.mobile[:5] }},                             // too short
		{4, func(p *row) string { return "+91-98765-ABCDE" }},                        // letters
		{4, func(p *row) string { return "9.87654E+09" }},                            // scientific notation
		{4, func(p *row) string { return "#N/A" }},                                   // spreadsheet error
		{4, func(p *row) string { return "+91 12345 67890" }},                        // not a valid number
		{3, func(p *row) string { return strings.Replace(p.email, "@", " at ", 1) }}, // no @
		{3, func(p *row) string { return strings.TrimSuffix(p.email, ".in") + "." }}, // trailing dot
		{2, func(p *row) string { return "" }},                                       // no last name
		{5, func(p *row) string { return "Manager" }},                                // not a role
		{1, func(p *row) string { return "=HYPERLINK(\"x\")" }},                      // formula
	}
	m := mistakes[rnd.IntN(len(mistakes))]
	p.bad, p.badCol = m.cell(p), m.col
}

// appendCSV appends row i as one CSV line, its mobile written in one of the
// ways spreadsheets hold them.
func (p row) appendCSV(b []byte, i int, rnd *rand.Rand) []byte {
	cells := [7]string{
		fmt.Sprintf("E%07d", i),
		p.first,
		p.last,
		p.email,
		formatMobile(p.cc, p.mobile, rnd),
		p.role,
		p.dept,
	}
	if rnd.IntN(50) == 0 {
		cells[1] = " " + cells[1] + " " // stray spaces
	}
	if p.bad != "" || p.badCol != 0 {
		cells[p.badCol] = p.bad
	}
	for j, c := range cells {
		if j > 0 {
			b = append(b, ',')
		}
		if strings.ContainsAny(c, ",\"\r\n") {
			b = append(b, '"')
			b = append(b, strings.ReplaceAll(c, `"`, `""`)...)
			b = append(b, '"')
		} else {
			b = append(b, c...)
		}
	}
	return append(b, '\r', '\n')
}

// formatMobile writes a number the way an HR export might: Indian numbers
// mostly without a country code (the file's region), others with one.
func formatMobile(cc, nsn string, rnd *rand.Rand) string {
	if cc != "91" {
		switch rnd.IntN(3) {
		case 0:
			return "+" + cc + nsn
		case 1:
			return "+" + cc + " " + nsn[:len(nsn)/2] + " " + nsn[len(nsn)/2:]
		default:
			return "00" + cc + " " + nsn
		}
	}
	switch r := rnd.IntN(100); {
	case r < 25:
		return "+91 " + nsn[:5] + " " + nsn[5:]
	case r < 45:
		return nsn
	case r < 55:
		return "0" + nsn[:5] + " " + nsn[5:]
	case r < 65:
		return "+91-" + nsn[:5] + "-" + nsn[5:]
	case r < 80:
		return "+91" + nsn
	case r < 90:
		return nsn[:5] + " " + nsn[5:]
	case r < 95:
		return "91 " + nsn
	case r < 98:
		return "0091 " + nsn
	default:
		return "(+91) " + nsn[:5] + "-" + nsn[5:]
	}
}
