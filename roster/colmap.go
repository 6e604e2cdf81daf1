package roster

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// UsageError is a mistake in what the user asked for (a --map naming a field
// that does not exist or a header the file lacks, an unknown --encoding), as
// opposed to a problem with the file. Commands exit 2 on it.
type UsageError struct{ msg string }

func (e *UsageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &UsageError{msg: fmt.Sprintf(format, args...)}
}

// ColumnError stops a run because of the file's columns: two columns that could
// equally be one field, or a column nobody recognised that holds phone numbers
// or emails. Nothing the user gave is dropped in silence, so the run stops
// before any request until --map or --ignore-column says what to do.
type ColumnError struct {
	// Columns are the headers concerned, as written in the file.
	Columns []string
	msg     string
}

func (e *ColumnError) Error() string { return e.msg }

// MapEntry is one user instruction about a column: read it as Field, or,
// with Ignore, do not read it.
type MapEntry struct {
	Header string // as the user wrote it
	Field  Field
	Ignore bool
	From   string // where it was given, for messages: --map, a file and line, --ignore-column
}

// mapFieldNames lists the field names --map accepts, for the usage message.
const mapFieldNames = "first_name, last_name, name, email, phone, role, device_name, user_id, new_email, new_phone, sip_enabled, or ignore"

// ParseField reads the field side of a --map entry: a canonical column name
// (first_name, email, phone or device_contact_uri, …), any header import
// recognises for the field ("Surname", "Mobile"), or "ignore".
func ParseField(s string) (f Field, ignore bool, err error) {
	k := headerKey(s)
	switch k {
	case "ignore", "skip", "none":
		return 0, true, nil
	case "phone", "device contact uri":
		return FieldPhone, false, nil
	}
	if f, ok := fieldForKey(k); ok {
		return f, false, nil
	}
	return 0, false, usageErrorf("%q is not a field: use %s", trimCell(s), mapFieldNames)
}

// ParseMap reads a --map value: "header=field" entries separated by commas,
// such as "Mobile No.=phone,Official Email=email". A header that itself holds
// a comma needs --map-file. The header is everything before the last '='.
func ParseMap(spec string) ([]MapEntry, error) {
	var out []MapEntry
	for part := range strings.SplitSeq(spec, ",") {
		if trimCell(part) == "" {
			continue
		}
		e, err := parseMapEntry(part, "--map")
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, usageErrorf("--map %q has no entries: write it as \"Header=field\", such as \"Mobile No.=phone\"", spec)
	}
	return out, nil
}

// ParseMapFile reads a --map-file: one "header=field" a line; blank lines and
// lines starting with # are skipped. name is used in messages.
func ParseMapFile(name string, r io.Reader) ([]MapEntry, error) {
	var out []MapEntry
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		if t := trimCell(text); t == "" || t[0] == '#' {
			continue
		}
		e, err := parseMapEntry(text, name+" line "+strconv.Itoa(line))
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return out, nil
}

func parseMapEntry(s, from string) (MapEntry, error) {
	i := strings.LastIndexByte(s, '=')
	if i < 0 {
		return MapEntry{}, usageErrorf("%s: %q has no '=': write it as \"Header=field\", such as \"Mobile No.=phone\"", from, trimCell(s))
	}
	header, field := trimCell(s[:i]), s[i+1:]
	if header == "" {
		return MapEntry{}, usageErrorf("%s: %q has no header before the '='", from, trimCell(s))
	}
	f, ignore, err := ParseField(field)
	if err != nil {
		return MapEntry{}, usageErrorf("%s: %v", from, err)
	}
	return MapEntry{Header: header, Field: f, Ignore: ignore, From: from}, nil
}

// resolveMapping finds the column each entry names. A header matches exactly
// (after trimming) or, failing that, ignoring case; "#3" names the third
// column, for files whose headers repeat. Every failure is a usage error.
func resolveMapping(names []string, entries []MapEntry) (map[int]MapEntry, error) {
	if len(entries) == 0 {
		return nil, nil
	}
	out := make(map[int]MapEntry, len(entries))
	byField := map[Field]MapEntry{}
	for _, e := range entries {
		i, err := findColumn(names, e)
		if err != nil {
			return nil, err
		}
		if prev, dup := out[i]; dup && (prev.Ignore != e.Ignore || prev.Field != e.Field) {
			return nil, usageErrorf("%s and %s both say what column %q is", prev.From, e.From, trimCell(names[i]))
		}
		if !e.Ignore {
			if prev, dup := byField[e.Field]; dup && !strings.EqualFold(prev.Header, e.Header) {
				return nil, usageErrorf("%s maps %q and %s maps %q to %s: a field is read from one column",
					prev.From, prev.Header, e.From, e.Header, label(e.Field))
			}
			byField[e.Field] = e
		}
		out[i] = e
	}
	return out, nil
}

func findColumn(names []string, e MapEntry) (int, error) {
	want := e.Header
	var found []int
	for i, n := range names {
		if trimCell(n) == want {
			found = append(found, i)
		}
	}
	if len(found) == 0 {
		for i, n := range names {
			if strings.EqualFold(trimCell(n), want) {
				found = append(found, i)
			}
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	if len(found) > 1 {
		return 0, usageErrorf("%s: %q matches columns %d and %d: name one by number, such as \"#%d\"",
			e.From, want, found[0]+1, found[1]+1, found[0]+1)
	}
	if len(want) > 1 && want[0] == '#' {
		if n, err := strconv.Atoi(want[1:]); err == nil && n >= 1 && n <= len(names) {
			return n - 1, nil
		}
	}
	return 0, usageErrorf("%s: the file has no column %q; its columns are %s", e.From, want, listNames(names))
}

// listNames quotes a header's cells for a message, eliding a long tail.
func listNames(names []string) string {
	const most = 20
	var b strings.Builder
	n := 0
	for _, name := range names {
		s := trimCell(name)
		if s == "" {
			continue
		}
		if n == most {
			b.WriteString(", …")
			break
		}
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(s))
		n++
	}
	if n == 0 {
		return "none"
	}
	return b.String()
}
