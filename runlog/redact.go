package runlog

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// Redact wraps h so that emails and phone numbers appear only in debug
// lines: at info and above they are replaced, in the message and in every
// string attribute (errors and Stringers too, grouped or bound with With),
// by [email] and [phone]. Logs leave the machine (collectors, tickets); the
// people in a roster should not, unless someone asked for debug detail.
func Redact(h slog.Handler) slog.Handler {
	return &redactor{plain: h, redacted: h}
}

type redactor struct {
	plain    slog.Handler // for debug lines: attributes as given
	redacted slog.Handler // for the rest: With attributes already redacted
}

func (r *redactor) Enabled(ctx context.Context, l slog.Level) bool {
	return r.plain.Enabled(ctx, l)
}

func (r *redactor) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level <= slog.LevelDebug {
		return r.plain.Handle(ctx, rec)
	}
	out := slog.NewRecord(rec.Time, rec.Level, RedactText(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return r.redacted.Handle(ctx, out)
}

func (r *redactor) WithAttrs(as []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(as))
	for i, a := range as {
		red[i] = redactAttr(a)
	}
	return &redactor{plain: r.plain.WithAttrs(as), redacted: r.redacted.WithAttrs(red)}
}

func (r *redactor) WithGroup(name string) slog.Handler {
	return &redactor{plain: r.plain.WithGroup(name), redacted: r.redacted.WithGroup(name)}
}

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, RedactText(v.String()))
	case slog.KindGroup:
		in := v.Group()
		out := make([]slog.Attr, len(in))
		for i, g := range in {
			out[i] = redactAttr(g)
		}
		return slog.Attr{Key: a.Key, Value: slog.GroupValue(out...)}
	case slog.KindAny:
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, RedactText(x.Error()))
		case fmt.Stringer:
			return slog.String(a.Key, RedactText(x.String()))
		case []string:
			out := make([]string, len(x))
			for i, s := range x {
				out[i] = RedactText(s)
			}
			return slog.Any(a.Key, out)
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}

var (
	// Anything@anything: a malformed address (no dot, say) from a bad
	// roster row is as personal as a good one. %40 is @ in a URL's query
	// (a lookup's email= filter inside a transport error).
	emailRE = regexp.MustCompile(`[^\s@"'<>()\[\],;:=&?/]+(?:@|%40)[^\s@"'<>()\[\],;:&]+`)
	// A run of digits with the separators people write phones with, after
	// an optional + (or %2B, its URL encoding).
	phoneCandRE = regexp.MustCompile(`(?:\+|%2[Bb])?\d[\d \-()]*\d`)
	dateRE      = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// minPhoneDigits: the shortest national numbers exoroster accepts have 8
// digits; shorter runs are counts, ports, ids and years.
const minPhoneDigits = 8

// RedactText replaces emails and phone-number-like runs in s.
func RedactText(s string) string {
	if !strings.ContainsAny(s, "@0123456789") {
		return s
	}
	s = emailRE.ReplaceAllString(s, "[email]")
	locs := phoneCandRE.FindAllStringIndex(s, -1)
	if locs == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, loc := range locs {
		start, end := loc[0], loc[1]
		if !looksLikePhone(s, start, end) {
			continue
		}
		b.WriteString(s[last:start])
		b.WriteString("[phone]")
		last = end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// looksLikePhone judges the candidate s[start:end]: enough digits, not part
// of a longer word (a hex id, a UUID's last group), not a date.
func looksLikePhone(s string, start, end int) bool {
	cand := strings.TrimSpace(s[start:end])
	digits := 0
	for _, c := range cand {
		if c >= '0' && c <= '9' {
			digits++
		}
	}
	// E.164 allows 15 digits; a trunk 0 makes 16. Longer runs are
	// timestamps and ids.
	if strings.HasPrefix(cand, "%2") {
		digits-- // the 2 of %2B
	}
	if digits < minPhoneDigits || digits > 16 || dateRE.MatchString(cand) {
		return false
	}
	// A leading + or %2B starts a number whatever comes before it.
	leadingDigit := cand[0] >= '0' && cand[0] <= '9'
	if leadingDigit && start > 0 && isWordByte(s[start-1]) {
		return false
	}
	if end < len(s) && isWordByte(s[end]) {
		return false
	}
	return true
}

// isWordByte: letters, digits and the joiners of ids (_ - .).
func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c == '/' ||
		(c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
