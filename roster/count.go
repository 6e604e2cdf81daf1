package roster

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"unicode"
	"unicode/utf8"
)

// countLineMax is the longest line CountRows reads itself. Far below
// maxRecordBytes, so no line it counts is one the reader would refuse as
// too long, whatever its buffers hold ahead.
const countLineMax = 64 << 10

// CountRows counts the data rows a Reader of in would hand out (Next until
// io.EOF), without building a record: a dry run's first pass, which only
// needs the count, costs a scan of the bytes instead of a parse.
//
// It reads UTF-8 CSV text (with or without a BOM) whose quoted cells each
// close on their own line, with opts' encoding and separator, and any line
// end: LF, CRLF or CR alone. For anything else (a workbook, another
// encoding, a cell running over lines, a line over 64 KiB) it stops and
// returns ok false: the caller counts with a Reader, which also says what is
// wrong with a file it cannot read. err is a read error or a bad option.
// It may have read ahead of where it stopped.
func CountRows(in io.Reader, opts ReadOptions) (rows int, ok bool, err error) {
	if opts.Sheet != "" {
		return 0, false, nil // the Reader says whether --sheet fits the file
	}
	var c compiled
	if c.enc, err = parseEncoding(opts.Encoding); err != nil {
		return 0, false, err
	}
	if c.delim, err = ParseDelimiter(opts.Delimiter); err != nil {
		return 0, false, err
	}
	raw := bufio.NewReaderSize(in, sniffWindow)
	head, err := raw.Peek(sniffWindow)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return 0, false, err
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0")) {
		return 0, false, nil
	}
	d, delim := decideText(head, c)
	if d.refusal != nil || d.enc != encUTF8 || delim >= utf8.RuneSelf {
		return 0, false, nil
	}
	if _, err := raw.Discard(d.bomLen); err != nil {
		return 0, false, err
	}
	// The same line ends as the Reader's: every CR, CRLF and LF is one "\n".
	lines := bufio.NewReaderSize(&lineEnds{r: raw}, countLineMax)
	records := 0 // non-blank records, the header among them
	for {
		line, err := lines.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			return 0, false, nil
		}
		if err != nil && err != io.EOF {
			return 0, false, err
		}
		if len(line) > 0 {
			blank, sure := blankRecord(line, byte(delim))
			if !sure {
				return 0, false, nil
			}
			if !blank {
				records++
			}
		}
		if err == io.EOF {
			break
		}
	}
	// The first non-blank record is the header.
	return max(records-1, 0), true, nil
}

// blankRecord reports whether line, one line of UTF-8 CSV with its "\n",
// is a record Reader.Next skips: every cell empty once trimmed (isBlank).
// It splits cells as encoding/csv does with LazyQuotes; sure is false when
// a quoted cell does not close on this line, so the record would run on.
func blankRecord(line []byte, delim byte) (blank, sure bool) {
	line = bytes.TrimSuffix(line, []byte("\n"))
	if bytes.IndexByte(line, '"') < 0 {
		// No quotes: the cells are the text between separators.
		return onlyTrim(line, int(delim)), true
	}
	blank = true
	for {
		if len(line) == 0 || line[0] != '"' {
			// An unquoted cell runs to the next separator; a quote in it
			// is text (LazyQuotes).
			i := bytes.IndexByte(line, delim)
			if i < 0 {
				return blank && onlyTrim(line, noSep), true
			}
			blank = blank && onlyTrim(line[:i], noSep)
			line = line[i+1:]
			continue
		}
		// A quoted cell ends at a quote followed by the separator or the
		// line end; "" is a quote in the text, and so (LazyQuotes) is a
		// quote followed by anything else.
		line = line[1:]
		for {
			i := bytes.IndexByte(line, '"')
			if i < 0 {
				return false, false
			}
			blank = blank && onlyTrim(line[:i], noSep)
			line = line[i+1:]
			switch {
			case len(line) == 0:
				return blank, true
			case line[0] == delim:
				line = line[1:]
			case line[0] == '"':
				blank = false
				line = line[1:]
				continue
			default:
				blank = false
				continue
			}
			break
		}
	}
}

// noSep is onlyTrim's sep for the text of one cell.
const noSep = -1

// onlyTrim reports whether b holds nothing but runes trimCell trims and
// sep, a separator byte (noSep for the text of one cell): every cell in b
// is blank.
func onlyTrim(b []byte, sep int) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if int(c) != sep && !unicode.IsSpace(rune(c)) {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if !isTrimRune(r) {
			return false
		}
		i += n
	}
	return true
}
