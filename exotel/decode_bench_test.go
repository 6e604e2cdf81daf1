package exotel

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecodeUsers decodes a full page's 50 user records, as ListUsers
// does for each bulk GET: what tolerant reading costs per user.
func BenchmarkDecodeUsers(b *testing.B) {
	var recs []string
	for i := range 50 {
		recs = append(recs, fmt.Sprintf(`{"active_call":null,"date_created":"2021-07-21T21:43:38+05:30","date_updated":"2021-07-21T21:43:38+05:30",`+
			`"devices":[{"id":%d,"name":"Desk","contact_uri":"+9198%08d","type":"tel","available":true,"verified":true,"status":"free"}],`+
			`"email":"user%d@example.com","email_verified":true,"first_name":"First","id":"%032d","last_name":"Last",`+
			`"last_login":"2026-01-02T03:04:05+05:30","role":"user"}`, 425215+i, i, i, i))
	}
	page := []byte("[" + strings.Join(recs, ",") + "]")
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		var users []User
		if err := json.Unmarshal(page, &users); err != nil || len(users) != 50 {
			b.Fatal(err)
		}
	}
}
