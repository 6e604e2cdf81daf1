package audit

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/exoroster/exoroster/exporter"
)

// benchReports are two exports of 10,000 users, 1% of them changed.
func benchReports(b *testing.B, f exporter.Format) (old, cur []byte) {
	b.Helper()
	var o, c []exporter.Record
	for i := range 10000 {
		r := rec(fmt.Sprintf("u-%05d", i), fmt.Sprintf("Name%d", i))
		o = append(o, r)
		if i%100 == 0 {
			r.Role = "admin"
		}
		c = append(c, r)
	}
	return export(b, f, o...), export(b, f, c...)
}

// BenchmarkReadAndAudit: read two 10,000-user reports, diff and audit them.
func BenchmarkReadAndAudit(b *testing.B) {
	for _, f := range []exporter.Format{exporter.FormatCSV, exporter.FormatJSON} {
		b.Run(string(f), func(b *testing.B) {
			oldData, curData := benchReports(b, f)
			b.SetBytes(int64(len(oldData) + len(curData)))
			b.ReportAllocs()
			for b.Loop() {
				old, err := Read(bytes.NewReader(oldData), "old")
				if err != nil {
					b.Fatal(err)
				}
				old.Taken = weekAgo
				cur, err := Read(bytes.NewReader(curData), "new")
				if err != nil {
					b.Fatal(err)
				}
				res, err := Run(old, cur, DefaultOptions(now))
				if err != nil || len(res.Diff.Changed) != 100 {
					b.Fatalf("%v %+v", err, res.Diff.CountsLine())
				}
			}
		})
	}
}

// BenchmarkAddRecord: what Tee costs export per user.
func BenchmarkAddRecord(b *testing.B) {
	recs := make([]exporter.Record, 10000)
	for i := range recs {
		recs[i] = rec(fmt.Sprintf("u-%05d", i), "Name")
	}
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReport("x", exporter.Columns())
		if err != nil {
			b.Fatal(err)
		}
		for _, rc := range recs {
			if err := r.AddRecord(rc); err != nil {
				b.Fatal(err)
			}
		}
	}
}
