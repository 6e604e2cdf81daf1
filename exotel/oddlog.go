package exotel

import (
	"log/slog"
	"strings"
	"sync"
)

// oddLog reports, once per field name and client, that a user record had a
// value of an unexpected shape.
type oddLog struct {
	log *slog.Logger

	mu   sync.Mutex
	seen map[string]bool // field names already reported
}

func newOddLog(log *slog.Logger) *oddLog { return &oddLog{log: log, seen: map[string]bool{}} }

// note logs u's odd fields that no record before it had.
func (o *oddLog) note(u *User) {
	fields := u.OddFields()
	if len(fields) == 0 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, f := range fields {
		if o.seen[f] {
			continue
		}
		o.seen[f] = true
		o.log.Warn("a user record has a field of an unexpected shape; its value is kept as it came",
			"field", f, "user", u.ID, "value", oddValue(u, f))
	}
}

// oddValue is the raw value of field f of u, cut short for a log line.
func oddValue(u *User, f string) string {
	raw := u.Odd[f]
	if key, ok := strings.CutPrefix(f, "devices."); ok && raw == nil {
		for _, d := range u.Devices {
			if r, ok := d.Odd[key]; ok {
				raw = r
				break
			}
		}
	}
	s := compactText(raw)
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return s
}
