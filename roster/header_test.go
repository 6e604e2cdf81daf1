package roster

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestFieldString(t *testing.T) {
	want := map[Field]string{
		FieldFirstName:  "first_name",
		FieldLastName:   "last_name",
		FieldName:       "name",
		FieldEmail:      "email",
		FieldPhone:      "device_contact_uri",
		FieldRole:       "role",
		FieldDeviceName: "device_name",
		FieldUserID:     "user_id",
		Field(99):       "Field(99)",
		Field(-1):       "Field(-1)",
	}
	for f, name := range want {
		t.Run(name, func(t *testing.T) {
			if got := f.String(); got != name {
				t.Errorf("Field(%d).String() = %q, want %q", int(f), got, name)
			}
		})
	}
}

func TestParseHeaderAliases(t *testing.T) {
	aliases := map[Field][]string{
		FieldFirstName:  {"first_name", "first name", "firstname", "given name", "given_name", "forename", "First Name", "FIRST-NAME", "First.Name", "first__name", "  first   name  "},
		FieldLastName:   {"last_name", "last name", "lastname", "surname", "family name", "Surname", "Family-Name"},
		FieldName:       {"name", "full name", "fullname", "agent name", "employee name", "Full_Name", "Agent Name"},
		FieldEmail:      {"email", "e-mail", "mail", "email address", "email id", "E-Mail", "Email ID", "E-mail Address", "email_address"},
		FieldPhone:      {"device_contact_uri", "phone", "phone number", "mobile", "mobile number", "contact", "contact number", "cell", "phone no", "Phone No.", "msisdn", "MSISDN", "Mobile No", "Phone-Number"},
		FieldRole:       {"role", "user role", "access", "User_Role", "ROLE"},
		FieldDeviceName: {"device_name", "device", "Device Name"},
		FieldUserID:     {"user_id", "user id", "id", "exotel id", "ID", "Exotel-ID"},
	}
	for f, names := range aliases {
		for _, name := range names {
			t.Run(f.String()+"/"+name, func(t *testing.T) {
				h := ParseHeader([]string{"x", name})
				i, ok := h.Index(f)
				if !ok || i != 1 {
					t.Fatalf("Index(%v) = %d, %v; want 1, true", f, i, ok)
				}
				if got := h.Column(f); got != strings.TrimSpace(name) {
					t.Errorf("Column(%v) = %q, want %q", f, got, strings.TrimSpace(name))
				}
				if len(h.Unknown) != 1 || h.Unknown[0] != "x" {
					t.Errorf("Unknown = %q, want [x]", h.Unknown)
				}
			})
		}
	}
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name      string
		in        []string
		want      map[Field]int // every field not listed must be absent
		wantNames []string      // nil: same as in
		unknown   []string
		notes     []string
	}{
		{
			name: "canonical export header",
			in:   []string{"first_name", "last_name", "email", "device_contact_uri", "role", "device_name"},
			want: map[Field]int{FieldFirstName: 0, FieldLastName: 1, FieldEmail: 2, FieldPhone: 3, FieldRole: 4, FieldDeviceName: 5},
		},
		{
			name:      "BOM on the first header",
			in:        []string{"\ufefffirst_name", "last_name"},
			want:      map[Field]int{FieldFirstName: 0, FieldLastName: 1},
			wantNames: []string{"first_name", "last_name"},
		},
		{
			name: "non-breaking and zero-width spaces around headers",
			in:   []string{"\u00a0First Name\u200b", "\tSurname "},
			want: map[Field]int{FieldFirstName: 0, FieldLastName: 1},
		},
		{
			name: "empty header cells ignored",
			in:   []string{"", "name", "  ", "email", ""},
			want: map[Field]int{FieldName: 1, FieldEmail: 3},
		},
		{
			name:  "duplicate field: first wins, later one noted",
			in:    []string{"First Name", "surname", "Last Name", "email"},
			want:  map[Field]int{FieldFirstName: 0, FieldLastName: 1, FieldEmail: 3},
			notes: []string{`column 3 "Last Name" is a second last_name column and is ignored; column 2 "surname" is used`},
		},
		{
			name:  "phone and mobile both present",
			in:    []string{"name", "Mobile", "Phone"},
			want:  map[Field]int{FieldName: 0, FieldPhone: 1},
			notes: []string{`column 3 "Phone" is a second phone column and is ignored; column 2 "Mobile" is used`},
		},
		{
			name: "export columns are quiet",
			in: []string{"user_id", "first_name", "last_name", "email", "email_verified", "role", "device_id", "device_name",
				"device_contact_uri", "device_type", "device_verified", "device_available", "device_status", "extra_devices",
				"last_login", "active_call", "date_created", "date_updated"},
			want: map[Field]int{FieldUserID: 0, FieldFirstName: 1, FieldLastName: 2, FieldEmail: 3, FieldRole: 5, FieldDeviceName: 7, FieldPhone: 8},
		},
		{
			name: "results columns are quiet",
			in:   []string{"row", "status", "http_status", "error_code", "message", "attempts", "input_first_name", "Input-Phone", "first_name", "last_name"},
			want: map[Field]int{FieldFirstName: 8, FieldLastName: 9},
		},
		{
			name:    "bare input is not the input_ prefix",
			in:      []string{"name", "input"},
			want:    map[Field]int{FieldName: 0},
			unknown: []string{"input"},
		},
		{
			name:    "unknown headers reported once each, trimmed",
			in:      []string{"name", " Department ", "Notes", "Department", "Manager"},
			want:    map[Field]int{FieldName: 0},
			unknown: []string{"Department", "Notes", "Manager"},
		},
		{
			name: "no header cells",
			in:   nil,
			want: map[Field]int{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := ParseHeader(tc.in)
			for f := Field(0); f < fieldCount; f++ {
				wantI, wantOK := tc.want[f]
				i, ok := h.Index(f)
				if ok != wantOK || (ok && i != wantI) {
					t.Errorf("Index(%v) = %d, %v; want %d, %v", f, i, ok, wantI, wantOK)
				}
				if h.Has(f) != wantOK {
					t.Errorf("Has(%v) = %v, want %v", f, h.Has(f), wantOK)
				}
			}
			wantNames := tc.wantNames
			if wantNames == nil {
				wantNames = tc.in
			}
			if len(wantNames) > 0 && !reflect.DeepEqual(h.Names, wantNames) {
				t.Errorf("Names = %q, want %q", h.Names, wantNames)
			}
			if !reflect.DeepEqual(h.Unknown, tc.unknown) {
				t.Errorf("Unknown = %q, want %q", h.Unknown, tc.unknown)
			}
			if !reflect.DeepEqual(h.Notes, tc.notes) {
				t.Errorf("Notes = %q, want %q", h.Notes, tc.notes)
			}
		})
	}
}

func TestParseHeaderCopiesNames(t *testing.T) {
	in := []string{"\ufeffname", "email"}
	h := ParseHeader(in)
	if in[0] != "\ufeffname" {
		t.Errorf("ParseHeader changed its argument: %q", in[0])
	}
	in[1] = "changed"
	if h.Names[1] != "email" {
		t.Errorf("Header.Names shares the caller's slice")
	}
}

func TestHeaderColumn(t *testing.T) {
	h := ParseHeader([]string{"  Given Name ", "EMAIL"})
	tests := []struct {
		f    Field
		want string
	}{
		{FieldFirstName, "Given Name"},
		{FieldEmail, "EMAIL"},
		{FieldLastName, "last_name"},
		{FieldPhone, "device_contact_uri"},
		{Field(42), "Field(42)"},
	}
	for _, tc := range tests {
		t.Run(tc.f.String(), func(t *testing.T) {
			if got := h.Column(tc.f); got != tc.want {
				t.Errorf("Column(%v) = %q, want %q", tc.f, got, tc.want)
			}
		})
	}
	var nilHeader *Header
	if nilHeader.Has(FieldEmail) || nilHeader.Column(FieldEmail) != "email" {
		t.Errorf("a nil *Header must have no columns")
	}
}

func TestCheckForImport(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		wantErr string
	}{
		{name: "first and last", in: []string{"first_name", "last_name"}},
		{name: "name only", in: []string{"Full Name", "email"}},
		{name: "name and first only", in: []string{"name", "first_name"}},
		{name: "first without last", in: []string{"first_name", "email"},
			wantErr: "no last name column: the file needs last_name (or surname) or a single name column"},
		{name: "last without first", in: []string{"surname", "phone"},
			wantErr: "no first name column: the file needs first_name (or given name) or a single name column"},
		{name: "no name columns", in: []string{"email", "phone"},
			wantErr: "no name columns: the file needs first_name and last_name columns, or a single name column"},
		{name: "semicolon-separated file", in: []string{"first_name;last_name;email"},
			wantErr: `the header is one cell containing ";": save the file as comma-separated CSV`},
		{name: "tab-separated file", in: []string{"first_name\tlast_name"},
			wantErr: `the header is one cell containing "\t"`},
		{name: "no header line", in: []string{"Rahul", "Sharma", "rahul@example.com", "9876543210"},
			wantErr: "the first line looks like data"},
		{name: "empty header", in: nil, wantErr: "no name columns"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, ParseHeader(tc.in).CheckForImport(), tc.wantErr)
		})
	}
}

func TestCheckForLookup(t *testing.T) {
	tests := []struct {
		name    string
		in      []string
		wantErr string
	}{
		{name: "user_id", in: []string{"user_id"}},
		{name: "email", in: []string{"name", "E-mail"}},
		{name: "phone", in: []string{"Mobile"}},
		{name: "names only", in: []string{"first_name", "last_name", "role"},
			wantErr: "no column to find users by: the file needs user_id, email or phone"},
		{name: "only quiet columns", in: []string{"device_id", "status"},
			wantErr: "no column to find users by"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkErr(t, ParseHeader(tc.in).CheckForLookup(), tc.wantErr)
		})
	}
}

func TestParseHeaderManyColumns(t *testing.T) {
	// A hostile or broken header must cost linear time, not quadratic.
	const n = 200000
	names := make([]string, n)
	for i := range names {
		names[i] = "col" + strconv.Itoa(i%(n/2)) // every unknown twice
	}
	h := ParseHeader(names)
	if len(h.Unknown) != n/2 {
		t.Errorf("got %d unknown headers, want %d", len(h.Unknown), n/2)
	}
}

func TestCheckForImportTitleRow(t *testing.T) {
	err := ParseHeader([]string{"Employee Master - January", "", ""}).CheckForImport()
	checkErr(t, err, `(the header has one cell, "Employee Master - January": if it is a title above the table, delete it so that the column names come first)`)
}
