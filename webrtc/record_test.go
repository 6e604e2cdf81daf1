package webrtc

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestRecordCells(t *testing.T) {
	tru, fals := true, false
	for _, tc := range []struct {
		name string
		user User
		want []string
	}{
		{name: "document's user",
			user: User{UserID: "agent_001", Name: "John Agent", Phone: "+919876543210", SIPEnabled: &tru, Status: "active",
				DeviceStatus: &DeviceStatus{Phone: &tru, SIP: &fals},
				CreatedAt:    "2024-06-15T10:30:00.000Z", UpdatedAt: "2024-06-15T10:30:00.000Z"},
			want: []string{"agent_001", "John Agent", "+919876543210", "true", "active", "true", "false",
				"2024-06-15T10:30:00.000Z", "2024-06-15T10:30:00.000Z"}},
		{name: "as the list gives it", user: User{UserID: "a", Name: "A", SIPEnabled: &fals},
			want: []string{"a", "A", "", "false", "", "", "", "", ""}},
		{name: "formulas are defused", user: User{UserID: "=cmd()", Name: "@SUM(A1)", Phone: "+1 (555) 010",
			Status: "-x", CreatedAt: "\tx"},
			want: []string{"'=cmd()", "'@SUM(A1)", "'+1 (555) 010", "", "'-x", "", "", "'\tx", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NewRecord(tc.user).Cells()
			if !slices.Equal(got, tc.want) {
				t.Errorf("Cells = %q\nwant    %q", got, tc.want)
			}
			if len(got) != len(Columns()) {
				t.Errorf("%d cells for %d columns", len(got), len(Columns()))
			}
			for i, c := range got {
				if i != 2 && c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) { // a cell a spreadsheet would run
					t.Errorf("cell %d %q is not neutralised", i, c)
				}
			}
		})
	}
}

func TestColumnsAreTheContract(t *testing.T) {
	want := "user_id,name,phone,sip_enabled,status,phone_device,sip_device,created_at,updated_at"
	if got := strings.Join(Columns(), ","); got != want {
		t.Errorf("Columns = %s", got)
	}
}

func TestRecordJSONKeepsTheAPITypes(t *testing.T) {
	tru := true
	for _, tc := range []struct {
		name string
		user User
		want string
	}{
		{name: "full", user: User{UserID: "agent_001", Name: "John <Agent> & co", Phone: "+919876543210",
			SIPEnabled: &tru, Status: "active", DeviceStatus: &DeviceStatus{Phone: &tru},
			CreatedAt: "2024-06-15T10:30:00.000Z"},
			want: `{"user_id":"agent_001","name":"John <Agent> & co","phone":"+919876543210","sip_enabled":true,` +
				`"status":"active","phone_device":true,"sip_device":null,"created_at":"2024-06-15T10:30:00.000Z","updated_at":null}`},
		{name: "bare", user: User{UserID: "=x", Name: "A"},
			want: `{"user_id":"=x","name":"A","phone":null,"sip_enabled":null,"status":null,"phone_device":null,` +
				`"sip_device":null,"created_at":null,"updated_at":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // as exporter's JSON Lines writer
			if err := enc.Encode(NewRecord(tc.user)); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSuffix(buf.String(), "\n"); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			// The keys are the columns, in order.
			var keys []string
			dec := json.NewDecoder(strings.NewReader(buf.String()))
			_, _ = dec.Token()
			for dec.More() {
				k, _ := dec.Token()
				keys = append(keys, k.(string))
				var skip json.RawMessage
				_ = dec.Decode(&skip)
			}
			if !slices.Equal(keys, Columns()) {
				t.Errorf("keys %v", keys)
			}
		})
	}
	// A default encoder escapes HTML as it would for any value.
	b, _ := json.Marshal(NewRecord(User{UserID: "a", Name: "<b>"}))
	if !strings.Contains(string(b), `\u003cb\u003e`) {
		t.Errorf("default encoder: %s", b)
	}
}
