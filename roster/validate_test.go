package roster

import (
	"reflect"
	"strings"
	"testing"
)

type checked struct {
	Person   Person
	Problems []Problem
}

// checkFile reads a whole CSV and validates every row with one Validator.
func checkFile(t *testing.T, in string, opts Options) []checked {
	t.Helper()
	h, recs, err := readAll(strings.NewReader(in))
	if err != nil {
		t.Fatalf("reading: %v", err)
	}
	v := NewValidator(h, opts)
	var out []checked
	for _, rec := range recs {
		p, probs := v.Check(rec)
		out = append(out, checked{p, probs})
	}
	return out
}

func ok(p Person) checked { return checked{Person: p} }

func TestValidatorCheck(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts Options
		want []checked
	}{
		{
			name: "full row",
			in: "First Name,Surname,E-mail,Mobile,Role,Device\n" +
				" Rahul , Sharma ,Rahul.Sharma+ops@Example.com,098765 43210,Admin,Rahul's phone\n",
			want: []checked{ok(Person{FirstName: "Rahul", LastName: "Sharma", Email: "Rahul.Sharma+ops@Example.com",
				Phone: "+919876543210", Role: "admin", DeviceName: "Rahul's phone"})},
		},
		{
			name: "only names; optional fields empty; role defaults to user",
			in:   "first_name,last_name,email,phone,role,device_name\nPriya,Nair,,,,\n",
			want: []checked{ok(Person{FirstName: "Priya", LastName: "Nair", Role: "user"})},
		},
		{
			name: "name column is split",
			in:   "Full Name\nMary Ann Smith\n\"Sharma, Rahul\"\n  राहुल   शर्मा \n",
			want: []checked{
				ok(Person{FirstName: "Mary Ann", LastName: "Smith", Role: "user"}),
				ok(Person{FirstName: "Rahul", LastName: "Sharma", Role: "user"}),
				ok(Person{FirstName: "राहुल", LastName: "शर्मा", Role: "user"}),
			},
		},
		{
			name: "one-word name",
			in:   "name,email\nMadonna,m@x.com\n",
			want: []checked{{
				Person:   Person{FirstName: "Madonna", Email: "m@x.com", Role: "user"},
				Problems: []Problem{{Column: "last_name", Value: "Madonna", Reason: "last name is required (the name has one word)"}},
			}},
		},
		{
			name: "empty name cell is one problem",
			in:   "name,email\n,m@x.com\n",
			want: []checked{{
				Person:   Person{Email: "m@x.com", Role: "user"},
				Problems: []Problem{{Column: "name", Reason: "is required"}},
			}},
		},
		{
			name: "name column fills in when first and last are both empty",
			in:   "first_name,last_name,Employee Name,role\nRahul,Sharma,ignored here,\n,,Priya Nair,\n,,,agent\n",
			want: []checked{
				ok(Person{FirstName: "Rahul", LastName: "Sharma", Role: "user"}),
				ok(Person{FirstName: "Priya", LastName: "Nair", Role: "user"}),
				{Person: Person{Role: "user"}, Problems: []Problem{
					{Column: "first_name", Reason: "is required"},
					{Column: "last_name", Reason: "is required"},
				}},
			},
		},
		{
			name: "name column does not fill in one missing half",
			in:   "first_name,Last Name,name\nRahul,,Rahul Sharma\n",
			want: []checked{{
				Person:   Person{FirstName: "Rahul", Role: "user"},
				Problems: []Problem{{Column: "Last Name", Reason: "is required"}},
			}},
		},
		{
			name: "short row: missing cells are empty",
			in:   "first_name,last_name,email\nRahul\n",
			want: []checked{{
				Person:   Person{FirstName: "Rahul", Role: "user"},
				Problems: []Problem{{Column: "last_name", Reason: "is required"}},
			}},
		},
		{
			name: "every problem of a row is reported, columns as written",
			in: "Given Name,Surname,Email Address,Phone No.,Access,Device Name\n" +
				"12345,rahul@x.com,John <j@x.com>,+91-98765-ABCDE,manager," + strings.Repeat("d", 65) + "\n",
			want: []checked{{
				Person: Person{},
				Problems: []Problem{
					{Column: "Given Name", Value: "12345", Reason: "must contain a letter"},
					{Column: "Surname", Value: "rahul@x.com", Reason: "contains @: this looks like an email address, not a name"},
					{Column: "Email Address", Value: "John <j@x.com>", Reason: "write the address alone, without a display name or < >"},
					{Column: "Phone No.", Value: "+91-98765-ABCDE", Reason: "letters are not allowed in a phone number"},
					{Column: "Access", Value: "manager", Reason: "not a role: use admin, supervisor, user (or agent)"},
					{Column: "Device Name", Value: strings.Repeat("d", 65), Reason: "is longer than 64 characters"},
				},
			}},
		},
		{
			name: "split name problems point at the canonical columns",
			in:   "name\n=cmd Sharma\n",
			want: []checked{{
				Person:   Person{LastName: "Sharma", Role: "user"},
				Problems: []Problem{{Column: "first_name", Value: "=cmd", Reason: "cannot start with =, +, - or @ (a spreadsheet formula)"}},
			}},
		},
		{
			name: "export's formula quote is undone before checking",
			in:   "first_name,last_name,phone\n'=x,Sharma,'+919876543210\n",
			want: []checked{{
				Person:   Person{LastName: "Sharma", Phone: "+919876543210", Role: "user"},
				Problems: []Problem{{Column: "first_name", Value: "=x", Reason: "cannot start with =, +, - or @ (a spreadsheet formula)"}},
			}},
		},
		{
			name: "duplicate email, case-insensitive",
			in:   "name,email\nRahul Sharma,Rahul@Example.com\nPriya Nair,p@example.com\nR Sharma,rahul@EXAMPLE.com\nRahul S,RAHUL@example.com\n",
			want: []checked{
				ok(Person{FirstName: "Rahul", LastName: "Sharma", Email: "Rahul@Example.com", Role: "user"}),
				ok(Person{FirstName: "Priya", LastName: "Nair", Email: "p@example.com", Role: "user"}),
				{Person: Person{FirstName: "R", LastName: "Sharma", Email: "rahul@EXAMPLE.com", Role: "user"},
					Problems: []Problem{{Column: "email", Value: "rahul@EXAMPLE.com", Reason: "duplicate of row 1 (same email)"}}},
				{Person: Person{FirstName: "Rahul", LastName: "S", Email: "RAHUL@example.com", Role: "user"},
					Problems: []Problem{{Column: "email", Value: "RAHUL@example.com", Reason: "duplicate of row 1 (same email)"}}},
			},
		},
		{
			name: "plus-addresses are different people",
			in:   "name,email\nAgent One,batman+1@gmail.com\nAgent Two,batman+2@gmail.com\n",
			want: []checked{
				ok(Person{FirstName: "Agent", LastName: "One", Email: "batman+1@gmail.com", Role: "user"}),
				ok(Person{FirstName: "Agent", LastName: "Two", Email: "batman+2@gmail.com", Role: "user"}),
			},
		},
		{
			name: "duplicate phone written two ways; blank rows do not shift row numbers",
			in:   "name,phone\nRahul Sharma,09876543210\n,\nPriya Nair,98765 43211\nAmit Shah,+91 (98765) 43210\n",
			want: []checked{
				ok(Person{FirstName: "Rahul", LastName: "Sharma", Phone: "+919876543210", Role: "user"}),
				ok(Person{FirstName: "Priya", LastName: "Nair", Phone: "+919876543211", Role: "user"}),
				{Person: Person{FirstName: "Amit", LastName: "Shah", Phone: "+919876543210", Role: "user"},
					Problems: []Problem{{Column: "phone", Value: "+91 (98765) 43210", Reason: "duplicate of row 1 (same phone)"}}},
			},
		},
		{
			name: "a row with other problems still registers its email and phone",
			in:   "name,email,phone\nMadonna,m@x.com,9876543210\nMadonna Ciccone,M@X.com,+919876543210\n",
			want: []checked{
				{Person: Person{FirstName: "Madonna", Email: "m@x.com", Phone: "+919876543210", Role: "user"},
					Problems: []Problem{{Column: "last_name", Value: "Madonna", Reason: "last name is required (the name has one word)"}}},
				{Person: Person{FirstName: "Madonna", LastName: "Ciccone", Email: "M@X.com", Phone: "+919876543210", Role: "user"},
					Problems: []Problem{
						{Column: "email", Value: "M@X.com", Reason: "duplicate of row 1 (same email)"},
						{Column: "phone", Value: "+919876543210", Reason: "duplicate of row 1 (same phone)"},
					}},
			},
		},
		{
			name: "an invalid value registers nothing",
			in:   "name,email\nRahul Sharma,rahul@@x.com\nRahul Sharma,rahul@x.com\n",
			want: []checked{
				{Person: Person{FirstName: "Rahul", LastName: "Sharma", Role: "user"},
					Problems: []Problem{{Column: "email", Value: "rahul@@x.com", Reason: "has more than one @ (one address per row)"}}},
				ok(Person{FirstName: "Rahul", LastName: "Sharma", Email: "rahul@x.com", Role: "user"}),
			},
		},
		{
			name: "SIP address is not a phone",
			in:   "name,device_contact_uri\nRahul Sharma,sip:arjuns2d853099\nPriya Nair,sip:\n",
			want: []checked{
				ok(Person{FirstName: "Rahul", LastName: "Sharma", SIPContact: "sip:arjuns2d853099", Role: "user"}),
				{Person: Person{FirstName: "Priya", LastName: "Nair", Role: "user"},
					Problems: []Problem{{Column: "device_contact_uri", Value: "sip:", Reason: "not a valid SIP address: nothing after sip:"}}},
			},
		},
		{
			name: "default region from options",
			in:   "name,phone\nJane Doe,(202) 555-0147\n",
			opts: Options{DefaultRegion: "us"},
			want: []checked{ok(Person{FirstName: "Jane", LastName: "Doe", Phone: "+12025550147", Role: "user"})},
		},
		{
			name: "user_id and unknown columns are ignored",
			in:   "user_id,name,Department\nbd1fb4af48204e3fa9c22e460d2196bd,Rahul Sharma,Sales\n",
			want: []checked{ok(Person{FirstName: "Rahul", LastName: "Sharma", Role: "user"})},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkFile(t, tc.in, tc.opts)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d rows, want %d: %+v", len(got), len(tc.want), got)
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tc.want[i]) {
					t.Errorf("row %d:\n got %+v\nwant %+v", i+1, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestValidatorNilHeader(t *testing.T) {
	p, probs := NewValidator(nil, Options{}).Check(Record{Row: 1, Raw: []string{"x"}})
	if len(probs) != 2 || p.Role != "user" {
		t.Errorf("Check with no header = %+v, %+v; want two name problems", p, probs)
	}
}

func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Column: "email", Value: "a@@b", Reason: "has more than one @"}, `email "a@@b": has more than one @`},
		{Problem{Column: "last_name", Reason: "is required"}, "last_name: is required"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.p.String(); got != tc.want {
				t.Errorf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRequirePhone(t *testing.T) {
	h := ParseHeader([]string{"name", "phone"})
	tests := []struct {
		name    string
		raw     []string
		require bool
		want    string // the problems, joined; "" for none
	}{
		{name: "phone given", raw: []string{"Rahul Sharma", "9845012345"}, require: true},
		{name: "no phone, not required", raw: []string{"Rahul Sharma", ""}},
		{name: "no phone, required", raw: []string{"Rahul Sharma", ""}, require: true,
			want: "phone: is required: this account needs a phone number for every user (--require-phone)"},
		{name: "short row, required", raw: []string{"Rahul Sharma"}, require: true,
			want: "phone: is required: this account needs a phone number for every user (--require-phone)"},
		{name: "SIP address, required", raw: []string{"Rahul Sharma", "sip:rahul"}, require: true,
			want: `phone "sip:rahul": is a SIP address, and this account needs a phone number for every user (--require-phone)`},
		{name: "SIP address, not required", raw: []string{"Rahul Sharma", "sip:rahul"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := NewValidator(h, Options{RequirePhone: tc.require}).Check(Record{Row: 1, Raw: tc.raw})
			var got []string
			for _, p := range probs {
				got = append(got, p.String())
			}
			if strings.Join(got, "; ") != tc.want {
				t.Errorf("problems %q, want %q", got, tc.want)
			}
		})
	}
	// Without a phone column every row lacks one.
	_, probs := NewValidator(ParseHeader([]string{"name"}), Options{RequirePhone: true}).Check(Record{Row: 1, Raw: []string{"Rahul Sharma"}})
	if len(probs) != 1 || probs[0].Column != "device_contact_uri" {
		t.Errorf("no phone column: %v", probs)
	}
}

func TestSpreadsheetErrorValues(t *testing.T) {
	h := ParseHeader([]string{"first_name", "last_name", "email", "phone", "role", "device_name"})
	v := NewValidator(h, Options{})
	_, probs := v.Check(Record{Row: 1, Raw: []string{"#N/A", "#REF!", "#VALUE!", "#N/A", "#NAME?", "#DIV/0!"}})
	if len(probs) != 6 {
		t.Fatalf("problems %v, want one per cell", probs)
	}
	for _, p := range probs {
		if !strings.Contains(p.Reason, "is a spreadsheet error value") {
			t.Errorf("%s: want the spreadsheet error reason", p)
		}
	}
	_, probs = NewValidator(ParseHeader([]string{"name"}), Options{}).Check(Record{Row: 1, Raw: []string{"#N/A"}})
	if len(probs) != 1 || probs[0].Column != "name" || !strings.Contains(probs[0].Reason, "spreadsheet error") {
		t.Errorf("name column: %v", probs)
	}
}
