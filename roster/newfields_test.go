package roster

import "testing"

// update's new-value columns: their names, aliases, and that they do not
// capture the columns they change.
func TestNewValueFields(t *testing.T) {
	if got := FieldNewEmail.String(); got != "new_email" {
		t.Errorf("FieldNewEmail.String() = %q", got)
	}
	if got := FieldNewPhone.String(); got != "new_phone" {
		t.Errorf("FieldNewPhone.String() = %q", got)
	}
	aliases := map[Field][]string{
		FieldNewEmail: {"new_email", "New Email", "new e-mail", "NEW_MAIL", "new email address", "New Email ID"},
		FieldNewPhone: {"new_phone", "New Phone", "new mobile", "New Mobile Number", "new_device_contact_uri", "new contact uri", "New Number", "new msisdn"},
	}
	for f, names := range aliases {
		for _, name := range names {
			t.Run(f.String()+"/"+name, func(t *testing.T) {
				h := ParseHeader([]string{"email", "phone", name})
				if i, ok := h.Index(f); !ok || i != 2 {
					t.Fatalf("Index(%v) = %d, %v; want 2, true", f, i, ok)
				}
				if i, _ := h.Index(FieldEmail); i != 0 {
					t.Errorf("email column moved to %d", i)
				}
				if i, _ := h.Index(FieldPhone); i != 1 {
					t.Errorf("phone column moved to %d", i)
				}
				if len(h.Unknown) != 0 || len(h.Notes) != 0 {
					t.Errorf("Unknown = %q, Notes = %q; want none", h.Unknown, h.Notes)
				}
			})
		}
	}
}

func TestFieldForHeader(t *testing.T) {
	tests := []struct {
		name string
		want Field
		ok   bool
	}{
		{"E-mail", FieldEmail, true},
		{" Mobile No. ", FieldPhone, true},
		{"user_id", FieldUserID, true},
		{"new mobile", FieldNewPhone, true},
		{"status", 0, false},
		{"input_email", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		f, ok := FieldForHeader(tc.name)
		if ok != tc.ok || (ok && f != tc.want) {
			t.Errorf("FieldForHeader(%q) = %v, %v; want %v, %v", tc.name, f, ok, tc.want, tc.ok)
		}
	}
}

func TestCheckSIPExported(t *testing.T) {
	if err := CheckSIP(" sip:agent@pbx.example.com "); err != nil {
		t.Errorf("CheckSIP of a good URI: %v", err)
	}
	if err := CheckSIP("sip:agent one"); err == nil {
		t.Error("CheckSIP accepted a space")
	}
}
