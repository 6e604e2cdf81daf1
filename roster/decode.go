package roster

import (
	"bytes"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Source says how a roster file was read, so that a run can say so.
type Source struct {
	Format    string // "CSV" or "xlsx"
	Encoding  string // CSV: "UTF-8", "UTF-8 with BOM", "UTF-16LE", "UTF-16BE", "Windows-1252"
	Delimiter rune   // CSV: ',', ';', '\t' or '|'
	Sheet     string // xlsx: the sheet read
	// Chosen is true when --encoding or --delimiter forced what is shown,
	// false when it was detected.
	ForcedEncoding, ForcedDelimiter bool
}

// String describes the source in a few words:
//
//	CSV, UTF-8, separator ","
//	CSV, Windows-1252 (detected), separator ";" (detected)
//	xlsx workbook, sheet "Employees"
func (s Source) String() string {
	switch s.Format {
	case "":
		return "unknown"
	case formatXLSX:
		return "xlsx workbook, sheet " + strconv.Quote(s.Sheet)
	}
	enc := s.Encoding
	if !s.ForcedEncoding && enc != "UTF-8" {
		enc += " (detected)"
	}
	sep := "separator " + delimiterName(s.Delimiter)
	if !s.ForcedDelimiter && s.Delimiter != ',' {
		sep += " (detected)"
	}
	return "CSV, " + enc + ", " + sep
}

const (
	formatCSV  = "CSV"
	formatXLSX = "xlsx"
)

func delimiterName(r rune) string {
	if r == '\t' {
		return "tab"
	}
	return strconv.Quote(string(r))
}

// ParseDelimiter reads a --delimiter value: , ; | or tab (also "\t",
// "comma", "semicolon", "pipe"); "" or "auto" means detect it.
func ParseDelimiter(s string) (rune, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return 0, nil
	case ",", "comma":
		return ',', nil
	case ";", "semicolon":
		return ';', nil
	case "\t", `\t`, "tab":
		return '\t', nil
	case "|", "pipe":
		return '|', nil
	}
	return 0, usageErrorf("--delimiter %q: use , ; | or tab", s)
}

// encodingName is the canonical name of a --encoding value.
type textEncoding int

const (
	encAuto textEncoding = iota
	encUTF8
	encUTF16LE
	encUTF16BE
	encWindows1252
)

func parseEncoding(s string) (textEncoding, error) {
	switch strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(s)) {
	case "", "auto":
		return encAuto, nil
	case "utf8":
		return encUTF8, nil
	case "utf16le", "utf16":
		return encUTF16LE, nil
	case "utf16be":
		return encUTF16BE, nil
	case "windows1252", "cp1252", "win1252", "ansi":
		return encWindows1252, nil
	}
	return 0, usageErrorf("--encoding %q: use utf-8, utf-16le, utf-16be or windows-1252", s)
}

// sniffWindow is how much of the start of a file decides its encoding and
// separator: enough for hundreds of rows, little enough to keep reading a
// stream.
const sniffWindow = 32 << 10

// decision is what the start of the input decided about its text.
type decision struct {
	enc     textEncoding
	name    string // for Source.Encoding
	bomLen  int    // bytes of BOM to drop
	refusal error  // the input is not text we read
}

// decideEncoding looks at the start of the input (up to sniffWindow bytes;
// less means the whole input) and chooses how to decode it. forced is the
// --encoding choice, encAuto to detect.
func decideEncoding(head []byte, forced textEncoding) decision {
	bom := 0
	bomEnc := encAuto
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		bom, bomEnc = 3, encUTF8
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		bom, bomEnc = 2, encUTF16LE
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		bom, bomEnc = 2, encUTF16BE
	}
	switch forced {
	case encUTF8:
		if bomEnc == encUTF8 {
			return decision{enc: encUTF8, name: "UTF-8", bomLen: bom}
		}
		return decision{enc: encUTF8, name: "UTF-8"}
	case encUTF16LE, encUTF16BE:
		if bomEnc == encUTF16LE || bomEnc == encUTF16BE {
			// The BOM says which byte order; trust it over the flag.
			return decision{enc: bomEnc, name: encName(bomEnc), bomLen: bom}
		}
		return decision{enc: forced, name: encName(forced)}
	case encWindows1252:
		return decision{enc: encWindows1252, name: "Windows-1252"}
	}
	switch bomEnc {
	case encUTF8:
		return decision{enc: encUTF8, name: "UTF-8 with BOM", bomLen: bom}
	case encUTF16LE, encUTF16BE:
		return decision{enc: bomEnc, name: encName(bomEnc), bomLen: bom}
	}
	if looksUTF16(head) {
		return decision{refusal: errorString("the file looks like UTF-16 text without a byte-order mark: " +
			"pass --encoding utf-16le (or utf-16be), or save it as \"CSV UTF-8\"")}
	}
	body := head
	if len(head) == sniffWindow {
		body = trimPartialRune(head)
	}
	if utf8.Valid(body) || hasUTF8Sequence(body) {
		// Valid UTF-8, or UTF-8 with a few broken bytes: those cells are
		// refused row by row rather than the whole file misread.
		return decision{enc: encUTF8, name: "UTF-8"}
	}
	if cleanWindows1252(body) {
		return decision{enc: encWindows1252, name: "Windows-1252"}
	}
	return decision{refusal: errorString("the file is neither UTF-8 nor Windows-1252 text: save it as \"CSV UTF-8\", " +
		"or pass --encoding to say what it is")}
}

func encName(e textEncoding) string {
	switch e {
	case encUTF16LE:
		return "UTF-16LE"
	case encUTF16BE:
		return "UTF-16BE"
	case encWindows1252:
		return "Windows-1252"
	}
	return "UTF-8"
}

type errorString string

func (e errorString) Error() string { return string(e) }

// looksUTF16 spots UTF-16 without a BOM: a NUL in most odd or most even bytes.
func looksUTF16(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	var even, odd int
	for i, c := range b {
		if c == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	half := len(b) / 2
	return even*4 > half*3 || odd*4 > half*3
}

// trimPartialRune drops an incomplete UTF-8 sequence cut off at the end of a
// window.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		c := b[len(b)-i]
		if c < utf8.RuneSelf {
			return b
		}
		if utf8.RuneStart(c) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			return b
		}
	}
	return b
}

// hasUTF8Sequence reports whether b holds at least one valid multi-byte UTF-8
// sequence: text written as UTF-8, even if some bytes are broken. Windows-1252
// text almost never forms one by chance.
func hasUTF8Sequence(b []byte) bool {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError && n > 1 {
			return true
		}
		i++
	}
	return false
}

// cleanWindows1252 reports whether b decodes as Windows-1252 without bytes
// the code page leaves undefined or control characters other than tab and
// line ends: what text saved as "CSV" by Excel on Windows looks like.
func cleanWindows1252(b []byte) bool {
	for _, c := range b {
		switch {
		case c == 0x81 || c == 0x8d || c == 0x8f || c == 0x90 || c == 0x9d:
			return false
		case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
			return false
		case c == 0x7f:
			return false
		}
	}
	return true
}

// decoder returns the transformer for enc, or nil when the bytes are already
// UTF-8.
func (d decision) decoder() *encoding.Decoder {
	switch d.enc {
	case encUTF16LE:
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder()
	case encUTF16BE:
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder()
	case encWindows1252:
		return charmap.Windows1252.NewDecoder()
	}
	return nil
}

// decodeReader wraps r (positioned after any BOM) so that it yields UTF-8.
func (d decision) decodeReader(r io.Reader) io.Reader {
	if dec := d.decoder(); dec != nil {
		return transform.NewReader(r, dec)
	}
	return r
}

// decodeWindow decodes a sniffed window for separator detection. A sequence
// cut at the window's end may decode badly; only the first line matters.
func (d decision) decodeWindow(head []byte) []byte {
	head = head[min(d.bomLen, len(head)):]
	dec := d.decoder()
	if dec == nil {
		return head
	}
	out, _, err := transform.Bytes(dec, head)
	if err != nil {
		return nil
	}
	return out
}

// lineEnds turns every line end into "\n": CRLF (Windows), LF, and a lone CR
// as old Excel for Mac writes. encoding/csv only knows the first two, and
// reads a CR-only file as one long line.
type lineEnds struct {
	r      io.Reader
	lastCR bool // the previous byte was a CR, already written as '\n'
}

func (l *lineEnds) Read(p []byte) (int, error) {
	for {
		n, err := l.r.Read(p)
		if n == 0 {
			return 0, err
		}
		b := p[:n]
		if !l.lastCR && bytes.IndexByte(b, '\r') < 0 {
			return n, err
		}
		// Move the text between CRs down over the LFs dropped, a stretch
		// at a time: CRLF files have a CR on every line.
		r, w := 0, 0
		if l.lastCR && b[0] == '\n' {
			r = 1 // the LF of a CRLF whose CR ended the last read
		}
		l.lastCR = false
		for r < n {
			i := bytes.IndexByte(b[r:], '\r')
			if i < 0 {
				w += copy(b[w:], b[r:])
				break
			}
			w += copy(b[w:], b[r:r+i])
			b[w] = '\n'
			w++
			r += i + 1
			switch {
			case r == n:
				l.lastCR = true
			case b[r] == '\n':
				r++
			}
		}
		if w > 0 || err != nil {
			return w, err
		}
	}
}

// sniffDelimiter chooses the separator from the header line: of , ; tab and
// |, the one whose cells yield the most recognised columns, then the one that
// yields the most cells; a comma when nothing tells them apart.
func sniffDelimiter(text []byte) rune {
	line := firstLine(text)
	best, bestKnown, bestCells := ',', -1, 0
	for _, sep := range []rune{',', ';', '\t', '|'} {
		cells := splitHeaderLine(line, sep)
		known := 0
		for _, c := range cells {
			if cl := classify(c); cl.kind == kindField || cl.kind == kindQuiet {
				known++
			}
		}
		nonEmpty := 0
		for _, c := range cells {
			if trimCell(c) != "" {
				nonEmpty++
			}
		}
		if known > bestKnown || (known == bestKnown && nonEmpty > bestCells) {
			best, bestKnown, bestCells = sep, known, nonEmpty
		}
	}
	return best
}

// firstLine returns the first line of text that is not empty or made only of
// separators and spaces: the header, usually. Quotes are not followed: a
// header with a line break inside a quoted cell is rare enough to get a comma.
func firstLine(text []byte) string {
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n')
		var line []byte
		if i < 0 {
			line, text = text, nil
		} else {
			line, text = text[:i], text[i+1:]
		}
		if strings.Trim(strings.TrimSpace(string(line)), ",;\t|\"") != "" {
			return string(line)
		}
	}
	return ""
}

// splitHeaderLine splits one line on sep, honouring double quotes.
func splitHeaderLine(line string, sep rune) []string {
	var cells []string
	var cur strings.Builder
	quoted := false
	for _, r := range line {
		switch {
		case r == '"':
			quoted = !quoted
		case r == sep && !quoted:
			cells = append(cells, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(cells, cur.String())
}
