package roster

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseMap(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []MapEntry
		wantErr string
	}{
		{
			name: "two entries",
			in:   "Mobile No.=phone,Official Email=email",
			want: []MapEntry{{Header: "Mobile No.", Field: FieldPhone, From: "--map"}, {Header: "Official Email", Field: FieldEmail, From: "--map"}},
		},
		{
			name: "spaces, canonical names, aliases and ignore",
			in:   " Contact = device_contact_uri , Surname=last name,Notes=ignore,Given=first_name ",
			want: []MapEntry{
				{Header: "Contact", Field: FieldPhone, From: "--map"},
				{Header: "Surname", Field: FieldLastName, From: "--map"},
				{Header: "Notes", Ignore: true, From: "--map"},
				{Header: "Given", Field: FieldFirstName, From: "--map"},
			},
		},
		{
			name: "the last = splits, so a header may hold one",
			in:   "a=b=email",
			want: []MapEntry{{Header: "a=b", Field: FieldEmail, From: "--map"}},
		},
		{name: "empty entries skipped", in: "Mobile=phone,,", want: []MapEntry{{Header: "Mobile", Field: FieldPhone, From: "--map"}}},
		{name: "unknown field", in: "Mobile No.=mobile_phone", wantErr: `--map: "mobile_phone" is not a field: use first_name, last_name`},
		{name: "no =", in: "Mobile No.", wantErr: `--map: "Mobile No." has no '='`},
		{name: "no header", in: "=email", wantErr: `--map: "=email" has no header before the '='`},
		{name: "nothing", in: " , ", wantErr: "has no entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMap(tc.in)
			checkErr(t, err, tc.wantErr)
			if err != nil && !errors.As(err, new(*UsageError)) {
				t.Errorf("error is %T, want *UsageError", err)
			}
			if tc.wantErr == "" && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseMap(%q) =\n %+v\nwant %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseMapFile(t *testing.T) {
	in := "\ufeff# what our HRMS calls things\n\nPhone, Mobile=phone\r\nOfficial Email = email\n  # indented comment\nRemarks=ignore\n"
	got, err := ParseMapFile("hrms.map", strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []MapEntry{
		{Header: "Phone, Mobile", Field: FieldPhone, From: "hrms.map line 3"},
		{Header: "Official Email", Field: FieldEmail, From: "hrms.map line 4"},
		{Header: "Remarks", Ignore: true, From: "hrms.map line 6"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	_, err = ParseMapFile("hrms.map", strings.NewReader("Mobile=phone\nEmail=mail_id\n"))
	checkErr(t, err, `hrms.map line 2: "mail_id" is not a field`)
	if !errors.As(err, new(*UsageError)) {
		t.Errorf("error is %T, want *UsageError", err)
	}
}

// The map applied to a file's header through Open's options.
func TestMapAppliedToHeader(t *testing.T) {
	dir := t.TempDir()
	mapFile := filepath.Join(dir, "cols.map")
	if err := os.WriteFile(mapFile, []byte("Contact=phone\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		csv      string
		opts     ReadOptions
		want     map[Field]string
		describe string
		wantErr  string
		usage    bool // the error must be a *UsageError
		column   bool // the error must be a *ColumnError
	}{
		{
			name: "map overrides the guess",
			csv:  "Employee Name,Mobile No.,Official Email,Personal Email\nRahul Sharma,9845012345,r@corp.example.com,r@gmail.example.com\n",
			opts: ReadOptions{Map: []string{"Personal Email=email"}},
			want: map[Field]string{FieldName: "Employee Name", FieldPhone: "Mobile No.", FieldEmail: "Personal Email"},
			describe: `columns: name ← "Employee Name", email ← "Personal Email", phone ← "Mobile No."; ` +
				`ignored: "Official Email" (email is "Personal Email")`,
		},
		{
			name: "map picks one of two duplicate headers",
			csv:  "name,Email,E-mail\nRahul Sharma,a@x.example.com,b@x.example.com\n",
			opts: ReadOptions{Map: []string{"E-mail=email"}},
			want: map[Field]string{FieldName: "name", FieldEmail: "E-mail"},
		},
		{
			name:     "ignoring one of two duplicates",
			csv:      "name,Email,E-mail\nRahul Sharma,a@x.example.com,b@x.example.com\n",
			opts:     ReadOptions{Ignore: []string{"Email"}},
			want:     map[Field]string{FieldName: "name", FieldEmail: "E-mail"},
			describe: `columns: name ← "name", email ← "E-mail"; ignored: "Email" (--ignore-column)`,
		},
		{
			name:    "duplicates without a map",
			csv:     "name,Email,E-mail\nRahul Sharma,a@x.example.com,b@x.example.com\n",
			wantErr: `columns 2 "Email" and 3 "E-mail" could both be the email column`,
			column:  true,
		},
		{
			name: "identical headers named by number",
			csv:  "name,Email,Email\nRahul Sharma,a@x.example.com,b@x.example.com\n",
			opts: ReadOptions{Map: []string{"#3=email"}, Ignore: []string{"#2"}},
			want: map[Field]string{FieldName: "name", FieldEmail: "Email"},
		},
		{
			name:    "identical headers named by name",
			csv:     "name,Email,Email\nRahul Sharma,a@x.example.com,b@x.example.com\n",
			opts:    ReadOptions{Map: []string{"Email=email"}},
			wantErr: `"Email" matches columns 2 and 3: name one by number, such as "#2"`,
			usage:   true,
		},
		{
			name: "map matches ignoring case; map file",
			csv:  "NAME,contact\nRahul Sharma,9845012345\n",
			opts: ReadOptions{Map: []string{"name=name"}, MapFile: mapFile},
			want: map[Field]string{FieldName: "NAME", FieldPhone: "contact"},
		},
		{
			name:    "a header the file lacks",
			csv:     "name,phone\nRahul Sharma,9845012345\n",
			opts:    ReadOptions{Map: []string{"Mobile No.=phone"}},
			wantErr: `--map: the file has no column "Mobile No."; its columns are "name", "phone"`,
			usage:   true,
		},
		{
			name:    "an ignored column the file lacks",
			csv:     "name,phone\nRahul Sharma,9845012345\n",
			opts:    ReadOptions{Ignore: []string{"Remarks"}},
			wantErr: `--ignore-column: the file has no column "Remarks"`,
			usage:   true,
		},
		{
			name:    "two columns mapped to one field",
			csv:     "name,a,b\nRahul Sharma,1,2\n",
			opts:    ReadOptions{Map: []string{"a=phone,b=phone"}},
			wantErr: `--map maps "a" and --map maps "b" to phone: a field is read from one column`,
			usage:   true,
		},
		{
			name:    "a column mapped and ignored",
			csv:     "name,a\nRahul Sharma,1\n",
			opts:    ReadOptions{Map: []string{"a=phone"}, Ignore: []string{"a"}},
			wantErr: `--map and --ignore-column both say what column "a" is`,
			usage:   true,
		},
		{name: "bad field", csv: "name\nx y\n", opts: ReadOptions{Map: []string{"name=nom"}}, wantErr: `"nom" is not a field`, usage: true},
		{name: "missing map file", csv: "name\nx y\n", opts: ReadOptions{MapFile: filepath.Join(dir, "none.map")}, wantErr: "cannot read --map-file"},
		{name: "empty ignore", csv: "name\nx y\n", opts: ReadOptions{Ignore: []string{" "}}, wantErr: "--ignore-column needs a column name", usage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := NewReaderWith(strings.NewReader(tc.csv), tc.opts)
			checkErr(t, err, tc.wantErr)
			if tc.usage && !errors.As(err, new(*UsageError)) {
				t.Errorf("error is %T, want *UsageError", err)
			}
			if tc.column && !errors.As(err, new(*ColumnError)) {
				t.Errorf("error is %T, want *ColumnError", err)
			}
			if err != nil {
				return
			}
			h := r.Header()
			for f := Field(0); f < fieldCount; f++ {
				want, ok := tc.want[f]
				if h.Has(f) != ok || (ok && h.Column(f) != want) {
					t.Errorf("%v = %q (present %v), want %q", f, h.Column(f), h.Has(f), want)
				}
			}
			if tc.describe != "" && h.Describe() != tc.describe {
				t.Errorf("Describe:\n got %s\nwant %s", h.Describe(), tc.describe)
			}
		})
	}
}
