package importer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/importer"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// On an account that needs a phone for every user (400 1402), one
// phone-less row is sent and refused; the others wait for that answer and
// are then skipped with the reason, not refused one request each, however
// many workers there are. Rows with a phone go on being created.
func TestImportStopsSendingPhonelessRowsAfter1402(t *testing.T) {
	for _, tc := range []struct {
		name    string
		workers int
	}{
		{"one worker", 1},
		{"four workers", 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, exoteltest.Options{RequireDevice: true})
			var b strings.Builder
			b.WriteString("first_name,last_name,email,phone\n")
			withPhone, without := 0, 0
			for i := range 30 {
				p := ""
				switch {
				case i%3 == 0:
					p = phone(i)
					withPhone++
				case i == 7:
					p = "sip:agent7@corp.example.com" // a SIP address is not a phone either
					without++
				default:
					without++
				}
				fmt.Fprintf(&b, "Agent%s,Person,agent%d@corp.example.com,%s\n", letters(i), i, p)
			}
			var told []int // rows PhoneRequired was called with
			o := e.importFile(e.roster("roster.csv", b.String()), importer.Config{Workers: tc.workers,
				PhoneRequired: func(row int) { told = append(told, row) }}, nil)
			if len(told) != 1 || o.lines[told[0]]["error_code"] != "1402" {
				t.Errorf("PhoneRequired called with rows %v, want once with the refused row", told)
			}

			phoneless := 0
			for _, r := range e.srv.Requests() {
				if r.Method == "POST" && !strings.Contains(string(r.Body), "device_contact_uri") {
					phoneless++
				}
			}
			if phoneless != 1 {
				t.Errorf("%d POSTs without a phone, want 1: the others wait for its answer", phoneless)
			}
			if got := o.sum.Counts[results.Created]; got != withPhone {
				t.Errorf("created = %d, want the %d rows with a phone; counts %v", got, withPhone, o.sum.Counts)
			}
			failed, skipped := o.sum.Counts[results.Failed], o.sum.Counts[results.Skipped]
			if failed != 1 || skipped != without-1 {
				t.Errorf("failed %d, skipped %d; want the refused row failed and the other %d phone-less rows skipped",
					failed, skipped, without-1)
			}
			for row, l := range o.lines {
				switch l["status"] {
				case "failed":
					if l["error_code"] != "1402" || !strings.Contains(l["message"], "validate --require-phone") {
						t.Errorf("row %d = %v, want 1402 with the advice to check offline", row, l)
					}
				case "skipped":
					if l["attempts"] != "0" || !strings.Contains(l["message"], "needs one for every user") ||
						!strings.Contains(l["message"], "400 1402") {
						t.Errorf("row %d = %v, want not sent, with the reason", row, l)
					}
				}
			}
			if l := o.lines[8]; l["status"] == "skipped" && !strings.Contains(l["message"], "SIP address") {
				t.Errorf("row 8 (sip:) message %q does not say its SIP address is no phone", l["message"])
			}
		})
	}
}

// On an account that takes users without a phone, the first phone-less
// create's success lets the others through: all are created, none waits
// for good.
func TestImportPhonelessRowsOnAnAccountThatTakesThem(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	var b strings.Builder
	b.WriteString("first_name,last_name,email\n")
	for i := range 20 {
		fmt.Fprintf(&b, "Agent%s,Person,agent%d@corp.example.com\n", letters(i), i)
	}
	o := e.importFile(e.roster("roster.csv", b.String()), importer.Config{Workers: 4}, nil)
	if got := o.sum.Counts[results.Created]; got != 20 {
		t.Errorf("created = %d, want 20; counts %v", got, o.sum.Counts)
	}
}

// hrWorkbook writes an .xlsx whose data rows are the sheet's rows 2, 3, 5
// and 6 (row 4 is empty), with mobiles stored as numbers.
func hrWorkbook(t *testing.T, dir string) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	rows := map[string][]any{
		"A1": {"Employee Name", "Official Email", "Mobile Phone"},
		"A2": {"Asha Rao", "asha@corp.example.com", 919845011111},
		"A3": {"Vikram Nair", "vikram@corp.example.com", 919845011112},
		"A5": {"Meera Iyer", "meera@corp.example.com", 919845011113},
		"A6": {"Ravi Kumar", "ravi@corp.example.com", 919845011114},
	}
	for cell, row := range rows {
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "roster.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// A workbook's rows are numbered as the sheet numbers them, and a resume
// accepts those numbers though they skip the empty row: it checks them
// against the rows the sheet has, not against a count.
func TestResumeOfAWorkbook(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	path := hrWorkbook(t, e.dir)
	o := e.importFileRows(path, []int{2, 3, 5, 6})
	if got := o.sum.Counts[results.Created]; got != 4 {
		t.Fatalf("created = %d, want 4; counts %v", got, o.sum.Counts)
	}
	u, ok := e.srv.UserByEmail("meera@corp.example.com")
	if !ok || len(u.Devices) != 1 || u.Devices[0].ContactURI != "+919845011113" {
		t.Errorf("Meera on the server = %+v, want the numeric cell as +919845011113", u)
	}

	plan, err := importer.Prepare(input(path), roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Rows != 4 || plan.LastRow != 6 {
		t.Errorf("plan rows %d, last row %d; want 4 rows ending at sheet row 6", plan.Rows, plan.LastRow)
	}
	prior, err := results.Load(o.path, plan.Layout())
	if err != nil {
		t.Fatal(err)
	}
	if err := plan.CheckResume(prior); err != nil {
		t.Errorf("CheckResume of the workbook's own results: %v", err)
	}

	// A results file that mentions the empty row 4 was not written for it.
	forged := filepath.Join(e.dir, "forged.results.csv")
	w, err := results.Create(forged, plan.Layout())
	if err != nil {
		t.Fatal(err)
	}
	w.Write(results.Line{Row: 4, Status: results.Created, Input: []string{"Someone Else", "x@corp.example.com", "+919845011119"}})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if prior, err = results.Load(forged, plan.Layout()); err != nil {
		t.Fatal(err)
	}
	if err := plan.CheckResume(prior); err == nil || !strings.Contains(err.Error(), "row 4") {
		t.Errorf("CheckResume of results naming the empty row = %v, want it refused naming row 4", err)
	}
}

// importFileRows is importFile for an input whose row numbers are rows
// rather than 1..n.
func (e *env) importFileRows(path string, rows []int) outcome {
	e.t.Helper()
	plan, err := importer.Prepare(input(path), roster.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	resultsPath := path + ".results.csv"
	out, err := results.Create(resultsPath, plan.Layout())
	if err != nil {
		e.t.Fatal(err)
	}
	sum, err := importer.New(e.client, e.limiter, importer.Config{}).Run(context.Background(), e.halt(), plan, out, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		e.t.Fatal(err)
	}
	prior, err := results.Load(resultsPath, plan.Layout())
	if err != nil {
		e.t.Fatal(err)
	}
	lines := map[int]map[string]string{}
	for _, row := range rows {
		p, ok := prior.Rows[row]
		if !ok {
			e.t.Errorf("no results line for sheet row %d", row)
			continue
		}
		lines[row] = map[string]string{"status": string(p.Status)}
	}
	if len(prior.Rows) != len(rows) {
		e.t.Errorf("results have %d rows, want %d", len(prior.Rows), len(rows))
	}
	return outcome{sum: sum, lines: lines, path: resultsPath}
}

// A file read with ReadOptions reads the same way on every pass: the
// mapping Prepare saw is the one the run uses.
func TestImportReadsWithTheGivenOptions(t *testing.T) {
	e := newEnv(t, exoteltest.Options{})
	path := e.roster("hrms.csv", "Emp Name;Mail;Reach\r\nAsha Rao;asha@corp.example.com;98450 12345\r\n")
	in := input(path)
	in.Read = roster.ReadOptions{Map: []string{"Mail=email,Reach=phone"}}
	plan, err := importer.Prepare(in, roster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(plan.Describe, `separator ";"`) || !strings.Contains(plan.Describe, `email ← "Mail"`) {
		t.Errorf("Describe = %q, want the separator and the mapping", plan.Describe)
	}
	out, err := results.Create(path+".results.csv", plan.Layout())
	if err != nil {
		t.Fatal(err)
	}
	sum, err := importer.New(e.client, e.limiter, importer.Config{}).Run(context.Background(), e.halt(), plan, out, nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Close()
	if sum.Counts[results.Created] != 1 {
		t.Fatalf("counts %v, want 1 created", sum.Counts)
	}
	var body map[string]string
	for _, r := range e.srv.Requests() {
		if r.Method == "POST" {
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if body["email"] != "asha@corp.example.com" || body["device_contact_uri"] != "+919845012345" {
		t.Errorf("create sent %v, want the mapped email and phone", body)
	}

	// Without the map, the unrecognised contact column stops the run.
	if _, err := importer.Prepare(input(path), roster.Options{}); err == nil {
		t.Error("Prepare without --map read a file whose contact columns nothing recognises")
	} else if ce := new(roster.ColumnError); !errors.As(err, &ce) {
		t.Errorf("Prepare without --map = %v, want a *roster.ColumnError", err)
	}
}

// Rows created one at a time (sync's apply) learn from each other as one
// import's rows do: after the account refuses a user without a phone, the
// next phone-less row is not sent.
func TestCreateOneSharesThePhoneGate(t *testing.T) {
	e := newEnv(t, exoteltest.Options{RequireDevice: true})
	im := importer.New(e.client, e.limiter, importer.Config{})
	sw := e.halt()
	var statuses []results.Status
	for row := 1; row <= 3; row++ {
		p := roster.Person{FirstName: "Agent" + letters(row), LastName: "Person", Email: fmt.Sprintf("one%d@corp.example.com", row)}
		l := im.CreateOne(context.Background(), sw, roster.Record{Row: row}, im.CCMPerson(p), false)
		statuses = append(statuses, l.Status)
	}
	posts := 0
	for _, r := range e.srv.Requests() {
		if r.Method == "POST" {
			posts++
		}
	}
	if posts != 1 {
		t.Errorf("%d POSTs for three phone-less rows, want 1: the account's refusal holds for the rest", posts)
	}
	if statuses[0] != results.Failed || statuses[1] != results.Skipped || statuses[2] != results.Skipped {
		t.Errorf("statuses %v, want failed, then skipped twice", statuses)
	}
}
