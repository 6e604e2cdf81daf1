package roster_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/exoroster/exoroster/roster"
)

// The importer's loop: read the header, check it once, then validate row by row.
func Example() {
	in := "\ufeffFull Name,E-mail,Mobile,Role,Department\r\n" +
		"\"Sharma, Rahul\",rahul+ops@example.com,098765 43210,Agent,Sales\r\n" +
		"\r\n" +
		"Priya Nair,RAHUL+OPS@example.com,+91-98765-ABCDE,manager,Support\r\n"

	r, err := roster.NewReader(strings.NewReader(in))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := r.Header()
	if err := h.CheckForImport(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("unknown columns:", h.Unknown)

	v := roster.NewValidator(h, roster.Options{DefaultRegion: "IN"})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		p, problems := v.Check(rec)
		if len(problems) == 0 {
			fmt.Printf("row %d (line %d): create %s %s <%s> %s as %s\n", rec.Row, rec.Line, p.FirstName, p.LastName, p.Email, p.Phone, p.Role)
			continue
		}
		for _, pr := range problems {
			fmt.Printf("row %d (line %d): %s\n", rec.Row, rec.Line, pr)
		}
	}
	// Output:
	// unknown columns: [Department]
	// row 1 (line 2): create Rahul Sharma <rahul+ops@example.com> +919876543210 as user
	// row 2 (line 4): E-mail "RAHUL+OPS@example.com": duplicate of row 1 (same email)
	// row 2 (line 4): Mobile "+91-98765-ABCDE": letters are not allowed in a phone number
	// row 2 (line 4): Role "manager": not a role: use admin, supervisor, user (or agent)
}

// What a command does with the user's flags: read with them, print how the
// file was read, warn about columns that lost, then validate row by row.
func ExampleNewReaderWith() {
	in := "Emp Code;Employee Name;Official Email;Personal Email;Mobile No.;Reach\r\n" +
		"E1;Rahul Sharma;rahul@corp.example.com;rahul@mail.example.com;9845012345.0;98450 11111\r\n"

	_, err := roster.NewReaderWith(strings.NewReader(in), roster.ReadOptions{})
	fmt.Println(err) // a *roster.ColumnError: the run stops, exit 1

	r, err := roster.NewReaderWith(strings.NewReader(in), roster.ReadOptions{
		Map:    []string{"Reach=phone"}, // --map
		Ignore: []string{"Mobile No."},  // --ignore-column
	})
	if err != nil {
		fmt.Println(err) // *roster.UsageError: exit 2; *roster.ColumnError: exit 1
		return
	}
	defer r.Close()
	fmt.Println(r.Describe())
	for _, n := range r.Header().Notes {
		fmt.Println("warning:", n)
	}
	v := roster.NewValidator(r.Header(), roster.Options{RequirePhone: true})
	rec, _ := r.Next()
	p, problems := v.Check(rec)
	fmt.Println(rec.Row, p.FirstName, p.LastName, p.Email, p.Phone, problems)
	// Output:
	// column "Reach" holds phone numbers but is not a column exoroster recognises: say what it is with --map "Reach=phone", or leave it out with --ignore-column "Reach"
	// file: CSV, UTF-8, separator ";" (detected)
	// columns: name ← "Employee Name", email ← "Official Email", phone ← "Reach"; ignored: "Emp Code", "Personal Email" (email is "Official Email"), "Mobile No." (--ignore-column)
	// warning: column 4 "Personal Email" is a second email column and is ignored; column 3 "Official Email" is used
	// 1 Rahul Sharma rahul@corp.example.com +919845011111 []
}
