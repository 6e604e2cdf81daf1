package exporter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/exoroster/exoroster/roster"
)

// CleanEmails checks addresses for the email filter and drops repeats
// (case-insensitively, as Exotel compares them). Empty items are skipped.
func CleanEmails(raw []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, s := range raw {
		if strings.TrimSpace(s) == "" {
			continue
		}
		email, err := roster.NormalizeEmail(s)
		if err != nil {
			return nil, fmt.Errorf("email %q: %v", strings.TrimSpace(s), err)
		}
		if k := roster.EmailKey(email); !seen[k] {
			seen[k] = true
			out = append(out, email)
		}
	}
	return out, nil
}

// CleanPhones normalises numbers to E.164 for the devices.contact_uri
// filter, reading those without a country code in defaultRegion; a sip:
// address is kept as written. Repeats and empty items are dropped.
func CleanPhones(raw []string, defaultRegion string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, s := range raw {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		uri := s
		if !roster.IsSIPURI(s) {
			var err error
			if uri, err = roster.NormalizePhone(s, defaultRegion); err != nil {
				return nil, fmt.Errorf("phone %q: %v", s, err)
			}
		}
		if !seen[uri] {
			seen[uri] = true
			out = append(out, uri)
		}
	}
	return out, nil
}

// ReadEmails reads an --emails-from file: either one address per line
// (blank lines and lines starting with # skipped), or a CSV whose header has
// an email column under any name import accepts ("Email", "E-mail address",
// ...). The addresses are checked and de-duplicated as by CleanEmails; a bad
// one fails with its line number.
func ReadEmails(r io.Reader) ([]string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if looksLikeList(data) {
		return readEmailList(data)
	}
	rd, err := roster.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	h := rd.Header()
	if !h.Has(roster.FieldEmail) {
		return nil, errors.New("no email column: the file needs one address per line, or a CSV with an email column")
	}
	var raw []string
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		s := rec.Get(h, roster.FieldEmail)
		if s == "" {
			continue
		}
		if _, err := roster.NormalizeEmail(s); err != nil {
			return nil, fmt.Errorf("line %d: email %q: %v", rec.Line, s, err)
		}
		raw = append(raw, s)
	}
	return CleanEmails(raw)
}

// looksLikeList reports whether the first line that says anything is an
// address rather than a CSV header.
func looksLikeList(data []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		return strings.Contains(line, "@") && !strings.Contains(line, ",")
	}
	return true
}

func readEmailList(data []byte) ([]string, error) {
	sc := bufio.NewScanner(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	var raw []string
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if _, err := roster.NormalizeEmail(line); err != nil {
			return nil, fmt.Errorf("line %d: email %q: %v", n, line, err)
		}
		raw = append(raw, line)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return CleanEmails(raw)
}

// CleanRoles maps role names to the API's (agent is user) for the role
// filter, without repeats.
func CleanRoles(raw []string) ([]string, error) {
	var out []string
	for _, s := range raw {
		if strings.TrimSpace(s) == "" {
			continue
		}
		role, err := roster.NormalizeRole(s)
		if err != nil {
			return nil, fmt.Errorf("role %q: use admin, supervisor, user or agent", strings.TrimSpace(s))
		}
		if !slices.Contains(out, role) {
			out = append(out, role)
		}
	}
	return out, nil
}
