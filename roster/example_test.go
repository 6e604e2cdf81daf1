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
