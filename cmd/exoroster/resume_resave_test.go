package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/results/resultstest"
)

// A results file opened in a spreadsheet and saved again (a BOM, CRLF line
// ends) still resumes: done rows are not sent again, and the input cells
// it echoes, neutralised on the way out, still match the input.
func TestImportResumesFromASpreadsheetsResave(t *testing.T) {
	srv := fakeServer(t, exoteltest.Options{AllowDuplicates: true})
	dir := t.TempDir()
	input := writeFile(t, dir, "team.csv", "first_name,last_name,email,phone\n"+
		"Asha,Rao,asha@corp.example.com,+919800000001\n"+
		"=HYPERLINK(\"http://x\"),Evil,evil@corp.example.com,+919800000002\n"+
		"Bala,-Menon,bala@corp.example.com,+919800000003\n")
	res := filepath.Join(dir, "team.results.csv")
	c := newCLI(t, srv)
	if code := c.run(nil, "import", input, "--results", res, "--rate", "1000/s", "--progress-every", "0"); code != ExitRowsNotDone {
		t.Fatalf("first run: exit %d\n%s", code, c.stderr.String())
	}
	first := resultstest.Complete(t, res, 3)
	if first[2]["first_name"] != `'=HYPERLINK("http://x")` || first[3]["last_name"] != "'-Menon" {
		t.Errorf("input cells echoed as %q and %q, want them neutralised", first[2]["first_name"], first[3]["last_name"])
	}

	data, err := os.ReadFile(res)
	if err != nil {
		t.Fatal(err)
	}
	resaved := "\xEF\xBB\xBF" + strings.ReplaceAll(string(data), "\n", "\r\n")
	if err := os.WriteFile(res, []byte(resaved), 0o644); err != nil {
		t.Fatal(err)
	}
	created := srv.Creates()
	if code := c.run(nil, "import", input, "--results", res, "--resume", "--rate", "1000/s", "--progress-every", "0"); code != ExitRowsNotDone {
		t.Fatalf("resume: exit %d\n%s", code, c.stderr.String())
	}
	if n := srv.Creates(); n != created {
		t.Errorf("the resume created %d more users", n-created)
	}
	again := resultstest.Complete(t, res, 3)
	for row := 1; row <= 3; row++ {
		if again[row]["status"] != first[row]["status"] {
			t.Errorf("row %d: %s, then %s", row, first[row]["status"], again[row]["status"])
		}
	}
}
