package htmlreport

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/exoroster/exoroster/audit"
)

// update rewrites the golden file: go test ./htmlreport -update
var update = flag.Bool("update", false, "rewrite testdata/report.golden.html")

var now = time.Date(2025, 6, 8, 2, 0, 0, 0, time.UTC)

func day(n int) string { return now.AddDate(0, 0, -n).Format(time.RFC3339) }

const header = "user_id,first_name,last_name,email,email_verified,role,device_contact_uri,device_name,device_id,device_type,device_verified,device_available,device_status,extra_devices,last_login,active_call,date_created,date_updated\n"

// row is a CSV line of an export report.
func row(id, first, last, role, phone, verified, lastLogin, created string) string {
	device := ""
	if phone != "" {
		device = "1" + id[len(id)-2:]
	}
	email := strings.ToLower(first) + "@example.com"
	if strings.ContainsAny(first, "<>\"") {
		email = "x@example.com"
	}
	return strings.Join([]string{id, csvCell(first), last, email, "true", role, phone, "Mobile", device, "phone", verified, "true", "free", "", lastLogin, "", created, created}, ",") + "\n"
}

func csvCell(s string) string {
	if strings.ContainsAny(s, `",`) {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// sample is an account a week apart: an added admin, a promotion, a device
// that lost its verification, a first login, someone who crossed 90 days,
// a leaver, and a name that is an attack on the page.
func sample(t *testing.T) *audit.Result {
	t.Helper()
	old := header +
		row("u-01", "Asha", "Rao", "admin", "+919800000001", "true", day(0), day(700)) +
		row("u-02", "Ben", "Das", "user", "+919800000002", "true", day(3), day(400)) +
		row("u-03", "Chitra", "Iyer", "user", "+919800000003", "true", day(85), day(500)) +
		row("u-04", "Dev", "Shah", "user", "+919800000004", "true", "", day(20)) +
		row("u-05", "Esha", "Nair", "supervisor", "+919800000005", "true", day(40), day(300)) +
		row("u-06", "Farid", "Khan", "user", "+919800000006", "true", day(200), day(900)) +
		row("u-07", `<script>alert("x")</script>`, "Evil", "user", "+919800000007", "true", day(10), day(100))
	cur := header +
		row("u-01", "Asha", "Rao", "admin", "+919800000001", "true", day(0), day(700)) +
		row("u-02", "Ben", "Das", "admin", "+919800000002", "true", day(1), day(400)) +
		row("u-03", "Chitra", "Iyer", "user", "+919800000003", "true", day(92), day(500)) +
		row("u-04", "Dev", "Shah", "user", "+919811111111", "false", day(2), day(20)) +
		row("u-05", "Esha", "Nair", "supervisor", "+919800000005", "true", day(40), day(300)) +
		row("u-07", `<script>alert("x")</script>`, "Villain", "user", "+919800000007", "true", day(10), day(100)) +
		row("u-08", "Gita", "Menon", "admin", "", "", "", day(45)) +
		row("u-09", "Hari", "Pillai", "admin", "+919800000009", "true", day(5), day(60))
	oldRep, err := audit.Read(strings.NewReader(old), "last-week.csv")
	if err != nil {
		t.Fatal(err)
	}
	oldRep.Taken, oldRep.TakenFrom = now.AddDate(0, 0, -7), "summary"
	curRep, err := audit.Read(strings.NewReader(cur), "today.csv")
	if err != nil {
		t.Fatal(err)
	}
	curRep.Taken, curRep.TakenFrom = now, "summary"
	res, err := audit.Run(oldRep, curRep, audit.DefaultOptions(now))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func render(t *testing.T, in Input) ([]byte, *html.Node) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	doc, err := html.Parse(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), doc
}

// find returns the nodes for which match is true, in document order.
func find(n *html.Node, match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && match(c) {
			out = append(out, c)
		}
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func byID(t *testing.T, doc *html.Node, id string) *html.Node {
	t.Helper()
	got := find(doc, func(n *html.Node) bool { return attr(n, "id") == id })
	if len(got) != 1 {
		t.Fatalf("%d elements with id %q", len(got), id)
	}
	return got[0]
}

func tag(name string) func(*html.Node) bool {
	return func(n *html.Node) bool { return n.Data == name }
}

func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func TestSections(t *testing.T) {
	_, doc := render(t, Input{Account: "acme-support", Generator: "exoroster test", Result: sample(t)})

	if h := text(byID(t, doc, "header")); !strings.Contains(h, "Account acme-support · as of 2025-06-08 02:00 UTC") ||
		!strings.Contains(h, "Report today.csv: ccm users, csv, taken 2025-06-08 02:00 UTC") {
		t.Errorf("header: %s", h)
	}
	if title := text(find(doc, tag("title"))[0]); title != "Exotel user audit · acme-support · 2025-06-08 02:00 UTC" {
		t.Errorf("title %q", title)
	}

	cards := map[string]int{}
	alerts := map[string]bool{}
	for _, c := range find(byID(t, doc, "summary"), func(n *html.Node) bool { return strings.HasPrefix(attr(n, "id"), "card-") }) {
		n, err := strconv.Atoi(attr(c, "data-count"))
		if err != nil {
			t.Fatal(err)
		}
		shown := text(find(c, func(n *html.Node) bool { return attr(n, "class") == "n" })[0])
		if shown != strconv.Itoa(n) {
			t.Errorf("%s shows %q, data-count %d", attr(c, "id"), shown, n)
		}
		cards[strings.TrimPrefix(attr(c, "id"), "card-")] = n
		alerts[strings.TrimPrefix(attr(c, "id"), "card-")] = strings.Contains(attr(c, "class"), "alert")
	}
	wantCards := map[string]int{"users": 8, "admins": 4, "inactive": 2, "never": 1, "unverified": 1, "no-device": 1,
		"findings": 5, "added": 2, "removed": 1, "changed": 3}
	if !mapsEqual(cards, wantCards) {
		t.Errorf("cards %v\nwant  %v", cards, wantCards)
	}
	if !alerts["admins"] || alerts["users"] || !alerts["findings"] {
		t.Errorf("alerts %v", alerts)
	}

	bars := func(id string) map[string]int {
		out := map[string]int{}
		for _, g := range find(byID(t, doc, id), func(n *html.Node) bool { return attr(n, "class") == "bar" }) {
			out[attr(g, "data-label")], _ = strconv.Atoi(attr(g, "data-count"))
		}
		return out
	}
	if got := bars("roles-chart"); !mapsEqual(got, map[string]int{"admin": 4, "supervisor": 1, "user (agent)": 3}) {
		t.Errorf("roles %v", got)
	}
	if got := bars("logins-chart"); !mapsEqual(got, map[string]int{audit.Login0To7: 4, audit.Login8To30: 1, audit.Login31To90: 1,
		audit.Login91To180: 1, audit.LoginOver180: 0, audit.LoginNever: 1}) {
		t.Errorf("logins %v", got)
	}
	if svgs := find(byID(t, doc, "charts"), tag("svg")); len(svgs) != 2 || attr(svgs[0], "role") != "img" {
		t.Errorf("%d svgs", len(svgs))
	}

	findings := map[string][]string{}
	for _, p := range find(byID(t, doc, "findings"), func(n *html.Node) bool { return attr(n, "data-rule") != "" }) {
		var ids []string
		for _, tr := range find(p, tag("tr"))[1:] {
			ids = append(ids, text(find(tr, tag("td"))[0]))
		}
		if n, _ := strconv.Atoi(attr(p, "data-users")); n != len(ids) {
			t.Errorf("%s: data-users %d, %d rows", attr(p, "data-rule"), n, len(ids))
		}
		findings[attr(p, "data-rule")] = ids
	}
	wantFindings := map[string][]string{
		"too-many-admins":   {"u-01", "u-02", "u-08", "u-09"},
		"role-escalation":   {"u-02", "u-08", "u-09"},
		"never-logged-in":   {"u-08"},
		"unverified-device": {"u-04"},
		"no-device":         {"u-08"},
	}
	for rule, want := range wantFindings {
		if !slices.Equal(findings[rule], want) {
			t.Errorf("%s names %v, want %v", rule, findings[rule], want)
		}
	}
	if len(findings) != len(wantFindings) {
		t.Errorf("findings %v", findings)
	}

	diff := byID(t, doc, "diff")
	if got := text(byID(t, doc, "diff-counts")); got != "2 added, 1 removed, 3 changed; 3 role escalations, 1 device became unverified, 1 newly inactive, 1 first login" {
		t.Errorf("diff counts %q", got)
	}
	for id, want := range map[string]int{"diff-added": 2, "diff-removed": 1, "diff-changed": 3,
		"transition-role_escalation": 3, "transition-device_became_unverified": 1, "transition-newly_inactive": 1, "transition-first_login": 1} {
		if n, _ := strconv.Atoi(attr(byID(t, diff, id), "data-users")); n != want {
			t.Errorf("%s: %d, want %d", id, n, want)
		}
	}
	// Changed lists each column: u-02's role, u-04's phone and verification, u-07's name.
	var changed []string
	for _, tr := range find(byID(t, diff, "diff-changed"), tag("tr"))[1:] {
		tds := find(tr, tag("td"))
		changed = append(changed, text(tds[0])+" "+text(tds[2])+": "+text(tds[3])+" → "+text(tds[4]))
	}
	want := []string{"u-02 role: user → admin", "u-04 device_contact_uri: +919800000004 → +919811111111", "u-04 device_verified: true → false", "u-07 last_name: Evil → Villain"}
	if !slices.Equal(changed, want) {
		t.Errorf("changed rows %q", changed)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestEscaping(t *testing.T) {
	res := sample(t)
	res.Report.Name = `today.csv"><img src=x onerror=alert(1)>`
	out, doc := render(t, Input{Account: "<b>acct</b>", Result: res})
	if n := find(doc, func(n *html.Node) bool {
		return n.Data == "script" || n.Data == "img" || n.Data == "b" && text(n) == "acct"
	}); len(n) != 0 {
		t.Fatalf("markup from the data became elements: %v", n[0].Data)
	}
	var names []string
	for _, td := range find(doc, func(n *html.Node) bool { return n.Data == "td" && attr(n, "data-label") == "Name" }) {
		names = append(names, text(td))
	}
	if !slices.Contains(names, `<script>alert("x")</script> Villain`) {
		t.Errorf("the hostile name is not shown as text: %q", names)
	}
	if !strings.Contains(text(byID(t, doc, "header")), `today.csv"><img src=x onerror=alert(1)>`) {
		t.Error("the file name is not shown as text")
	}
	if bytes.Contains(out, []byte("<script>")) {
		t.Error("raw <script> in the page")
	}
}

// Nothing on the page reaches the network.
func TestSelfContained(t *testing.T) {
	out, doc := render(t, Input{Result: sample(t)})
	for _, n := range find(doc, func(*html.Node) bool { return true }) {
		switch n.Data {
		case "script", "link", "img", "iframe", "object", "embed", "base":
			t.Errorf("element <%s>", n.Data)
		}
		for _, a := range n.Attr {
			if a.Key == "src" || a.Key == "href" || a.Key == "srcset" {
				t.Errorf("<%s %s=%q>", n.Data, a.Key, a.Val)
			}
		}
	}
	for _, s := range []string{"@import", "url(", "http://", "https://"} {
		if i := bytes.Index(out, []byte(s)); i >= 0 && !bytes.HasPrefix(out[i:], []byte("http://www.w3.org/2000/svg")) {
			t.Errorf("%q in the page", s)
		}
	}
	if find(doc, tag("style")) == nil || len(find(doc, func(n *html.Node) bool { return n.Data == "meta" && attr(n, "name") == "viewport" })) != 1 {
		t.Error("no inline style or no viewport meta")
	}
}

func TestWebRTCReport(t *testing.T) {
	rep, err := audit.Read(strings.NewReader("user_id,name,phone,sip_enabled,status,phone_device,sip_device,created_at,updated_at\n"+
		"agent_001,John Agent,+919876543210,true,active,true,true,,\n"+
		"agent_002,Jane Support,,false,inactive,false,false,,\n"), "app.csv")
	if err != nil {
		t.Fatal(err)
	}
	res, err := audit.Run(nil, rep, audit.DefaultOptions(now))
	if err != nil {
		t.Fatal(err)
	}
	_, doc := render(t, Input{Account: "customer c1 / app a1", Result: res})
	if got := text(find(byID(t, doc, "roles-chart"), tag("b"))[0]); got != "Users by status" {
		t.Errorf("breakdown %q", got)
	}
	if got := text(byID(t, doc, "logins-chart")); !strings.Contains(got, "no last_login column") {
		t.Errorf("logins %q", got)
	}
	for _, id := range []string{"card-admins", "card-inactive", "card-unverified", "diff"} {
		if len(find(doc, func(n *html.Node) bool { return attr(n, "id") == id })) != 0 {
			t.Errorf("%s shown for a WebRTC report without a diff", id)
		}
	}
	if n := len(find(byID(t, doc, "not-checked"), tag("li"))); n != 4 {
		t.Errorf("%d rules not checked", n)
	}
	if got := attr(byID(t, doc, "finding-no-device"), "data-users"); got != "1" {
		t.Errorf("no-device users %s", got)
	}
}

func TestGolden(t *testing.T) {
	out, _ := render(t, Input{Account: "acme-support", Generator: "exoroster test", Result: sample(t)})
	path := filepath.Join("testdata", "report.golden.html")
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./htmlreport -update writes it)", err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("the page differs from %s (go test ./htmlreport -update rewrites it)", path)
	}
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.html")
	if err := os.WriteFile(path, []byte("old page"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, Input{}); err == nil {
		t.Fatal("a page without a result was written")
	}
	if b, _ := os.ReadFile(path); string(b) != "old page" {
		t.Errorf("a failed write touched the old page: %q", b)
	}
	if err := WriteFile(path, Input{Result: sample(t)}); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() < 1000 {
		t.Errorf("page %v %v", st, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory: a temporary file was left", len(entries))
	}
}

func BenchmarkWrite(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(header)
	for i := range 5000 {
		id := "u-" + strconv.Itoa(10000+i)
		sb.WriteString(row(id, "Name"+strconv.Itoa(i), "X", "user", "", "", "", day(400)))
	}
	rep, err := audit.Read(strings.NewReader(sb.String()), "big.csv")
	if err != nil {
		b.Fatal(err)
	}
	res, err := audit.Run(nil, rep, audit.DefaultOptions(now))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var buf bytes.Buffer
		if err := Write(&buf, Input{Result: res}); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(buf.Len()))
	}
}
