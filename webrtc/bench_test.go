package webrtc

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/roster"
)

// BenchmarkDecodePage decodes a full page of 50 users as the list sends
// them.
func BenchmarkDecodePage(b *testing.B) {
	users := make([]string, 50)
	for i := range users {
		users[i] = fmt.Sprintf(`{"user_id":"agent_%03d","name":"Agent Number %d","phone":"+9198%08d",`+
			`"sip_enabled":true,"status":"active","device_status":{"phone":true,"sip":false}}`, i, i, i)
	}
	data := json.RawMessage(`{"users":[` + strings.Join(users, ",") + `],"total":5000,"limit":50,"offset":0}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := decodePage(data, 50, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheckRow checks roster rows, each new (no duplicates).
func BenchmarkCheckRow(b *testing.B) {
	h := roster.ParseHeader([]string{"user_id", "name", "phone", "sip_enabled"})
	recs := make([]roster.Record, 1000)
	for i := range recs {
		recs[i] = roster.Record{Row: i + 1, Raw: []string{fmt.Sprintf("agent_%04d", i), "Asha Rao",
			fmt.Sprintf("98%08d", i), "yes"}}
	}
	b.ReportAllocs()
	var v *Validator
	i := 0
	for b.Loop() {
		if i%len(recs) == 0 {
			v = NewValidator(h, roster.Options{})
		}
		if _, probs := v.Check(recs[i%len(recs)]); probs != nil {
			b.Fatal(probs)
		}
		i++
	}
}

// BenchmarkRecordCells makes one export line.
func BenchmarkRecordCells(b *testing.B) {
	tru := true
	u := User{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210", SIPEnabled: &tru, Status: "active",
		DeviceStatus: &DeviceStatus{Phone: &tru, SIP: &tru}, CreatedAt: "2024-06-15T10:30:00.000Z"}
	b.ReportAllocs()
	for b.Loop() {
		_ = NewRecord(u).Cells()
	}
}
