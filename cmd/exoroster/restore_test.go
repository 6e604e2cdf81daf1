package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/exoroster/exoroster/exotel/exoteltest"
	"github.com/exoroster/exoroster/results/resultstest"
)

// A backup restores names exactly as the API stored them, even ones import
// refuses from an HR file, and says which devices did not come back.
func TestBackupRestoresWhatItHolds(t *testing.T) {
	type name struct{ first, last string }
	odd := []name{{"=SUM(1)", "Formula"}, {"+Plus", "-Minus"}, {"@At", "Sign"}, {"\tTab", "Lead "}, {"\nNew", "Line"}, {"'=Quoted", "Twice"}}
	var seeds []exoteltest.SeedUser
	for i, n := range odd {
		seeds = append(seeds, exoteltest.SeedUser{FirstName: n.first, LastName: n.last,
			Email: "odd" + string(rune('a'+i)) + "@corp.example.com", Phone: "+9198765001" + string(rune('0'+i)) + "0"})
	}
	seeds = append(seeds,
		exoteltest.SeedUser{FirstName: "Many", LastName: "Devices", Email: "many@corp.example.com", Devices: []exoteltest.SeedDevice{
			{ContactURI: "+919876500900"}, {ContactURI: "+919876500901"}, {ContactURI: "sip:many@voip.example.com"}}},
		exoteltest.SeedUser{FirstName: "Sip", LastName: "First", Email: "sip@corp.example.com", Devices: []exoteltest.SeedDevice{
			{ContactURI: "sip:sipfirst@voip.example.com"}, {ContactURI: "+919876500902"}}},
	)
	for _, source := range []string{"leavers.results.backup.csv", "leavers.results.csv"} {
		t.Run(source, func(t *testing.T) {
			srv := offServer(t, exoteltest.Options{})
			srv.Seed(seeds...)
			dir := t.TempDir()
			var list strings.Builder
			list.WriteString("email\n")
			for _, s := range seeds {
				list.WriteString(s.Email + "\n")
			}
			input := offFile(t, dir, "leavers.csv", list.String())
			if r := offCLI(t, srv, Env{}, "offboard", input, "--yes"); r.code != ExitOK {
				t.Fatalf("offboard: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			before := len(srv.Requests())
			res := filepath.Join(dir, source+".restore.csv")
			r := offCLI(t, srv, Env{}, "import", filepath.Join(dir, source), "--results", res, "--on-email-taken", "plus")
			if r.code != ExitOK {
				t.Fatalf("import: exit %d\n%s%s", r.code, r.stdout, r.stderr)
			}
			var sent []name
			for _, req := range srv.Requests()[before:] {
				if req.Method != http.MethodPost {
					continue
				}
				var body struct {
					First string `json:"first_name"`
					Last  string `json:"last_name"`
				}
				if err := json.Unmarshal(req.Body, &body); err != nil {
					t.Fatal(err)
				}
				sent = append(sent, name{body.First, body.Last})
			}
			for _, n := range odd {
				if !slices.Contains(sent, n) {
					t.Errorf("no create sent %q %q exactly; sent %q", n.first, n.last, sent)
				}
			}
			lines := resultstest.Complete(t, res, len(seeds))
			for row, l := range lines {
				switch {
				case strings.Contains(l["email"], "many"):
					resultstest.Status(t, row, l, "created", "not restored: 2 of the user's devices", "+919876500901, sip:many@voip.example.com")
				case strings.Contains(l["email"], "sip"):
					resultstest.Status(t, row, l, "created", "not restored: 2 of the user's devices",
						"the first was a SIP device", "sip:sipfirst@voip.example.com, +919876500902")
				default:
					resultstest.Status(t, row, l, "created")
					if strings.Contains(l["message"], "not restored") {
						t.Errorf("row %d: %s", row, l["message"])
					}
				}
			}
		})
	}

	// From an HR file the same names are still refused.
	srv := offServer(t, exoteltest.Options{})
	hr := offFile(t, t.TempDir(), "hr.csv", "first_name,last_name,email\n=SUM(1),Formula,hr@corp.example.com\n")
	if r := offCLI(t, srv, Env{}, "import", hr); r.code != ExitRowsNotDone {
		t.Errorf("HR file: exit %d, want 3 (the row is invalid)", r.code)
	}
}
