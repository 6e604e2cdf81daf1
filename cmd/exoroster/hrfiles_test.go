package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/results/resultstest"
)

// columnLines keeps what a run prints about how it read its roster: the
// file:, note:, columns: and warning: lines.
func columnLines(out []byte) []byte {
	var b bytes.Buffer
	for line := range bytes.Lines(out) {
		for _, p := range []string{"file: ", "note: ", "columns: ", "warning: "} {
			if bytes.HasPrefix(line, []byte(p)) {
				b.Write(line)
			}
		}
	}
	return b.Bytes()
}

// hrWorkbookFile writes an .xlsx as HR sends it: the header in row 1, an
// empty row 3, mobiles stored as numbers, and a second sheet of leavers.
func hrWorkbookFile(t *testing.T, dir string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(f.SetSheetName("Sheet1", "Employees"))
	must(f.SetSheetRow("Employees", "A1", &[]any{"Employee Name", "Official Email", "Mobile No.", "Designation"}))
	must(f.SetSheetRow("Employees", "A2", &[]any{"Asha Rao", "asha@corp.example.com", 919845011111, "Agent"}))
	must(f.SetSheetRow("Employees", "A4", &[]any{"Vikram Nair", "vikram@corp.example.com", 9845011112, "Team Lead"}))
	sci, err := f.NewStyle(&excelize.Style{NumFmt: 11}) // shown as 9.85E+09
	must(err)
	must(f.SetCellStyle("Employees", "C2", "C4", sci))
	_, err = f.NewSheet("Leavers")
	must(err)
	must(f.SetSheetRow("Leavers", "A1", &[]any{"Work Email"}))
	must(f.SetSheetRow("Leavers", "A2", &[]any{"ravi@corp.example.com"}))
	path := filepath.Join(dir, "hr.xlsx")
	must(f.SaveAs(path))
	return path
}

// Rosters written the way HR systems and spreadsheets write them, imported
// end to end against the fake: nothing they hold is dropped in silence.
func TestImportHRFiles(t *testing.T) {
	tests := []struct {
		name string
		file string // name of the roster written
		body string // its bytes; "" for the workbook
		args []string
		opts exoteltest.Options
		code ExitCode
		// want is, by email, the phone each created user must have ("" for
		// none); nil when nobody may be created.
		want map[string]string
		// stderr must mention these.
		stderr []string
	}{{
		name: "issue 10: Employee Name, Official Email, Mobile Phone on a phone-mandatory account",
		file: "hrms.csv",
		body: "Employee Name,Official Email,Mobile Phone,Designation,Reporting Manager\r\n" +
			"Asha Rao,asha@corp.example.com,98450 12345,Agent,Meera Iyer\r\n" +
			"Vikram Nair,vikram@corp.example.com,+91 98450 12346,Agent,Meera Iyer\r\n",
		opts: exoteltest.Options{RequireDevice: true},
		want: map[string]string{"asha@corp.example.com": "+919845012345", "vikram@corp.example.com": "+919845012346"},
	}, {
		name: "CR-only line ends (old Excel for Mac)",
		file: "mac.csv",
		body: "First Name,Last Name,E-mail,Mobile\r" +
			"Asha,Rao,asha@corp.example.com,9845012345\r" +
			"Vikram,Nair,vikram@corp.example.com,9845012346\r",
		want: map[string]string{"asha@corp.example.com": "+919845012345", "vikram@corp.example.com": "+919845012346"},
	}, {
		name: "Windows-1252 with semicolons",
		file: "win.csv",
		body: "Emp Code;Employee Name;Official Email;Personal Email;Mobile No.\r\n" +
			"E1;Jos\xe9 Fernandes;jose@corp.example.com;jose@gmail.example.com;98450 12345\r\n" +
			"E2;Zo\xeb D\x92Souza;zoe@corp.example.com;;98450 12346\r\n",
		want: map[string]string{"jose@corp.example.com": "+919845012345", "zoe@corp.example.com": "+919845012346"},
	}, {
		name: "xlsx with numeric phones",
		file: "hr.xlsx",
		want: map[string]string{"asha@corp.example.com": "+919845011111", "vikram@corp.example.com": "+919845011112"},
	}, {
		name: "--map overrides the guess",
		file: "personal.csv",
		body: "Employee Name,Official Email,Personal Email,Mobile No.\n" +
			"Asha Rao,asha@corp.example.com,asha.rao@home.example.com,9845012345\n",
		args: []string{"--map", "Personal Email=email"},
		want: map[string]string{"asha.rao@home.example.com": "+919845012345"},
	}, {
		name: "a --map naming a field that does not exist",
		file: "badmap.csv",
		body: "Employee Name,Official Email\nAsha Rao,asha@corp.example.com\n",
		args: []string{"--map", "Official Email=mail_address"},
		code: ExitUsage, stderr: []string{`"mail_address" is not a field`},
	}, {
		name: "a --map naming a column the file lacks",
		file: "nocol.csv",
		body: "Employee Name,Official Email\nAsha Rao,asha@corp.example.com\n",
		args: []string{"--map", "Mobile No.=phone"},
		code: ExitUsage, stderr: []string{`no column "Mobile No."`, `"Official Email"`},
	}, {
		name: "an unrecognised column of phone numbers stops the run",
		file: "reach.csv",
		body: "Employee Name,Official Email,Reach At\nAsha Rao,asha@corp.example.com,98450 12345\n",
		code: ExitAborted, stderr: []string{`"Reach At" holds phone numbers`, `--ignore-column "Reach At"`},
	}, {
		name: "--ignore-column lets it through",
		file: "reach-ignored.csv",
		body: "Employee Name,Official Email,Reach At\nAsha Rao,asha@corp.example.com,98450 12345\n",
		args: []string{"--ignore-column", "Reach At"},
		want: map[string]string{"asha@corp.example.com": ""},
	}, {
		name: "two columns equally good for the email stop the run",
		file: "twoemails.csv",
		body: "Name,Email,E-mail\nAsha Rao,asha@corp.example.com,asha@corp.example.com\n",
		code: ExitAborted, stderr: []string{`columns 2 "Email" and 3 "E-mail" could both be the email column`},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := fakeServer(t, tc.opts)
			c := newCLI(t, srv)
			dir := t.TempDir()
			var path string
			if tc.body == "" {
				path = hrWorkbookFile(t, dir)
			} else {
				path = writeFile(t, dir, tc.file, tc.body)
			}
			args := append([]string{"import", path, "--rate", "1000/s", "--progress-every", "0"}, tc.args...)
			code := c.run(nil, args...)
			if code != tc.code {
				t.Fatalf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, c.stdout.String(), c.stderr.String())
			}
			for _, s := range tc.stderr {
				if !strings.Contains(c.stderr.String(), s) {
					t.Errorf("stderr = %q, want it to mention %s", c.stderr.String(), s)
				}
			}
			if tc.want == nil {
				if n := len(srv.Requests()); n != 0 {
					t.Errorf("%d requests sent, want none: the run must stop before any", n)
				}
				return
			}
			golden(t, "hrfiles/"+strings.TrimSuffix(tc.file, filepath.Ext(tc.file))+".golden", columnLines(c.stdout.Bytes()))
			users := srv.Users()
			if len(users) != len(tc.want) {
				t.Errorf("%d users created, want %d", len(users), len(tc.want))
			}
			for _, u := range users {
				phone, ok := tc.want[u.Email]
				if !ok {
					t.Errorf("created %s %s with email %q, not one the roster gave", u.FirstName, u.LastName, u.Email)
					continue
				}
				if got := contact(u); got != phone {
					t.Errorf("%s has device %q, want %q", u.Email, got, phone)
				}
			}
		})
	}
}

func contact(u exotel.User) string {
	if len(u.Devices) == 0 {
		return ""
	}
	return u.Devices[0].ContactURI
}

// A Windows-1252 file's accents arrive as written, and a workbook's rows
// keep the sheet's numbers in the results.
func TestImportHRFilesKeepWhatTheyHold(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{})
	c := newCLI(t, srv)
	dir := t.TempDir()
	win := writeFile(t, dir, "win.csv", "Employee Name;Official Email\r\nZo\xeb D\x92Souza;zoe@corp.example.com\r\n")
	if code := c.run(nil, "import", win, "--rate", "1000/s", "--progress-every", "0"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, c.stderr.String())
	}
	if u, ok := srv.UserByEmail("zoe@corp.example.com"); !ok || u.FirstName != "Zoë" || u.LastName != "D’Souza" {
		t.Errorf("user = %+v, want Zoë D’Souza", u)
	}
	if !strings.Contains(c.stdout.String(), `file: CSV, Windows-1252 (detected), separator ";" (detected)`) {
		t.Errorf("stdout does not say how the file was read:\n%s", c.stdout.String())
	}

	book := hrWorkbookFile(t, dir)
	if code := c.run(nil, "import", book, "--rate", "1000/s", "--progress-every", "0"); code != ExitOK {
		t.Fatalf("exit %d: %s", code, c.stderr.String())
	}
	lines := resultstest.ByRow(t, filepath.Join(dir, "hr.results.csv"))
	rows := make([]int, 0, len(lines))
	for row := range lines {
		rows = append(rows, row)
	}
	slices.Sort(rows)
	if !slices.Equal(rows, []int{2, 4}) || lines[4]["Mobile No."] != "9845011112" {
		t.Errorf("results rows %v (row 4: %v), want the sheet's rows 2 and 4 with the number as its digits", rows, lines[4])
	}
	// A resume knows those rows by the sheet's numbers: nothing to redo.
	posts := srv.CountRequests("POST")
	if code := c.run(nil, "import", book, "--resume", "--rate", "1000/s", "--progress-every", "0"); code != ExitOK {
		t.Fatalf("resume exit %d: %s", code, c.stderr.String())
	}
	if n := srv.CountRequests("POST") - posts; n != 0 {
		t.Errorf("resume sent %d POSTs, want none", n)
	}
}

// A workbook saved with a .csv name is read as the workbook it is, and the
// run says so.
func TestValidateWorkbookNamedCSV(t *testing.T) {
	dir := t.TempDir()
	book := hrWorkbookFile(t, dir)
	named := filepath.Join(dir, "roster.csv")
	if err := os.Rename(book, named); err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, nil)
	if code := c.run(nil, "validate", named); code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, c.stdout.String(), c.stderr.String())
	}
	golden(t, "hrfiles/workbook_named_csv.golden", columnLines(c.stdout.Bytes()))
	if !strings.Contains(c.stdout.String(), "note: roster.csv is named .csv but is an Excel workbook, so it was read as one") {
		t.Errorf("stdout does not say the .csv is a workbook:\n%s", c.stdout.String())
	}
}

// validate on the HRMS sample prints the README's worked example, and
// --require-phone finds the row the account would refuse.
func TestValidateHRMSSample(t *testing.T) {
	c := newCLI(t, nil)
	if code := c.run(nil, "validate", "../../samples/hrms-export.csv"); code != ExitRowsNotDone {
		t.Errorf("exit code = %d, want %d", code, ExitRowsNotDone)
	}
	golden(t, "hrfiles/validate_hrms.golden", c.stdout.Bytes())

	if code := c.run(nil, "validate", "../../samples/hrms-export.csv", "--require-phone"); code != ExitRowsNotDone {
		t.Errorf("exit code = %d, want %d", code, ExitRowsNotDone)
	}
	if !strings.Contains(c.stdout.String(), "is required: this account needs a phone number for every user") {
		t.Errorf("--require-phone did not flag the row without a phone:\n%s", c.stdout.String())
	}
}

// The reading flags are usage errors before anything is read.
func TestReadFlagsUsage(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "r.csv", "name,email\nAsha Rao,asha@corp.example.com\n")
	for _, tc := range []struct {
		name string
		args []string
		code ExitCode
		msg  string
	}{
		{"bad encoding", []string{"--encoding", "latin-9"}, ExitUsage, "--encoding"},
		{"bad delimiter", []string{"--delimiter", ":"}, ExitUsage, "--delimiter"},
		{"map without =", []string{"--map", "Mobile"}, ExitUsage, "has no '='"},
		{"sheet of a CSV", []string{"--sheet", "Leavers"}, ExitUsage, "--sheet"},
		{"unreadable map file", []string{"--map-file", filepath.Join(dir, "missing.map")}, ExitAborted, "--map-file"},
	} {
		for _, cmd := range []string{"validate", "import", "offboard", "update"} {
			t.Run(tc.name+"/"+cmd, func(t *testing.T) {
				c := newCLI(t, nil)
				args := append([]string{cmd, path, "--dry-run"}, tc.args...)
				if cmd == "validate" {
					args = append([]string{cmd, path}, tc.args...)
				}
				if code := c.run(nil, args...); code != tc.code {
					t.Errorf("exit code = %d, want %d; stderr %s", code, tc.code, c.stderr.String())
				}
				if !strings.Contains(c.stderr.String(), tc.msg) {
					t.Errorf("stderr = %q, want it to mention %q", c.stderr.String(), tc.msg)
				}
			})
		}
	}
}

// offboard reads a workbook's named sheet and the HR names for its columns.
func TestOffboardWorkbookSheet(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	offAccount(srv)
	dir := t.TempDir()
	book := hrWorkbookFile(t, dir)
	r := offCLI(t, srv, Env{}, "offboard", book, "--sheet", "Leavers", "--dry-run")
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden(t, "hrfiles/offboard_sheet.golden", columnLines([]byte(r.stdout)))
	lines := resultstest.ByRow(t, filepath.Join(dir, "hr.dry-run.csv"))
	if len(lines) != 1 || lines[2]["status"] != "would_delete" || lines[2]["email"] != "ravi@corp.example.com" {
		t.Errorf("results = %v, want the sheet's row 2, ravi, would_delete", lines)
	}
}

// update reads a --map'ped, semicolon-separated list.
func TestUpdateWithMap(t *testing.T) {
	srv := offServer(t, exoteltest.Options{})
	users := offAccount(srv)
	dir := t.TempDir()
	input := offFile(t, dir, "changes.csv", "Login;Surname\r\nasha@corp.example.com;Rao-Iyer\r\n")
	r := offCLI(t, srv, Env{}, "update", input, "--map", "Login=email", "--results", filepath.Join(dir, "out.csv"))
	if r.code != ExitOK {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	golden(t, "hrfiles/update_map.golden", columnLines([]byte(r.stdout)))
	if u, _ := srv.User(users[0].ID); u.LastName != "Rao-Iyer" {
		t.Errorf("Asha = %+v, want her last name changed", u)
	}
}

// On an account that needs a phone for every user, an HR roster with gaps
// in its phone column costs one refused request, not one per gap, and the
// summary says what happened and how to find the rows.
func TestImportPhoneMandatoryAccount(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{RequireDevice: true})
	c := newCLI(t, srv)
	dir := t.TempDir()
	path := writeFile(t, dir, "hrms.csv", "Employee Name,Official Email,Mobile Phone\r\n"+
		"Asha Rao,asha@corp.example.com,98450 12345\r\n"+
		"Vikram Nair,vikram@corp.example.com,\r\n"+
		"Meera Iyer,meera@corp.example.com,\r\n"+
		"Ravi Kumar,ravi@corp.example.com,\r\n"+
		"Kavya Bose,kavya@corp.example.com,98450 12346\r\n")
	if code := c.run(nil, "import", path, "--rate", "1000/s", "--progress-every", "0", "--workers", "4"); code != ExitRowsNotDone {
		t.Fatalf("exit code = %d, want %d\n%s%s", code, ExitRowsNotDone, c.stdout.String(), c.stderr.String())
	}
	if posts := srv.CountRequests("POST"); posts != 3 {
		t.Errorf("%d POSTs, want 3: two with a phone and one without, refused", posts)
	}
	lines := resultstest.ByRow(t, filepath.Join(dir, "hrms.results.csv"))
	counts := map[string]int{}
	for _, l := range lines {
		counts[l["status"]]++
	}
	if counts["created"] != 2 || counts["failed"] != 1 || counts["skipped"] != 2 {
		t.Errorf("statuses %v, want 2 created, 1 failed (refused), 2 skipped", counts)
	}
	if out := c.stdout.String(); !strings.Contains(out, "400 1402: this account needs a phone for every user") ||
		!strings.Contains(out, "exoroster validate "+path+" --require-phone") {
		t.Errorf("summary does not explain the skipped rows:\n%s", out)
	}
}
