package roster

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// hrWorkbook builds the workbook an HR team would send: a header below two
// empty rows, a mobile stored as a number shown in scientific notation, a
// date, a boolean, a formula with its cached value, an error cell, an empty
// row in the middle, a value right of the table, styled empty rows at the
// end, and a second sheet.
func hrWorkbook(t testing.TB) []byte {
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
	sci, err := f.NewStyle(&excelize.Style{NumFmt: 11}) // 0.00E+00
	must(err)
	date, err := f.NewStyle(&excelize.Style{NumFmt: 14}) // m/d/yy
	must(err)
	custom := "dd-mmm-yyyy"
	dateCustom, err := f.NewStyle(&excelize.Style{CustomNumFmt: &custom})
	must(err)
	fill, err := f.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Color: []string{"FFFF00"}, Pattern: 1}})
	must(err)

	const s = "Employees"
	must(f.SetSheetRow(s, "A3", &[]any{"Employee Name", "Official Email", "Mobile No.", "Date of Joining", "Active", "Designation"}))
	must(f.SetSheetRow(s, "A4", &[]any{"Rahul Sharma", "rahul@corp.example.com", 919845011111, 44931, true, "Agent"}))
	must(f.SetCellStyle(s, "C4", "C4", sci))
	must(f.SetCellStyle(s, "D4", "D4", date))
	// row 5 empty
	must(f.SetSheetRow(s, "A6", &[]any{"Priya Nair", "", 9845012346, 44932.5, false}))
	must(f.SetCellStyle(s, "D6", "D6", dateCustom))
	must(f.SetCellValue(s, "B6", "FORMULA"))
	must(f.SetSheetRow(s, "A7", &[]any{"Amit Shah", "amit@corp.example.com", "ERRORCELL"}))
	must(f.SetSheetRow(s, "A8", &[]any{"Neha Rao", "neha@corp.example.com", "09845012347"}))
	must(f.SetCellValue(s, "H8", "stray note"))
	must(f.SetCellStyle(s, "A10", "F12", fill)) // formatted, empty rows at the end

	_, err = f.NewSheet("Leavers")
	must(err)
	must(f.SetSheetRow("Leavers", "A1", &[]any{"Email"}))
	must(f.SetSheetRow("Leavers", "A2", &[]any{"gone@corp.example.com"}))

	var buf bytes.Buffer
	_, err = f.WriteTo(&buf)
	must(err)
	// excelize writes formulas without the value a spreadsheet caches, and
	// no error values: write B6 and C7 as Excel would.
	return patchXLSX(t, buf.Bytes(), "xl/worksheets/sheet1.xml", func(x string) string {
		x = replaceCell(t, x, "B6", `<c r="B6" t="str"><f>LOWER("PRIYA@corp.example.com")</f><v>priya@corp.example.com</v></c>`)
		return replaceCell(t, x, "C7", `<c r="C7" t="e"><f>NA()</f><v>#N/A</v></c>`)
	})
}

// replaceCell swaps one cell's XML in a worksheet.
func replaceCell(t testing.TB, x, ref, cell string) string {
	t.Helper()
	i := strings.Index(x, `<c r="`+ref+`"`)
	if i < 0 {
		t.Fatalf("no cell %s in the sheet", ref)
	}
	j := i + strings.Index(x[i:], "</c>") + len("</c>")
	return x[:i] + cell + x[j:]
}

// patchXLSX rewrites one part of a workbook.
func patchXLSX(t testing.TB, data []byte, part string, edit func(string) string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, file := range zr.File {
		rc, err := file.Open()
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if file.Name == part {
			body = []byte(edit(string(body)))
		}
		w, err := zw.Create(file.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestXLSX(t *testing.T) {
	data := hrWorkbook(t)
	r, recs, err := readAllWith(bytes.NewReader(data), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h := r.Header()
	if got := h.Source.String(); got != `xlsx workbook, sheet "Employees"` {
		t.Errorf("source %s", got)
	}
	if want := []string{"Employee Name", "Official Email", "Mobile No.", "Date of Joining", "Active", "Designation"}; !reflect.DeepEqual(h.Names, want) {
		t.Errorf("header %q", h.Names)
	}
	want := []Record{
		{Row: 4, Line: 4, Raw: []string{"Rahul Sharma", "rahul@corp.example.com", "919845011111", "2023-01-05", "TRUE", "Agent"}},
		{Row: 6, Line: 6, Raw: []string{"Priya Nair", "priya@corp.example.com", "9845012346", "2023-01-06T12:00:00", "FALSE"}},
		{Row: 7, Line: 7, Raw: []string{"Amit Shah", "amit@corp.example.com", "#N/A"}},
		{Row: 8, Line: 8, Raw: []string{"Neha Rao", "neha@corp.example.com", "09845012347", "", "", "", "", "stray note"}},
	}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("records:\n got %+v\nwant %+v", recs, want)
	}

	v := NewValidator(h, Options{})
	wantPhones := []string{"+919845011111", "+919845012346", "", "+919845012347"}
	wantProblems := []string{
		"",
		"",
		`Mobile No. "#N/A": is a spreadsheet error value, not data: fix the formula or the cell and export again`,
		"row: has a value in column H, right of the header's last column F: give that column a header, or clear the cell",
	}
	for i, rec := range recs {
		p, probs := v.Check(rec)
		got := ""
		for _, pr := range probs {
			got += pr.String()
		}
		if got != wantProblems[i] {
			t.Errorf("row %d problems %q, want %q", rec.Row, got, wantProblems[i])
		}
		if got == "" && p.Phone != wantPhones[i] {
			t.Errorf("row %d phone %q, want %q", rec.Row, p.Phone, wantPhones[i])
		}
	}
}

func TestXLSXSheets(t *testing.T) {
	data := hrWorkbook(t)
	for _, name := range []string{"Leavers", "leavers"} {
		_, recs, err := readAllWith(bytes.NewReader(data), ReadOptions{Sheet: name})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 1 || recs[0].Row != 2 || recs[0].Raw[0] != "gone@corp.example.com" {
			t.Errorf("sheet %q: %+v", name, recs)
		}
	}
	_, err := NewReaderWith(bytes.NewReader(data), ReadOptions{Sheet: "Joiners"})
	checkErr(t, err, `--sheet: the workbook has no sheet "Joiners"; its sheets are "Employees", "Leavers"`)
	if !errors.As(err, new(*UsageError)) {
		t.Errorf("error is %T, want *UsageError", err)
	}

	// The first visible sheet is read when the first one is hidden.
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	f.SetActiveSheet(1)
	if err := f.SetSheetVisible("Employees", false); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r, err := NewReaderWith(&buf, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Header().Source.Sheet; got != "Leavers" {
		t.Errorf("read sheet %q, want the visible Leavers", got)
	}
	r.Close()
}

// A workbook saved under a .csv name is read as the workbook it is, and says so.
func TestXLSXNamedCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(path, hrWorkbook(t), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !strings.HasPrefix(r.Describe(), `file: xlsx workbook, sheet "Employees"`+"\n") {
		t.Errorf("Describe: %s", r.Describe())
	}
	n := 0
	for {
		_, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 4 {
		t.Errorf("%d rows, want 4", n)
	}
}

func TestXLSXBroken(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{name: "zip magic, not a zip", in: "PK\x03\x04garbage", wantErr: "the file looks like an Excel workbook (.xlsx) but cannot be read"},
		{name: "old .xls or encrypted", in: "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", wantErr: "old Excel workbook (.xls) or a password-protected one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReaderWith(strings.NewReader(tc.in), ReadOptions{})
			checkErr(t, err, tc.wantErr)
		})
	}
	// An empty workbook has no header.
	f := excelize.NewFile()
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	_, err := NewReaderWith(&buf, ReadOptions{})
	checkErr(t, err, "the file is empty")
}

// Unrecognised columns are checked in workbooks too.
func TestXLSXUnrecognisedColumn(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	for i, row := range [][]any{{"Name", "Reach"}, {"Rahul Sharma", 919845011111}, {"Priya Nair", 919845011112}} {
		if err := f.SetSheetRow("Sheet1", "A"+string(rune('1'+i)), &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	_, err := NewReaderWith(bytes.NewReader(buf.Bytes()), ReadOptions{})
	checkErr(t, err, `column "Reach" holds phone numbers`)
	r, err := NewReaderWith(bytes.NewReader(buf.Bytes()), ReadOptions{Map: []string{"Reach=phone"}})
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := r.Next()
	if p, probs := NewValidator(r.Header(), Options{}).Check(rec); len(probs) != 0 || p.Phone != "+919845011111" {
		t.Errorf("phone %q, problems %v", p.Phone, probs)
	}
	r.Close()
}

// Dates keep their meaning whatever the workbook's date system.
func TestXLSXDate1904(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	yes := true
	if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &yes}); err != nil {
		t.Fatal(err)
	}
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	_ = f.SetSheetRow("Sheet1", "A1", &[]any{"Name", "Joined"})
	_ = f.SetSheetRow("Sheet1", "A2", &[]any{"Rahul Sharma", 0})
	_ = f.SetCellStyle("Sheet1", "B2", "B2", style)
	_ = f.SetCellValue("Sheet1", "B2", time.Date(2023, 1, 5, 0, 0, 0, 0, time.UTC))
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	_, recs, err := readAllWith(&buf, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Raw[1] != "2023-01-05" {
		t.Errorf("date cell read as %+v", recs)
	}
}
