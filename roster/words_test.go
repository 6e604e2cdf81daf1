package roster

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// Headers as the systems of issue 10 write them. want maps each field to the
// header that fills it; every field not listed must be absent.
func TestHeaderFamilies(t *testing.T) {
	tests := []struct {
		name     string
		header   string
		want     map[Field]string
		fallback map[Field]string // the column read when the chosen cell is empty
		ignored  []string         // columns listed as ignored, in order
		notes    int
		err      string // checkAmbiguous
	}{
		{
			name:   "Microsoft 365 bulk-add template",
			header: "User Name,First Name,Last Name,Display Name,Job Title,Department,Office Number,Office Phone,Mobile Phone,Fax,Alternate email address,Address,City,State or Province,ZIP or Postal Code,Country or Region",
			want: map[Field]string{FieldEmail: "User Name", FieldFirstName: "First Name", FieldLastName: "Last Name",
				FieldName: "Display Name", FieldPhone: "Mobile Phone"},
			ignored: []string{"Job Title", "Department", "Office Number", "Office Phone", "Fax", "Alternate email address",
				"Address", "City", "State or Province", "ZIP or Postal Code", "Country or Region"},
			notes: 2,
		},
		{
			name: "Google Workspace with [Required]",
			header: "First Name [Required],Last Name [Required],Email Address [Required],Password [Required],Org Unit Path [Required]," +
				"Recovery Email,Home Secondary Email,Work Secondary Email,Recovery Phone [MUST BE IN THE E.164 FORMAT],Work Phone,Home Phone,Mobile Phone,Employee ID,Manager Email",
			want: map[Field]string{FieldFirstName: "First Name [Required]", FieldLastName: "Last Name [Required]",
				FieldEmail: "Email Address [Required]", FieldPhone: "Mobile Phone"},
			ignored: []string{"Password [Required]", "Org Unit Path [Required]", "Recovery Email", "Home Secondary Email",
				"Work Secondary Email", "Recovery Phone [MUST BE IN THE E.164 FORMAT]", "Work Phone", "Home Phone", "Employee ID", "Manager Email"},
			notes: 6,
		},
		{
			name: "Indian HRMS export",
			header: "Emp Code,Employee Name,Official Email,Personal Email,Mobile No.,Alternate Mobile No,Emergency Contact No," +
				"Designation,Reporting Manager,Date of Joining,Father's Name,Aadhaar No",
			want:  map[Field]string{FieldName: "Employee Name", FieldEmail: "Official Email", FieldPhone: "Mobile No."},
			notes: 2,
			ignored: []string{"Emp Code", "Personal Email", "Alternate Mobile No", "Emergency Contact No", "Designation",
				"Reporting Manager", "Date of Joining", "Father's Name", "Aadhaar No"},
		},
		{
			name:    "HRMS, short names and run-together words",
			header:  "Emp Name,Company Email,Primary Mobile,Contact No,EmpID",
			want:    map[Field]string{FieldName: "Emp Name", FieldEmail: "Company Email", FieldPhone: "Primary Mobile"},
			ignored: []string{"Contact No", "EmpID"},
			notes:   1,
		},
		{
			name:    "HRMS, phone written (Mobile)",
			header:  "EmpName,Work Email,Phone (Mobile),Phone (Office)",
			want:    map[Field]string{FieldName: "EmpName", FieldEmail: "Work Email", FieldPhone: "Phone (Mobile)"},
			ignored: []string{"Phone (Office)"},
			notes:   1,
		},
		{
			name:     "BambooHR: preferred name backed by the first name",
			header:   "Employee #,First Name,Last Name,Preferred Name,Work Email,Home Email,Mobile Phone,Work Phone,Work Phone Extension,Supervisor,Supervisor Email",
			want:     map[Field]string{FieldFirstName: "Preferred Name", FieldLastName: "Last Name", FieldEmail: "Work Email", FieldPhone: "Mobile Phone"},
			fallback: map[Field]string{FieldFirstName: "First Name"},
			ignored:  []string{"Employee #", "Home Email", "Work Phone", "Work Phone Extension", "Supervisor", "Supervisor Email"},
			notes:    2,
		},
		{
			name:     "Workday: legal and preferred",
			header:   "Legal First Name,Legal Last Name,Preferred First Name,Work Email,Mobile Phone Number",
			want:     map[Field]string{FieldFirstName: "Preferred First Name", FieldLastName: "Legal Last Name", FieldEmail: "Work Email", FieldPhone: "Mobile Phone Number"},
			fallback: map[Field]string{FieldFirstName: "Legal First Name"},
		},
		{
			name:     "Zoho: nick name, personal mobile, work phone",
			header:   "Employee ID,First Name,Last Name,Nick Name,Email address,Personal Mobile Number,Work Phone Number,Personal Email Address,Reporting To",
			want:     map[Field]string{FieldFirstName: "Nick Name", FieldLastName: "Last Name", FieldEmail: "Email address", FieldPhone: "Personal Mobile Number"},
			fallback: map[Field]string{FieldFirstName: "First Name"},
			ignored:  []string{"Employee ID", "Work Phone Number", "Personal Email Address", "Reporting To"},
			notes:    2,
		},
		{
			name:    "annotations: asterisks, (optional), format hints",
			header:  "*First Name,Last Name (optional),Mobile (with country code),E-mail ID *,Role (admin/user)",
			want:    map[Field]string{FieldFirstName: "*First Name", FieldLastName: "Last Name (optional)", FieldPhone: "Mobile (with country code)", FieldEmail: "E-mail ID *", FieldRole: "Role (admin/user)"},
			ignored: nil,
		},
		{
			name:    "camelCase and snake_case",
			header:  "firstName,lastName,workEmail,mobile_number,officialEmailId",
			want:    map[Field]string{FieldFirstName: "firstName", FieldLastName: "lastName", FieldEmail: "workEmail", FieldPhone: "mobile_number"},
			ignored: []string{"officialEmailId"},
			notes:   1,
			err:     `columns 3 "workEmail" and 5 "officialEmailId" could both be the email column`,
		},
		{
			name:    "duplicate headers are ambiguous",
			header:  "Name,Email,E-mail",
			want:    map[Field]string{FieldName: "Name", FieldEmail: "Email"},
			ignored: []string{"E-mail"},
			notes:   1,
			err:     `columns 2 "Email" and 3 "E-mail" could both be the email column: choose one with --map "E-mail=email" or --ignore-column "E-mail"`,
		},
		{
			name:    "preference decides, not order: work phone before mobile",
			header:  "Name,Work Phone,Mobile",
			want:    map[Field]string{FieldName: "Name", FieldPhone: "Mobile"},
			ignored: []string{"Work Phone"},
			notes:   1,
		},
		{
			name:   "the API's device_contact_uri beats a mobile column",
			header: "first_name,last_name,device_contact_uri,Mobile",
			want:   map[Field]string{FieldFirstName: "first_name", FieldLastName: "last_name", FieldPhone: "device_contact_uri"},
			ignored: []string{
				"Mobile"},
			notes: 1,
		},
		{
			name:    "other people's contacts and a middle name are listed, not read",
			header:  "Full Name,Middle Name,Spouse Mobile,HR Email,Guardian Contact Number",
			want:    map[Field]string{FieldName: "Full Name"},
			ignored: []string{"Middle Name", "Spouse Mobile", "HR Email", "Guardian Contact Number"},
		},
		{
			name:    "columns that mention a field but are not it",
			header:  "Name,Email Status,Phone Extension,Country Code,Email or Phone,Company Name,Last Updated",
			want:    map[Field]string{FieldName: "Name"},
			ignored: []string{"Email Status", "Phone Extension", "Country Code", "Email or Phone", "Company Name", "Last Updated"},
		},
		{
			name:   "update's new columns by their words",
			header: "Work Email,New Work Email,Mobile,New Mobile Number [Optional]",
			want:   map[Field]string{FieldEmail: "Work Email", FieldNewEmail: "New Work Email", FieldPhone: "Mobile", FieldNewPhone: "New Mobile Number [Optional]"},
		},
		{
			name:   "exoroster's results columns stay quiet",
			header: "row,status,http_status,error_code,message,attempts,user_id,input_first_name,first_name,last_name",
			want:   map[Field]string{FieldUserID: "user_id", FieldFirstName: "first_name", FieldLastName: "last_name"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := ParseHeader(strings.Split(tc.header, ","))
			for f := Field(0); f < fieldCount; f++ {
				want, ok := tc.want[f]
				if got := h.Has(f); got != ok || (ok && h.Column(f) != want) {
					t.Errorf("%v: got %q (present %v), want %q (present %v)", f, h.Column(f), got, want, ok)
				}
				wantBack := tc.fallback[f]
				gotBack := ""
				if h.fallback[f] != 0 {
					gotBack = h.columns[h.fallback[f]-1].name
				}
				if gotBack != wantBack {
					t.Errorf("%v backed by %q, want %q", f, gotBack, wantBack)
				}
			}
			if got := ignoredNames(h); !reflect.DeepEqual(got, tc.ignored) {
				t.Errorf("ignored = %q\n want %q", got, tc.ignored)
			}
			if len(h.Notes) != tc.notes {
				t.Errorf("notes = %q, want %d", h.Notes, tc.notes)
			}
			checkErr(t, h.checkAmbiguous(), tc.err)
			if err := h.checkAmbiguous(); err != nil && !errors.As(err, new(*ColumnError)) {
				t.Errorf("ambiguity error is %T, want *ColumnError", err)
			}
		})
	}
}

func ignoredNames(h *Header) []string {
	var out []string
	for _, c := range h.columns {
		switch c.use {
		case useLost, useIgnored, useOther, useUnknown:
			out = append(out, c.name)
		}
	}
	return out
}

func TestHeaderWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"First Name", []string{"first", "name"}},
		{"First Name [Required]", []string{"first", "name"}},
		{"  Email Address *  ", []string{"email", "address"}},
		{"E-mail", []string{"email"}},
		{"E Mail ID", []string{"email", "id"}},
		{"Mobile No.", []string{"mobile", "number"}},
		{"Phone #", []string{"phone", "number"}},
		{"Phone (Mobile)", []string{"phone", "mobile"}},
		{"Mobile (with country code)", []string{"mobile"}},
		{"Last Name (optional)", []string{"last", "name"}},
		{"EmpName", []string{"employee", "name"}},
		{"empname", []string{"employee", "name"}},
		{"officialEmailID", []string{"official", "email", "id"}},
		{"OFFICIALEMAILID", []string{"official", "email", "id"}},
		{"mobileno", []string{"mobile", "number"}},
		{"Email2", []string{"email", "2"}},
		{"Employee's Name", []string{"employee", "name"}},
		{"Tel.", []string{"phone"}},
		{"Cell Phone", []string{"mobile", "phone"}},
		{"WhatsApp Contact", []string{"mobile", "contact"}},
		{"Whatsapp No", []string{"mobile", "number"}},
		{"surname", []string{"surname"}},
		{"username", []string{"user", "name"}},
		{"Abracadabra", []string{"abracadabra"}},
		{"[Required]", nil},
		{"", nil},
		{"(Mobile", []string{"mobile"}},
		{strings.Repeat("a ", 40), nil}, // too many words to be a header
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got := headerWords(tc.in)
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("headerWords(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestClassifyRanks(t *testing.T) {
	tests := []struct {
		in    string
		field Field
		rank  int
	}{
		{"Official Email", FieldEmail, rankPreferred},
		{"Work Email", FieldEmail, rankPreferred},
		{"Company Email", FieldEmail, rankPreferred},
		{"Email", FieldEmail, rankPlain},
		{"User Name", FieldEmail, rankLesser},
		{"Personal Email", FieldEmail, rankLast},
		{"Alternate email address", FieldEmail, rankLast},
		{"Mobile Phone", FieldPhone, rankPreferred},
		{"Mobile", FieldPhone, rankPreferred},
		{"Primary Mobile", FieldPhone, rankPreferred},
		{"Phone", FieldPhone, rankPlain},
		{"Contact No", FieldPhone, rankPlain},
		{"Office Phone", FieldPhone, rankLesser},
		{"Work Phone", FieldPhone, rankLesser},
		{"Home Phone", FieldPhone, rankLast},
		{"Alternate Mobile No", FieldPhone, rankLast},
		{"Preferred Name", FieldFirstName, rankPreferred},
		{"First Name", FieldFirstName, rankPlain},
		{"Legal First Name", FieldFirstName, rankLesser},
		{"Legal Name", FieldName, rankLesser},
		{"Display Name", FieldName, rankPreferred},
		{"Employee Name", FieldName, rankPlain},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			c := classify(tc.in)
			if c.kind != kindField || c.field != tc.field || c.rank != tc.rank {
				t.Errorf("classify(%q) = %v %v rank %d, want %v rank %d", tc.in, c.kind, c.field, c.rank, tc.field, tc.rank)
			}
			if f, ok := FieldForHeader(tc.in); !ok || f != tc.field {
				t.Errorf("FieldForHeader(%q) = %v, %v", tc.in, f, ok)
			}
		})
	}
	for _, other := range []string{"Manager Email", "Emergency Contact No", "Fax", "Reporting Manager Mobile"} {
		if _, ok := FieldForHeader(other); ok {
			t.Errorf("FieldForHeader(%q) recognised another person's column", other)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name, header, want string
	}{
		{
			name:   "HRMS",
			header: "Emp Code,First Name,Last Name,Official Email,Personal Email,Mobile Phone,Designation,Reporting Manager",
			want: `columns: first_name ← "First Name", last_name ← "Last Name", email ← "Official Email", phone ← "Mobile Phone"; ` +
				`ignored: "Emp Code", "Personal Email" (email is "Official Email"), "Designation", "Reporting Manager"`,
		},
		{
			name:   "preferred name with its backing, a fax, results columns unlisted",
			header: "status,Preferred Name,First Name,Surname,Fax",
			want:   `columns: first_name ← "Preferred Name" (else "First Name"), last_name ← "Surname"; ignored: "Fax" (a fax number)`,
		},
		{
			name:   "nothing recognised",
			header: "a,b",
			want:   `columns: none recognised; ignored: "a", "b"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ParseHeader(strings.Split(tc.header, ",")).Describe(); got != tc.want {
				t.Errorf("Describe:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
	var nilHeader *Header
	if got := nilHeader.Describe(); got != "columns: none" {
		t.Errorf("nil Describe = %q", got)
	}
	many := make([]string, maxDescribed+5)
	for i := range many {
		many[i] = "x" + strings.Repeat("y", i)
	}
	if got := ParseHeader(many).Describe(); !strings.HasSuffix(got, "and 5 more") {
		t.Errorf("a long ignored list should end with a count: %s", got[len(got)-40:])
	}
}

func TestPreferredNameFallback(t *testing.T) {
	h := ParseHeader([]string{"First Name", "Last Name", "Preferred Name"})
	v := NewValidator(h, Options{})
	tests := []struct {
		raw        []string
		first      string
		problemCol string
	}{
		{raw: []string{"Robert", "Smith", "Bob"}, first: "Bob"},
		{raw: []string{"Robert", "Smith", ""}, first: "Robert"},
		{raw: []string{"Robert", "Smith"}, first: "Robert"},
		{raw: []string{"=cmd", "Smith", ""}, problemCol: "First Name"},
		{raw: []string{"Robert", "Smith", "=cmd"}, problemCol: "Preferred Name"},
	}
	for i, tc := range tests {
		p, probs := v.Check(Record{Row: i + 1, Raw: tc.raw})
		if tc.problemCol != "" {
			if len(probs) != 1 || probs[0].Column != tc.problemCol {
				t.Errorf("%q: problems %v, want one on %q", tc.raw, probs, tc.problemCol)
			}
			continue
		}
		if len(probs) != 0 || p.FirstName != tc.first {
			t.Errorf("%q: first name %q, problems %v; want %q", tc.raw, p.FirstName, probs, tc.first)
		}
	}
}
