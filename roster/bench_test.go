package roster

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/exoroster/exoroster/roster/rostertest"
)

const benchHeader = "First Name,Last Name,Email,Mobile,Role,Device Name\n"

// benchRow is a realistic, valid row i, with phones written in the ways HR
// spreadsheets write them. Rows differ in email and phone, so none is a duplicate.
func benchRow(i int) string {
	firsts := [...]string{"Rahul", "Priya", "Amit", "Neha", "Mary Ann", "José", "राहुल", "D'Souza"}
	lasts := [...]string{"Sharma", "Nair", "Shah", "Rao", "Smith", "O'Brien", "शर्मा", "Fernandes"}
	roles := [...]string{"", "agent", "Supervisor", "admin", "user"}
	n := 20000 + i // 98765 2xxxx: valid Indian mobiles
	var phone string
	switch i % 4 {
	case 0:
		phone = fmt.Sprintf("098765%05d", n)
	case 1:
		phone = fmt.Sprintf("98765 %05d", n)
	case 2:
		phone = fmt.Sprintf("+91-98765-%05d", n)
	default:
		phone = fmt.Sprintf("+9198765%05d", n)
	}
	return fmt.Sprintf(" %s ,%s,agent%d+team@Example.com,%s,%s,%s's phone\n",
		firsts[i%len(firsts)], lasts[i%len(lasts)], i, phone, roles[i%len(roles)], firsts[i%len(firsts)])
}

func benchCSV(rows int) []byte {
	var b bytes.Buffer
	b.WriteString(benchHeader)
	for i := range rows {
		b.WriteString(benchRow(i))
	}
	return b.Bytes()
}

func BenchmarkValidate(b *testing.B) {
	const rows = 10000
	h, recs, err := readAll(bytes.NewReader(benchCSV(rows)))
	if err != nil {
		b.Fatal(err)
	}
	v := NewValidator(h, Options{})
	for _, rec := range recs {
		if _, probs := v.Check(rec); probs != nil {
			b.Fatalf("row %d: %v", rec.Row, probs)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if i%rows == 0 {
			// A fresh validator per pass, or every row after the first pass would
			// be a duplicate and take the problem path.
			v = NewValidator(h, Options{})
		}
		if _, probs := v.Check(recs[i%rows]); probs != nil {
			b.Fatal(probs)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkReadAndValidate(b *testing.B) {
	const rows = 10000
	data := benchCSV(rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		v := NewValidator(r.Header(), Options{})
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			if _, probs := v.Check(rec); probs != nil {
				b.Fatal(probs)
			}
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	total := float64(b.N) * rows
	b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/row")
}

// The pieces, to see where the time goes.

func BenchmarkNormalizePhone(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if _, err := NormalizePhone("098765 43210", "IN"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeEmail(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		if _, err := NormalizeEmail("rahul.sharma+ops@example.co.in"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateNoPhone is Check without the phone column: what the rest of the
// row costs once phonenumbers, which dominates, is taken out.
func BenchmarkValidateNoPhone(b *testing.B) {
	h := ParseHeader([]string{"First Name", "Last Name", "Email", "Role", "Device Name"})
	const rows = 10000
	recs := make([]Record, rows)
	for i := range recs {
		recs[i] = Record{Row: i + 1, Raw: []string{" Rahul ", "Sharma", fmt.Sprintf("agent%d+team@Example.com", i), "agent", "desk"}}
	}
	var v *Validator
	b.ReportAllocs()
	for i := range b.N {
		if i%rows == 0 {
			v = NewValidator(h, Options{})
		}
		if _, probs := v.Check(recs[i%rows]); probs != nil {
			b.Fatal(probs)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkOpenAndValidate is BenchmarkReadAndValidate through the entry
// point commands use: detection, the look-ahead and the column checks.
func BenchmarkOpenAndValidate(b *testing.B) {
	const rows = 10000
	data := benchCSV(rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		readAndValidate(b, bytes.NewReader(data), ReadOptions{})
	}
	b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkOpenWindows1252 reads the same roster as a semicolon-separated
// Windows-1252 file with CR-only line ends: every decoding layer at work.
func BenchmarkOpenWindows1252(b *testing.B) {
	const rows = 10000
	utf := benchCSV(rows)
	data := bytes.ReplaceAll(bytes.ReplaceAll(utf, []byte(","), []byte(";")), []byte("\n"), []byte("\r"))
	data = bytes.ReplaceAll(data, []byte("José"), []byte("Jos\xe9"))
	data = bytes.ReplaceAll(data, []byte("राहुल"), []byte("Rahul"))
	data = bytes.ReplaceAll(data, []byte("शर्मा"), []byte("Sharma"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := readAndValidate(b, bytes.NewReader(data), ReadOptions{})
		if r.Header().Source.Encoding != "Windows-1252" || r.Header().Source.Delimiter != ';' {
			b.Fatalf("read as %s", r.Header().Source)
		}
	}
	b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkOpenXLSX reads the roster from a workbook, streaming its rows.
func BenchmarkOpenXLSX(b *testing.B) {
	const rows = 10000
	data := benchXLSX(b, rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		readAndValidate(b, bytes.NewReader(data), ReadOptions{})
	}
	b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
}

func readAndValidate(b *testing.B, in io.Reader, opts ReadOptions) *Reader {
	r, err := NewReaderWith(in, opts)
	if err != nil {
		b.Fatal(err)
	}
	v := NewValidator(r.Header(), Options{})
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r
		}
		if err != nil {
			b.Fatal(err)
		}
		if _, probs := v.Check(rec); probs != nil {
			b.Fatal(rec.Row, probs)
		}
	}
}

// benchXLSX writes benchCSV's rows into a workbook, the phones as numbers
// where the CSV has plain digits, as a spreadsheet would hold them.
func benchXLSX(b *testing.B, rows int) []byte {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(benchCSV(rows)), "\n"), "\n")
	for i, line := range lines {
		cells := strings.Split(line, ",")
		row := make([]any, len(cells))
		for j, c := range cells {
			row[j] = c
			if n, err := strconv.ParseInt(c, 10, 64); err == nil && j == 3 {
				row[j] = n
			}
		}
		if err := sw.SetRow("A"+strconv.Itoa(i+1), row); err != nil {
			b.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// The validation pipeline, measured on a generated roster: people listed
// twice, spoiled rows, and phones in every shape an HR file has.

// BenchmarkChecker runs a 20,000-row roster through a Checker, inline (one
// worker) and on every CPU.
func BenchmarkChecker(b *testing.B) {
	const rows = 20000
	var buf bytes.Buffer
	if _, err := rostertest.Write(&buf, rostertest.Spec{Rows: rows, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for range b.N {
				r, err := NewReader(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				c := NewChecker(r, NewValidator(r.Header(), Options{}), workers)
				n := 0
				for {
					if _, err := c.Next(); err == io.EOF {
						break
					} else if err != nil {
						b.Fatal(err)
					}
					n++
				}
				c.Close()
				if n != rows {
					b.Fatalf("%d rows", n)
				}
			}
			b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkDuplicateIndex fills the duplicate index with a million people,
// each a new email and a new phone, and reports what it holds per row: the
// live heap it added (runtime.MemStats, after a collection) and its own
// count of its tables and log.
func BenchmarkDuplicateIndex(b *testing.B) {
	const rows = 1_000_000
	emails := make([]string, rows)
	phones := make([]string, rows)
	for i := range rows {
		emails[i] = fmt.Sprintf("firstname.lastname%d@acme-support.in", i)
		phones[i] = fmt.Sprintf("+9198%08d", (i*7919+12345)%100_000_000)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var live, held float64
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := newSeen()
		for i := range rows {
			if e, p := s.add(i+1, emails[i], phones[i]); e.found || p.found {
				b.Fatalf("row %d a duplicate", i+1)
			}
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		live += float64(after.HeapAlloc-before.HeapAlloc) / rows
		held += float64(s.bytes()) / rows
		runtime.KeepAlive(s)
		b.StartTimer()
	}
	b.ReportMetric(live/float64(b.N), "live-B/row")
	b.ReportMetric(held/float64(b.N), "index-B/row")
	b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkPhoneShapes compares, per shape, the Validator's phone rules
// (warm, as after the first rows of a file) with NormalizePhone, which
// asks phonenumbers to parse every number.
func BenchmarkPhoneShapes(b *testing.B) {
	shapes := []struct{ name, in string }{
		{"+91 E.164", "+919876543210"},
		{"+91 spaced", "+91 98765 43210"},
		{"ten digits", "98765 43210"},
		{"trunk 0", "098765 43210"},
		{"IDD 0091", "0091 98765 43210"},
		{"91 without +", "91 98765 43210"},
		{"UK mobile", "+44 7400 123456"},
		{"US", "+1 415 234 5678"},
	}
	for _, sh := range shapes {
		rules := newPhoneRules("IN")
		if _, err := rules.normalize(sh.in, "IN"); err != nil {
			b.Fatal(err)
		}
		b.Run("rules/"+sh.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				rules.normalize(sh.in, "IN")
			}
		})
		b.Run("Parse/"+sh.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				NormalizePhone(sh.in, "IN")
			}
		})
	}
}

// BenchmarkCountRows counts a 100,000-row generated roster's rows as an
// import's first pass does: with CountRows' scan, and with the Reader
// (Next until io.EOF), which that pass used before and still uses for the
// files the scan leaves to it.
func BenchmarkCountRows(b *testing.B) {
	const rows = 100000
	var buf bytes.Buffer
	if _, err := rostertest.Write(&buf, rostertest.Spec{Rows: rows, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	count := map[string]func() (int, error){
		"scan": func() (int, error) {
			n, ok, err := CountRows(bytes.NewReader(data), ReadOptions{})
			if !ok && err == nil {
				b.Fatal("CountRows left the generated roster to the Reader")
			}
			return n, err
		},
		"reader": func() (int, error) { return readerRows(data, ReadOptions{}) },
	}
	for _, name := range []string{"scan", "reader"} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for range b.N {
				n, err := count[name]()
				if err != nil {
					b.Fatal(err)
				}
				if n != rows {
					b.Fatalf("%d rows", n)
				}
			}
			b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
